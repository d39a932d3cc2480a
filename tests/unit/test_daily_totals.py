"""Daily totals of a forecast, in local days, with their own interval calibrated on the backtest's daily
sums (lead_ai.forecasting.training.daily, calibration.daily_totals)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from lead_ai.domain.localtime import iso_dates
from lead_ai.forecasting.calibration import QUANTILE_LEVELS, Calibration, daily_totals
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.daily import daily_residuals
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from lead_ai.forecasting.usual_volume import MIN_USUAL_PER_STEP, usual_volume
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


def test_with_usual_volumes_a_days_residual_is_its_total_error_over_its_usual_volume() -> None:
    # Given one UTC case of 48 hourly steps: day 0 usually holds 12 (scaled) with a total error of 6,
    # day 1 usually 3 with a total error of 6
    spec = FeatureSpec()
    origin = int(datetime(2026, 11, 2, 23, tzinfo=UTC).timestamp())  # day 0 is 2026-11-03, 24 steps
    residuals = np.full((1, 48), 0.25)
    usual = np.concatenate([np.full(24, 0.5), np.full(24, 0.125)])[None, :]
    # When they are grouped by local day with their usual volumes, and without
    by_usual = daily_residuals(residuals, np.array([origin]), spec, usual)
    by_steps = daily_residuals(residuals, np.array([origin]), spec)
    # Then each day's residual is 6 / its usual volume: the quiet day's error counts four times as much
    assert by_usual.tolist() == [[0.5, 2.0]]
    # And per step, both days are the same mean residual
    assert by_steps.tolist() == [[0.25, 0.25]]


def _with_median(median: float, half_width: float, rows: int = 2) -> Calibration:
    """A daily table of +-half_width (per step) around 0, and a median of `median` per usual volume."""
    levels = np.asarray(QUANTILE_LEVELS)
    row = np.interp(levels, [0.1, 0.9], [-half_width, half_width])
    daily = Calibration(levels, np.tile(row, (rows, 1)))
    return Calibration(levels, np.zeros((48, levels.size)), daily=daily, daily_median=np.full(rows, median))


def test_each_day_moves_by_the_median_error_per_unit_of_its_own_usual_volume() -> None:
    # Given a sparse forecast whose hours' medians are all 0, a weekday usually holding 24 x 0.5 and a
    # quiet day 24 x 0.125 (scaled), and a backtest whose days' median error was +0.5 of their usual volume
    calibration = _with_median(median=0.5, half_width=0.25)
    value = np.zeros(48)
    usual = np.concatenate([np.full(24, 0.5), np.full(24, 0.125)])
    nov_2 = (datetime(2026, 11, 2) - datetime(1970, 1, 1)).days
    days = np.array([nov_2] * 24 + [nov_2 + 1] * 24)
    # When the totals are made with a scale of 4 leads
    totals = daily_totals(value, days, 4.0, calibration, 0.8, usual)
    # Then each day is not the sum of its hours (0) but 0.5 x its usual volume x scale: 24 and 6 leads,
    # the quiet day a quarter of the busy one; the interval is the daily table's around the sum (0 .. 24
    # leads), widened where needed to hold the value
    assert totals == [
        {"date": "2026-11-02", "value": 24.0, "lower": 0.0, "upper": 24.0},
        {"date": "2026-11-03", "value": 6.0, "lower": 0.0, "upper": 24.0},
    ]
    # And a model trained before the medians (none in its metadata) gives the sum, 0
    old = calibration._replace(daily_median=None)
    assert [t["value"] for t in daily_totals(value, days, 4.0, old, 0.8, usual)] == [0.0, 0.0]


def test_the_daily_medians_travel_in_the_metadata_and_old_metadata_has_none() -> None:
    # Given a calibration with daily medians per usual volume
    calibration = _with_median(median=0.1, half_width=0.2)
    # When it is written to the model's metadata and read back
    data = calibration.to_dict()
    read = Calibration.from_dict(data)
    # Then the medians come back, and metadata without them (older models) reads as none
    assert read.daily_median is not None and read.daily_median.tolist() == [0.1, 0.1]
    del data["daily_median_per_usual"]
    assert Calibration.from_dict(data).daily_median is None
    # And metadata with a non-finite median is refused
    with pytest.raises(ValueError, match="daily_median_per_usual"):
        Calibration.from_dict(calibration.to_dict() | {"daily_median_per_usual": [float("nan"), 0.1]})
    # And a usual volume that is unknown (a slot never observed) counts as the floor, not as 0
    spec = FeatureSpec()
    X = np.zeros((1, spec.n_features), dtype=np.float32)
    X[0, spec.feature_names.index("same_slot_week_mean")] = np.nan
    X[0, spec.feature_names.index("same_slot_day_mean")] = np.nan
    assert usual_volume(X, spec).tolist() == [MIN_USUAL_PER_STEP]


def test_totals_add_each_local_day_and_their_interval_comes_from_the_daily_table() -> None:
    # Given a daily table whose 80 % interval is -0.5 .. +0.5 of a scaled mean residual
    levels = np.asarray(QUANTILE_LEVELS)
    table = Calibration(levels, np.tile(np.interp(levels, [0.1, 0.9], [-0.5, 0.5]), (3, 1)))
    calibration = Calibration(levels, np.zeros((30, levels.size)), daily=table)
    value = np.full(30, 2.0)
    nov_1 = (datetime(2026, 11, 1) - datetime(1970, 1, 1)).days
    days = np.array([nov_1] * 25 + [nov_1 + 1] * 5)
    # When the totals are made with a scale of 4
    totals = daily_totals(value, days, 4.0, calibration, 0.8)
    # Then each date sums its steps, with bounds at +- 0.5 x scale x steps, never below 0
    assert totals == [
        {"date": "2026-11-01", "value": 50.0, "lower": 0.0, "upper": 100.0},
        {"date": "2026-11-02", "value": 10.0, "lower": 0.0, "upper": 20.0},
    ]
    # And a model without a daily table gives totals without bounds
    assert daily_totals(value, days, 4.0, calibration._replace(daily=None), 0.8)[0] == {
        "date": "2026-11-01",
        "value": 50.0,
        "lower": None,
        "upper": None,
    }


def test_a_days_interval_is_as_wide_as_the_root_of_its_usual_volume_says() -> None:
    # Given a daily table of -0.5 .. +0.5 per root of usual volume, and two full days whose steps usually
    # hold 24 x 1 (a busy weekday: 24 leads' worth, scaled) and 24 x 0.25 (a quiet weekend day: 6)
    levels = np.asarray(QUANTILE_LEVELS)
    table = Calibration(levels, np.tile(np.interp(levels, [0.1, 0.9], [-0.5, 0.5]), (2, 1)))
    calibration = Calibration(levels, np.zeros((48, levels.size)), daily=table, daily_per_root_usual=True)
    value = np.full(48, 2.0)
    usual = np.concatenate([np.ones(24), np.full(24, 0.25)])
    nov_2 = (datetime(2026, 11, 2) - datetime(1970, 1, 1)).days
    days = np.array([nov_2] * 24 + [nov_2 + 1] * 24)
    # When the totals are made with a scale of 4
    totals = daily_totals(value, days, 4.0, calibration, 0.8, usual)
    # Then each day's bounds are +- 0.5 x scale x the root of its usual volume: 48 +- 2 x 24**0.5 on the
    # weekday and 48 +- 2 x 6**0.5 on the quiet day, half as wide
    weekday, quiet = ((t["lower"], t["upper"]) for t in totals)
    assert weekday == pytest.approx((48 - 2 * 24**0.5, 48 + 2 * 24**0.5), abs=1e-3)
    assert quiet == pytest.approx((48 - 2 * 6**0.5, 48 + 2 * 6**0.5), abs=1e-3)
    # And a table calibrated per step (older models, pools) keeps the count of steps: both days 48 +- 48
    per_step = daily_totals(value, days, 4.0, calibration._replace(daily_per_root_usual=False), 0.8, usual)
    assert [(t["lower"], t["upper"]) for t in per_step] == [(0.0, 96.0), (0.0, 96.0)]
    # And such a table without the steps' usual volume is a caller's mistake, not a silent count
    with pytest.raises(ValueError, match="usual volume"):
        daily_totals(value, days, 4.0, calibration, 0.8)


def test_the_daily_table_per_root_usual_travels_in_the_metadata_and_old_metadata_reads_per_step() -> None:
    # Given a calibration whose daily table is per root of usual volume
    calibration = _with_median(median=0.0, half_width=0.2)._replace(daily_per_root_usual=True)
    # When it is written to the model's metadata and read back, and scaled as a young team's fit does
    data = calibration.to_dict()
    # Then it is still per root of usual volume, and metadata without the key (older models) per step
    assert Calibration.from_dict(data).daily_per_root_usual is True
    assert Calibration.from_dict(data).scaled(2.0).daily_per_root_usual is True
    del data["daily_per_root_usual"]
    assert Calibration.from_dict(data).daily_per_root_usual is False
    # And a value that is not a boolean is refused
    with pytest.raises(ValueError, match="daily_per_root_usual"):
        Calibration.from_dict(data | {"daily_per_root_usual": "yes"})


def test_per_root_of_usual_volume_a_days_residual_is_its_total_error_over_that_root() -> None:
    # Given one UTC case of 48 hourly steps with a total error of 6 on each day, the first day usually
    # holding 24 x 1 (scaled) and the second 24 x 0.25
    spec = FeatureSpec()
    origin = int(datetime(2026, 11, 2, 23, tzinfo=UTC).timestamp())
    residuals = np.full((1, 48), 0.25)
    usual = np.concatenate([np.ones(24), np.full(24, 0.25)])[None, :]
    # When they are grouped by local day per root of usual volume
    by_root = daily_residuals(residuals, np.array([origin]), spec, usual, root=True)
    # Then each day's residual is 6 over the root of its usual volume: 6 / 24**0.5 and 6 / 6**0.5
    np.testing.assert_allclose(by_root, [[6 / 24**0.5, 6 / 6**0.5]])


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
    usual = usual_volume(rows.X, forecaster.spec)
    totals = daily_totals(arrays.value, wall // 86400, rows.scale, forecaster.calibration, 0.8, usual)
    full = [t for t in totals if dates.count(t["date"]) == 24]
    assert full
    for total in full:
        steps = [i for i, d in enumerate(dates) if d == total["date"]]
        assert total["lower"] <= total["value"] <= total["upper"]
        assert total["upper"] - total["lower"] < float(np.sum(arrays.upper[steps] - arrays.lower[steps]))


def _office_team_week(
    weekday_rate: float, weekend_rate: float, seed: int
) -> tuple[Calibration, list[dict[str, Any]]]:
    """Ten weeks of Poisson leads per office hour (08:00-18:00 UTC, from a Monday) at the weekday and
    weekend rates, a model trained on them, and the daily totals of the week forecast from the last hour
    (a Sunday night): (the model's calibration, the seven days)."""
    rng = np.random.default_rng(seed)
    start = int(datetime(2026, 8, 3, tzinfo=UTC).timestamp())  # a Monday
    hours = np.arange(24 * 70)
    office = ((hours % 24 >= 8) & (hours % 24 < 18)).astype(float)
    weekend = (hours // 24) % 7 >= 5
    values = rng.poisson(office * np.where(weekend, weekend_rate, weekday_rate)).astype(np.float64)
    settings = TrainingSettings(
        max_horizon=168, min_points=600, backtest_origins=8, max_rows=8000, max_iter=40
    )
    forecaster = OnnxForecaster.from_bytes(
        train_forecaster([SeriesData("s", values, start)], settings).onnx_bytes
    )
    last = start + 3600 * (values.size - 1)
    rows = forecaster.origin_rows(values, last)
    arrays = forecaster.predict_rows(rows, 168, 0.8)
    wall = forecaster.spec.wall_clock(last + 3600 * np.arange(1, 169))[0]
    usual = usual_volume(rows.X, forecaster.spec)
    calibration = forecaster.calibration
    return calibration, daily_totals(arrays.value, wall // 86400, rows.scale, calibration, 0.8, usual)


@pytest.mark.slow
def test_a_sparse_series_daily_totals_are_its_usual_days_not_the_zero_sum_of_its_hours() -> None:
    # Given ten weeks of a team that gets ~5 leads a weekday and ~1.5 a weekend day, hourly (most hours 0)
    # When a week is forecast from the last hour (a Sunday night)
    _, totals = _office_team_week(weekday_rate=0.5, weekend_rate=0.15, seed=7)
    # Then the weekdays are forecast near their ~5 leads and the weekend near its ~1.5, inside their
    # bounds, whatever the hours' medians sum to
    weekdays, weekend_days = totals[:5], totals[5:7]
    assert all(2.5 <= t["value"] <= 8.0 for t in weekdays), weekdays
    assert all(0.3 <= t["value"] <= 3.5 for t in weekend_days), weekend_days
    assert all(t["lower"] <= t["value"] <= t["upper"] for t in totals)


@pytest.mark.slow
def test_a_quiet_weekends_daily_interval_is_narrower_than_a_busy_weekdays() -> None:
    # Given ten weeks of a team that gets ~100 leads a weekday and ~10 a weekend day, in office hours
    # When a week is forecast from the last hour (a Sunday night)
    calibration, totals = _office_team_week(weekday_rate=10.0, weekend_rate=1.0, seed=11)
    # Then the weekend days' intervals are far narrower than the weekdays' (a count's noise grows with
    # its root: about a third as wide here), where a table per step gives every full day one width
    width = [t["upper"] - t["lower"] for t in totals]
    assert calibration.daily_per_root_usual
    assert max(width[5:7]) < 0.6 * min(width[:5]), totals
    assert all(t["lower"] <= t["value"] <= t["upper"] for t in totals)
