"""The US holiday calendar of lead_ai.forecasting.features (numpy + stdlib: it runs on the serving path)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lead_ai.forecasting.features import FeatureSpec, build_rows, default_spec, holiday_kind

HOLIDAY, QUIET, NONE = 1, 2, 0


def _noon(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        ((2014, 11, 27), HOLIDAY),  # Thanksgiving: fourth Thursday of November
        ((2014, 11, 28), QUIET),  # the Friday after it
        ((2014, 11, 20), NONE),  # the third Thursday is an ordinary day
        ((2015, 1, 19), NONE),  # MLK day: a federal holiday most businesses work (not in the calendar)
        ((2015, 7, 3), HOLIDAY),  # July 4 2015 is a Saturday: observed on Friday the 3rd
        ((2015, 7, 4), HOLIDAY),
        ((2015, 7, 6), NONE),
        ((2014, 11, 11), NONE),  # Veterans Day: federal, but a working day for most businesses
        ((2010, 12, 31), HOLIDAY),  # New Year 2011 is a Saturday: observed on Friday Dec 31
        ((2014, 12, 25), HOLIDAY),
        ((2014, 12, 24), QUIET),
        ((2014, 12, 29), QUIET),  # the week between Christmas and New Year
        ((2015, 1, 1), HOLIDAY),
        ((2015, 1, 2), NONE),
        ((2021, 12, 31), HOLIDAY),  # New Year 2022 is a Saturday: observed in the year before
        ((2015, 5, 25), HOLIDAY),  # Memorial Day: last Monday of May
        ((2015, 9, 7), HOLIDAY),  # Labor Day: first Monday of September
        ((2015, 5, 18), NONE),
        ((2014, 10, 13), NONE),  # Columbus Day
        ((2015, 2, 16), NONE),  # Washington's Birthday
        ((2016, 12, 26), HOLIDAY),  # Christmas 2016 is a Sunday: observed on Monday the 26th
    ],
)
def test_us_calendar_knows_the_major_holidays_observed_days_and_the_year_end(
    day: tuple[int, int, int], kind: int
) -> None:
    # Given the noon of a day, When its holiday kind is asked of the US calendar
    got = holiday_kind(np.array([_noon(*day)]), "US")
    # Then it is the kind the US calendar gives that date
    assert got.tolist() == [kind]


def test_every_hour_of_a_holiday_has_its_kind_and_the_shape_is_kept() -> None:
    # Given the 24 hours of Thanksgiving 2014 and the first hour after it, as a 5 x 5 block
    midnight = int(datetime(2014, 11, 27, tzinfo=UTC).timestamp())
    stamps = (midnight + 3600 * np.arange(25)).reshape(5, 5)
    # When the kinds are computed
    kinds = holiday_kind(stamps, "US")
    # Then the block keeps its shape, the day is federal and its next midnight is the quiet Friday
    assert kinds.shape == (5, 5)
    assert kinds.reshape(-1).tolist() == [HOLIDAY] * 24 + [QUIET]


def test_no_calendar_marks_no_day() -> None:
    # Given Christmas Day, When the calendar is "none", Then it is an ordinary day
    assert holiday_kind(np.array([_noon(2014, 12, 25)]), "none").tolist() == [NONE]


def test_feature_spec_refuses_an_unknown_calendar() -> None:
    # Given a calendar that does not exist, When a spec names it, Then it is refused with the choices
    with pytest.raises(ValueError, match="holidays"):
        FeatureSpec(holidays="XX")


def _window_ending(last: datetime, spec: FeatureSpec, holiday_value: float) -> tuple[np.ndarray, np.ndarray]:
    """A window at 10 everywhere except on US holiday days, where it is `holiday_value`."""
    end = int(last.timestamp())
    stamps = end - 3600 * np.arange(spec.window - 1, -1, -1)
    values = np.where(holiday_kind(stamps, "US") > 0, holiday_value, 10.0)
    return values[None, :], np.array([end])


def _level(window: np.ndarray, end: np.ndarray, spec: FeatureSpec) -> float:
    _, level = build_rows(window, end, np.zeros(1, np.intp), np.array([1]), spec)
    return float(level[0])


def test_the_level_leaves_out_holidays_only_when_one_is_in_its_window() -> None:
    # Given hourly specs without and with the US calendar (a four-week level)
    plain = default_spec(3600, 24)
    us = FeatureSpec.from_dict({**plain.to_dict(), "holidays": "US"})
    # When the four weeks before 2015-01-04 00:00 hold Christmas and New Year at 1 and the rest at 10
    window, end = _window_ending(datetime(2015, 1, 3, 23, tzinfo=UTC), plain, holiday_value=1.0)
    # Then the calendar's level is the ordinary days' 10; without it the 9 holiday days pull it down
    assert _level(window, end, us) == pytest.approx(10.0)
    assert _level(window, end, plain) == pytest.approx((19 * 10.0 + 9 * 1.0) / 28)
    # When the four weeks (2014-09-12 .. 2014-10-09) hold no holiday at all (Labor Day and Columbus Day fall
    # outside), with a dip that is not on the calendar
    window, end = _window_ending(datetime(2014, 10, 9, 23, tzinfo=UTC), plain, holiday_value=1.0)
    window[0, -30:-20] = 2.0
    # Then both levels are the same
    assert _level(window, end, us) == _level(window, end, plain)


def test_the_target_day_kind_is_a_feature_and_holidays_are_missing_from_the_usual_day_features() -> None:
    # Given the US calendar and an origin at 2014-12-23 23:00, four weeks after Thanksgiving (at 1, the
    # other days at 10)
    plain = default_spec(3600, 48)
    us = FeatureSpec.from_dict({**plain.to_dict(), "holidays": "US"})
    window, end = _window_ending(datetime(2014, 12, 23, 23, tzinfo=UTC), plain, holiday_value=1.0)
    steps = np.array([1, 24, 25, 48])  # Christmas Eve 00:00 and 23:00, Christmas Day 00:00 and 23:00
    X, _ = build_rows(window, end, np.zeros(4, np.intp), steps, us)
    Xp, _ = build_rows(window, end, np.zeros(4, np.intp), steps, plain)
    # Then the last feature is the kind of each target's day
    assert us.feature_names[-1] == "holiday_target"
    assert X[:, -1].tolist() == [2.0, 2.0, 1.0, 1.0]
    # And the level leaves Thanksgiving and the Friday after it out
    assert _level(window, end, us) == pytest.approx(10.0)
    assert _level(window, end, plain) == pytest.approx((26 * 10.0 + 2 * 1.0) / 28)
    # And the same-slot value four weeks before Christmas 00:00 (Thanksgiving 00:00) is missing, not 1
    week4 = us.feature_names.index("same_slot_week_4")
    assert np.isnan(X[2, week4]) and Xp[2, week4] == pytest.approx(1.0 / _level(window, end, plain))
    # And the latest hour, an ordinary one, is the same value, only divided by the holiday-free level
    lag0 = us.feature_names.index("lag_0")
    assert X[0, lag0] == pytest.approx(1.0) and Xp[0, lag0] == pytest.approx(
        10.0 / _level(window, end, plain)
    )
