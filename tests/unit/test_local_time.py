"""Local time of a series (lead_ai.domain.localtime) and the features that follow it across clock changes:
America/New_York and Europe/Berlin, spring forward and fall back."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from lead_ai.domain.localtime import (
    AmbiguousLocalTimeError,
    ClockTable,
    NonexistentLocalTimeError,
    clock_table,
    iso_dates,
    iso_local_array,
    local_to_utc,
    parse_timezone,
)
from lead_ai.forecasting.feature_spec import FeatureSpec, default_spec
from lead_ai.forecasting.features import build_rows

# The 2026 clock changes (UTC instants): New York -5 -> -4 on Mar 8 07:00Z and back on Nov 1 06:00Z;
# Berlin +1 -> +2 on Mar 29 01:00Z and back on Oct 25 01:00Z.
CHANGES = {
    "America/New_York": [(datetime(2026, 3, 8, 7), -4 * 3600), (datetime(2026, 11, 1, 6), -5 * 3600)],
    "Europe/Berlin": [(datetime(2026, 3, 29, 1), 2 * 3600), (datetime(2026, 10, 25, 1), 1 * 3600)],
}


def _ts(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("zone", sorted(CHANGES))
def test_the_clock_table_finds_each_change_to_the_second(zone: str) -> None:
    # When the zone's 2026 clock is built from the zone database
    clock = clock_table(zone, _ts(2026, 1, 1), _ts(2026, 12, 31))
    # Then it holds the two changes of the year, at their instants, with the offsets after them
    expected = [(int(moment.replace(tzinfo=UTC).timestamp()), offset) for moment, offset in CHANGES[zone]]
    assert list(zip(clock.starts[1:].tolist(), clock.offsets[1:].tolist(), strict=True)) == expected
    # And the offset one second before and at a change are the old and the new one
    at = np.array([expected[0][0] - 1, expected[0][0], expected[1][0] - 1, expected[1][0]])
    assert clock.offsets_at(at).tolist() == [clock.offsets[0], expected[0][1], expected[0][1], expected[1][1]]
    # And the table survives the artifact's JSON
    again = ClockTable.from_dict(clock.to_dict())
    assert again.offsets_at(at).tolist() == clock.offsets_at(at).tolist()


@pytest.mark.parametrize(
    ("zone", "naive", "error"),
    [
        ("America/New_York", datetime(2026, 3, 8, 2, 30), NonexistentLocalTimeError),
        ("America/New_York", datetime(2026, 11, 1, 1, 30), AmbiguousLocalTimeError),
        ("Europe/Berlin", datetime(2026, 3, 29, 2, 0), NonexistentLocalTimeError),
        ("Europe/Berlin", datetime(2026, 10, 25, 2, 0), AmbiguousLocalTimeError),
    ],
)
def test_local_times_the_clocks_skip_or_repeat_are_refused_naming_them(
    zone: str, naive: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error, match=naive.isoformat()):
        local_to_utc(naive, zone)


@pytest.mark.parametrize(
    ("zone", "naive", "utc"),
    [
        ("America/New_York", datetime(2026, 3, 8, 1, 0), datetime(2026, 3, 8, 6)),
        ("America/New_York", datetime(2026, 3, 8, 3, 0), datetime(2026, 3, 8, 7)),
        ("America/New_York", datetime(2026, 11, 1, 2, 0), datetime(2026, 11, 1, 7)),
        ("Europe/Berlin", datetime(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2)),
        ("UTC", datetime(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 3)),
    ],
)
def test_ordinary_local_times_around_a_change_are_read_in_the_zone(
    zone: str, naive: datetime, utc: datetime
) -> None:
    assert local_to_utc(naive, zone) == int(utc.replace(tzinfo=UTC).timestamp())


def test_timestamps_carry_the_local_offset_and_the_repeated_hour_shows_both() -> None:
    # Given the hours 04:00Z .. 07:00Z of New York's fall-back day, in the served model's clock
    spec = FeatureSpec(timezone="America/New_York")
    stamps = _ts(2026, 11, 1, 4) + 3600 * np.arange(4)
    # When they are written as local times
    wall, offsets = spec.wall_clock(stamps)
    # Then 01:00 appears twice, once per offset
    assert iso_local_array(wall, offsets) == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", (2026, 11, 1), 25),
        ("America/New_York", (2026, 3, 8), 23),
        ("Europe/Berlin", (2026, 10, 25), 25),
        ("Europe/Berlin", (2026, 3, 29), 23),
        ("Europe/Berlin", (2026, 7, 1), 24),
    ],
)
def test_a_local_day_holds_23_24_or_25_hourly_slots(zone: str, day: tuple[int, int, int], hours: int) -> None:
    # Given three days of hourly UTC slots around the day, in the zone's clock
    spec = FeatureSpec(timezone=zone)
    stamps = _ts(*day) - 86400 + 3600 * np.arange(72)
    # When each is given its local date
    dates = iso_dates(spec.wall_clock(stamps)[0])
    # Then the day has as many slots as its clocks show hours, and its slots of day run 0.. without a gap
    assert dates.count(f"{day[0]:04d}-{day[1]:02d}-{day[2]:02d}") == hours


def _local_hour_window(spec: FeatureSpec, last: int) -> np.ndarray:
    """A window whose value at each slot is 1 + the local hour (a daily shape fixed to the local clock)."""
    stamps = last - 3600 * np.arange(spec.window - 1, -1, -1)
    wall, _ = spec.wall_clock(stamps)
    return (1.0 + (wall // 3600) % 24).astype(np.float64)


@pytest.mark.parametrize(
    ("zone", "origin"), [("America/New_York", (2026, 11, 2, 12)), ("Europe/Berlin", (2026, 3, 30, 12))]
)
def test_calendar_features_and_same_slot_values_follow_the_local_clock_across_a_change(
    zone: str, origin: tuple[int, int, int, int]
) -> None:
    # Given a series whose every day has the same local shape (value = 1 + local hour), the day after a
    # clock change, with an hourly spec in its zone and the same spec on UTC
    local = FeatureSpec.from_dict({**default_spec(3600, 48).to_dict(), "timezone": zone})
    utc = default_spec(3600, 48)
    last = _ts(*origin)
    window = _local_hour_window(local, last)[None, :]
    steps = np.arange(1, 49)
    # When rows are built for the next 48 hours
    X, level = build_rows(window, np.array([last]), np.zeros(48, np.intp), steps, local)
    Xu, level_u = build_rows(window, np.array([last]), np.zeros(48, np.intp), steps, utc)
    names = local.feature_names
    target_hour = (local.wall_clock(last + 3600 * steps)[0] // 3600) % 24
    # Then the slot of day is the target's local hour
    assert X[:, names.index("slot_of_day")].tolist() == target_hour.tolist()
    # And the value the same local hour a day and a week before is the target's own shape (1 + hour),
    # although a week back the clocks showed another offset
    for name in ("same_slot_day_1", "same_slot_week_1", "same_slot_week_2"):
        assert np.allclose(X[:, names.index(name)] * level, 1 + target_hour), name
    # While on the UTC grid the week-old value is an hour off for every target
    week_u = Xu[:, names.index("same_slot_week_1")] * level_u
    assert not np.allclose(week_u, 1 + target_hour)


def test_a_zone_without_clock_changes_and_utc_give_the_features_unchanged() -> None:
    # Given a window and two specs that differ only in a zone with a fixed offset of 0
    utc = default_spec(3600, 24)
    fixed = FeatureSpec.from_dict({**utc.to_dict(), "timezone": "Etc/UTC"})
    window = np.random.default_rng(0).uniform(1, 10, size=(1, utc.window))
    args = (window, np.array([_ts(2026, 11, 1, 5)]), np.zeros(24, np.intp), np.arange(1, 25))
    # Then the rows are identical
    assert np.array_equal(build_rows(*args, utc)[0], build_rows(*args, fixed)[0], equal_nan=True)


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC", "Etc/GMT+5"])
def test_known_zone_names_are_accepted(name: str) -> None:
    assert parse_timezone(name) == name


@pytest.mark.parametrize(
    "name", ["", "Mars/Base", "../etc/passwd", "/etc/localtime", "America/New York", 3, None]
)
def test_unknown_zone_names_are_refused(name: object) -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_timezone(name)
