"""The holiday calendar of a market, and calendar facts of timestamps (numpy + stdlib: serving imports it).

`holiday_kind` says whether each timestamp's day is a holiday, a quiet day (a working day most people
take off, such as December 24 and 26..31) or an ordinary day; the features use it for the target's day
and to keep holidays out of what stands for an ordinary day.
"""

from __future__ import annotations

from datetime import date as _date
from functools import lru_cache

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS

# Epoch day 0 (1970-01-01) was a Thursday; with this offset Monday is 0.
EPOCH_WEEKDAY_OFFSET = 3
HOLIDAY, QUIET_DAY = 1, 2  # holiday kinds (0 = an ordinary day)
_EPOCH_ORDINAL = _date(1970, 1, 1).toordinal()


def holiday_kind(timestamps: np.ndarray, calendar: str) -> np.ndarray:
    """Holiday kind of the calendar day (UTC clock, as the weekday feature) of each epoch-second timestamp:
    HOLIDAY, QUIET_DAY (a working day most people take off) or 0; same shape as the input."""
    t = np.asarray(timestamps, dtype=np.int64)
    if calendar == "none" or t.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    day = t // DAY_SECONDS
    days, kinds = _us_calendar(_year_of(int(day.min())), _year_of(int(day.max())))
    pos = np.minimum(np.searchsorted(days, day), days.size - 1)
    return np.where(days[pos] == day, kinds[pos], 0)


@lru_cache(maxsize=64)
def _us_calendar(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted epoch days and kinds of the US calendar over the years (and their neighbours: a New Year
    on a Saturday is observed on December 31 of the year before)."""
    merged: dict[int, int] = {}
    for year in range(first_year - 1, last_year + 2):
        for day, kind in _us_year(year).items():
            merged[day] = min(kind, merged.get(day, kind))
    days = np.array(sorted(merged), dtype=np.int64)
    return days, np.array([merged[d] for d in days], dtype=np.int64)


def _us_year(year: int) -> dict[int, int]:
    """One year's major US holidays (a Saturday one observed on the Friday, a Sunday one on the Monday)
    and its quiet days: the Friday after Thanksgiving, December 24 and 26..31."""
    days: dict[int, int] = {}
    for month, day in _US_FIXED:
        d = _epoch_day(year, month, day)
        days[d] = HOLIDAY
        weekday = (d + EPOCH_WEEKDAY_OFFSET) % 7
        observed = {5: d - 1, 6: d + 1}.get(weekday)
        if observed is not None:
            days[observed] = HOLIDAY
    for month, weekday, n in _US_FLOATING:
        days[_nth_weekday(year, month, weekday, n)] = HOLIDAY
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    days[thanksgiving] = HOLIDAY
    days.setdefault(thanksgiving + 1, QUIET_DAY)
    for day in (24, *range(26, 32)):
        days.setdefault(_epoch_day(year, 12, day), QUIET_DAY)
    return days


# The six holidays nearly every US employer gives (New Year, Memorial Day, Independence Day, Labor Day,
# Thanksgiving, Christmas). The other federal ones (MLK, Presidents', Columbus, Veterans, Juneteenth) are
# working days for most businesses: on the validation split, treating them as holidays made bike
# MASE h=24/168 0.754/0.873 instead of 0.706/0.753, and taxi 0.502/0.666 instead of 0.426/0.650.
_US_FIXED = ((1, 1), (7, 4), (12, 25))  # (month, day)
_US_FLOATING = ((5, 0, -1), (9, 0, 1))  # (month, weekday with Monday = 0, n-th; -1 = last)


def _year_of(epoch_day: int) -> int:
    return _date.fromordinal(epoch_day + _EPOCH_ORDINAL).year


def _epoch_day(year: int, month: int, day: int) -> int:
    return _date(year, month, day).toordinal() - _EPOCH_ORDINAL


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> int:
    """Epoch day of the n-th (1-based; -1 = last) given weekday (Monday = 0) of a month."""
    if n > 0:
        first = _date(year, month, 1)
        return first.toordinal() - _EPOCH_ORDINAL + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    last = _date(year + month // 12, month % 12 + 1, 1).toordinal() - 1
    return last - _EPOCH_ORDINAL - (_date.fromordinal(last).weekday() - weekday) % 7


def day_of_year(timestamps: np.ndarray) -> np.ndarray:
    """Day of the year (0..365, UTC) of epoch-second timestamps."""
    moments = timestamps.astype("datetime64[s]")
    return np.asarray((moments.astype("datetime64[D]") - moments.astype("datetime64[Y]")).astype(np.int64))
