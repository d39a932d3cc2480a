"""Intervals as wide as each hour's own errors (lead_ai.forecasting.calibration.slot_factors_of,
TrainingSettings.slot_intervals): real trainings, ONNX artifacts and onnxruntime forecasts."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lead_ai.forecasting.calibration import (
    SLOT_LIMITS,
    Calibration,
    calibrate,
    cross_fit_widening,
    slot_factors_of,
)
from lead_ai.forecasting.feature_spec import slots_of_week
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


# ------------------------------------------------------------------ per slot of the week (week_shrink)

WEEKEND_AFTERNOON = (5, 6), np.arange(12, 18)  # (days of the week, 0 = Monday), hours of the day


def _weekend_afternoons(slots_of_week: np.ndarray) -> np.ndarray:
    days, hours = WEEKEND_AFTERNOON
    return np.isin(slots_of_week // 24, days) & np.isin(slots_of_week % 24, hours)


def test_week_factors_tell_a_weekend_afternoon_from_a_weekday_one_and_shrink_toward_the_hours() -> None:
    # Given residuals three times larger on weekend afternoons than at the same hours of weekdays,
    # 14 a slot of the week (a backtest of 14 origins), and one slot of the week without any
    rng = np.random.default_rng(2)
    slots = np.tile(np.arange(168), 14)
    slots = slots[slots != 100]
    residuals = rng.normal(0.0, np.where(_weekend_afternoons(slots), 3.0, 1.0))
    # When the factors are taken per slot of the day, and per slot of the week
    by_hour = slot_factors_of(residuals, slots, 24)
    by_week = slot_factors_of(residuals, slots, 24, week_shrink=10.0)
    assert by_hour is not None and by_week is not None and by_hour.size == 24 and by_week.size == 168
    # Then only the week's factors are wider on a weekend afternoon than on a weekday one at that hour
    week = np.arange(168)
    afternoon = np.isin(week % 24, WEEKEND_AFTERNOON[1])
    weekend = _weekend_afternoons(week)
    assert by_week[weekend].mean() > 1.5 * by_week[afternoon & ~weekend].mean()
    # and each is its own ratio counted 14 / (14 + 10) against its hour's factor
    r = np.abs(residuals)
    overall = np.quantile(r, 0.8)
    for cell in (13, 5 * 24 + 14, 6 * 24 + 3):
        mine = np.quantile(r[slots == cell], 0.8) / overall
        expected = (14 * mine + 10.0 * by_hour[cell % 24]) / 24.0
        assert by_week[cell] == pytest.approx(float(np.clip(expected, *SLOT_LIMITS)), rel=1e-12)
    # A slot of the week without residuals takes its hour's factor
    assert by_week[100] == pytest.approx(by_hour[100 % 24], rel=1e-12)


def test_a_calibration_per_slot_of_the_week_reads_each_rows_slot_of_the_week_through_the_artifact() -> None:
    rng = np.random.default_rng(3)
    slots = np.tile(np.arange(168), (40, 1))[:, :48] + 24 * rng.integers(0, 6, (40, 1))
    residuals = rng.normal(0.0, np.where(_weekend_afternoons(slots), 3.0, 1.0))
    calibration = calibrate(residuals, slots=slots, season_day=24, week_shrink=10.0)
    assert calibration.slot_factors is not None and calibration.slot_factors.size == 168
    # the step quantiles are of the residuals divided by their slot of the week's factor
    expected = calibrate(residuals / calibration.slot_factors[slots])
    np.testing.assert_allclose(calibration.quantiles, expected.quantiles)
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    saturday_2pm, tuesday_2pm = 5 * 24 + 14, 24 + 14
    assert again.spread(np.array([saturday_2pm]))[0] > again.spread(np.array([tuesday_2pm]))[0]
    np.testing.assert_allclose(again.spread(np.arange(168)), calibration.slot_factors)


def _weekend_noise_history(weeks: int, seed: int) -> np.ndarray:
    """Hourly leads with the same mean every day, but far noisier on weekend afternoons."""
    rng = np.random.default_rng(seed)
    t = np.arange(24 * 7 * weeks)
    hour, day = t % 24, (t // 24) % 7  # START is a Monday, midnight UTC
    mean = 40.0 * np.where((hour >= 8) & (hour < 20), np.sin(np.pi * (hour - 8) / 12) + 0.2, 0.05)
    noisy = np.isin(day, WEEKEND_AFTERNOON[0]) & np.isin(hour, WEEKEND_AFTERNOON[1])
    return rng.poisson(mean * np.where(noisy, rng.lognormal(-0.5, 1.0, t.size), 1.0)).astype(np.float64)


def test_week_factors_cover_weekend_afternoons_the_hours_factors_miss_on_the_weeks_after_training() -> None:
    # Given 10 weeks whose weekend afternoons are far noisier than weekday afternoons, and 3 weeks after
    weeks, after = 10, 3
    values = _weekend_noise_history(weeks + after, seed=7)
    cut = 24 * 7 * weeks
    settings = replace(SETTINGS, backtest_origins=28)  # ~8 residuals a slot of the week at 48 steps
    origins = np.arange(cut - 1, values.size - 49, 24)  # every day's last hour, 48 hours ahead
    steps = np.arange(1, 49)
    inside: dict[str, list[np.ndarray]] = {}
    for name, week_shrink in (("hours", None), ("week", 10.0)):
        # When a model is trained on the 10 weeks with factors per hour of the day, and per slot of the week
        result = train_forecaster(
            [SeriesData("leads", values[:cut], START)], replace(settings, week_shrink=week_shrink)
        )
        model = OnnxForecaster.from_bytes(result.onnx_bytes)
        factors = model.calibration.slot_factors
        assert factors is not None and factors.size == (24 if week_shrink is None else 168)
        # and forecasts 48 hours from every day of the 3 weeks after, through onnxruntime
        for origin in origins:
            f = model.predict(values[: origin + 1], START + 3600 * int(origin), 48, 0.8)
            actual = values[origin + steps]
            slot = (origin + steps) % 168
            inside.setdefault(name, []).append(
                ((actual >= f.lower) & (actual <= f.upper))[_weekend_afternoons(slot)]
            )
    # Then the weekend afternoons are covered far more often with factors per slot of the week
    coverage = {name: float(np.concatenate(v).mean()) for name, v in inside.items()}
    assert coverage["week"] >= coverage["hours"] + 0.1, coverage


def test_a_model_whose_factors_fit_neither_the_day_nor_the_week_is_refused(
    by_setting: dict[bool, tuple[OnnxForecaster, float]],
) -> None:
    model = by_setting[True][0]
    for size in (24, 168):
        ok = model.calibration._replace(slot_factors=np.ones(size))
        assert OnnxForecaster(model._session, model.spec, ok).calibration.slot_factors is not None
    with pytest.raises(ValueError, match="48 slot factors"):
        OnnxForecaster(model._session, model.spec, model.calibration._replace(slot_factors=np.ones(48)))


def test_the_cross_fit_widens_the_intervals_by_what_factors_miss_on_an_origin_they_did_not_see() -> None:
    # Given 14 backtest origins of 168 residuals, each slot of the week with its own spread
    rng = np.random.default_rng(0)
    slots = np.tile(np.arange(168), (14, 1))
    spread = np.exp(rng.normal(0.0, 0.5, 168))
    residuals = rng.normal(0.0, 1.0, slots.shape) * spread[slots]
    # When calibrated with factors per slot of the week, with and without the cross-fit
    plain = calibrate(residuals, slots=slots, season_day=24, week_shrink=10.0)
    crossed = calibrate(residuals, slots=slots, season_day=24, week_shrink=10.0, cross_fit=True)
    assert plain.slot_factors is not None and crossed.slot_factors is not None
    widening = cross_fit_widening(residuals, slots, 24, 10.0, plain.slot_factors)
    # Then the cross-fit's quantiles are the plain ones times one widening > 1, the factors the same
    assert widening > 1.0
    np.testing.assert_allclose(crossed.quantiles, plain.quantiles * widening)
    np.testing.assert_allclose(crossed.slot_factors, plain.slot_factors)
    # and on 400 fresh weeks of the same errors its 80 % interval holds nearer 80 % than the plain one's
    fresh = rng.normal(0.0, 1.0, (400, 168)) * spread
    held = {}
    for name, calibration in (("plain", plain), ("crossed", crossed)):
        lo, hi = calibration.offsets(168, 0.8)
        width = calibration.spread(np.arange(168))
        held[name] = float(np.mean((fresh >= lo * width) & (fresh <= hi * width)))
    assert held["plain"] < held["crossed"] <= 0.81, held
    # And residuals that are all alike (a night of no leads: each the same small miss) widen nothing
    alike = np.full(slots.shape, -0.02)
    assert cross_fit_widening(alike, slots, 24, 10.0, np.ones(168)) == 1.0


def test_a_15_minute_teams_model_carries_a_factor_per_quarter_hour_of_its_local_week() -> None:
    # Given 6 weeks of 15-minute counts of a Berlin team, busy on weekday afternoons
    t = np.arange(96 * 7 * 6)
    quarter, day = t % 96, (t // 96) % 7
    busy = np.where((quarter >= 36) & (quarter < 68), 1.0, 0.1) * np.where(day < 5, 1.0, 0.3)
    values = np.random.default_rng(4).poisson(6.0 * busy).astype(np.float64)
    settings = replace(SETTINGS, max_horizon=192, min_points=2000, timezone="Europe/Berlin")
    # When its own model is trained and forecasts the next two days through onnxruntime
    model = OnnxForecaster.from_bytes(
        train_forecaster([SeriesData("q", values, START, 900)], settings).onnx_bytes
    )
    last = START + 900 * (values.size - 1)
    forecast = model.predict(values, last, 192, 0.8)
    # Then its calibration holds one factor per quarter-hour of the week (7 x 96), and each step's
    # interval is the calibrated offsets times the factor of the local quarter-hour of the week it forecasts
    factors = model.calibration.slot_factors
    assert factors is not None and factors.size == 7 * 96
    rows = model.origin_rows(values, last, 192)
    local = slots_of_week(rows.X, 96)
    lo, hi = model.calibration.offsets(192, 0.8)
    width = factors[local] * rows.scale
    upper, lower = forecast.value + hi * width, forecast.value + lo * width
    wide = forecast.upper > forecast.value
    np.testing.assert_allclose(forecast.upper[wide], upper[wide], rtol=1e-9)
    unclipped = forecast.lower > 0.0
    np.testing.assert_allclose(forecast.lower[unclipped], lower[unclipped], rtol=1e-9)
    assert wide.sum() > 96 and unclipped.any()
    # (Berlin is an hour ahead of UTC in winter: the first step, 00:00 UTC on a Monday, is 01:00 local)
    assert local[0] == 0 * 96 + 4
