"""Calendar facts of local times: the holiday kind of each day, the day of the year (numpy + stdlib:
serving imports it).

A `HolidayTable` is a market's holidays and quiet days (a working day most people take off, such as
December 24 and 26..31) over a span of years. Training computes it with the `holidays` library
(forecasting.training.calendars) and carries it in the model artifact; serving reads it from there, so the
prediction path never imports the library. `holiday_kind` says, per local timestamp, whether its day is a
holiday, a quiet day or an ordinary one; the features use it for the target's day and to keep holidays
out of what stands for an ordinary day. Past the table's span every day is ordinary: a model is retrained
whenever its series gets new data, and the table reaches years beyond its training (see
forecasting.training.calendars.FUTURE_YEARS).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date as _date
from typing import Any, NamedTuple

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS

# Epoch day 0 (1970-01-01) was a Thursday; with this offset Monday is 0.
EPOCH_WEEKDAY_OFFSET = 3
HOLIDAY, QUIET_DAY = 1, 2  # holiday kinds (0 = an ordinary day)
_EPOCH_ORDINAL = _date(1970, 1, 1).toordinal()


class HolidayTable(NamedTuple):
    """A calendar's special days from `first_day` to `last_day` (epoch days, inclusive): sorted epoch
    days and their kind (HOLIDAY or QUIET_DAY)."""

    code: str
    first_day: int
    last_day: int
    days: np.ndarray  # int64, increasing
    kinds: np.ndarray  # int64

    def to_dict(self) -> dict[str, Any]:
        """JSON for the artifact: ISO dates, so the file can be read (and checked) by a person."""
        return {
            "calendar": self.code,
            "first": _iso(self.first_day),
            "last": _iso(self.last_day),
            "holidays": [
                _iso(d) for d, k in zip(self.days.tolist(), self.kinds.tolist(), strict=True) if k == HOLIDAY
            ],
            "quiet_days": [
                _iso(d)
                for d, k in zip(self.days.tolist(), self.kinds.tolist(), strict=True)
                if k == QUIET_DAY
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HolidayTable:
        kinds = {epoch_day(text): HOLIDAY for text in data["holidays"]}
        for text in data["quiet_days"]:
            kinds.setdefault(epoch_day(text), QUIET_DAY)
        days = np.array(sorted(kinds), dtype=np.int64)
        return cls(
            str(data["calendar"]),
            epoch_day(data["first"]),
            epoch_day(data["last"]),
            days,
            np.array([kinds[d] for d in days.tolist()], dtype=np.int64),
        )

    @classmethod
    def of(cls, code: str, first_day: int, last_day: int, kinds: Mapping[int, int]) -> HolidayTable:
        days = np.array(sorted(d for d in kinds if first_day <= d <= last_day), dtype=np.int64)
        return cls(
            code, first_day, last_day, days, np.array([kinds[d] for d in days.tolist()], dtype=np.int64)
        )


def holiday_kind(local_timestamps: np.ndarray, table: HolidayTable | None) -> np.ndarray:
    """Holiday kind (HOLIDAY, QUIET_DAY or 0) of the local calendar day of each timestamp, given as epoch
    seconds of the local wall clock (UTC time + the zone's offset); same shape as the input. Days outside
    the table's span, or without a table, are ordinary."""
    t = np.asarray(local_timestamps, dtype=np.int64)
    if table is None or t.size == 0 or table.days.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    day = t // DAY_SECONDS
    pos = np.minimum(np.searchsorted(table.days, day), table.days.size - 1)
    return np.where(table.days[pos] == day, table.kinds[pos], 0)


def day_of_year(local_timestamps: np.ndarray) -> np.ndarray:
    """Day of the year (0..365) of local epoch-second timestamps."""
    moments = np.asarray(local_timestamps, dtype=np.int64).astype("datetime64[s]")
    return np.asarray((moments.astype("datetime64[D]") - moments.astype("datetime64[Y]")).astype(np.int64))


def epoch_day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return _date.fromisoformat(text).toordinal() - _EPOCH_ORDINAL


def _iso(day: int) -> str:
    return _date.fromordinal(int(day) + _EPOCH_ORDINAL).isoformat()
