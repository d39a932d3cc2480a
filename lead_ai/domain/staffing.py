"""The staffing plan for a forecast: agents per interval (Erlang C) and agent hours per local day.

A pure function of the forecast and the assumptions: no AWS, no HTTP. The caller picks the forecast
quantile to plan for (`assumptions.quantile`) and passes it as `leads_planned`, beside the point forecast
`leads`, and gives each interval's local calendar date so that days follow the caller's clock (a day
can hold 23 or 25 hourly intervals when the clocks change). With opening hours (`OpeningHours`, on the
same local clock), a closed interval gets no agents and its planned leads wait for the next open one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from lead_ai.domain.erlang import offered_traffic, required_agents_many
from lead_ai.domain.intervals import interval_name
from lead_ai.domain.opening_hours import ALWAYS_OPEN, OpeningHours
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
