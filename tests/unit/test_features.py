"""Feature construction shared by training and serving (lead_ai.forecasting.features)."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lead_ai.domain.intervals import parse_interval
from lead_ai.forecasting.calibration import Calibration
from lead_ai.forecasting.feature_spec import FeatureSpec, default_spec
from lead_ai.forecasting.features import build_rows, level_of, prepare_window

MONDAY_MIDNIGHT = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())


def _col(spec: FeatureSpec, name: str) -> int:
    return spec.feature_names.index(name)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600), ("30min", 1800), ("15min", 900), ("1d", 86400), ("3600s", 3600), (" 2H ", 7200)],
)
def test_parse_interval_accepts_common_intervals(text: str, seconds: int) -> None:
    # Given an interval written as a number and a unit / When parsed / Then it is the number of seconds
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1 fortnight", "0h", "7min", "-1h", "1.5h"])
def test_parse_interval_rejects_bad_text_with_a_clear_message(text: str) -> None:
    # Given text that is not an interval dividing a day / When parsed / Then ValueError names the input
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


@pytest.mark.parametrize(("interval", "day"), [(3600, 24), (1800, 48), (900, 96), (86400, 1)])
def test_default_spec_seasons_follow_the_interval(interval: int, day: int) -> None:
    # Given an interval / When the default spec is built / Then a day and a week are counted in intervals
    spec = default_spec(interval)
    assert spec.season_day == day
    assert spec.season_week == 7 * day
    assert spec.max_horizon == 7 * day
    # and the window a prediction reads stays modest (at most five weeks of data)
    assert spec.window <= 5 * 7 * day or spec.window <= 35


def test_default_spec_hourly_window_is_four_weeks() -> None:
    # Given hourly data and a week-long horizon / Then a prediction needs four weeks of observations
    spec = default_spec(3600, 168)
    assert spec.window == 4 * 168
    assert spec.n_features == len(spec.feature_names) == len(set(spec.feature_names))


def test_feature_spec_round_trips_through_json() -> None:
    # Given a non-default spec / When it goes through JSON / Then it comes back equal
    spec = default_spec(1800, 96)
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.window == spec.window


def test_feature_spec_from_dict_rejects_unknown_fields() -> None:
    # Given a dict with a field the spec does not know / Then from_dict refuses it rather than ignore it
    with pytest.raises(ValueError, match="unknown"):
        FeatureSpec.from_dict({**default_spec().to_dict(), "lagz": 3})


def test_prepare_window_pads_a_young_series_with_nan_and_truncates_a_long_one() -> None:
    spec = default_spec(3600, 24)
    # Given a history shorter than the window / When prepared / Then it is left-padded with NaN
    young = prepare_window(np.arange(5.0), spec)
    assert young.shape == (spec.window,)
    assert np.isnan(young[:-5]).all()
    assert young[-5:].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    # Given a longer history / Then only the last `window` values are kept
    long = prepare_window(np.arange(spec.window + 10.0), spec)
    assert long[0] == 10.0 and long[-1] == spec.window + 9.0


@settings(max_examples=60, deadline=None)
@given(h=st.integers(min_value=1, max_value=168))
def test_same_slot_features_use_only_values_known_at_the_origin(h: int) -> None:
    # Given a window whose values are their own positions (1-based) and any step h
    spec = default_spec(3600, 168)
    values = np.arange(1.0, spec.window + 1.0)
    X, level = build_rows(
        values[None, :], np.array([MONDAY_MIDNIGHT]), np.zeros(1, np.intp), np.array([h]), spec
    )
    # When the same-slot lags are read back in the original units
    day = np.array([X[0, _col(spec, f"same_slot_day_{k}")] for k in range(1, spec.n_day_lags + 1)]) * level[0]
    week = (
        np.array([X[0, _col(spec, f"same_slot_week_{k}")] for k in range(1, spec.n_week_lags + 1)]) * level[0]
    )
    origin = spec.window  # position of the last observation
    target = origin + h
    # Then every one is at or before the origin, at the target's slot of the day / week, most recent first
    for vals, season in ((day, 24), (week, 168)):
        pos = np.round(vals).astype(int)
        assert (pos <= origin).all()
        assert ((target - pos) % season == 0).all()
        assert (np.diff(pos) == -season).all()
        assert target - pos[0] <= season + h - 1


def test_calendar_features_describe_the_target_time() -> None:
    # Given an origin at Monday 2024-01-01 00:00 UTC
    spec = default_spec(3600, 48)
    window = np.ones((1, spec.window))
    steps = np.array([1, 23, 24, 25, 48])
    X, _ = build_rows(window, np.array([MONDAY_MIDNIGHT]), np.zeros(5, np.intp), steps, spec)
    # Then the slot of the day and the weekday are those of origin + h (Monday = 0)
    assert X[:, _col(spec, "slot_of_day")].tolist() == [1, 23, 0, 1, 0]
    assert X[:, _col(spec, "day_of_week")].tolist() == [0, 0, 1, 1, 2]
    assert X[:, _col(spec, "step")].tolist() == steps.tolist()


def test_all_zero_window_gives_finite_features_without_warnings() -> None:
    # Given a series that is zero everywhere (e.g. a dead night shift)
    spec = default_spec(3600, 24)
    window = np.zeros((1, spec.window))
    # When rows are built, with warnings as errors
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, level = build_rows(
            window, np.array([MONDAY_MIDNIGHT]), np.zeros(24, np.intp), np.arange(1, 25), spec
        )
    # Then the level falls back to 1 (no division by zero) and every value feature is exactly 0
    assert level.tolist() == [1.0] * 24
    assert np.isfinite(X).all()
    assert X[:, _col(spec, "lag_0")].tolist() == [0.0] * 24


def test_level_ignores_missing_slots_and_falls_back_when_the_level_window_is_empty() -> None:
    spec = FeatureSpec.from_dict({**default_spec(3600, 24).to_dict(), "level_window": 168})
    w = np.full((2, spec.window), np.nan)
    w[0, -3:] = [2.0, np.nan, 4.0]  # a young series: level is the mean of what was observed
    w[1, :10] = 5.0  # nothing in the level window (last week): the whole window's mean is used
    assert level_of(w, spec).tolist() == [3.0, 5.0]


def test_value_features_are_scale_free() -> None:
    # Given the same pattern at two scales
    spec = default_spec(3600, 24)
    rng = np.random.default_rng(3)
    base = rng.gamma(2.0, 5.0, size=spec.window)
    base[rng.random(spec.window) < 0.05] = np.nan
    W = np.stack([base, 1000.0 * base])
    idx = np.repeat([0, 1], 24)
    X, level = build_rows(W, np.array([MONDAY_MIDNIGHT] * 2), idx, np.tile(np.arange(1, 25), 2), spec)
    # Then all features but log1p(level) agree, and the level carries the scale
    keep = [i for i, n in enumerate(spec.feature_names) if n != "log1p_level"]
    np.testing.assert_allclose(X[:24, keep], X[24:, keep], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(level[24:], 1000.0 * level[:24])


def test_build_rows_rejects_a_wrong_window_width_and_out_of_range_steps() -> None:
    spec = default_spec(3600, 24)
    with pytest.raises(ValueError, match="shape"):
        build_rows(np.ones((1, 10)), np.array([0]), np.zeros(1, np.intp), np.array([1]), spec)
    with pytest.raises(ValueError, match="steps"):
        build_rows(np.ones((1, spec.window)), np.array([0]), np.zeros(1, np.intp), np.array([25]), spec)


def test_calibration_interpolates_quantiles_and_widens_with_the_level() -> None:
    # Given a calibration table of residual quantiles
    levels = np.array([0.05, 0.1, 0.5, 0.9, 0.95])
    table = np.array([[-2.0, -1.0, 0.0, 1.0, 2.0], [-4.0, -2.0, 0.0, 2.0, 4.0]])
    cal = Calibration.from_dict({"quantile_levels": levels.tolist(), "quantiles": table.tolist()})
    # When offsets are read for the 80% and 85% intervals
    lo80, hi80 = cal.offsets(2, 0.8)
    lo85, hi85 = cal.offsets(2, 0.85)
    # Then 80% reads the 10%/90% columns and 85% lies halfway to the 5%/95% columns
    np.testing.assert_allclose(lo80, [-1.0, -2.0])
    np.testing.assert_allclose(hi80, [1.0, 2.0])
    np.testing.assert_allclose(lo85, [-1.5, -3.0])
    np.testing.assert_allclose(hi85, [1.5, 3.0])
    # and a level outside the table is refused
    with pytest.raises(ValueError, match="level"):
        cal.offsets(2, 0.95)


def test_week_ratio_features_compare_the_last_day_with_the_same_day_a_week_before() -> None:
    # Given a flat series whose last day is twice the same day one week earlier
    spec = default_spec(3600, 24)
    w = np.full((1, spec.window), 10.0)
    w[0, -24:] = 20.0
    X, level = build_rows(w, np.array([MONDAY_MIDNIGHT]), np.zeros(3, np.intp), np.array([1, 2, 24]), spec)
    # Then ratio_week is 2 and the weekly same-slot value scaled by it is 2x that value
    assert X[:, _col(spec, "ratio_week")].tolist() == [2.0] * 3
    np.testing.assert_allclose(
        X[:, _col(spec, "same_slot_week_adjusted")], 2.0 * X[:, _col(spec, "same_slot_week_1")], rtol=1e-6
    )
    # and the day-over-day change of the last 24 h is +10, in units of the level
    np.testing.assert_allclose(X[:, _col(spec, "change_day_24")] * level, 10.0, rtol=1e-6)


def test_feature_groups_can_be_switched_off_and_unknown_groups_are_refused() -> None:
    full = default_spec(3600, 24)
    lean = FeatureSpec.from_dict({**full.to_dict(), "change_seasons": [], "week_ratio": False})
    assert lean.n_features == full.n_features - 4 - 2  # 2 seasons x 2 windows, ratio + adjusted lag
    X, _ = build_rows(np.ones((1, lean.window)), np.array([0]), np.zeros(2, np.intp), np.array([1, 2]), lean)
    assert X.shape == (2, lean.n_features)
    with pytest.raises(ValueError, match="change_seasons"):
        FeatureSpec.from_dict({**full.to_dict(), "change_seasons": ["month"]})


def test_default_level_spans_four_weeks_so_one_unusual_week_moves_it_little() -> None:
    # Given four weeks at 10 whose last week dropped to 2 (a holiday week)
    spec = default_spec(3600, 168)
    w = np.full((1, spec.window), 10.0)
    w[0, -168:] = 2.0
    # Then the default level is the four-week mean, a one-week level would be the holiday's
    assert spec.level_window == 4 * 168
    assert level_of(w, spec).tolist() == [8.0]
    week = FeatureSpec.from_dict({**spec.to_dict(), "level_window": 168})
    assert level_of(w, week).tolist() == [2.0]


def test_day_of_year_feature_is_the_target_day_of_the_year_when_enabled() -> None:
    # Given a spec with the yearly feature and an origin at 2012-12-30 22:00 UTC (a leap year)
    spec = FeatureSpec.from_dict({**default_spec(3600, 48).to_dict(), "day_of_year": True})
    origin = int(datetime(2012, 12, 30, 22, tzinfo=UTC).timestamp())
    X, _ = build_rows(
        np.ones((1, spec.window)), np.array([origin]), np.zeros(3, np.intp), np.array([1, 25, 26]), spec
    )
    # Then the last column is the target's day of the year (0-based), wrapping at New Year
    # (targets: Dec 30 23:00, Dec 31 23:00, Jan 1 00:00)
    assert spec.feature_names[-1] == "day_of_year"
    assert X[:, -1].tolist() == [364.0, 365.0, 0.0]
    assert "day_of_year" not in default_spec(3600, 48).feature_names
