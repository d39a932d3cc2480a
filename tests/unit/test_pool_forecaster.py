"""The pooled model (lead_ai.forecasting.training.pool): fitted on its members, its blend and intervals chosen
on held-out series cut to a new team's history; real scikit-learn fits, ONNX export and onnxruntime."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.pool import POOL_SCOPE, train_pool_forecaster, young_windows
from lead_ai.forecasting.training.settings import SeriesData, TrainingResult, TrainingSettings
from lead_ai.forecasting.training.train import feature_spec_for
from tests.unit.test_forecaster import hourly_counts

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
# a model of its own from 500 hours (~21 days); the pool serves from 14 days (336 hours)
SETTINGS = TrainingSettings(max_horizon=24, min_points=500, max_rows=8000, max_iter=40)
NEW_MIN = 336

pytestmark = pytest.mark.slow


def _series(prefix: str, count: int, *, noise: float = 0.0, seed0: int = 0) -> list[SeriesData]:
    out = []
    for i in range(count):
        values = hourly_counts(24 * 60, seed=seed0 + i, scale=10.0 * (i + 1))
        if noise:
            rng = np.random.default_rng(100 + seed0 + i)
            values = np.maximum(values + rng.normal(0.0, noise * values.mean(), values.size), 0.0).round()
        out.append(SeriesData(f"{prefix}{i}", values, START))
    return out


@pytest.fixture(scope="module")
def members() -> list[SeriesData]:
    return _series("m", 4)


@pytest.fixture(scope="module")
def quiet_pool(members: list[SeriesData]) -> TrainingResult:
    return train_pool_forecaster(members, _series("q", 2, seed0=50), SETTINGS, new_min_points=NEW_MIN)


def test_the_pool_is_an_onnx_forecaster_that_says_it_is_a_pool(quiet_pool: TrainingResult) -> None:
    # Given a pool trained on 4 members and calibrated on 2 held-out series
    # When its artifact is loaded by the serving code
    forecaster = OnnxForecaster.from_bytes(quiet_pool.onnx_bytes)
    # Then it forecasts the horizon, says it is a pool, and records its members and held-out series
    assert forecaster.max_horizon == 24
    assert forecaster.spec.extra == POOL_SCOPE
    # and, calibrated over several series, one interval width per step at every hour of the day
    assert forecaster.calibration.slot_factors is None
    # and its daily medians per unit of usual volume, from the held-out series' days, which a young team's
    # fit keeps (its own usual volume sizes each of its days)
    assert forecaster.calibration.daily_median is not None
    young = hourly_counts(NEW_MIN, seed=78, scale=20.0)
    served = forecaster.fitted_to(young, START + 3600 * (young.size - 1))
    np.testing.assert_array_equal(served.calibration.daily_median, forecaster.calibration.daily_median)
    # and a daily table per step: the root of the usual volume was chosen on teams' own models only
    assert not forecaster.calibration.daily_per_root_usual
    assert quiet_pool.metrics["pool_members"] == 4
    assert quiet_pool.metrics["pool_held_out"] == 2
    assert quiet_pool.metrics["mase"] < quiet_pool.metrics["baseline_mase"]


def test_a_pool_calibrated_on_one_held_out_series_has_factors_per_hour_of_the_day_not_of_the_week(
    members: list[SeriesData],
) -> None:
    # Given a pool of a small group: 4 members and a single held-out series (its backtest holds one series)
    pool = train_pool_forecaster(members, _series("one", 1, seed0=70), SETTINGS, new_min_points=NEW_MIN)
    forecaster = OnnxForecaster.from_bytes(pool.onnx_bytes)
    # Then its factors are that team's per hour of the day (24), never per hour of the week
    assert pool.metrics["pool_held_out"] == 1
    pooled = forecaster.calibration.slot_factors
    assert pooled is not None and pooled.size == 24
    # and a young team is served the pool's hour factors times its own, hour by hour
    young = hourly_counts(24 * 14, seed=71, scale=25.0)
    served = forecaster.fitted_to(young, START + 3600 * (young.size - 1))
    assert served.local_fit is not None and served.local_fit.slot_factors is not None
    assert served.calibration.slot_factors is not None
    np.testing.assert_allclose(served.calibration.slot_factors, pooled * served.local_fit.slot_factors)


def test_a_fourteen_day_history_is_forecast_by_the_pool(quiet_pool: TrainingResult) -> None:
    # Given a new team's 14 days
    values = hourly_counts(NEW_MIN, seed=77, scale=30.0)
    forecaster = OnnxForecaster.from_bytes(quiet_pool.onnx_bytes)
    # When the pool forecasts it
    out = forecaster.predict(values, START + (NEW_MIN - 1) * 3600, 24, level=0.8)
    # Then every step has a finite value within its interval
    assert np.all(np.isfinite(out.value))
    assert np.all((out.lower <= out.value) & (out.value <= out.upper))


def test_the_intervals_come_from_the_held_out_series_not_the_members(
    members: list[SeriesData], quiet_pool: TrainingResult
) -> None:
    # Given the same members, and held-out series that are much noisier than them
    noisy = train_pool_forecaster(
        members, _series("n", 2, noise=0.6, seed0=50), SETTINGS, new_min_points=NEW_MIN
    )
    # Then the pool's intervals are wider: they were calibrated on the held-out series' errors
    values = hourly_counts(NEW_MIN, seed=77, scale=30.0)

    def width(result: TrainingResult) -> float:
        out = OnnxForecaster.from_bytes(result.onnx_bytes).predict(
            values, START + (NEW_MIN - 1) * 3600, 24, level=0.8
        )
        return float(np.mean(out.upper - out.lower))

    assert width(noisy) > 1.3 * width(quiet_pool)


def test_a_held_out_series_cannot_be_a_member(members: list[SeriesData]) -> None:
    with pytest.raises(ValueError, match="held-out"):
        train_pool_forecaster(members, members[:1], SETTINGS, new_min_points=NEW_MIN)


def test_held_out_windows_are_those_of_a_young_series(members: list[SeriesData]) -> None:
    # Given a held-out series of 60 days
    spec = feature_spec_for(members, 3600, SETTINGS)
    cut, plan, first, stride = young_windows(members[:1], spec, SETTINGS, NEW_MIN)
    # Then it is cut to the minimum history plus a horizon, and its origins have 14 days to 500 hours
    assert cut[0].values.shape[0] == SETTINGS.min_points + 24
    origins = [first[0] + j * stride for j in range(plan[0])]
    assert origins[0] == NEW_MIN - 1
    assert max(origins) <= SETTINGS.min_points - 1
    assert all(o + 24 < cut[0].values.shape[0] for o in origins)
