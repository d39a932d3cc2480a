"""What history training reads (forecasting.contiguous), how much it needs per interval
(domain.intervals.min_points_for_interval), and the horizon a short history can train for."""

from __future__ import annotations

import numpy as np
import pytest

from lead_ai.domain.intervals import min_points_for_interval
from lead_ai.forecasting.contiguous import recent_contiguous
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from tests.conftest import HISTORY_END, lead_history

DAY = 86400
FOUR_WEEKS = 28 * DAY


def test_history_after_the_last_gap_longer_than_four_weeks_is_kept() -> None:
    # Given one stray point, then 3 years of nothing, then 10 days of hours with a 3-day outage
    values = np.full(3 * 365 * 24 + 240, np.nan)
    values[0] = 5.0
    values[-240:] = 1.0
    values[-150:-78] = np.nan
    # When the training part is taken
    recent = recent_contiguous(values, 1_000_000, 3600, FOUR_WEEKS)
    # Then it starts at the first observation after the long gap; the short outage stays inside
    assert recent.values.shape == (240,)
    assert recent.first_timestamp == 1_000_000 + (values.size - 240) * 3600
    assert recent.dropped_points == 1
    assert np.isnan(recent.values[-150:-78]).all()


def test_a_gap_of_exactly_four_weeks_is_not_a_cut_and_leading_or_trailing_gaps_are_trimmed() -> None:
    values = np.full(100 + 28 * 24 + 100 + 5, np.nan)
    values[2:100] = 1.0
    values[100 + 28 * 24 : -5] = 2.0
    recent = recent_contiguous(values, 0, 3600, FOUR_WEEKS)
    assert recent.dropped_points == 0
    assert recent.first_timestamp == 2 * 3600 and recent.values.size == values.size - 2 - 5
    assert recent_contiguous(np.full(4, np.nan), 0, 3600, FOUR_WEEKS).values.size == 0


def test_a_stray_point_years_earlier_does_not_reshape_training() -> None:
    # Given 20 days of lead counts, and the same with one point stamped three years earlier
    stamps, counts = lead_history(20, seed=3)
    settings = TrainingSettings(max_horizon=24, min_points=200)
    plain = train_forecaster([SeriesData("s", counts.astype(float), int(stamps[0]))], settings)
    gap = 3 * 365 * 24
    stray = np.concatenate([[7.0], np.full(gap - 1, np.nan), counts.astype(float)])
    # When trained
    result = train_forecaster([SeriesData("s", stray, int(stamps[0]) - gap * 3600)], settings)
    # Then the model is the one the recent history alone gives: same bytes, same window, same rows
    assert result.onnx_bytes == plain.onnx_bytes
    assert result.training_start == int(stamps[0]) and result.n_points == counts.size
    assert result.metrics["training_rows"] == plain.metrics["training_rows"]


@pytest.mark.parametrize(
    ("interval", "points", "days"),
    [(900, 4000, 41.7), (1800, 2000, 41.7), (3600, 1000, 41.7), (86400, 42, 42)],
)
def test_the_minimum_history_is_the_same_duration_at_every_interval(
    interval: int, points: int, days: float
) -> None:
    # Given the hourly default of 1000 points / Then each interval needs about six weeks, as a count of its slots
    assert min_points_for_interval(1000, interval) == points
    assert points * interval / DAY == pytest.approx(days, abs=0.05)
    assert min_points_for_interval(200, 86400) == 9  # rounded up: never less than the hours asked for


def test_a_daily_series_of_six_weeks_trains_for_the_horizon_its_history_allows() -> None:
    # Given 42 days of a daily series (the minimum duration), and a service horizon of 168 steps
    rng = np.random.default_rng(0)
    values = 50 + 20 * (np.arange(42) % 7 < 5) + rng.normal(0, 3, 42)
    first = int(HISTORY_END.timestamp()) // DAY * DAY - 41 * DAY
    settings = TrainingSettings(max_horizon=168, min_points=min_points_for_interval(1000, DAY))
    # When trained
    result = train_forecaster([SeriesData("daily", values, first, DAY)], settings)
    # Then it trains a shorter horizon, the longest with 4 backtest origins, and serves it
    horizon = result.feature_spec["max_horizon"]
    assert 7 <= horizon < 168
    assert result.metrics["backtest_cases"] >= 4
    out = OnnxForecaster.from_bytes(result.onnx_bytes).predict(values, first + 41 * DAY, horizon)
    assert out.value.shape == (horizon,) and (out.value > 0).all()
    # And one day less is refused before any fit, naming both counts
    with pytest.raises(ValueError, match=r"41 observed points.*42"):
        train_forecaster([SeriesData("daily", values[1:], first + DAY, DAY)], settings)
