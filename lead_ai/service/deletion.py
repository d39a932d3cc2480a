"""Deleting data: a range of a series' observations, or a whole series with its models.

A range delete (users fixing bad data) clears the slots, moves the series' revision (so the schedule
retrains it) and updates its span, in transactions of at most 99 chunks (storage.series_writes): a range
over more chunks is cleared oldest first, and a request that fails half-way is finished by repeating it.

A series delete goes in an order that a retry can always finish and that never leaves anything served
or trained from half-deleted data:

1. the SERIES record is marked `deleting_at`: from then on every write of its observations is refused
   (409), training and the schedule treat the series as gone;
2. CURRENT goes: forecasts answer 404 (a prediction container may serve its cached model until the
   cache TTL, LEAD_AI_REGISTRY_TTL_SECONDS, runs out);
3. every S3 object version under `models/{series_id}/`, delete markers included (listed by prefix, so
   a retry also finds an object a racing training uploaded);
4. every version record (with CURRENT gone, a record whose object went in step 3 can no longer be
   served; a promotion of it is refused once the record is gone);
5. every observation chunk;
6. the SERIES record itself, last: until then, DELETE can be repeated and resumes where it stopped.

A failure at any step answers 503 with what was already removed staying removed; the same DELETE
again finishes the job. Once the SERIES record is gone, DELETE answers 404 and the id may be reused.
"""

from __future__ import annotations

from typing import NamedTuple

from lead_ai.domain.series import Span
from lead_ai.errors import SeriesNotFoundError
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies


class RangeDeletion(NamedTuple):
    series_id: str
    removed: int
    span: Span | None  # None: the series has no observations left
    revision: int


class SeriesDeletion(NamedTuple):
    series_id: str
    artifact_objects: int
    model_versions: int
    observation_chunks: int


def delete_observations(deps: Dependencies, series_id: str, first_ts: int, last_ts: int) -> RangeDeletion:
    """Remove every observation with first_ts <= timestamp <= last_ts."""
    result = deps.writer.delete_range(series_id, first_ts, last_ts)
    if result is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    if result.changed:
        logger.info("observations deleted", extra={"series_id": series_id, "removed": result.changed})
        deps.analytics.track("ObservationsDeleted", series_id, {"count": result.changed})
    return RangeDeletion(series_id, result.changed, result.span, result.revision)


def delete_series(deps: Dependencies, series_id: str) -> SeriesDeletion:
    """Remove the series, its observations, every model version, CURRENT and every model object."""
    existed = deps.catalogue.begin_deletion(series_id)
    deps.tracker.delete_current(series_id)
    objects = deps.artifacts.delete_series_objects(series_id)
    versions = deps.tracker.delete_series_versions(series_id)
    deps.tracker.delete_current(
        series_id
    )  # again: a rollback that raced step 2 pointed at a version now gone
    chunks = deps.writer.delete_all_observations(series_id)
    if not existed and not (objects or versions or chunks):
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    deps.catalogue.delete_series_record(series_id)
    logger.info(
        "series deleted",
        extra={"series_id": series_id, "objects": objects, "versions": versions, "chunks": chunks},
    )
    deps.analytics.track("SeriesDeleted", series_id)
    return SeriesDeletion(series_id, objects, versions, chunks)
