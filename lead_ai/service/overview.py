"""What the forecast page shows for a series: the last two weeks of observations, the forecast with its
interval, the model version that made it (and its backtest figures), and the staffing plan (none for a
daily series: GET /series/{id}/staffing refuses one).

Days and clock times follow the time zone the served model was trained in (the series' own, PUT
/series/{id}): the page's axes and the staffing plan's days follow the local clock, a day of 23 or 25
hours included. The staffing plan is the one GET /series/{id}/staffing answers (service.staffing).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import NamedTuple

import numpy as np

from lead_ai.domain.models import ModelVersion
from lead_ai.domain.series import SeriesWindow
from lead_ai.domain.staffing import StaffingAssumptions, StaffingPlan, plans_staffing
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.serving import Forecast, forecast, horizon_limit
from lead_ai.service.staffing import staffing_for_series

HISTORY_DAYS = 14
LEVEL = 0.8


class SeriesOverview(NamedTuple):
    series_id: str
    history: SeriesWindow  # the last HISTORY_DAYS days on the series' grid (NaN: nobody reported)
    forecast: Forecast
    version: ModelVersion | None  # the record of the version that answered (None if it vanished meanwhile)
    staffing: StaffingPlan | None  # None for a daily series: staffing is planned per interval of ≤ 1h
    zone: tzinfo


def series_overview(
    deps: Dependencies, series_id: str, *, assumptions: StaffingAssumptions | None = None
) -> SeriesOverview:
    """Raises what a forecast raises: SeriesNotFoundError, ModelNotFoundError, ServiceUnavailableError."""
    from zoneinfo import ZoneInfo  # the page only: the forecast route never loads it

    state = deps.cache.state(series_id)  # the model and its window, cached
    step = state.window.interval_seconds
    horizon = horizon_limit(deps, step, state.forecaster.max_horizon)  # as far as the model may forecast
    result = forecast(deps, series_id, horizon, LEVEL)
    history = deps.history.latest(series_id, HISTORY_DAYS * 86_400 // step, step)
    if history is None:  # deleted between the two reads: show the forecast's own origin only
        history = SeriesWindow(
            values=np.full(1, np.nan), first_timestamp=result.origin, interval_seconds=step
        )
    registry_key = result.pool_id or series_id  # a pooled model's versions are the pool's
    version = next(
        (v for v in deps.tracker.list_versions(registry_key) if v.version == result.model_version), None
    )
    plan = (
        staffing_for_series(deps, series_id, horizon, assumptions or StaffingAssumptions()).plan
        if plans_staffing(step)
        else None
    )
    return SeriesOverview(series_id, history, result, version, plan, ZoneInfo(result.timezone))
