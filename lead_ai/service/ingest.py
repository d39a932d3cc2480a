"""Ingest: store a batch of observations, atomically with the series' new span and revision."""

from __future__ import annotations

from typing import NamedTuple

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.series import ObservationBatch, SeriesInfo, Span
from lead_ai.errors import ValidationError
from lead_ai.service.dependencies import Dependencies
from lead_ai.storage.observations import CHUNK_SLOTS
from lead_ai.storage.series_writes import MAX_CHUNKS_PER_WRITE, UNREAD, Unread, chunks_touched


class IngestOutcome(NamedTuple):
    series_id: str
    accepted: int
    interval_seconds: int
    span: Span
    revision: int


def ingest(
    deps: Dependencies, series_id: str, batch: ObservationBatch, known: SeriesInfo | Unread | None = UNREAD
) -> IngestOutcome:
    """Write the batch whole or not at all: one transaction, so it is refused up front when it touches
    more storage chunks than one transaction holds."""
    refuse_scattered_batch(batch)
    result = deps.writer.ingest(
        series_id, batch.interval_seconds, batch.points, known, defaults=deps.settings.series_defaults
    )
    assert result.span is not None  # the series holds at least the slots just written
    deps.analytics.track("ObservationsAccepted", series_id, {"count": len(batch.points)})
    return IngestOutcome(series_id, len(batch.points), batch.interval_seconds, result.span, result.revision)


def refuse_scattered_batch(batch: ObservationBatch) -> None:
    chunks = chunks_touched((ts for ts, _ in batch.points), batch.interval_seconds)
    if chunks > MAX_CHUNKS_PER_WRITE:
        interval = interval_name(batch.interval_seconds)
        raise ValidationError(
            f"the observations fall in {chunks} storage chunks (a chunk is {CHUNK_SLOTS} consecutive "
            f"{interval} intervals); one request may write at most {MAX_CHUNKS_PER_WRITE} chunks, so that "
            "it is stored whole or not at all: send the observations in several requests, grouped by time",
            field="observations",
        )
