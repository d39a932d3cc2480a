"""Ingest: store a batch of observations and record the series' new span and revision."""

from __future__ import annotations

from typing import NamedTuple

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.series import ObservationBatch, Span
from lead_ai.service.dependencies import Dependencies


class IngestOutcome(NamedTuple):
    series_id: str
    accepted: int
    interval_seconds: int
    span: Span
    revision: int


def series_interval(deps: Dependencies, series_id: str) -> str:
    """The series' interval, fixed at its first ingest; the configured default for a new series."""
    series = deps.catalogue.get_series(series_id)
    return interval_name(series.interval_seconds) if series else deps.settings.default_interval


def ingest(deps: Dependencies, series_id: str, batch: ObservationBatch) -> IngestOutcome:
    deps.catalogue.register_series(series_id, batch.interval_seconds, deps.settings.series_defaults)
    deps.history.put(series_id, batch.points, batch.interval_seconds)
    span = deps.history.span(series_id, batch.interval_seconds)
    assert span is not None  # we just wrote at least one slot
    revision = deps.catalogue.record_ingest(
        series_id, span.first_timestamp, span.last_timestamp, span.observed_points
    )
    deps.analytics.track("ObservationsAccepted", series_id, {"count": len(batch.points)})
    return IngestOutcome(series_id, len(batch.points), batch.interval_seconds, span, revision)
