"""Intervals as wide as each hour's own errors (lead_ai.forecasting.calibration.slot_factors_of,
TrainingSettings.slot_intervals): real trainings, ONNX artifacts and onnxruntime forecasts."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lead_ai.forecasting.calibration import SLOT_LIMITS, Calibration, calibrate, slot_factors_of
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.train import SeriesData, train_forecaster
from tests.unit.test_forecaster import FAST, START, hourly_counts

HISTORY = hourly_counts(24 * 7 * 8, seed=5, scale=60.0)  # quiet nights (0), busy working days
SETTINGS = replace(FAST, backtest_origins=12)  # ~24 residuals a slot of the day
BUSY, QUIET = np.arange(10, 18), np.arange(0, 6)  # hours of the day (the history starts at midnight UTC)


@pytest.fixture(scope="module")
def by_setting() -> dict[bool, tuple[OnnxForecaster, float]]:
    """The same history trained with one width per step (False) and with slot factors (True), and each
    one's backtest coverage."""
    out = {}
    for slots in (False, True):
        result = train_forecaster(
            [SeriesData("leads", HISTORY, START)], replace(SETTINGS, slot_intervals=slots)
        )
        out[slots] = (OnnxForecaster.from_bytes(result.onnx_bytes), result.metrics["coverage"])
    return out


def test_a_slots_factor_is_its_errors_against_all_and_shrinks_toward_one_with_few() -> None:
    # Given residuals four times larger in the afternoon (slots 12..23) than in the morning (0..11)
    rng = np.random.default_rng(0)
    slots = np.tile(np.arange(24), 2000)
    residuals = rng.normal(0.0, np.where(slots >= 12, 1.0, 0.25))
    # When the factors are taken from 2,000 residuals a slot, and from 2 a slot
    many = slot_factors_of(residuals, slots, 24)
    few = slot_factors_of(residuals[:48], slots[:48], 24)
    # Then the afternoon's are about four times the morning's, and with two residuals a slot they stay
    # much nearer 1
    assert many is not None and few is not None
    assert 3.5 < many[12:].mean() / many[:12].mean() < 4.5
    assert np.abs(few - 1.0).mean() < 0.5 * np.abs(many - 1.0).mean()
    assert np.all((many >= SLOT_LIMITS[0]) & (many <= SLOT_LIMITS[1]))
    # And a daily series (one slot a day), or residuals all zero, has none
    assert slot_factors_of(residuals, slots, 1) is None
    assert slot_factors_of(np.zeros(48), slots[:48], 24) is None


def test_a_calibration_with_slot_factors_keeps_them_through_the_artifact_and_old_ones_have_none() -> None:
    rng = np.random.default_rng(1)
    slots = np.tile(np.arange(24), (300, 1))[:, :3]
    residuals = rng.normal(0.0, 1.0, slots.shape) * (1 + slots)
    calibration = calibrate(residuals, slots=slots, season_day=24)
    assert calibration.slot_factors is not None and calibration.slot_factors[2] > calibration.slot_factors[0]
    # the step quantiles are of the residuals divided by their slot's factor
    expected = calibrate(residuals / calibration.slot_factors[slots])
    np.testing.assert_allclose(calibration.quantiles, expected.quantiles)
    # and the factors travel with the quantiles through the artifact's JSON
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.slot_factors is not None
    np.testing.assert_allclose(again.slot_factors, calibration.slot_factors)
    np.testing.assert_allclose(again.spread(np.array([0, 2, 26])), calibration.slot_factors[[0, 2, 2]])
    # A calibration without them (older models) widens nothing; impossible ones are refused
    old = {k: v for k, v in calibration.to_dict().items() if k != "slot_factors"}
    assert Calibration.from_dict(old).slot_factors is None
    assert np.array_equal(Calibration.from_dict(old).spread(np.array([0, 5])), np.ones(2))
    with pytest.raises(ValueError, match="slot_factors"):
        Calibration.from_dict({**old, "slot_factors": [1.0, 0.0]})
    # And a calibration scaled for one team (a pool's local fit) keeps them
    assert calibration.scaled(2.0).slot_factors is calibration.slot_factors


def test_with_slot_factors_the_interval_is_narrow_at_quiet_hours_and_wide_at_busy_ones(
    by_setting: dict[bool, tuple[OnnxForecaster, float]],
) -> None:
    # Given the same history trained with one width per step and with slot factors
    last = START + 3600 * (HISTORY.size - 1)
    hour = np.arange(1, 49) % 24
    ratio = {}
    for slots, (model, coverage) in by_setting.items():
        # When each forecasts the next 48 hours through onnxruntime
        width = model.predict(HISTORY, last, 48, 0.8)
        span = width.upper - width.lower
        ratio[slots] = span[np.isin(hour, QUIET)].mean() / span[np.isin(hour, BUSY)].mean()
        # (and each still holds about 80 % of its own backtest's hours)
        assert 0.7 <= coverage <= 0.9
    # Then with slot factors a quiet night's interval is a far smaller share of a busy hour's
    assert (by_setting[True][0].calibration.slot_factors is not None) and by_setting[False][
        0
    ].calibration.slot_factors is None
    assert ratio[True] < 0.6 * ratio[False]


def test_the_point_forecast_does_not_depend_on_the_interval_setting(
    by_setting: dict[bool, tuple[OnnxForecaster, float]],
) -> None:
    last = START + 3600 * (HISTORY.size - 1)
    points = [model.predict(HISTORY, last, 48).value for model, _ in by_setting.values()]
    np.testing.assert_allclose(points[0], points[1])


@pytest.mark.parametrize("season_day", [24, 96])
def test_the_slot_factors_are_the_per_slot_quantiles_of_their_definition(season_day: int) -> None:
    # Given residuals of uneven counts per slot, one slot without any and a few missing values
    rng = np.random.default_rng(season_day)
    slots = rng.integers(0, season_day, 5000)
    slots = slots[slots != 3]
    residuals = rng.standard_t(3, slots.size) * (1 + slots % 7)
    residuals[::97] = np.nan
    # When the factors are taken in one pass
    factors = slot_factors_of(residuals, slots, season_day)
    # Then each is its slot's own 80 % quantile of |residual| over all slots', shrunk by its count
    r, s = np.abs(residuals), slots
    ok = np.isfinite(r)
    overall = np.quantile(r[ok], 0.8)
    expected = np.ones(season_day)
    for slot in range(season_day):
        mine = r[ok & (s == slot)]
        if mine.size:
            expected[slot] = (mine.size * np.quantile(mine, 0.8) / overall + 10.0) / (mine.size + 10.0)
    assert factors is not None
    np.testing.assert_allclose(factors, np.clip(expected, *SLOT_LIMITS), rtol=1e-12)
    assert factors[3] == 1.0
