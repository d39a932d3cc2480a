"""The API's JSON: one shape per resource, built from the use cases' value types."""

from __future__ import annotations

from typing import Any

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.isotime import iso_utc, iso_utc_or_none
from lead_ai.domain.models import ModelVersion
from lead_ai.service.ingest import IngestOutcome
from lead_ai.service.serving import Forecast, ModelList, forecast_rows
from lead_ai.service.training import TrainingOutcome


def ingest_body(outcome: IngestOutcome) -> dict[str, Any]:
    return {
        "series_id": outcome.series_id,
        "accepted": outcome.accepted,
        "interval": interval_name(outcome.interval_seconds),
        "span": {
            "first": iso_utc(outcome.span.first_timestamp),
            "last": iso_utc(outcome.span.last_timestamp),
            "observations": outcome.span.observed_points,
        },
        "revision": outcome.revision,
    }


def version_body(version: ModelVersion, *, current: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "series_id": version.series_id,
        "version": version.version,
        "status": version.status,
        "created_at": version.created_at,
        "metrics": version.metrics,
        "feature_spec": version.feature_spec,
        "library_versions": version.library_versions,
        "training": {
            "start": iso_utc_or_none(version.training_start),
            "end": iso_utc_or_none(version.training_end),
            "points": version.training_points,
            "history_revision": version.history_revision,
        },
    }
    if version.artifact is not None:
        out["artifact"] = {
            "s3_key": version.artifact.key,
            "s3_version_id": version.artifact.version_id,
            "sha256": version.artifact.sha256,
            "size_bytes": version.artifact.size,
        }
    if version.reason:
        out["reason"] = version.reason
    if version.promoted_at:
        out["promoted_at"] = version.promoted_at
    out["current"] = current
    return out


def training_body(outcome: TrainingOutcome) -> dict[str, Any]:
    return version_body(outcome.version, current=outcome.current)


def models_body(models: ModelList) -> dict[str, Any]:
    return {
        "series_id": models.series_id,
        "current_version": models.current_version,
        "versions": [version_body(v, current=v.version == models.current_version) for v in models.versions],
    }


def forecast_body(result: Forecast) -> dict[str, Any]:
    body: dict[str, Any] = {
        "series_id": result.series_id,
        "model_version": result.model_version,
        "interval": interval_name(result.interval_seconds),
        "origin": result.local_origin or iso_utc(result.origin),
        "level": result.level,
        "forecast": forecast_rows(result),
        "timezone": result.timezone,
        "daily": result.daily or [],
    }
    if result.fallback_from is not None:
        body["fallback_from_version"] = result.fallback_from
    return body
