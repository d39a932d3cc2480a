"""Holiday calendars: the tables training builds with the `holidays` library (forecasting.training.calendars)
and the features that read them (forecasting.calendar.holiday_kind, numpy only: it runs on the serving path)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from lead_ai.errors import CalendarNotSupportedError
from lead_ai.forecasting.calendar import HolidayTable, holiday_kind
from lead_ai.forecasting.feature_spec import FeatureSpec, default_spec
from lead_ai.forecasting.features import build_rows
from lead_ai.forecasting.training.calendars import FUTURE_YEARS, holiday_table

HOLIDAY, QUIET, NONE = 1, 2, 0
_US = holiday_table(
    "US", int(datetime(2000, 6, 1, tzinfo=UTC).timestamp()), int(datetime(2030, 6, 1, tzinfo=UTC).timestamp())
)


def _kinds(stamps: np.ndarray, code: str = "US") -> np.ndarray:
    table = _US if code == "US" else holiday_table(code, int(np.min(stamps)), int(np.max(stamps)))
    return holiday_kind(stamps, table)


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
    got = _kinds(np.array([_noon(*day)]))
    # Then it is the kind the US calendar gives that date
    assert got.tolist() == [kind]


def test_every_hour_of_a_holiday_has_its_kind_and_the_shape_is_kept() -> None:
    # Given the 24 hours of Thanksgiving 2014 and the first hour after it, as a 5 x 5 block
    midnight = int(datetime(2014, 11, 27, tzinfo=UTC).timestamp())
    stamps = (midnight + 3600 * np.arange(25)).reshape(5, 5)
    # When the kinds are computed
    kinds = _kinds(stamps)
    # Then the block keeps its shape, the day is federal and its next midnight is the quiet Friday
    assert kinds.shape == (5, 5)
    assert kinds.reshape(-1).tolist() == [HOLIDAY] * 24 + [QUIET]


def test_no_calendar_marks_no_day() -> None:
    # Given Christmas Day, When the calendar is "none", Then it is an ordinary day
    assert holiday_kind(np.array([_noon(2014, 12, 25)]), None).tolist() == [NONE]


def test_feature_spec_refuses_an_unknown_calendar() -> None:
    # Given a calendar that does not exist, When a spec names it, Then it is refused with the choices
    with pytest.raises(ValueError, match="holidays"):
        FeatureSpec(holidays="XX")


def _window_ending(last: datetime, spec: FeatureSpec, holiday_value: float) -> tuple[np.ndarray, np.ndarray]:
    """A window at 10 everywhere except on US holiday days, where it is `holiday_value`."""
    end = int(last.timestamp())
    stamps = end - 3600 * np.arange(spec.window - 1, -1, -1)
    values = np.where(_kinds(stamps) > 0, holiday_value, 10.0)
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


def _reference_us_year(year: int) -> dict[date, int]:
    """The hand-written US table the library replaced (six major holidays, observed on the nearest weekday;
    quiet days: the Friday after Thanksgiving, December 24 and 26..31): the validation split chose it."""
    days: dict[date, int] = {}
    for month, day in ((1, 1), (7, 4), (12, 25)):
        d = date(year, month, day)
        days[d] = HOLIDAY
        shift = {5: -1, 6: 1}.get(d.weekday())
        if shift is not None:
            days[d + timedelta(days=shift)] = HOLIDAY
    last_may = date(year, 5, 31)
    days[last_may - timedelta(days=last_may.weekday())] = HOLIDAY  # Memorial Day
    first_sep = date(year, 9, 1)
    days[first_sep + timedelta(days=(-first_sep.weekday()) % 7)] = HOLIDAY  # Labor Day
    first_nov = date(year, 11, 1)
    thanksgiving = first_nov + timedelta(days=(3 - first_nov.weekday()) % 7 + 21)
    days[thanksgiving] = HOLIDAY
    days.setdefault(thanksgiving + timedelta(days=1), QUIET)
    for day in (24, *range(26, 32)):
        days.setdefault(date(year, 12, day), QUIET)
    return days


def test_the_us_table_from_the_library_is_the_one_the_validation_split_chose() -> None:
    # Given the hand-written rules of the six major holidays and the quiet days, 2001..2029
    expected: dict[date, int] = {}
    for year in range(2000, 2031):
        for day, kind in _reference_us_year(year).items():
            expected[day] = min(kind, expected.get(day, kind))
    # When the library-built table is read day by day
    days = [date(2001, 1, 1) + timedelta(days=i) for i in range((date(2029, 12, 31) - date(2001, 1, 1)).days)]
    noons = np.array([_noon(d.year, d.month, d.day) for d in days])
    got = _kinds(noons)
    # Then every day has the kind the hand-written table gave it
    want = [expected.get(d, NONE) for d in days]
    assert [(str(d), g) for d, g, w in zip(days, got.tolist(), want, strict=True) if g != w] == []


@pytest.mark.parametrize(
    ("code", "day", "kind"),
    [
        ("DE-BY", (2026, 1, 6), HOLIDAY),  # Epiphany: Bavaria
        ("DE", (2026, 1, 6), NONE),  # not a national holiday
        ("DE-BY", (2026, 6, 4), HOLIDAY),  # Corpus Christi
        ("DE-BE", (2026, 6, 4), NONE),  # not in Berlin
        ("DE-BY", (2026, 12, 26), HOLIDAY),  # Second Day of Christmas
        ("DE-BY", (2026, 12, 24), QUIET),
        ("DE-BY", (2026, 12, 30), QUIET),
        ("GB", (2026, 12, 28), HOLIDAY),  # Boxing Day (observed): the 26th is a Saturday
        ("GB", (2026, 5, 25), HOLIDAY),  # Spring Bank Holiday
        ("GB", (2026, 12, 29), QUIET),
        ("GB-SCT", (2026, 1, 2), HOLIDAY),  # 2 January: Scotland only
        ("GB", (2026, 1, 2), NONE),
        ("JP", (2026, 12, 24), NONE),  # no Christmas holiday: no year-end quiet days either
    ],
)
def test_other_countries_count_every_public_holiday_of_their_calendar(
    code: str, day: tuple[int, int, int], kind: int
) -> None:
    assert _kinds(np.array([_noon(*day)]), code).tolist() == [kind]


def test_the_table_reaches_years_past_the_training_data_and_then_every_day_is_ordinary() -> None:
    # Given a table built for training data ending in 2026
    table = holiday_table("DE-BY", _noon(2024, 1, 1), _noon(2026, 11, 30))
    assert table is not None
    # Then it holds Christmas FUTURE_YEARS later and nothing after its last day
    last_year = 2026 + FUTURE_YEARS
    assert table.to_dict()["last"] == f"{last_year}-12-31"
    assert _kinds_with(table, (last_year, 12, 25)) == HOLIDAY
    assert _kinds_with(table, (last_year + 1, 12, 25)) == NONE
    # And it survives the artifact's JSON unchanged
    again = HolidayTable.from_dict(table.to_dict())
    assert again.code == "DE-BY" and again.days.tolist() == table.days.tolist()
    assert again.kinds.tolist() == table.kinds.tolist() and again.last_day == table.last_day


def _kinds_with(table: HolidayTable, day: tuple[int, int, int]) -> int:
    return int(holiday_kind(np.array([_noon(*day)]), table)[0])


def test_a_code_the_library_does_not_know_is_a_422_naming_holidays(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a library that no longer knows a code the API accepted (e.g. after an upgrade)
    import holidays

    def unknown(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("Country XK not available")

    monkeypatch.setattr(holidays, "country_holidays", unknown)
    # When a table is built for it, Then training stops with the project's error, naming the field
    with pytest.raises(CalendarNotSupportedError) as caught:
        holiday_table("DE-BY", _noon(2025, 1, 1), _noon(2026, 1, 1))
    assert (caught.value.status, caught.value.field) == (422, "holidays")
