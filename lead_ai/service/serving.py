"""Serving: a forecast from the cached model and observations, and the list of a series' models."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS, interval_name
from lead_ai.domain.isotime import iso_utc_array
from lead_ai.domain.localtime import iso_local_array
from lead_ai.domain.models import ModelVersion
from lead_ai.errors import SeriesNotFoundError, ValidationError
from lead_ai.forecasting.calibration import daily_totals
from lead_ai.forecasting.local_fit import LocalFit
from lead_ai.forecasting.usual_volume import usual_volume
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
    timezone: str = "UTC"  # the zone the model was trained in: its local day is the forecast's
    local_times: list[str] | None = None  # per step, ISO 8601 with the local offset
    local_origin: str | None = None
    daily: list[dict[str, Any]] | None = None  # per local date: {date, value, lower, upper}
    pool_id: str | None = None  # the pooled model made the forecast (the series has no model of its own)
    pool_fit: LocalFit | None = None  # how the pool is served to this series (forecasting.local_fit)

    @property
    def model_scope(self) -> str:
        """Which model served: "series" (its own) or "pool" (its group's pooled model)."""
        return "pool" if self.pool_id else "series"


class ModelList(NamedTuple):
    series_id: str
    current_version: str | None
    versions: list[ModelVersion]  # newest first
    next_after: str | None = None  # the version record the next page starts after; None: the last page


def forecast(deps: Dependencies, series_id: str, horizon: int, level: float = 0.8) -> Forecast:
    state = deps.cache.state(series_id)
    window = state.window
    check_horizon(
        deps, horizon, state.forecaster.spec.interval_seconds, state.forecaster.max_horizon, state.version
    )
    arrays = state.forecaster.predict_rows(state.rows, horizon, level)
    step = window.interval_seconds
    stamps = window.last_timestamp + step * np.arange(0, horizon + 1, dtype=np.int64)  # origin, then steps
    spec = state.forecaster.spec
    wall, offsets = spec.wall_clock(stamps)
    texts = iso_local_array(wall, offsets)
    calibration = state.forecaster.calibration
    usual = usual_volume(state.rows.X[:horizon], spec)
    daily = daily_totals(arrays.value, wall[1:] // DAY_SECONDS, state.rows.scale, calibration, level, usual)
    return Forecast(
        series_id,
        state.version,
        step,
        window.last_timestamp,
        level,
        stamps[1:],
        arrays.value,
        arrays.lower,
        arrays.upper,
        state.fallback_from,
        spec.timezone,
        texts[1:],
        texts[0],
        daily,
        state.pool_id,
        state.forecaster.local_fit,
    )


def horizon_limit(deps: Dependencies, interval_seconds: int, model_max_horizon: int) -> int:
    """The most intervals a request may ask of this model: LEAD_AI_MAX_HORIZON (a duration) in the
    series' intervals, and no more than the model was trained for."""
    return min(deps.settings.max_horizon_steps(interval_seconds), model_max_horizon)


def check_horizon(
    deps: Dependencies,
    horizon: int,
    interval_seconds: int,
    model_max_horizon: int,
    version: str | None = None,
) -> None:
    """A 400 naming `horizon` beyond what this series may ask: LEAD_AI_MAX_HORIZON in its intervals, or
    less when the served model answers fewer steps (the limit was raised after it was trained, or the
    history only supported a shorter model): a rule of this series, not a fault."""
    limit = horizon_limit(deps, interval_seconds, model_max_horizon)
    if 1 <= horizon <= limit:
        return
    why = (
        f"the served model {version or ''} forecasts at most {model_max_horizon} steps ahead (retrain it for "
        "longer horizons)"
        if model_max_horizon < deps.settings.max_horizon_steps(interval_seconds)
        else f"{limit} x {interval_name(interval_seconds)} is the longest horizon (LEAD_AI_MAX_HORIZON)"
    )
    raise ValidationError(
        f"horizon must be an integer from 1 to {limit}, got {horizon}: {why}", field="horizon"
    )


def forecast_rows(result: Forecast) -> list[dict[str, Any]]:
    """{timestamp, value, lower, upper} per step, values to 3 decimals."""
    return [
        {"timestamp": t, "value": v, "lower": lo, "upper": hi}
        for t, v, lo, hi in zip(
            result.local_times if result.local_times is not None else iso_utc_array(result.timestamps),
            np.round(result.value, 3).tolist(),
            np.round(result.lower, 3).tolist(),
            np.round(result.upper, 3).tolist(),
            strict=True,
        )
    ]


def list_models(deps: Dependencies, series_id: str, limit: int = 50, after: str | None = None) -> ModelList:
    """A page of the series' versions, newest first: `limit` of them, after the record `after`; a 404
    when the series does not exist, whether a page token is given or not."""
    page = versions_page(deps, series_id, limit, after)
    if not page.versions and deps.catalogue.get_series(series_id) is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    return page


def versions_page(deps: Dependencies, registry_id: str, limit: int, after: str | None) -> ModelList:
    """A page of the versions recorded under a series' or a pool's id, newest first."""
    current = deps.tracker.current(registry_id)
    versions, next_after = deps.tracker.list_versions_page(registry_id, limit, after)
    return ModelList(registry_id, current.version if current else None, versions, next_after)
