"""A team's opening hours, on its local clock: when its reps answer leads (`open_hours`, `open_days` of
the staffing plan), read as the request writes them and checked against the series' grid."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from lead_ai.domain.intervals import interval_name
from lead_ai.errors import ValidationError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 1440


class OpeningHours(NamedTuple):
    """When the team answers leads, on its local clock: from minute `start` to minute `end` of the day
    (end excluded; 1440 is midnight) on `days` (0 is Monday). The staffing plan gives a closed interval
    no reps, and plans the leads expected in it in the next open one (domain.staffing)."""

    start: int = 0
    end: int = MINUTES_A_DAY
    days: tuple[int, ...] = tuple(range(7))

    @property
    def always(self) -> bool:
        return self.start == 0 and self.end == MINUTES_A_DAY and len(set(self.days)) == 7

    def is_open(self, minutes_of_week: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each interval starting at these local minutes of the week (Monday 00:00 is 0) is open."""
        minute = np.asarray(minutes_of_week, dtype=np.int64)
        of_day = minute % MINUTES_A_DAY
        open_day = np.isin(minute // MINUTES_A_DAY, self.days)
        return np.asarray(open_day & (of_day >= self.start) & (of_day < self.end), dtype=np.bool_)

    def check_grid(self, interval_seconds: int) -> None:
        """ValueError naming `open_hours` when a bound falls inside an interval of the series."""
        step = interval_seconds // 60
        for bound in (self.start, self.end):
            if bound % step:
                raise ValueError(
                    f"open_hours {_clock(bound)} falls inside a {interval_name(interval_seconds)} interval: "
                    f"open and close on the series' grid (every {interval_name(interval_seconds)})"
                )

    def describe(self) -> dict[str, str]:
        """The opening hours as the request writes them."""
        days = ",".join(DAY_NAMES[d] for d in sorted(set(self.days)))
        return {"open_hours": f"{_clock(self.start)}-{_clock(self.end)}", "open_days": days}


ALWAYS_OPEN = OpeningHours()


def opening_hours(hours: str | None, days: str | None) -> OpeningHours:
    """`open_hours` "HH:MM-HH:MM" (local, the close excluded, 24:00 for midnight) and `open_days` ("mon-fri",
    "mon,wed,sat", "sat-sun,wed"); either may be absent (all day / every day). ValueError whose message
    starts with the parameter's name."""
    start, end = 0, MINUTES_A_DAY
    if hours is not None and hours.strip():
        match = _HOURS.fullmatch(hours.strip())
        opens = _minute(match[1], match[2]) if match else None
        closes = _minute(match[3], match[4]) if match else None
        if opens is None or closes is None or opens >= closes:
            raise ValueError(
                f"open_hours must be HH:MM-HH:MM on the team's clock, opening before closing (24:00 for "
                f"midnight), e.g. 08:00-18:00; got {hours[:20]!r}"
            )
        start, end = opens, closes
    open_days: tuple[int, ...] = tuple(range(7))
    if days is not None and days.strip():
        open_days = _days(days)
    return OpeningHours(start, end, open_days)


_HOURS = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


def _minute(hour: str, minute: str) -> int | None:
    h, m = int(hour), int(minute)
    if m >= 60 or h > 24 or (h == 24 and m):
        return None
    return h * 60 + m


def _days(text: str) -> tuple[int, ...]:
    chosen: set[int] = set()
    for part in text.lower().split(","):
        ends = [name.strip() for name in part.split("-")]
        if len(ends) > 2 or not all(name in DAY_NAMES for name in ends):
            raise ValueError(
                f"open_days must be days of the week ({','.join(DAY_NAMES)}) or ranges of them, comma "
                f"separated, e.g. mon-fri or mon-fri,sat; got {text[:30]!r}"
            )
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        chosen.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)])
    return tuple(sorted(chosen))


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def minutes_of_week(wall_seconds: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Each local wall-clock time (seconds since 1970-01-01 00:00 on the local clock) as its minute of the
    week, Monday 00:00 being 0 (1970-01-01 was a Thursday)."""
    minute = np.asarray(wall_seconds, dtype=np.int64) // 60
    return np.asarray((minute + 3 * MINUTES_A_DAY) % (7 * MINUTES_A_DAY), dtype=np.int64)


def opening_on_grid(hours: str | None, days: str | None, interval_seconds: int) -> OpeningHours:
    """The opening hours of a series of this interval: a 400 naming `open_hours` when they open or close
    inside one of its intervals (an hourly team cannot open at 08:30)."""
    opening = opening_hours(hours, days)
    try:
        opening.check_grid(interval_seconds)
    except ValueError as exc:
        raise ValidationError(str(exc), field="open_hours") from exc
    return opening
