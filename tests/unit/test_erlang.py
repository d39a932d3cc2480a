"""Erlang C staffing (lead_ai.domain.erlang): published examples, the factorial definition, an independent
implementation (pyworkforce), stability at large traffic, the occupancy cap and argument checks."""

from __future__ import annotations

import itertools
import math
from decimal import Context, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyworkforce.queuing import ErlangC

from lead_ai.domain.erlang import (
    erlang_c,
    offered_traffic,
    required_agents,
    required_agents_many,
    service_level,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook definition, in exact rationals: [A^N/N! * N/(N-A)] / [sum_{k<N} A^k/k! + same]."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)


def decimal_erlang_c(agents: int, traffic: int, digits: int = 40) -> float:
    """The same definition in 40-digit decimals with an unbounded exponent, for traffic in the thousands
    (A^k/k! reaches 10^4343 at A = 10,000: far past a float, easy for Decimal)."""
    context = Context(prec=digits, Emax=10**6, Emin=-(10**6))
    a = Decimal(traffic)
    term, below = Decimal(1), Decimal(0)
    for k in range(1, agents + 1):
        below = context.add(below, term)  # sum of A^j/j! for j < k
        term = context.divide(context.multiply(term, a), Decimal(k))
    top = context.divide(context.multiply(term, Decimal(agents)), Decimal(agents - traffic))
    return float(context.divide(top, context.add(below, top)))


# --- Published worked examples ------------------------------------------------------------------------
# The classic example of the Call Centre Helper article "Erlang C Formula - Made Simple With an Easy
# Worked Example": 100 calls per 30 minutes, 180 s handle time, 80 % answered within 20 s, maximum
# occupancy 85 %, shrinkage 30 %. Its answers are published by
#   (1) pyworkforce's README (PyPI, pyworkforce 0.1.0 and 0.2.1), for
#       ErlangC(transactions=100, asa=20/60, aht=3, interval=30, shrinkage=0.3).required_positions(0.8, 0.85):
#       raw_positions 14, positions 20, service_level 0.8883500191794669, occupancy 0.7142857142857143,
#       waiting_probability 0.1741319335950498;
#   (2) the R package ErlangC 0.1.0 (CRAN), erlang_c(100, 30 min, 180 s, 20 s, 14) and calculate_agents(...):
#       traffic_intensity 10, wait_probability 0.1741319, service_level 0.88835, average speed of answer
#       7.83593701177724 s, occupancy 0.7142857, agents 14; its search table starts at 11 agents with
#       wait_probability 0.6821182.
# Each number is also derived here from the exact definition, so a citation cannot carry a typo in.
# (Note: 13 agents are not enough: they answer 79.6 % within 20 s.)


def test_call_centre_example_needs_fourteen_agents() -> None:
    # Given the classic example: 100 calls in 30 minutes, 180 s handle time
    traffic = offered_traffic(100.0, 180.0, 1800.0)
    assert traffic == 10.0
    # When staffed for 80 % within 20 s at most 85 % occupancy
    agents = required_agents(traffic, 180.0, 20.0, 0.8, 0.85)
    # Then 14 agents, as both sources publish, and 13 fall short of the target
    assert agents == 14
    assert service_level(13, traffic, 180.0, 20.0) < 0.8 <= service_level(14, traffic, 180.0, 20.0)
    many = required_agents_many(np.array([traffic]), 180.0, 20.0, 0.8, 0.85)
    assert many.agents.tolist() == [14]
    assert many.occupancy[0] == pytest.approx(0.7142857142857143, abs=1e-15)  # (1)


def test_call_centre_example_probabilities_match_the_published_values() -> None:
    # Given the example's 10 Erlangs and its exact probability of waiting
    exact_14 = float(exact_erlang_c(14, Fraction(10)))
    exact_11 = float(exact_erlang_c(11, Fraction(10)))
    # When computed through the Erlang B recursion
    wait_14, wait_11 = erlang_c(14, 10.0), erlang_c(11, 10.0)
    level_14 = service_level(14, 10.0, 180.0, 20.0)
    speed_of_answer = wait_14 * 180.0 / (14 - 10.0)
    # Then they agree with the definition and with both publications to the digits printed
    assert wait_14 == pytest.approx(exact_14, rel=1e-13)
    assert wait_11 == pytest.approx(exact_11, rel=1e-13)
    assert level_14 == pytest.approx(1 - exact_14 * math.exp(-4 * 20 / 180), rel=1e-13)
    assert wait_14 == pytest.approx(0.1741319335950498, rel=1e-13)  # (1)
    assert level_14 == pytest.approx(0.8883500191794669, rel=1e-13)  # (1)
    assert wait_14 == pytest.approx(0.1741319, abs=5e-8)  # (2)
    assert wait_11 == pytest.approx(0.6821182, abs=5e-8)  # (2)
    assert level_14 == pytest.approx(0.88835, abs=5e-6)  # (2)
    assert speed_of_answer == pytest.approx(7.83593701177724, rel=1e-12)  # (2)


@pytest.mark.parametrize(
    "traffic", [Fraction(1, 2), Fraction(1), Fraction(5, 2), Fraction(10), Fraction(77, 4)]
)
def test_erlang_c_matches_the_factorial_definition(traffic: Fraction) -> None:
    # Given small traffic, where the definition can be computed exactly
    for agents in range(math.floor(traffic) + 1, math.floor(traffic) + 25):
        # When the recursion computes it / Then it is the exact value to a few ulps
        assert erlang_c(agents, float(traffic)) == pytest.approx(
            float(exact_erlang_c(agents, traffic)), rel=1e-12
        )


def test_erlang_c_is_one_when_agents_cannot_keep_up() -> None:
    # Given no more agents than Erlangs / Then every lead waits and none is answered in time
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(3, 10.0) == 1.0
    assert service_level(10, 10.0, 180.0, 20.0) == 0.0


def test_no_traffic_needs_no_agents() -> None:
    # Given no leads / Then nobody waits, no agent is needed, and the vectorised form says the same
    assert erlang_c(1, 0.0) == 0.0
    assert service_level(1, 0.0, 180.0, 20.0) == 1.0
    assert required_agents(0.0, 180.0, 20.0, 0.8, 0.85) == 0
    many = required_agents_many(np.zeros(3), 180.0, 20.0, 0.8, 0.85)
    assert many.agents.tolist() == [0, 0, 0]
    assert many.service_level.tolist() == [1.0, 1.0, 1.0]
    assert many.occupancy.tolist() == [0.0, 0.0, 0.0]


# --- An independent implementation: pyworkforce ------------------------------------------------------
# pyworkforce.queuing.ErlangC works in minutes: intensity = transactions / interval * aht, so
# transactions=A, interval=1, aht=1 give A Erlangs, and asa = T / handle gives the same exponent.
# It starts its search at round(A + 1), so where A's fraction is >= .5 it never tries floor(A) + 1 agents
# and can answer one agent more than needed. Those cases are checked with pyworkforce's own service level.
TRAFFIC_GRID = [0.5, 0.9, 1.0, 1.5, 2.5, 3.7, 5.0, 8.5, 10.0, 12.25, 17.0, 25.5, 33.3, 50.0, 64.0, 80.8, 99.5]
TRAFFIC_GRID += [120.0, 150.0, 175.5, 200.0]


def _pyworkforce(traffic: float, handle: float, answer_within: float) -> ErlangC:
    return ErlangC(transactions=traffic, aht=1, asa=answer_within / handle, interval=1)


def test_agent_counts_match_pyworkforce() -> None:
    # Given a grid of traffic, answer times, handle times, targets and occupancy caps
    grid = itertools.product(
        TRAFFIC_GRID, [5.0, 20.0, 60.0], [120.0, 300.0], [0.5, 0.8, 0.95], [1.0, 0.85, 0.7]
    )
    overshoots = 0
    for traffic, answer_within, handle, target, cap in grid:
        # When both find the agents needed
        ours = required_agents(traffic, handle, answer_within, target, cap)
        reference = _pyworkforce(traffic, handle, answer_within)
        theirs = reference.required_positions(service_level=target, max_occupancy=cap)["raw_positions"]
        # Then they agree exactly, except where pyworkforce skipped floor(A) + 1 agents
        if ours != theirs:
            overshoots += 1
            assert ours == math.floor(traffic) + 1 < round(traffic + 1) == theirs
            assert reference.service_level(ours) >= target
            assert reference.achieved_occupancy(ours) <= cap
    assert overshoots < 30  # of 1134 cases: only the few described above


def test_probabilities_match_pyworkforce() -> None:
    for traffic, answer_within, handle in itertools.product(TRAFFIC_GRID, [0.0, 20.0, 60.0], [120.0, 300.0]):
        # Given a queue that pyworkforce also models (it refuses asa = 0, which changes only the exponent)
        reference = _pyworkforce(traffic, handle, max(answer_within, 1e-300))
        for agents in range(math.floor(traffic) + 1, math.floor(traffic) + 20):
            # When both compute the probability of waiting and the service level / Then they agree
            assert erlang_c(agents, traffic) == pytest.approx(reference.waiting_probability(agents), abs=1e-9)
            assert service_level(agents, traffic, handle, answer_within) == pytest.approx(
                reference.service_level(agents), abs=1e-9
            )


# --- Stability at large traffic --------------------------------------------------------------------


def test_ten_thousand_erlangs_give_a_finite_sensible_answer() -> None:
    # Given 10,000 Erlangs, where A^N/N! overflows a float many thousand times over
    for answer_within in (0.0, 20.0, 300.0):
        # When staffed for 80 % with no occupancy cap
        agents = required_agents(10_000.0, 300.0, answer_within, 0.8, 1.0)
        level = service_level(agents, 10_000.0, 300.0, answer_within)
        # Then a few more agents than Erlangs (economies of scale), the target met, nothing NaN
        assert 10_000 < agents < 10_200
        assert 0.8 <= level <= 1.0
        assert service_level(agents - 1, 10_000.0, 300.0, answer_within) < 0.8


@pytest.mark.parametrize(
    ("traffic", "agents"), [(1000, 1010), (1000, 1050), (10_000, 10_021), (10_000, 10_107)]
)
def test_erlang_c_at_large_traffic_matches_forty_digit_decimals(traffic: int, agents: int) -> None:
    # Given the definition evaluated in 40-digit decimals / When the recursion computes it in floats
    # Then they agree to about a dozen digits: no loss of precision over ten thousand steps
    assert erlang_c(agents, float(traffic)) == pytest.approx(decimal_erlang_c(agents, traffic), rel=1e-11)


def test_vectorised_and_scalar_agree_exactly() -> None:
    # Given traffic from nothing to 10,000 Erlangs, integers, halves and values near them
    rng = np.random.default_rng(20240101)
    traffic = np.concatenate(
        [
            [0.0, 1e-9, 0.5, 1.0, 2.0, 8.5, 10.0, 99.5, 100.0, 1000.0, 10_000.0],
            rng.uniform(0, 60, 60),
            rng.uniform(0, 400, 30),
            rng.uniform(400, 10_000, 5),
        ]
    )
    settings_grid = [
        (300.0, 300.0, 0.8, 0.85),
        (180.0, 20.0, 0.8, 1.0),
        (60.0, 0.0, 0.95, 0.7),
        (600.0, 30.0, 0.5, 0.9),
    ]
    for handle, answer_within, target, cap in settings_grid:
        # When both forms staff every interval
        many = required_agents_many(traffic, handle, answer_within, target, cap)
        for i, load in enumerate(traffic.tolist()):
            agents = required_agents(load, handle, answer_within, target, cap)
            # Then the agents, service level and occupancy are the same, bit for bit
            assert many.agents[i] == agents, (load, handle, answer_within, target, cap)
            if agents:
                assert many.service_level[i] == service_level(agents, load, handle, answer_within)
                assert many.occupancy[i] == load / agents


def test_vectorised_form_keeps_the_input_shape() -> None:
    # Given a week of 15-minute intervals as a 7 x 96 array / Then each answer has that shape
    traffic = np.linspace(0, 50, 672).reshape(7, 96)
    many = required_agents_many(traffic, 300.0, 60.0, 0.8, 0.85)
    assert many.agents.shape == many.service_level.shape == many.occupancy.shape == (7, 96)
    assert many.agents.dtype == np.int64
    assert many.agents[3, 5] == required_agents(float(traffic[3, 5]), 300.0, 60.0, 0.8, 0.85)


# --- The occupancy cap ---------------------------------------------------------------------------------


def test_occupancy_cap_binds_at_large_traffic() -> None:
    # Given 10,000 Erlangs answered within one handle time: 80 % is met by a few agents above 10,000,
    # who would be busy 99.98 % of the time
    uncapped = required_agents(10_000.0, 300.0, 300.0, 0.8, 1.0)
    assert 10_000 / uncapped > 0.99
    # When occupancy is capped at 85 %
    capped = required_agents(10_000.0, 300.0, 300.0, 0.8, 0.85)
    many = required_agents_many(np.array([10_000.0]), 300.0, 300.0, 0.8, 0.85)
    # Then the cap decides: the fewest agents busy at most 85 % of the time, ceil(10,000 / 0.85)
    assert capped == math.ceil(Fraction(10_000) / Fraction(85, 100)) == 11_765
    assert 10_000 / capped <= 0.85 < 10_000 / (capped - 1)
    assert many.agents.tolist() == [capped]
    assert many.service_level[0] == service_level(capped, 10_000.0, 300.0, 300.0) == 1.0


def test_occupancy_cap_binds_below_full_service() -> None:
    # Given the classic example with a 50 % target, met by 12 agents busy 83 % of the time
    assert required_agents(10.0, 180.0, 20.0, 0.5, 1.0) == 12
    # When occupancy is capped at 75 % / Then 14 agents (10/13 = 0.77 is still above the cap)
    assert required_agents(10.0, 180.0, 20.0, 0.5, 0.75) == 14
    many = required_agents_many(np.array([10.0]), 180.0, 20.0, 0.5, 0.75)
    assert many.service_level[0] == service_level(14, 10.0, 180.0, 20.0) < 1.0


def test_occupancy_exactly_at_the_cap_is_allowed() -> None:
    # Given 8.5 Erlangs and a cap of 85 %: 10 agents are busy exactly 85 % of the time
    assert required_agents(8.5, 180.0, 300.0, 0.5, 0.85) == 10
    assert required_agents_many(np.array([8.5]), 180.0, 300.0, 0.5, 0.85).agents.tolist() == [10]


@settings(max_examples=300, deadline=None)
@given(
    traffic=st.floats(min_value=0.001, max_value=1500.0),
    handle=st.floats(min_value=1.0, max_value=3600.0),
    answer_within=st.floats(min_value=0.0, max_value=3600.0),
    target=st.floats(min_value=0.01, max_value=0.99),
    cap=st.floats(min_value=0.05, max_value=1.0),
)
def test_required_agents_is_the_fewest_that_meet_both_targets(
    traffic: float, handle: float, answer_within: float, target: float, cap: float
) -> None:
    # Given any traffic and targets / When the agents are found
    agents = required_agents(traffic, handle, answer_within, target, cap)
    # Then they meet the service level and the cap
    assert agents > traffic
    assert service_level(agents, traffic, handle, answer_within) >= target
    assert traffic / agents <= cap
    # and one agent fewer would not (too few to keep up, below the target, or above the cap)
    fewer = agents - 1
    assert (
        fewer <= traffic
        or service_level(fewer, traffic, handle, answer_within) < target
        or traffic / fewer > cap
    )


# --- Argument checks -----------------------------------------------------------------------------------
GOOD = {
    "handle_seconds": 180.0,
    "answer_within_seconds": 20.0,
    "target_service_level": 0.8,
    "max_occupancy": 0.85,
}
BAD = [
    ("handle_seconds", 0.0),
    ("handle_seconds", -1.0),
    ("handle_seconds", math.inf),
    ("handle_seconds", math.nan),
    ("answer_within_seconds", -0.5),
    ("answer_within_seconds", math.nan),
    ("target_service_level", 0.0),
    ("target_service_level", 1.0),
    ("target_service_level", math.nan),
    ("max_occupancy", 0.0),
    ("max_occupancy", 1.01),
    ("max_occupancy", math.nan),
    ("max_occupancy", True),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_required_agents_rejects_arguments_out_of_range(name: str, value: float) -> None:
    # Given one argument out of its range / When staffing / Then ValueError names it, in both forms
    arguments = {**GOOD, name: value}
    with pytest.raises(ValueError, match=f"^{name} must be"):
        required_agents(10.0, **arguments)
    with pytest.raises(ValueError, match=f"^{name} must be"):
        required_agents_many(np.array([10.0]), **arguments)


@pytest.mark.parametrize("cap", [1e-300, 1e-19])
def test_a_cap_too_small_for_floats_to_count_agents_is_refused_not_searched(cap: float) -> None:
    # Given an occupancy cap so small that traffic / cap is beyond the integers floats hold exactly
    # When staffing / Then ValueError at once (the search for the cap's agent count would never end, or
    # overflow the agents' int64)
    arguments = {**GOOD, "max_occupancy": cap}
    with pytest.raises(ValueError, match=r"max_occupancy .* is too small for traffic"):
        required_agents(2.08, **arguments)
    with pytest.raises(ValueError, match=r"max_occupancy .* is too small for traffic"):
        required_agents_many(np.array([2.08, 0.0]), **arguments)


@pytest.mark.parametrize("traffic", [-1.0, math.nan, math.inf, -math.inf])
def test_traffic_must_be_finite_and_not_negative(traffic: float) -> None:
    # Given traffic that is negative or not finite / Then every function names `traffic`
    with pytest.raises(ValueError, match=r"^traffic must be"):
        required_agents(traffic, **GOOD)
    with pytest.raises(ValueError, match=r"^traffic must be"):
        required_agents_many(np.array([1.0, traffic]), **GOOD)
    with pytest.raises(ValueError, match=r"^traffic must be"):
        erlang_c(5, traffic)
    with pytest.raises(ValueError, match=r"^traffic must be"):
        service_level(5, traffic, 180.0, 20.0)


@pytest.mark.parametrize("agents", [-1, 2.0, True])
def test_agents_must_be_a_whole_number(agents: int) -> None:
    # Given agents that are negative or not an integer / Then ValueError names `agents`
    with pytest.raises(ValueError, match=r"^agents must be"):
        erlang_c(agents, 1.0)
    with pytest.raises(ValueError, match=r"^agents must be"):
        service_level(agents, 1.0, 180.0, 20.0)


def test_service_level_checks_its_times() -> None:
    # Given a handle time of 0 or a negative answer time / Then ValueError names the argument
    with pytest.raises(ValueError, match=r"^handle_seconds must be"):
        service_level(5, 1.0, 0.0, 20.0)
    with pytest.raises(ValueError, match=r"^answer_within_seconds must be"):
        service_level(5, 1.0, 180.0, -1.0)


def test_offered_traffic_checks_its_times() -> None:
    # Given an interval of 0 seconds / Then ValueError names it
    with pytest.raises(ValueError, match=r"^interval_seconds must be"):
        offered_traffic(10.0, 180.0, 0.0)
