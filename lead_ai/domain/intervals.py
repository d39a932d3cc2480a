"""The grid intervals a series can have: one table and one parser for the API, the store and the forecaster."""

from __future__ import annotations

import re

DAY_SECONDS = 86_400
# The intervals a series can be created with (the API's rule); the forecaster itself works on any grid
# whose interval divides a day.
SERIES_INTERVALS = {"15min": 900, "30min": 1800, "1h": 3600, "1d": DAY_SECONDS}
SHORTEST_INTERVAL = min(SERIES_INTERVALS.values())

_INTERVAL_RE = re.compile(
    r"^\s*(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)\s*$"
)
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": DAY_SECONDS, "day": DAY_SECONDS, "days": DAY_SECONDS,
}  # fmt: skip


def parse_interval(text: object) -> int:
    """Parse an interval such as "1h", "30min", "15min", "1d" or "3600s" into seconds.

    The interval must divide a day (so that a day and a week are whole numbers of intervals)."""
    if not isinstance(text, str):
        raise ValueError(f"interval must be a string such as '1h', '30min' or '1d', got {text!r}")
    match = _INTERVAL_RE.match(text.lower())
    if match is None:
        raise ValueError(
            f"cannot parse interval {text!r}: expected a number and a unit, e.g. '1h', '30min', '15min', '1d'"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"interval {text!r} must be positive")
    if DAY_SECONDS % seconds != 0:
        raise ValueError(f"interval {text!r} ({seconds} s) must divide a day (86400 s) evenly")
    return seconds


def parse_series_interval(text: object) -> int:
    """An interval a series may use (SERIES_INTERVALS), in seconds; ValueError naming the choices."""
    choices = ", ".join(SERIES_INTERVALS)
    try:
        seconds = parse_interval(text)
    except ValueError as exc:
        raise ValueError(f"interval must be one of {choices}") from exc
    if seconds not in SERIES_INTERVALS.values():
        raise ValueError(f"interval must be one of {choices}")
    return seconds


def interval_name(seconds: int) -> str:
    """The name of an interval ("1h"), or "<n>s" for one outside SERIES_INTERVALS."""
    for name, value in SERIES_INTERVALS.items():
        if value == seconds:
            return name
    return f"{seconds}s"


HOUR_SECONDS = 3_600


def min_points_for_interval(hourly_points: int, interval_seconds: int) -> int:
    """The observations a series of this interval needs before it may train: `hourly_points` is a count of
    hours (LEAD_AI_MIN_TRAINING_POINTS, 1000 by default: about six weeks), so the rule is the same
    duration for every interval (4,000 points at 15 min, 2,000 at 30 min, 42 at 1 d), never 1,000 days
    of a daily series."""
    if hourly_points < 1 or interval_seconds < 1:
        raise ValueError("hourly_points and interval_seconds must be positive")
    return max(1, -(-hourly_points * HOUR_SECONDS // interval_seconds))
