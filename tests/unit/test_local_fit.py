"""A pooled model fitted to the one young series it serves (lead_ai.forecasting.local_fit): its blend with the
seasonal naive and its interval widths, chosen on a backtest on that series' own last days. A real pool
(scikit-learn -> ONNX) served through onnxruntime."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.local_fit import LOCAL_MAX_ORIGINS, SCALE_LIMITS, SERVING, fit_locally
from lead_ai.forecasting.scoring import seasonal_naive_forecast
from lead_ai.forecasting.training.pool import train_pool_forecaster
from lead_ai.forecasting.training.settings import SeriesData, TrainingSettings
from tests.unit.test_forecaster import hourly_counts

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
# 48 steps: a first day of steps and a later one, each with its own blend and interval factor
SETTINGS = TrainingSettings(max_horizon=48, min_points=500, max_rows=8000, max_iter=40)
DAY = 24

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pool() -> OnnxForecaster:
    members = [
        SeriesData(f"m{i}", hourly_counts(24 * 60, seed=i, scale=10.0 * (i + 1)), START) for i in range(4)
    ]
    held = [SeriesData(f"h{i}", hourly_counts(24 * 60, seed=50 + i, scale=25.0), START) for i in range(2)]
    result = train_pool_forecaster(members, held, SETTINGS, new_min_points=14 * DAY)
    return OnnxForecaster.from_bytes(result.onnx_bytes)


def _last(values: np.ndarray) -> int:
    return START + (values.size - 1) * 3600


def steady(days: int) -> np.ndarray:
    """The same smooth day, every day: yesterday is a perfect forecast."""
    hour = np.arange(days * DAY) % DAY
    return 40.0 + 15.0 * np.sin(2 * np.pi * hour / DAY)


def test_a_steady_series_is_served_the_seasonal_naive_with_narrow_intervals(pool: OnnxForecaster) -> None:
    # Given a new team of 14 days whose days are all alike
    values = steady(14)
    # When the pool is fitted to it
    served = pool.fitted_to(values, _last(values))
    fit = served.local_fit
    assert fit is not None
    # Then it was judged on 7 daily origins (each with a week before it), where the naive made no error
    assert fit.origins == 7 and fit.mae_naive < 1e-4  # float32 features and fit.mae_pool > 0.1
    # so the naive alone is served, for both bands, with the narrowest intervals allowed
    assert fit.weight_naive == (1.0, 1.0)
    assert fit.interval_scale == (SCALE_LIMITS[0], SCALE_LIMITS[0])
    out = served.predict(values, _last(values), 48)
    np.testing.assert_allclose(out.value, seasonal_naive_forecast(values, 48, DAY), atol=1e-6)
    pooled = pool.predict(values, _last(values), 48)
    assert np.all(out.upper - out.lower < pooled.upper - pooled.lower)


def test_a_series_noisier_than_the_group_gets_wider_intervals(pool: OnnxForecaster) -> None:
    # Given a new team whose hours scatter far more than the pool's held-out series did
    rng = np.random.default_rng(7)
    values = hourly_counts(21 * DAY, seed=8, scale=25.0) * rng.gamma(1.0, 1.0, 21 * DAY)
    # When the pool is fitted to it
    served = pool.fitted_to(values, _last(values))
    assert served.local_fit is not None
    # Then its intervals are widened in both bands, and the forecast's are wider than the pool's
    assert min(served.local_fit.interval_scale) > 1.0, served.local_fit
    out, pooled = served.predict(values, _last(values), 48), pool.predict(values, _last(values), 48)
    assert np.sum(out.upper - out.lower) > np.sum(pooled.upper - pooled.lower)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_what_is_served_is_never_worse_on_its_own_backtest_than_the_naive_or_the_pool(
    pool: OnnxForecaster, seed: int
) -> None:
    # Given young series of different shapes and lengths (two weeks up to over three)
    days = 14 + 4 * seed
    rng = np.random.default_rng(seed)
    values = hourly_counts(days * DAY, seed=seed, scale=5.0 * seed) + seed * steady(days) * rng.random()
    # When the pool is fitted to one
    fit = fit_locally(pool, values, _last(values))
    # Then at most two weeks of origins were judged, and the blend served beats or ties both pure choices
    assert fit.origins == min(LOCAL_MAX_ORIGINS, days - 7) and fit.scored > 0
    assert fit.mae_served <= min(fit.mae_naive, fit.mae_pool) + 1e-9, fit


def test_the_served_point_is_the_chosen_blend_of_pool_and_naive(pool: OnnxForecaster) -> None:
    # Given a fitted pool whose blend mixes the pool and the naive
    values = hourly_counts(18 * DAY, seed=4, scale=20.0) + 0.5 * steady(18)
    served = pool.fitted_to(values, _last(values))
    assert served.local_fit is not None
    first, later = served.local_fit.weight_naive
    # When it forecasts two days
    out = served.predict(values, _last(values), 48)
    # Then each step is (1 - w) * pool + w * seasonal naive, with the w of its band
    w = np.where(np.arange(1, 49) <= DAY, first, later)
    expected = (1 - w) * pool.predict(values, _last(values), 48).value
    expected += w * seasonal_naive_forecast(values, 48, DAY)
    np.testing.assert_allclose(out.value, np.maximum(expected, 0.0), rtol=1e-5, atol=1e-5)
    # and the batch and quantile paths serve the same point
    (batch,) = served.predict_many([values], [_last(values)], 48)
    median, _ = served.predict_quantile(served.origin_rows(values, _last(values)), 48, 0.5)
    np.testing.assert_allclose(batch.value, out.value, rtol=1e-6)
    np.testing.assert_allclose(median.value, out.value, rtol=1e-6)


def test_a_series_under_eight_days_is_served_the_pool_as_it_is(pool: OnnxForecaster) -> None:
    # Given a history with no origin that has a week before it
    values = hourly_counts(7 * DAY + 23, seed=5)
    # When the pool is fitted to it
    served = pool.fitted_to(values, _last(values))
    # Then nothing was judged and the pool's own forecast and intervals are served
    assert served.local_fit is not None and served.local_fit.origins == 0
    out, pooled = served.predict(values, _last(values), 48), pool.predict(values, _last(values), 48)
    np.testing.assert_array_equal(out.value, pooled.value)
    np.testing.assert_array_equal(out.upper, pooled.upper)


def test_a_refit_starts_from_the_pool_as_exported(pool: OnnxForecaster) -> None:
    # Given a pool fitted to a series (as the serving cache holds it)
    values = steady(14)
    once = pool.fitted_to(values, _last(values))
    # When the cache refreshes and fits it again
    twice = once.fitted_to(values, _last(values))
    # Then the fit starts from the exported pool: the factors do not compound
    assert twice.base is pool and once.base is pool and pool.local_fit is None
    np.testing.assert_array_equal(twice.calibration.quantiles, once.calibration.quantiles)
    assert pool.calibration.quantiles[0, -1] > once.calibration.quantiles[0, -1]


def busy_afternoons(days: int, seed: int) -> np.ndarray:
    """A team whose nights are quiet and steady and whose afternoons are busy and scattered."""
    hour = np.arange(days * DAY) % DAY
    rng = np.random.default_rng(seed)
    level = np.where((hour >= 12) & (hour < 18), 60.0, 3.0)
    return level * rng.gamma(4.0, 0.25, days * DAY)


def test_a_young_series_intervals_follow_its_own_hours(pool: OnnxForecaster) -> None:
    # Given a new team whose afternoon errors are far larger than its nights'
    values = busy_afternoons(21, seed=3)
    # When the pool is fitted to it
    served = pool.fitted_to(values, _last(values))
    fit = served.local_fit
    assert fit is not None and fit.slot_factors is not None
    # Then its afternoon slots get wider intervals than its night slots, and the served calibration has them
    assert fit.slot_factors[14] > 1.0 > fit.slot_factors[3], fit.slot_factors
    np.testing.assert_array_equal(served.calibration.slot_factors, fit.slot_factors)
    # and against the pool as exported, which is as wide at every hour, the upper offset grows at 14:00
    # relative to 03:00 (both on the first day of steps, one band factor)
    out, pooled = served.predict(values, _last(values), 24), pool.predict(values, _last(values), 24)
    hours = (_last(values) // 3600 + np.arange(1, 25)) % DAY
    at = {h: int(np.flatnonzero(hours == h)[0]) for h in (3, 14)}
    served_ratio = (out.upper - out.value)[at[14]] / (out.upper - out.value)[at[3]]
    pooled_ratio = (pooled.upper - pooled.value)[at[14]] / (pooled.upper - pooled.value)[at[3]]
    assert served_ratio > 2.0 * pooled_ratio, (served_ratio, pooled_ratio)


def test_the_hours_widths_cover_each_hour_more_evenly_on_its_own_days(pool: OnnxForecaster) -> None:
    # Given the same team, and the fit with one width at every hour (as before hours were fitted)
    values = busy_afternoons(28, seed=5)
    history, future = values[: 21 * DAY], values[21 * DAY :]
    one_width = SERVING._replace(slot_shrink=None)
    last = _last(history)
    # When both forecast the week after the history
    by_hour = served_coverage(pool.fitted_to(history, last), history, future)
    flat = served_coverage(pool.fitted_to(history, last, one_width), history, future)
    # Then the afternoon is covered better and the nights no worse than full
    afternoon = slice(12, 18)
    assert by_hour[afternoon].mean() > flat[afternoon].mean(), (by_hour, flat)
    assert np.mean(np.abs(by_hour - 0.8)) < np.mean(np.abs(flat - 0.8)), (by_hour, flat)


def served_coverage(served: OnnxForecaster, history: np.ndarray, future: np.ndarray) -> np.ndarray:
    """Coverage of the 80 % interval per hour of the day, daily origins over `future` (forecast 24 h)."""
    inside = np.zeros(DAY)
    for day in range(future.size // DAY):
        seen = np.concatenate([history, future[: day * DAY]])
        out = served.predict(seen, _last(seen), DAY)
        actual = future[day * DAY : (day + 1) * DAY]
        hours = (_last(seen) // 3600 + np.arange(1, DAY + 1)) % DAY
        inside[hours] += (actual >= out.lower) & (actual <= out.upper)
    return inside / (future.size // DAY)
