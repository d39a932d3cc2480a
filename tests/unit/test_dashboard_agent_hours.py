"""The forecast page's agent hours per day are the plan's, to the quarter hour."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from lead_ai.api.dashboard import render_dashboard
from lead_ai.domain.series import SeriesWindow
from lead_ai.domain.staffing import StaffingAssumptions, staffing_plan
from lead_ai.service.overview import SeriesOverview
from lead_ai.service.serving import Forecast

QUARTER = 900


def test_a_15_minute_series_shows_agent_hours_in_quarter_hours_as_the_api_answers_them() -> None:
    # Given a 15-minute series whose plan schedules 3 agents in each of 9 quarter hours of one day (6.75 h)
    origin = int(datetime(2026, 12, 2, 0, tzinfo=UTC).timestamp())
    stamps = np.arange(origin + QUARTER, origin + 10 * QUARTER, QUARTER)
    values = np.full(9, 2.0)
    forecast = Forecast("q", "1.0.0", QUARTER, origin, 0.8, stamps, values, values - 1, values + 1, None)
    times = [datetime.fromtimestamp(int(t), UTC).isoformat() for t in stamps]
    plan = staffing_plan(times, values, values, [t[:10] for t in times], QUARTER, StaffingAssumptions())
    hours = plan.daily[0]["agent_hours"]
    assert hours * 4 % 1 == 0 and hours * 2 % 1 != 0, hours  # a quarter hour, e.g. 6.75
    history = SeriesWindow(
        values=np.full(8, 2.0), first_timestamp=origin - 7 * QUARTER, interval_seconds=QUARTER
    )
    overview = SeriesOverview("q", history, forecast, None, plan, UTC)
    # When its page is written
    page = render_dashboard(overview)
    # Then the day's agent hours are shown as the API answers them, not rounded to a tenth
    row = re.search(r"<tr><td>2026-12-02</td><td>[^<]*</td><td>([^<]*)</td></tr>", page)
    assert row is not None and float(row.group(1)) == hours, (row and row.group(1), hours)
