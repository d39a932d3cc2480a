"""The forecast page's accuracy card is the backtest of what serves this series: for a young series
served by its group's pool, the pool judged on the series' own last days, not on other teams."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from lead_ai.api.dashboard import render_dashboard
from lead_ai.domain.models import ModelVersion
from lead_ai.domain.series import SeriesWindow
from lead_ai.forecasting.local_fit import LocalFit
from lead_ai.service.overview import SeriesOverview
from lead_ai.service.serving import Forecast

HOUR = 3600
ORIGIN = int(datetime(2026, 12, 2, 0, tzinfo=UTC).timestamp())
POOL = "pool:1h:UTC:none"


def _page(pool_fit: LocalFit | None, pool_id: str | None) -> str:
    stamps = np.arange(ORIGIN + HOUR, ORIGIN + 25 * HOUR, HOUR)
    values = np.full(24, 5.0)
    forecast = Forecast(
        "young", "1.3.0", HOUR, ORIGIN, 0.8, stamps, values, values - 2, values + 2, None,
        pool_id=pool_id, pool_fit=pool_fit,
    )  # fmt: skip
    # The pool's record: its metrics are of its held-out series (other teams)
    metrics = {"mase": 0.6123, "baseline_mase": 1.1265, "coverage": 0.797}
    version = ModelVersion(pool_id or "young", "1.3.0", "verified", "2026-12-01T04:00:00Z", {}, metrics, {})
    history = SeriesWindow(values=np.full(24, 5.0), first_timestamp=ORIGIN - 23 * HOUR, interval_seconds=HOUR)
    return render_dashboard(SeriesOverview("young", history, forecast, version, None, UTC))


def _card(page: str, title: str) -> tuple[str, str]:
    match = re.search(rf'<div class="card"><span>{title}[^<]*</span><b>([^<]*)</b><span>([^<]*)</span>', page)
    assert match is not None, title
    return match.group(1), match.group(2)


def test_a_young_series_page_shows_the_pool_judged_on_its_own_last_days() -> None:
    # Given a young series served by its group's pool, fitted on 7 origins of its own history
    fit = LocalFit((0.25, 0.0), (1.3, 1.1), 7, 900, mae_pool=3.02, mae_naive=3.65, mae_served=2.88)
    # When its page is written
    page = _page(fit, POOL)
    # Then the accuracy card is the served blend's error on the series' own days beside the naive's
    value, detail = _card(page, "Backtest MAE, its last 7 days")
    assert (value, detail) == ("2.88", "seasonal naive 3.65 · 21% better"), (value, detail)
    # and nothing on the page passes the pool's held-out MASE off as this series'
    assert "0.612" not in page
    # and the coverage card says whose coverage it is
    assert "the pooled model on held-out series" in _card(page, "80% interval coverage")[1]


def test_a_pool_not_yet_fitted_to_the_series_says_its_figures_are_the_pools() -> None:
    # Given a young series too young for a fit (no origin judged): the pool is served as exported
    page = _page(LocalFit.unfitted(), POOL)
    # Then the card shows the pool's held-out MASE, saying so
    value, detail = _card(page, "Backtest MASE")
    assert value == "0.612" and detail.endswith("the pooled model on held-out series"), detail


def test_a_series_own_model_shows_its_own_backtest_mase() -> None:
    page = _page(None, None)
    value, detail = _card(page, "Backtest MASE")
    assert (value, detail) == ("0.612", "seasonal naive 1.127 · 46% better")
    assert _card(page, "80% interval coverage")[1] == "in the backtest (target 0.80)"
