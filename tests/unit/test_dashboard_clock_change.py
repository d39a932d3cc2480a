"""The forecast page tells apart the two hours a clock change shows twice (tests/integration/
test_dashboard_clock.py covers a daily series' dates)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from lead_ai.api.dashboard import render_dashboard
from lead_ai.domain.series import SeriesWindow
from lead_ai.service.overview import SeriesOverview
from lead_ai.service.serving import Forecast

HOUR = 3600


def test_the_hour_new_york_shows_twice_is_labelled_with_its_offset() -> None:
    # Given a New York series whose forecast spans 1 November 2026, when 01:00 comes twice (EDT, then EST)
    origin = int(datetime(2026, 10, 31, 12, tzinfo=UTC).timestamp())
    steps = 48
    stamps = np.arange(origin + HOUR, origin + (steps + 1) * HOUR, HOUR)
    values = np.full(steps, 5.0)
    forecast = Forecast(
        "ny", "1.0.0", HOUR, origin, 0.8, stamps, values, values - 1, values + 1, None, "America/New_York"
    )
    history = SeriesWindow(values=np.full(24, 4.0), first_timestamp=origin - 23 * HOUR, interval_seconds=HOUR)
    overview = SeriesOverview("ny", history, forecast, None, None, ZoneInfo("America/New_York"))
    # When its page is written
    page = render_dashboard(overview)
    # Then the forecast table names each hour once: the repeated 01:00 carries its UTC offset
    rows = re.findall(r"<tr><td>([^<]*)</td>", page)
    forecast_rows = rows[:steps]
    assert len(set(forecast_rows)) == steps, [r for r in forecast_rows if forecast_rows.count(r) > 1]
    assert "Sun 01 Nov 01:00 (UTC-04:00)" in forecast_rows
    assert "Sun 01 Nov 01:00 (UTC-05:00)" in forecast_rows
    # and every other hour keeps its plain label
    assert "Sun 01 Nov 00:00" in forecast_rows and "Sun 01 Nov 02:00" in forecast_rows
