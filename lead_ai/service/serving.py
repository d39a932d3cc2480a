"""Serving: a forecast from the cached model and observations, and the list of a series' models."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lead_ai.domain.isotime import iso_utc_array
from lead_ai.domain.models import ModelVersion
from lead_ai.errors import SeriesNotFoundError, ValidationError
from lead_ai.service.dependencies import Dependencies


class Forecast(NamedTuple):
    series_id: str
    model_version: str
    interval_seconds: int
    origin: int  # epoch seconds of the latest observation; the forecast starts one interval later
    level: float
    timestamps: np.ndarray  # epoch seconds, one per step
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    fallback_from: str | None  # the current version that could not be served, if any


class ModelList(NamedTuple):
    series_id: str
    current_version: str | None
    versions: list[ModelVersion]  # newest first


def forecast(deps: Dependencies, series_id: str, horizon: int, level: float = 0.8) -> Forecast:
    state = deps.cache.state(series_id)
    answers = state.forecaster.max_horizon
    if horizon > answers:
        # The service's limit (LEAD_AI_MAX_HORIZON) may have been raised after this model was trained,
        # or the series' history only supported a shorter model: a rule of this series, not a fault.
        raise ValidationError(
            f"horizon must be at most {answers} for series '{series_id}': its model {state.version} "
            f"forecasts {answers} steps ahead (retrain it for longer horizons), got {horizon}",
            field="horizon",
        )
    window = state.window
    arrays = state.forecaster.predict_rows(state.rows, horizon, level)
    step = window.interval_seconds
    stamps = window.last_timestamp + step * np.arange(1, horizon + 1, dtype=np.int64)
    return Forecast(
        series_id,
        state.version,
        step,
        window.last_timestamp,
        level,
        stamps,
        arrays.value,
        arrays.lower,
        arrays.upper,
        state.fallback_from,
    )


def forecast_rows(result: Forecast) -> list[dict[str, Any]]:
    """{timestamp, value, lower, upper} per step, values to 3 decimals."""
    return [
        {"timestamp": t, "value": v, "lower": lo, "upper": hi}
        for t, v, lo, hi in zip(
            iso_utc_array(result.timestamps),
            np.round(result.value, 3).tolist(),
            np.round(result.lower, 3).tolist(),
            np.round(result.upper, 3).tolist(),
            strict=True,
        )
    ]


def list_models(deps: Dependencies, series_id: str) -> ModelList:
    tracker = deps.tracker
    current = tracker.current(series_id)
    versions = tracker.list_versions(series_id)
    if not versions and deps.catalogue.get_series(series_id) is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    return ModelList(series_id, current.version if current else None, versions)
