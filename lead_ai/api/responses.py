"""The API's JSON: one shape per resource, built from the use cases' value types."""

from __future__ import annotations

import math
from typing import Any

from lead_ai.api.pagination import encode_token
from lead_ai.domain.intervals import interval_name
from lead_ai.domain.isotime import iso_utc, iso_utc_or_none
from lead_ai.domain.models import ModelVersion
from lead_ai.domain.series import SeriesSummary, Span
from lead_ai.forecasting.local_fit import LocalFit
from lead_ai.service.deletion import RangeDeletion, SeriesDeletion
from lead_ai.service.ingest import IngestOutcome
from lead_ai.service.series_list import ListedModel, SeriesPage
from lead_ai.service.serving import Forecast, ModelList, forecast_rows
from lead_ai.service.training import TrainingOutcome


def ingest_body(outcome: IngestOutcome) -> dict[str, Any]:
    return {
        "series_id": outcome.series_id,
        "accepted": outcome.accepted,
        "interval": interval_name(outcome.interval_seconds),
        "span": span_body(outcome.span),
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
    """The version; `trained` says whether this request trained it (false: the history and settings had
    not changed since the current version, which is answered)."""
    return version_body(outcome.version, current=outcome.current) | {"trained": outcome.trained}


def models_body(models: ModelList) -> dict[str, Any]:
    return {
        "series_id": models.series_id,
        "current_version": models.current_version,
        "versions": [version_body(v, current=v.version == models.current_version) for v in models.versions],
        "next_token": encode_token(models.next_after, scope=models.series_id),
    }


def pool_models_body(models: ModelList) -> dict[str, Any]:
    """GET /pools/{pool_id}/models: as a series' list, under the pool's id."""
    body = models_body(models)
    return {"pool_id": body.pop("series_id"), **body}


def range_deletion_body(outcome: RangeDeletion) -> dict[str, Any]:
    return {
        "series_id": outcome.series_id,
        "removed": outcome.removed,
        "span": span_body(outcome.span),
        "revision": outcome.revision,
    }


def series_deletion_body(outcome: SeriesDeletion) -> dict[str, Any]:
    return {
        "series_id": outcome.series_id,
        "deleted": {
            "observation_chunks": outcome.observation_chunks,
            "model_versions": outcome.model_versions,
            "artifact_objects": outcome.artifact_objects,
        },
    }


def span_body(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {
        "first": iso_utc(span.first_timestamp),
        "last": iso_utc(span.last_timestamp),
        "observations": span.observed_points,
    }


def forecast_body(result: Forecast) -> dict[str, Any]:
    body: dict[str, Any] = {
        "series_id": result.series_id,
        "model_version": result.model_version,
        "model_scope": result.model_scope,
        "interval": interval_name(result.interval_seconds),
        "origin": result.local_origin or iso_utc(result.origin),
        "level": result.level,
        "forecast": forecast_rows(result),
        "timezone": result.timezone,
        "daily": result.daily or [],
    }
    if result.fallback_from is not None:
        body["fallback_from_version"] = result.fallback_from
    if result.pool_id is not None:
        body["pool_id"] = result.pool_id
    if result.pool_fit is not None:
        body["pool_fit"] = pool_fit_body(result.pool_fit)
    return body


def pool_fit_body(fit: LocalFit) -> dict[str, Any]:
    def bands(pair: tuple[float, float]) -> dict[str, float]:
        return {"first_day": round(pair[0], 4), "later": round(pair[1], 4)}

    def error(value: float) -> float | None:
        return round(value, 4) if math.isfinite(value) else None

    return {
        "origins": fit.origins,
        "weight_naive": bands(fit.weight_naive),
        "interval_scale": bands(fit.interval_scale),
        "backtest_mae": {
            "pool": error(fit.mae_pool),
            "seasonal_naive": error(fit.mae_naive),
            "served": error(fit.mae_served),
        },
    }


def series_list_body(page: SeriesPage, next_token: str | None) -> dict[str, Any]:
    return {
        "series": [_series_summary(s, page.models.get(s.series_id)) for s in page.series],
        "next_token": next_token,
    }


def _series_summary(series: SeriesSummary, model: ListedModel | None) -> dict[str, Any]:
    failure = series.last_failure
    body: dict[str, Any] = {
        "series_id": series.series_id,
        "interval": interval_name(series.interval_seconds),
        "span": span_body(series.span),
        "revision": series.revision,
        "current_version": model.version if model is not None else None,
        "model_scope": None if model is None else "pool" if model.pool_id else "series",
        "last_training": (
            {"at": series.trained_at, "revision": series.trained_revision}
            if series.trained_revision is not None
            else None
        ),
        "due": series.due,
        "last_failure": (
            {
                "at": failure.at,
                "revision": failure.revision,
                "attempt": failure.attempt,
                "error": failure.error,
            }
            if failure is not None
            else None
        ),
    }
    if model is not None and model.pool_id is not None:
        body["pool_id"] = model.pool_id
    return body
