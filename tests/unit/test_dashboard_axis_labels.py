"""The forecast page's date labels stay inside the chart: one at the right edge is not cut off."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from lead_ai.api.dashboard import WIDTH, render_dashboard
from lead_ai.domain.series import SeriesWindow
from lead_ai.service.overview import SeriesOverview
from lead_ai.service.serving import Forecast

DAY = 86_400


def test_the_last_date_of_a_daily_forecast_is_not_cut_off_at_the_right_edge() -> None:
    # Given a daily series whose forecast's last date is the chart's right edge (a date is drawn at its tick)
    origin = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    stamps = np.arange(origin + DAY, origin + 8 * DAY, DAY)
    values = np.full(7, 120.0)
    forecast = Forecast("d", "1.0.0", DAY, origin, 0.8, stamps, values, values - 10, values + 10, None)
    history = SeriesWindow(values=np.full(14, 110.0), first_timestamp=origin - 13 * DAY, interval_seconds=DAY)
    overview = SeriesOverview("d", history, forecast, None, None, ZoneInfo("America/Los_Angeles"))
    # When its page is written
    page = render_dashboard(overview)
    # Then every centred date label fits inside the chart's width, and the last one ends at its tick
    labels = re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)" font-size="12"[^>]*>(\w{3} \d\d \w{3})<', page
    )
    assert labels, page[:300]
    assert all(float(x) + 33 <= WIDTH for x, anchor, _ in labels if anchor == "middle"), labels
    _, anchor, text = labels[-1]
    assert (text, anchor) == ("Tue 08 Dec", "end")
