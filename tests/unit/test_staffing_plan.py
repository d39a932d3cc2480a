"""The staffing plan built from a forecast (lead_ai.domain.staffing): agents per interval after shrinkage,
daily agent hours per local date, and the checks on the assumptions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from lead_ai.domain.erlang import required_agents
from lead_ai.domain.opening_hours import minutes_of_week, opening_hours
from lead_ai.domain.staffing import (
    MAX_TRAFFIC,
    StaffingAssumptions,
    carried_leads,
    scheduled_agents,
    staffing_plan,
    validate_assumptions,
)
from lead_ai.errors import ValidationError

DEFAULTS = StaffingAssumptions()


def _hours(start: datetime, count: int, step: int = 3600) -> list[datetime]:
    return [start + timedelta(seconds=i * step) for i in range(count)]


def _iso(moments: list[datetime]) -> list[str]:
    return [m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in moments]


def test_classic_example_schedules_twenty_agents() -> None:
    # Given the Call Centre Helper example as one 30-minute interval: 100 leads, 180 s handle time,
    # 80 % within 20 s, 85 % occupancy cap, 30 % shrinkage (pyworkforce's README publishes 14 agents on
    # the phones and 20 scheduled; tests/unit/test_erlang.py checks the 14 against the definition)
    assumptions = StaffingAssumptions(180.0, 20.0, 0.8, 0.3, 0.85)
    # When planned
    result = staffing_plan(["2024-01-01T09:00:00Z"], [100.0], [100.0], ["2024-01-01"], 1800, assumptions)
    # Then 20 agents are scheduled, and the 14 on the phones answer 88.8 % in time, busy 71.4 % of it
    assert result.plan == [
        {
            "timestamp": "2024-01-01T09:00:00Z",
            "leads": 100.0,
            "leads_planned": 100.0,
            "open": True,
            "leads_carried_in": 0.0,
            "agents": 20,
            "service_level": 0.888,
            "occupancy": 0.714,
        }
    ]
    assert result.daily == [{"date": "2024-01-01", "leads": 100.0, "agent_hours": 10.0}]
    assert result.assumptions == {
        "handle_seconds": 180.0,
        "answer_within_seconds": 20.0,
        "service_level": 0.8,
        "shrinkage": 0.3,
        "max_occupancy": 0.85,
        "quantile": 0.5,
        "open_hours": "00:00-24:00",
        "open_days": "mon,tue,wed,thu,fri,sat,sun",
    }


@pytest.mark.parametrize(
    ("on_phones", "shrinkage", "expected"),
    [(21, 0.3, 30), (14, 0.3, 20), (7, 0.3, 10), (22, 0.3, 32), (1, 0.95, 20), (5, 0.0, 5), (0, 0.3, 0)],
)
def test_shrinkage_rounds_up_to_whole_agents(on_phones: int, shrinkage: float, expected: int) -> None:
    # Given agents needed on the phones and a share of paid time spent elsewhere
    # When the agents to schedule are counted / Then the exact ceiling of on_phones / (1 - shrinkage):
    # 21 / (1 - 0.3) is 30 exactly, though floats make it 30.000000000000004
    assert math.ceil(on_phones / (1 - shrinkage)) in (expected, expected + 1)
    assert scheduled_agents(on_phones, shrinkage) == expected


def test_shrinkage_matches_exact_decimal_arithmetic() -> None:
    # Given every shrinkage a caller can write with two decimals, and up to 500 agents on the phones
    for hundredths in range(96):
        share = Fraction(hundredths, 100)
        for on_phones in range(501):
            # Then the scheduled agents are the exact ceiling, and those agents leave enough on the phones
            expected = math.ceil(on_phones / (1 - share))
            assert scheduled_agents(on_phones, hundredths / 100) == expected
            assert expected * (1 - share) >= on_phones


def test_shrinkage_rounding_reaches_the_plan() -> None:
    # Given the default assumptions and a lead count that needs exactly 21 agents on the phones
    leads = next(
        x for x in range(1, 1000) if required_agents(x * 300.0 / 3600, 300.0, 300.0, 0.8, 0.85) == 21
    )
    # When planned / Then 30 agents are scheduled, not the 31 a float ceiling would give
    result = staffing_plan(["t"], [float(leads)], [float(leads)], ["2024-01-01"], 3600, DEFAULTS)
    assert result.plan[0]["agents"] == 30


def test_zero_leads_need_no_agents() -> None:
    # Given intervals with no planned leads beside a busy one
    result = staffing_plan(
        ["a", "b", "c"], np.array([0.0, 0.2, 40.0]), np.array([0.0, 0.0, 40.0]), ["d"] * 3, 3600, DEFAULTS
    )
    # Then no agents, full service and no occupancy where nothing is planned
    for row in result.plan[:2]:
        assert (row["agents"], row["service_level"], row["occupancy"]) == (0, 1.0, 0.0)
    assert result.plan[2]["agents"] > 0
    # and the day's hours come from the busy hour alone
    assert result.daily == [{"date": "d", "leads": 40.2, "agent_hours": float(result.plan[2]["agents"])}]


def test_the_planned_quantile_drives_agents_and_the_point_forecast_the_leads() -> None:
    # Given a point forecast of 10 leads an hour and an upper quantile of 30
    timestamps = _iso(_hours(datetime(2024, 3, 4, 8, tzinfo=UTC), 4))
    point, upper = np.full(4, 10.0), np.full(4, 30.0)
    assumptions = DEFAULTS._replace(quantile=0.9)
    # When planned for the quantile
    result = staffing_plan(timestamps, point, upper, ["2024-03-04"] * 4, 3600, assumptions)
    # Then agents follow the 30 leads, not the 10, and the rows show both
    on_phones = required_agents(30 * 300.0 / 3600, 300.0, 300.0, 0.8, 0.85)
    assert on_phones > required_agents(10 * 300.0 / 3600, 300.0, 300.0, 0.8, 0.85)
    for row in result.plan:
        assert row["agents"] == scheduled_agents(on_phones, 0.3)
        assert (row["leads"], row["leads_planned"]) == (10.0, 30.0)
    # and the day counts the point forecast of leads
    assert result.daily[0]["leads"] == 40.0
    assert result.assumptions["quantile"] == 0.9


def test_daily_totals_follow_local_dates_over_a_25_hour_day() -> None:
    # Given hourly intervals around the New York clock change on 2024-11-03 (a 25-hour local day)
    zone = ZoneInfo("America/New_York")
    moments = _hours(datetime(2024, 11, 3, 2, tzinfo=UTC), 34)  # 22:00 EDT on 2 November
    dates = [m.astimezone(zone).date().isoformat() for m in moments]
    assert dates.count("2024-11-03") == 25
    leads = np.full(len(moments), 12.0)
    # When planned
    result = staffing_plan(_iso(moments), leads, leads, dates, 3600, DEFAULTS)
    # Then one total per local date, in order, the long day holding 25 hours of agents and leads
    per_hour = result.plan[0]["agents"]
    assert per_hour > 0
    assert result.daily == [
        {"date": "2024-11-02", "leads": 12.0 * 2, "agent_hours": 2.0 * per_hour},
        {"date": "2024-11-03", "leads": 12.0 * 25, "agent_hours": 25.0 * per_hour},
        {"date": "2024-11-04", "leads": 12.0 * 7, "agent_hours": 7.0 * per_hour},
    ]


def test_agent_hours_count_fifteen_minute_intervals_as_quarter_hours() -> None:
    # Given 15-minute intervals with 5 agents each (found from the leads)
    leads = np.full(6, 20.0)
    result = staffing_plan([str(i) for i in range(6)], leads, leads, ["d"] * 6, 900, DEFAULTS)
    agents = [row["agents"] for row in result.plan]
    # Then agent hours are agents x 0.25, summed
    assert result.daily[0]["agent_hours"] == round(sum(agents) * 0.25, 2)


def test_rows_round_floats_to_three_decimals() -> None:
    # Given fractional forecasts / Then rows carry three decimals and whole agents
    result = staffing_plan(["t"], [3.14159], [4.98765], ["d"], 3600, DEFAULTS)
    row = result.plan[0]
    assert (row["leads"], row["leads_planned"]) == (3.142, 4.988)
    assert isinstance(row["agents"], int)
    assert row["service_level"] == round(row["service_level"], 3)
    assert row["occupancy"] == round(row["occupancy"], 3)


def test_inputs_must_line_up() -> None:
    # Given one date too few / Then ValueError
    with pytest.raises(ValueError, match="one entry per interval"):
        staffing_plan(["a", "b"], [1.0, 2.0], [1.0, 2.0], ["d"], 3600, DEFAULTS)
    # Given negative planned leads / Then ValueError
    with pytest.raises(ValueError, match="leads_planned"):
        staffing_plan(["a"], [1.0], [-1.0], ["d"], 3600, DEFAULTS)


# --- The assumptions' ranges -----------------------------------------------------------------------------
OUT_OF_RANGE = [
    ("handle_seconds", 0.0, "greater than 0 and at most 86400"),
    ("handle_seconds", 86400.5, "greater than 0 and at most 86400"),
    ("answer_within_seconds", -1.0, "from 0 to 86400"),
    ("answer_within_seconds", 86401.0, "from 0 to 86400"),
    ("service_level", 0.0, "between 0 and 1 \\(exclusive\\)"),
    ("service_level", 1.0, "between 0 and 1 \\(exclusive\\)"),
    ("shrinkage", -0.01, "from 0 to 0.95"),
    ("shrinkage", 0.96, "from 0 to 0.95"),
    ("max_occupancy", 0.0, "from 0.1 to 1"),
    ("max_occupancy", 0.099, "from 0.1 to 1"),
    ("max_occupancy", 1e-300, "from 0.1 to 1"),
    ("max_occupancy", 1.5, "from 0.1 to 1"),
    ("quantile", 0.01, "from 0.05 to 0.95"),
    ("quantile", 0.99, "from 0.05 to 0.95"),
]
NOT_A_NUMBER: list[Any] = [math.nan, math.inf, True, "0.5", None]  # what a careless caller might pass


@pytest.mark.parametrize(("name", "value", "allowed"), OUT_OF_RANGE)
def test_assumptions_out_of_range_name_the_parameter(name: str, value: float, allowed: str) -> None:
    # Given one assumption out of its range
    assumptions = DEFAULTS._replace(**{name: value})
    # When validated, or planned with / Then ValueError starts with its name and states the range
    with pytest.raises(ValueError, match=f"^{name} must be a number {allowed}"):
        validate_assumptions(assumptions)
    with pytest.raises(ValueError, match=f"^{name} must be a number {allowed}"):
        staffing_plan(["t"], [1.0], [1.0], ["d"], 3600, assumptions)


@pytest.mark.parametrize("name", StaffingAssumptions._fields)
@pytest.mark.parametrize("value", NOT_A_NUMBER)
def test_assumptions_must_be_finite_numbers(name: str, value: Any) -> None:
    # Given an assumption that is not a finite number / Then ValueError starts with its name
    with pytest.raises(ValueError, match=f"^{name} must be a number"):
        validate_assumptions(DEFAULTS._replace(**{name: value}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("handle_seconds", 86400.0),
        ("handle_seconds", 1e-3),
        ("answer_within_seconds", 0.0),
        ("answer_within_seconds", 86400.0),
        ("service_level", 0.999),
        ("shrinkage", 0.0),
        ("shrinkage", 0.95),
        ("max_occupancy", 1.0),
        ("max_occupancy", 0.1),
        ("quantile", 0.05),
        ("quantile", 0.95),
    ],
)
def test_assumptions_at_the_edges_of_their_ranges_are_accepted(name: str, value: float) -> None:
    # Given an assumption on the edge of its range / Then it is valid and a plan is made
    assumptions = DEFAULTS._replace(**{name: value})
    validate_assumptions(assumptions)
    assert staffing_plan(["t"], [5.0], [5.0], ["d"], 3600, assumptions).plan[0]["agents"] > 0


def test_traffic_beyond_any_queue_is_a_400_naming_the_handle_time() -> None:
    # Given an hour whose planned leads, at a day's handle time each, keep more reps busy than the limit
    # (Erlang C's search walks up from one agent: such a plan would take minutes)
    leads = [10.0, MAX_TRAFFIC / 24 + 1]
    assumptions = DEFAULTS._replace(handle_seconds=86400.0)
    # When planned / Then a ValidationError names handle_seconds, the busiest interval and the limit
    with pytest.raises(ValidationError) as raised:
        staffing_plan(["a", "b"], leads, leads, ["d", "d"], 3600, assumptions)
    assert raised.value.field == "handle_seconds"
    assert "4,168 leads planned" in raised.value.message and "at most 100,000" in raised.value.message
    # And at the limit itself a plan is made
    at_limit = [MAX_TRAFFIC / 24]
    plan = staffing_plan(["a"], at_limit, at_limit, ["d"], 3600, assumptions).plan
    assert plan[0]["agents"] > MAX_TRAFFIC


def _wall(moment: datetime) -> int:
    """A local wall-clock time as seconds since 1970-01-01 00:00 on the same clock."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def test_a_closed_intervals_leads_wait_for_the_next_open_one_and_the_last_ones_are_reported() -> None:
    # Given expected leads over seven intervals: closed, open, closed, closed, open, open, closed
    leads = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    is_open = np.array([False, True, False, False, True, True, False])
    # When they are carried
    carried, after = carried_leads(leads, is_open)
    # Then the first open interval after closed ones takes theirs; the others take none
    assert carried.tolist() == [0.0, 1.0, 0.0, 0.0, 7.0, 0.0, 0.0]
    # And the closed interval that ends the plan is left to report, so no lead is lost
    assert after == 7.0
    assert carried.sum() + leads[is_open].sum() + after == leads.sum()


def test_a_plan_with_opening_hours_staffs_only_open_intervals_and_plans_the_night_in_the_morning() -> None:
    # Given 10 leads expected at 07:00 (closed) and at 08:00 (open) on a Monday, 08:00-18:00 weekdays,
    # planned at a busier 14 each
    times = ["2026-11-30T07:00:00-05:00", "2026-11-30T08:00:00-05:00"]
    walls = [_wall(datetime(2026, 11, 30, 7)), _wall(datetime(2026, 11, 30, 8))]
    opening = opening_hours("08:00-18:00", "mon-fri")
    day = ["2026-11-30"] * 2
    # When planned, and planned open all the time
    plan = staffing_plan(
        times, [10.0, 10.0], [14.0, 14.0], day, 3600, DEFAULTS, opening, minutes_of_week(walls)
    )
    always = staffing_plan(times, [10.0, 10.0], [14.0, 14.0], day, 3600, DEFAULTS)
    # Then 07:00 has no one (its leads wait: none answered in time) and 08:00 plans its own 14 and the
    # 10 expected at 07:00 (the night's expected leads are carried, not its busy-hour quantile)
    closed, opened = plan.plan
    assert (closed["open"], closed["agents"], closed["service_level"]) == (False, 0, 0.0)
    assert (opened["open"], opened["leads_carried_in"], opened["leads_planned"]) == (True, 10.0, 14.0)
    twenty_four = staffing_plan(times[1:], [24.0], [24.0], day[:1], 3600, DEFAULTS)
    assert opened["agents"] == twenty_four.plan[0]["agents"] > always.plan[1]["agents"]
    # And the day counts its leads as forecast, its agent hours as staffed
    assert plan.daily == [{"date": "2026-11-30", "leads": 20.0, "agent_hours": float(opened["agents"])}]
    assert plan.leads_after_closing == 0.0 and plan.assumptions["open_days"] == "mon,tue,wed,thu,fri"
    # And opening hours without each interval's local minute are a caller's mistake
    with pytest.raises(ValueError, match="local_minutes"):
        staffing_plan(times, [10.0, 10.0], [14.0, 14.0], day, 3600, DEFAULTS, opening)
