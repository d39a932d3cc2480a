"""The registry table's layout: partition key `series_id`, sort key `record`.

- `SERIES`                       the series' catalogue entry (storage.catalogue)
- `VERSION#000001.000002.000000` one record per model version, sortable by version (storage.registry)
- `CURRENT`                      the pointer to the version prediction serves (storage.registry)

Two sparse global secondary indexes hold SERIES items only (template.yaml declares the same names):
- `DueIndex`    (`due`, `series_id`): `due` exists only while the series' revision is ahead of its trained
                revision (set at ingest, removed when a training records that revision), so the daily
                planner reads the due series and nothing else. Two partitions: `DUE`, and `POOL_SERVED`
                for a series whose own model lost to its group's pool at its last training (its
                `pool_served` mark, which a change copies into `due`): the planner re-trains the pool
                of those too, not only of the young series;
- `SeriesIndex` (`kind`, `series_id`): `kind` = "SERIES" on every SERIES item, so GET /series pages
                through the series without reading a VERSION# or CURRENT item.

This module turns items into domain records and back; the adapters hold the operations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lead_ai.domain.models import ArtifactRef, ModelVersion
from lead_ai.domain.series import LastFailure, SeriesInfo, SeriesSummary, Span
from lead_ai.domain.versions import Version
from lead_ai.storage.dynamo import get_n, get_s, s

SERIES = "SERIES"
CURRENT = "CURRENT"
VERSION_PREFIX = "VERSION#"

DUE_INDEX = "DueIndex"
SERIES_INDEX = "SeriesIndex"
DUE = "DUE"  # the value of `due` (its presence is what counts)
# The value of `pool_served` and the DueIndex partition of a due series its group's pool serves.
POOL_SERVED = "POOL_SERVED"
KIND = "SERIES"  # the value of `kind`


def key(series_id: str, record: str) -> dict[str, dict[str, str]]:
    return {"series_id": s(series_id), "record": s(record)}


def version_sort_key(version: Version) -> str:
    return VERSION_PREFIX + "{:06d}.{:06d}.{:06d}".format(*version)


def headline(metrics: Mapping[str, float]) -> dict[str, float]:
    """The backtest figures worth a CloudWatch metric (the record keeps them all)."""
    return {name: metrics[name] for name in ("mase", "baseline_mase", "coverage") if name in metrics}


def series_from_item(item: Mapping[str, Any]) -> SeriesInfo:
    trained = get_n(item, "trained_revision")
    first, last, count = (get_n(item, k) for k in ("first_ts", "last_ts", "observation_count"))
    span = (
        Span(int(first), int(last), int(count)) if first is not None and last is not None and count else None
    )
    return SeriesInfo(
        series_id=get_s(item, "series_id") or "",
        interval_seconds=int(get_n(item, "interval_seconds", 0) or 0),
        revision=int(get_n(item, "revision", 0) or 0),
        trained_revision=int(trained) if trained is not None else None,
        timezone=get_s(item, "time_zone"),
        holidays=get_s(item, "holiday_calendar"),
        span=span,
        deleting="deleting_at" in item,
        created_at=get_s(item, "created_at"),
        open_hours=get_s(item, "open_hours"),
        open_days=get_s(item, "open_days"),
    )


def summary_from_item(item: Mapping[str, Any]) -> SeriesSummary:
    first, last, count = (get_n(item, k) for k in ("first_ts", "last_ts", "observation_count"))
    trained = get_n(item, "trained_revision")
    return SeriesSummary(
        series_id=get_s(item, "series_id") or "",
        interval_seconds=int(get_n(item, "interval_seconds", 0) or 0),
        revision=int(get_n(item, "revision", 0) or 0),
        span=Span(int(first), int(last), int(count or 0)) if first is not None and last is not None else None,
        trained_revision=int(trained) if trained is not None else None,
        trained_at=get_s(item, "trained_at"),
        due="due" in item,
        last_failure=_failure_from_item(item),
        timezone=get_s(item, "time_zone"),
        holidays=get_s(item, "holiday_calendar"),
        open_hours=get_s(item, "open_hours"),
        open_days=get_s(item, "open_days"),
    )


def _failure_from_item(item: Mapping[str, Any]) -> LastFailure | None:
    at = get_s(item, "failed_at")
    if at is None:
        return None
    return LastFailure(
        at=at,
        revision=int(get_n(item, "failed_revision", 0) or 0),
        attempt=int(get_n(item, "failed_attempt", 0) or 0),
        error=get_s(item, "failed_error") or "internal_error",
    )


def artifact_from_item(item: Mapping[str, Any]) -> ArtifactRef:
    return ArtifactRef(
        key=get_s(item, "s3_key") or "",
        version_id=get_s(item, "s3_version_id") or None,
        sha256=get_s(item, "sha256") or "",
        size=int(get_n(item, "size_bytes", 0) or 0),
    )


def version_from_item(item: Mapping[str, Any]) -> ModelVersion:
    has_artifact = "sha256" in item
    start, end, points, revision = (
        get_n(item, k) for k in ("training_start", "training_end", "training_points", "history_revision")
    )
    return ModelVersion(
        series_id=get_s(item, "series_id") or "",
        version=get_s(item, "version") or "",
        status=get_s(item, "status") or "",
        created_at=get_s(item, "created_at") or "",
        artifact=artifact_from_item(item) if has_artifact else None,
        feature_spec=json.loads(get_s(item, "feature_spec") or "{}"),
        metrics={k: float(v["N"]) for k, v in item.get("metrics", {}).get("M", {}).items()},
        library_versions={k: v["S"] for k, v in item.get("library_versions", {}).get("M", {}).items()},
        training_start=int(start) if start is not None else None,
        training_end=int(end) if end is not None else None,
        training_points=int(points) if points is not None else None,
        history_revision=int(revision) if revision is not None else None,
        reason=get_s(item, "reason"),
        promoted_at=get_s(item, "promoted_at"),
    )
