"""What the forecast page shows for a series: the last two weeks of observations, the forecast with its
interval, the model version that made it (and its backtest figures), and the staffing plan.

Days and clock times follow `zone`. Series carry no time zone yet, so callers pass UTC; once a series
records its own, the route passes `ZoneInfo(series.time_zone)` and the staffing plan's days, like the
page's axes, follow the local clock (a day of 23 or 25 hours included).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import NamedTuple

import numpy as np

from lead_ai.domain.isotime import iso_utc_array
from lead_ai.domain.models import ModelVersion
from lead_ai.domain.series import SeriesWindow
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.serving import Forecast, forecast
from lead_ai.service.staffing import StaffingAssumptions, StaffingPlan, staffing_plan

HISTORY_DAYS = 14
FORECAST_DAYS = 7  # capped by LEAD_AI_MAX_HORIZON
LEVEL = 0.8


class SeriesOverview(NamedTuple):
    series_id: str
    history: SeriesWindow  # the last HISTORY_DAYS days on the series' grid (NaN: nobody reported)
    forecast: Forecast
    version: ModelVersion | None  # the record of the version that answered (None if it vanished meanwhile)
    staffing: StaffingPlan
    zone: tzinfo


def series_overview(
    deps: Dependencies,
    series_id: str,
    *,
    zone: tzinfo = UTC,
    assumptions: StaffingAssumptions | None = None,
) -> SeriesOverview:
    """Raises what a forecast raises: SeriesNotFoundError, ModelNotFoundError, ServiceUnavailableError."""
    step = deps.cache.state(series_id).window.interval_seconds  # the model and its window, cached
    horizon = max(1, min(FORECAST_DAYS * 86_400 // step, deps.settings.max_horizon))
    result = forecast(deps, series_id, horizon, LEVEL)
    history = deps.history.latest(series_id, HISTORY_DAYS * 86_400 // step, step)
    if history is None:  # deleted between the two reads: show the forecast's own origin only
        history = SeriesWindow(
            values=np.full(1, np.nan), first_timestamp=result.origin, interval_seconds=step
        )
    version = next(
        (v for v in deps.tracker.list_versions(series_id) if v.version == result.model_version), None
    )
    plan = staffing_plan(
        iso_utc_array(result.timestamps),
        result.value,
        result.value,  # StaffingAssumptions().quantile is 0.5: plan for the point forecast
        [datetime.fromtimestamp(int(t), zone).date().isoformat() for t in result.timestamps.tolist()],
        step,
        assumptions or StaffingAssumptions(),
    )
    return SeriesOverview(series_id, history, result, version, plan, zone)
