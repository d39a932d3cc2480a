"""The staffing plan of a series: its served forecast, at the quantile the plan is made for, through
Erlang C (domain.staffing), interval by interval, with agent hours per local day."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lead_ai.domain.localtime import iso_dates, iso_local_array
from lead_ai.domain.opening_hours import OpeningHours, minutes_of_week, opening_on_grid
from lead_ai.domain.series import SeriesSettings
from lead_ai.domain.staffing import (
    StaffingAssumptions,
    StaffingPlan,
    check_staffing_interval,
    staffing_plan,
)
from lead_ai.forecasting.local_fit import LocalFit
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.serving import check_horizon, horizon_limit


class SeriesStaffing(NamedTuple):
    series_id: str
    model_version: str
    interval_seconds: int
    timezone: str
    origin: str  # the latest observation, local time with its offset
    plan: StaffingPlan
    fallback_from: str | None
    pool_id: str | None = None  # the pooled model made the forecast (the series has no model of its own)
    pool_fit: LocalFit | None = None  # how the pool is served to this series (forecasting.local_fit)


def staffing_for_series(
    deps: Dependencies,
    series_id: str,
    horizon: int | None,
    assumptions: StaffingAssumptions,
    open_hours: str | None = None,
    open_days: str | None = None,
) -> SeriesStaffing:
    """The plan for the next `horizon` intervals (default: as far as the served model may forecast), open
    in `open_hours` on `open_days` on the series' local clock (each, when None, the series' own: PUT
    /series/{id}); a series of intervals longer than an hour (a daily one) has none: a 400 naming
    `interval`, as opening hours off its grid name `open_hours`."""
    state = deps.cache.state(series_id)
    forecaster = state.forecaster
    spec = forecaster.spec
    check_staffing_interval(spec.interval_seconds)
    opening = _team_opening(deps, series_id, open_hours, open_days, spec.interval_seconds)
    steps = horizon or horizon_limit(deps, spec.interval_seconds, forecaster.max_horizon)
    check_horizon(deps, steps, spec.interval_seconds, forecaster.max_horizon, state.version)
    arrays, planned = forecaster.predict_quantile(state.rows, steps, assumptions.quantile)
    stamps = state.window.last_timestamp + spec.interval_seconds * np.arange(0, steps + 1, dtype=np.int64)
    wall, offsets = spec.wall_clock(stamps)
    times = iso_local_array(wall, offsets)
    plan = staffing_plan(
        times[1:],
        arrays.value,
        planned,
        iso_dates(wall[1:]),
        spec.interval_seconds,
        assumptions,
        opening,
        minutes_of_week(wall[1:]),
    )
    return SeriesStaffing(
        series_id,
        state.version,
        spec.interval_seconds,
        spec.timezone,
        times[0],
        plan,
        state.fallback_from,
        state.pool_id,
        forecaster.local_fit,
    )


def _team_opening(
    deps: Dependencies, series_id: str, hours: str | None, days: str | None, interval_seconds: int
) -> OpeningHours:
    """The request's opening hours, each part it leaves out the series' own (one read of its settings,
    only then), on the served model's grid."""
    if hours is None or days is None:
        info = deps.catalogue.get_series(series_id)
        defaults = deps.settings.series_defaults
        settings = SeriesSettings.of(info, defaults) if info is not None else defaults
        hours, days = hours or settings.open_hours, days or settings.open_days
    return opening_on_grid(hours, days, interval_seconds)
