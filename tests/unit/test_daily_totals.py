"""Daily totals of a forecast, in local days, with their own interval calibrated on the backtest's daily
sums (lead_ai.forecasting.training.daily, calibration.daily_totals)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lead_ai.domain.localtime import iso_dates
from lead_ai.forecasting.calibration import QUANTILE_LEVELS, Calibration, daily_totals
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.daily import daily_residuals
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from tests.unit.test_forecaster import hourly_counts


def test_a_days_residual_is_the_mean_of_its_hours_and_days_follow_the_local_clock() -> None:
    # Given one backtest case from New York's 2026-10-31 23:00 local (03:00Z): 30 hourly steps whose
    # scaled residuals are 1, except a missing actual in the last one
    spec = FeatureSpec(timezone="America/New_York")
    origin = int(datetime(2026, 11, 1, 3, tzinfo=UTC).timestamp())
    residuals = np.ones((1, 30))
    residuals[0, -1] = np.nan
    # When they are grouped by local day
    by_day = daily_residuals(residuals, np.array([origin]), spec)
    # Then day 0 is Nov 1 local (its 25 hours: the clocks go back), a mean of 1; day 1 (Nov 2, 5 hours),
    # with a missing actual, is left out
    dates = iso_dates(spec.wall_clock(origin + 3600 * np.arange(1, 31))[0])
    assert dates.count("2026-11-01") == 25 and dates.count("2026-11-02") == 5
    assert by_day.shape == (1, 2) and by_day[0, 0] == 1.0 and np.isnan(by_day[0, 1])


def test_totals_add_each_local_day_and_their_interval_comes_from_the_daily_table() -> None:
    # Given a daily table whose 80 % interval is -0.5 .. +0.5 of a scaled mean residual
    levels = np.asarray(QUANTILE_LEVELS)
    table = Calibration(levels, np.tile(np.interp(levels, [0.1, 0.9], [-0.5, 0.5]), (3, 1)))
    value = np.full(30, 2.0)
    nov_1 = (datetime(2026, 11, 1) - datetime(1970, 1, 1)).days
    days = np.array([nov_1] * 25 + [nov_1 + 1] * 5)
    # When the totals are made with a scale of 4
    totals = daily_totals(value, days, 4.0, table, 0.8)
    # Then each date sums its steps, with bounds at +- 0.5 x scale x steps, never below 0
    assert totals == [
        {"date": "2026-11-01", "value": 50.0, "lower": 0.0, "upper": 100.0},
        {"date": "2026-11-02", "value": 10.0, "lower": 0.0, "upper": 20.0},
    ]
    # And a model without a daily table gives totals without bounds
    assert daily_totals(value, days, 4.0, None, 0.8)[0] == {
        "date": "2026-11-01",
        "value": 50.0,
        "lower": None,
        "upper": None,
    }


@pytest.mark.slow
def test_training_calibrates_daily_totals_and_reports_their_coverage() -> None:
    # Given ten weeks of hourly counts in New York, trained for a week ahead
    start = int(datetime(2026, 8, 23, 4, tzinfo=UTC).timestamp())
    values = hourly_counts(24 * 70, seed=12, scale=40.0)
    settings = TrainingSettings(
        max_horizon=168,
        min_points=600,
        backtest_origins=6,
        max_rows=8000,
        max_iter=40,
        timezone="America/New_York",
    )
    result = train_forecaster([SeriesData("s", values, start)], settings)
    # Then the version metrics hold the daily totals' coverage, measured on the backtest
    assert 0.5 <= result.metrics["daily_coverage"] <= 1.0
    # And the artifact carries the daily table, one row per local day a week's forecast can touch
    forecaster = OnnxForecaster.from_bytes(result.onnx_bytes)
    daily = forecaster.calibration.daily
    assert daily is not None and daily.quantiles.shape[0] == 8
    # And a served week's daily interval is narrower than the sum of its hours' bounds (errors cancel)
    last = start + 3600 * (values.size - 1)
    rows = forecaster.origin_rows(values, last)
    arrays = forecaster.predict_rows(rows, 168, 0.8)
    wall = forecaster.spec.wall_clock(last + 3600 * np.arange(1, 169))[0]
    dates = iso_dates(wall)
    totals = daily_totals(arrays.value, wall // 86400, rows.scale, daily, 0.8)
    full = [t for t in totals if dates.count(t["date"]) == 24]
    assert full
    for total in full:
        steps = [i for i, d in enumerate(dates) if d == total["date"]]
        assert total["lower"] <= total["value"] <= total["upper"]
        assert total["upper"] - total["lower"] < float(np.sum(arrays.upper[steps] - arrays.lower[steps]))
