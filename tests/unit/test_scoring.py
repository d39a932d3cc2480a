"""Accuracy metrics (lead_ai.forecasting.scoring): M4 definitions of sMAPE, MASE, Naive2 and OWA; WAPE; coverage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lead_ai.forecasting import scoring


def test_smape_is_zero_for_a_perfect_forecast_and_counts_zero_over_zero_as_zero() -> None:
    # Given actuals with zeros forecast exactly / Then sMAPE is 0 (no division by zero)
    a = np.array([0.0, 0.0, 5.0, 10.0])
    assert scoring.smape(a, a.copy()) == 0.0


def test_smape_follows_the_m4_formula() -> None:
    # Given y = 100, f = 50 and y = 0, f = 10 / Then terms are 200*50/150 and 200*10/10, averaged
    got = scoring.smape(np.array([100.0, 0.0]), np.array([50.0, 10.0]))
    assert got == pytest.approx((200 * 50 / 150 + 200.0) / 2)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 1e6), min_size=1, max_size=30), st.lists(st.floats(0, 1e6), min_size=1, max_size=30)
)
def test_smape_is_bounded_by_0_and_200(a: list[float], f: list[float]) -> None:
    n = min(len(a), len(f))
    value = scoring.smape(np.array(a[:n]), np.array(f[:n]))
    assert 0.0 <= value <= 200.0 + 1e-9


def test_mase_divides_the_mae_by_the_in_sample_seasonal_naive_mae() -> None:
    # Given an in-sample series whose lag-24 differences are all 2
    insample = np.r_[np.zeros(24), np.full(24, 2.0), np.full(24, 4.0)]
    actual = np.array([10.0, 10.0, 10.0])
    forecast = np.array([9.0, 11.0, 13.0])  # MAE = 5/3
    # When scored with the default m=24 / Then MASE = (5/3) / 2
    assert scoring.mase(actual, forecast, insample) == pytest.approx(5 / 6)
    assert scoring.seasonal_naive_scale(insample, m=24) == pytest.approx(2.0)


def test_mase_is_nan_when_the_in_sample_data_cannot_scale_it() -> None:
    # Given in-sample data that are constant at lag m, or shorter than m / Then the scale is undefined
    assert np.isnan(scoring.mase(np.ones(3), np.zeros(3), np.ones(100)))
    assert np.isnan(scoring.seasonal_naive_scale(np.arange(10.0), m=24))


def test_wape_and_mae_ignore_missing_actuals() -> None:
    a = np.array([10.0, np.nan, 30.0])
    f = np.array([12.0, 99.0, 27.0])
    assert scoring.wape(a, f) == pytest.approx(100 * 5 / 40)
    assert scoring.mae(a, f) == pytest.approx(2.5)


def test_coverage_counts_actuals_inside_the_closed_interval() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    lo = np.array([1.0, 2.5, 0.0, 5.0, 0.0])
    hi = np.array([2.0, 3.0, 3.0, 6.0, 0.0])
    # Given two of four observed actuals inside (bounds inclusive) / Then coverage is 0.5
    assert scoring.coverage(a, lo, hi) == 0.5


def test_seasonal_naive_repeats_the_last_season() -> None:
    x = np.arange(48.0)
    f = scoring.seasonal_naive_forecast(x, 30, m=24)
    assert f.tolist() == list(np.arange(24.0, 48.0)) + list(np.arange(24.0, 30.0))


def test_naive2_continues_an_exact_multiplicative_season() -> None:
    # Given a level-100 series times a fixed daily profile (mean 1)
    rng = np.random.default_rng(0)
    profile = rng.uniform(0.2, 1.8, 24)
    profile /= profile.mean()
    x = 100.0 * np.tile(profile, 20)
    # When forecast with Naive2 / Then the profile is continued
    f = scoring.naive2_forecast(x, 48, m=24)
    np.testing.assert_allclose(f, 100.0 * np.tile(profile, 2), rtol=1e-9)


def test_naive2_is_the_naive_forecast_for_a_non_seasonal_series() -> None:
    # Given a random walk (no daily season) / Then Naive2 repeats the last value
    x = np.cumsum(np.random.default_rng(1).normal(size=200)) + 50
    assert scoring.naive2_forecast(x, 5, m=24).tolist() == [x[-1]] * 5


def test_owa_of_naive2_itself_is_one_and_halving_both_errors_halves_it() -> None:
    assert scoring.owa(18.0, 2.4, 18.0, 2.4) == 1.0
    assert scoring.owa(9.0, 1.2, 18.0, 2.4) == 0.5
