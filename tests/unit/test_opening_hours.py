"""A team's opening hours (lead_ai.domain.opening_hours): read as a request writes them, refused with the
parameter's name, on the local clock's minutes of the week, and on the series' grid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lead_ai.domain.opening_hours import OpeningHours, minutes_of_week, opening_hours


def _wall(moment: datetime) -> int:
    """A local wall-clock time as seconds since 1970-01-01 00:00 on the same clock."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def test_opening_hours_read_hours_and_days_as_the_request_writes_them() -> None:
    # Given opening hours as a sales manager writes them
    # When they are read
    weekdays = opening_hours("08:00-18:00", "mon-fri")
    over_the_weekend = opening_hours("20:00-24:00", "fri-mon,wed")
    # Then they are minutes of the day (the close excluded, 24:00 for midnight) and days from Monday
    assert weekdays == OpeningHours(480, 1080, (0, 1, 2, 3, 4))
    assert over_the_weekend == OpeningHours(1200, 1440, (0, 2, 4, 5, 6))
    assert over_the_weekend.describe() == {"open_hours": "20:00-24:00", "open_days": "mon,wed,fri,sat,sun"}
    # And nothing given is open all the time
    assert opening_hours(None, "").always and not weekdays.always


@pytest.mark.parametrize(
    ("hours", "days", "field"),
    [
        ("18:00-08:00", None, "open_hours"), ("08:00-08:00", None, "open_hours"), ("8:00-18:00", None, "open_hours"),
        ("08:00-24:01", None, "open_hours"), ("25:00-26:00", None, "open_hours"), ("08:00", None, "open_hours"),
        (None, "mon-", "open_days"), (None, "monday", "open_days"), (None, "mon-wed-fri", "open_days"),
    ],
)  # fmt: skip
def test_opening_hours_out_of_their_rules_name_the_parameter(hours: str, days: str, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        opening_hours(hours, days)


def test_a_minute_of_the_week_counts_from_monday_midnight_on_the_local_clock() -> None:
    # Given local wall-clock times of Monday 2026-11-30 08:00 and Sunday 2026-12-06 23:15
    walls = [_wall(datetime(2026, 11, 30, 8)), _wall(datetime(2026, 12, 6, 23, 15))]
    # Then they are minutes 480 and 6 days + 23:15 of the week
    assert minutes_of_week(walls).tolist() == [480, 6 * 1440 + 23 * 60 + 15]
    # And 08:00-18:00 on weekdays holds the first and not the second
    assert OpeningHours(480, 1080, (0, 1, 2, 3, 4)).is_open(minutes_of_week(walls)).tolist() == [True, False]


def test_opening_hours_must_fall_on_the_series_grid() -> None:
    # Given 08:15-18:00
    opening = opening_hours("08:15-18:00", None)
    # Then a 15-minute series may open then, an hourly or half-hourly one may not, and the error names it
    opening.check_grid(900)
    for interval in (1800, 3600):
        with pytest.raises(ValueError, match=r"^open_hours 08:15 falls inside"):
            opening.check_grid(interval)
