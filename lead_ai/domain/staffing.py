"""The staffing plan for a forecast: agents per interval (Erlang C) and agent hours per local day.

A pure function of the forecast and the assumptions: no AWS, no HTTP. The caller picks the forecast
quantile to plan for (`assumptions.quantile`) and passes it as `leads_planned`, beside the point forecast
`leads`, and gives each interval's local calendar date so that days follow the caller's clock (a day
can hold 23 or 25 hourly intervals when the clocks change). With opening hours (`OpeningHours`, on the
same local clock), a closed interval gets no agents and its planned leads wait for the next open one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from lead_ai.domain.erlang import offered_traffic, required_agents_many
from lead_ai.domain.intervals import interval_name
from lead_ai.errors import ValidationError

MAX_SECONDS = 86400
# Erlang C's search walks up from one agent, so its time grows with the traffic: 0.34 s for a week of
# 15-minute intervals all at 100,000 Erlangs on the development machine. No queue puts 100,000 people
# on the phones at once; a plan asking for more is a unit mistake (handle time in minutes, say).
MAX_TRAFFIC = 100_000.0
# Erlang C assumes leads arrive at a steady random rate through the interval: true enough within an hour,
# not over a day (a daily series' leads come in office hours, so spreading them over 24 h under-staffs the
# busy hours). A daily series has no staffing plan; its forecast is the daily one.
MAX_STAFFING_INTERVAL = 3600

# parameter: (low, high, low included, high included, the range in words for the error message)
_RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "handle_seconds": (0, MAX_SECONDS, False, True, "greater than 0 and at most 86400"),
    "answer_within_seconds": (0, MAX_SECONDS, True, True, "from 0 to 86400"),
    "service_level": (0, 1, False, False, "between 0 and 1 (exclusive)"),
    "shrinkage": (0, 0.95, True, True, "from 0 to 0.95"),
    # Below 10 % reps would sit idle nine minutes in ten; and the cap sets the agents (traffic / cap).
    "max_occupancy": (0.1, 1, True, True, "from 0.1 to 1"),
    "quantile": (0.05, 0.95, True, True, "from 0.05 to 0.95"),
}


class StaffingAssumptions(NamedTuple):
    handle_seconds: float = 300.0
    answer_within_seconds: float = 300.0
    service_level: float = 0.8
    shrinkage: float = 0.3  # share of paid time agents are not on the phones (breaks, meetings, training)
    max_occupancy: float = 0.85
    quantile: float = 0.5  # which forecast quantile to plan for (0.5 = the point forecast)


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 1440


class OpeningHours(NamedTuple):
    """When the team answers leads, on its local clock: from minute `start` to minute `end` of the day
    (end excluded; 1440 is midnight) on `days` (0 is Monday). Leads planned for a closed interval wait for
    the next open one, which plans them on top of its own."""

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


_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


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


class StaffingPlan(NamedTuple):
    """`plan`: per interval, timestamp, leads, leads_planned, open, leads_carried_in, agents, service_level
    and occupancy; `daily`: per local date, date, leads and agent_hours; `assumptions`: what the plan
    assumed (the opening hours included); `leads_after_closing`: the expected leads of the closed
    intervals that end the horizon, which no interval of the plan answers."""

    plan: list[dict[str, Any]]
    daily: list[dict[str, Any]]
    assumptions: dict[str, Any]
    leads_after_closing: float = 0.0


def validate_assumptions(assumptions: StaffingAssumptions) -> None:
    """Raise ValueError naming the first parameter out of its range (the message starts with its name)."""
    for name, (low, high, low_included, high_included, allowed) in _RANGES.items():
        value = getattr(assumptions, name)
        is_number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
        if not (
            is_number
            and math.isfinite(value)
            and (low <= value if low_included else low < value)
            and (value <= high if high_included else value < high)
        ):
            raise ValueError(f"{name} must be a number {allowed}, got {value!r}")


def _check_traffic(
    traffic: npt.NDArray[np.float64], planned: npt.NDArray[np.float64], handle_seconds: float, interval: int
) -> None:
    """A 400 naming `handle_seconds` when some interval's leads would keep over MAX_TRAFFIC reps busy."""
    if traffic.size == 0 or float(traffic.max()) <= MAX_TRAFFIC:
        return
    busiest = int(traffic.argmax())
    raise ValidationError(
        f"handle_seconds {handle_seconds:g} with {planned[busiest]:,.0f} leads planned in {interval} s "
        f"keeps {traffic[busiest]:,.0f} reps busy at once; plans are made for at most {MAX_TRAFFIC:,.0f}",
        field="handle_seconds",
    )


def plans_staffing(interval_seconds: int) -> bool:
    """Whether a series of this interval gets a staffing plan (at most MAX_STAFFING_INTERVAL)."""
    return interval_seconds <= MAX_STAFFING_INTERVAL


def check_staffing_interval(interval_seconds: int) -> None:
    """A 400 naming `interval` for a series whose intervals are too long to staff (a daily series)."""
    if not plans_staffing(interval_seconds):
        raise ValidationError(
            f"staffing needs an interval of at most {interval_name(MAX_STAFFING_INTERVAL)} (Erlang C plans "
            f"the leads of an interval as arriving evenly through it); this series' interval is "
            f"{interval_name(interval_seconds)}: its forecast per day is at GET /series/{{series_id}}/forecast",
            field="interval",
        )


def scheduled_agents(on_phones: int, shrinkage: float) -> int:
    """Agents to schedule so that `on_phones` of them are answering: ceil(on_phones / (1 - shrinkage)).

    The shrinkage is taken as the decimal the caller wrote: in floats 21 / (1 - 0.3) is
    30.000000000000004, and its ceiling would schedule 31 agents where 30 give exactly 21 on the phones.
    """
    share = Fraction(repr(float(shrinkage)))
    return -(-on_phones * share.denominator // (share.denominator - share.numerator))


def staffing_plan(
    timestamps: Sequence[str],
    leads: npt.ArrayLike,
    leads_planned: npt.ArrayLike,
    local_dates: Sequence[str],
    interval_seconds: int,
    assumptions: StaffingAssumptions,
    opening: OpeningHours = ALWAYS_OPEN,
    local_minutes: npt.ArrayLike | None = None,
) -> StaffingPlan:
    """Agents to schedule per interval for `leads_planned` leads, and agent hours per local date.

    `service_level` and `occupancy` are what the agents on the phones achieve; an interval with no
    planned leads gets 0 agents, service level 1.0 and occupancy 0.0. With `opening` hours other than
    always, `local_minutes` (each interval's start as its local minute of the week: minutes_of_week) says
    which intervals are open: a closed one gets 0 agents (service level 0.0 if leads are planned in it,
    none being answered in time) and its expected leads (`leads`) are carried into the next open
    interval, planned there as arriving through it on top of its own planned ones (`leads_carried_in`).
    The point forecast, not the planned quantile, is carried: a night's total is far steadier than any
    one hour, and the 90th percentiles of its hours summed would be a night busier than nights are.
    """
    validate_assumptions(assumptions)
    point = np.asarray(leads, dtype=np.float64)
    planned = np.asarray(leads_planned, dtype=np.float64)
    size = len(timestamps)
    if not (point.shape == planned.shape == (size,) and len(local_dates) == size):
        raise ValueError(
            f"timestamps ({size}), leads {point.shape}, leads_planned {planned.shape} and local_dates "
            f"({len(local_dates)}) must have one entry per interval"
        )
    if not (isinstance(interval_seconds, int) and 0 < interval_seconds <= MAX_SECONDS):
        raise ValueError(f"interval_seconds must be an integer from 1 to 86400, got {interval_seconds!r}")
    if not (np.all(np.isfinite(planned)) and np.all(planned >= 0) and np.all(np.isfinite(point))):
        raise ValueError("leads and leads_planned must be finite, and leads_planned >= 0")

    is_open = _open_intervals(opening, local_minutes, size)
    carried_in, after_closing = carried_leads(np.maximum(point, 0.0), is_open)
    answered = np.where(is_open, planned, 0.0) + carried_in
    traffic = offered_traffic(answered, assumptions.handle_seconds, interval_seconds)
    _check_traffic(traffic, answered, assumptions.handle_seconds, interval_seconds)
    on_phones = required_agents_many(
        traffic,
        assumptions.handle_seconds,
        assumptions.answer_within_seconds,
        assumptions.service_level,
        assumptions.max_occupancy,
    )
    agents = [scheduled_agents(n, assumptions.shrinkage) for n in on_phones.agents.tolist()]
    service_level = np.where(~is_open & (planned > 0), 0.0, on_phones.service_level)

    plan = [
        {
            "timestamp": timestamps[i],
            "leads": round(float(point[i]), 3),
            "leads_planned": round(float(planned[i]), 3),
            "open": bool(is_open[i]),
            "leads_carried_in": round(float(carried_in[i]), 3),
            "agents": agents[i],
            "service_level": round(float(service_level[i]), 3),
            "occupancy": round(float(on_phones.occupancy[i]), 3),
        }
        for i in range(size)
    ]

    leads_by_date: dict[str, float] = {}
    agents_by_date: dict[str, int] = {}
    for date, value, count in zip(local_dates, point.tolist(), agents, strict=True):
        leads_by_date[date] = leads_by_date.get(date, 0.0) + value
        agents_by_date[date] = agents_by_date.get(date, 0) + count
    daily = [
        {
            "date": date,
            "leads": round(leads_by_date[date], 3),
            "agent_hours": round(agents_by_date[date] * interval_seconds / 3600, 2),
        }
        for date in leads_by_date
    ]
    assumed: dict[str, Any] = {name: float(value) for name, value in assumptions._asdict().items()}
    return StaffingPlan(plan, daily, assumed | opening.describe(), round(after_closing, 3))


def _open_intervals(
    opening: OpeningHours, local_minutes: npt.ArrayLike | None, size: int
) -> npt.NDArray[np.bool_]:
    if opening.always:
        return np.ones(size, dtype=np.bool_)
    minutes = None if local_minutes is None else np.asarray(local_minutes)
    if minutes is None or minutes.shape != (size,):
        raise ValueError("opening hours need each interval's local minute of the week (local_minutes)")
    return opening.is_open(minutes)


def carried_leads(
    leads: npt.NDArray[np.float64], is_open: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], float]:
    """Per interval, the leads of the closed intervals just before it that it answers (0 unless it is the
    first open one after them), and the leads of the closed intervals after the last open one."""
    carried = np.zeros_like(leads)
    waiting = 0.0
    for i in range(leads.size):  # at most a week of 15-minute intervals: 672 steps
        if is_open[i]:
            carried[i], waiting = waiting, 0.0
        else:
            waiting += float(leads[i])
    return carried, waiting
