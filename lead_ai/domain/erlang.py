"""Erlang C: how many agents answer a Poisson stream of leads within a target time.

Traffic A (Erlangs) = arrivals per interval * handle_seconds / interval_seconds. With N agents (N > A) the
probability that a lead waits is Erlang C, and the service level (share answered within T seconds) is
SL = 1 - C(N, A) · e^(-(N - A)·T / handle).

C is computed through the Erlang B recursion, B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1)), and
C = N·B / (N - A·(1 - B)): every step is a ratio of numbers of the same size, so nothing overflows or
cancels for A in the tens of thousands, where A^N / N! would overflow a float long before.

numpy and math only: the prediction Lambda imports this module (no scipy, no pandas).

The scalar and the vectorised forms perform the same floating-point operations in the same order, so
they give bit-identical answers (tests/unit/test_erlang.py checks it); both use `np.exp`, not `math.exp`,
because the two may differ in the last bit.
"""

from __future__ import annotations

import math
from typing import NamedTuple, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# The vectorised search walks k upward this many steps at a time before checking the service level of
# the whole block at once: the per-step work is then three ufunc calls, whatever the number of intervals.
_BLOCK = 64
_EXACT_INTEGERS = 2.0**53  # floats hold every integer below it


class Staffing(NamedTuple):
    """Per interval: agents on the phones, the service level they achieve and their occupancy (A/N)."""

    agents: IntArray
    service_level: FloatArray
    occupancy: FloatArray


@overload
def offered_traffic(arrivals: float, handle_seconds: float, interval_seconds: float) -> float: ...
@overload
def offered_traffic(arrivals: FloatArray, handle_seconds: float, interval_seconds: float) -> FloatArray: ...
def offered_traffic(
    arrivals: float | FloatArray, handle_seconds: float, interval_seconds: float
) -> float | FloatArray:
    """Traffic in Erlangs: the average number of agents busy if every lead were answered at once."""
    _check_positive("handle_seconds", handle_seconds)
    _check_positive("interval_seconds", interval_seconds)
    return arrivals * handle_seconds / interval_seconds


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arriving lead waits, with `agents` agents and `traffic` Erlangs.

    1.0 when agents <= traffic: the queue then grows without bound and every lead waits.
    """
    _check_agents(agents)
    _check_traffic(traffic)
    if agents <= traffic:
        return 1.0
    b = 1.0
    for k in range(1, agents + 1):
        ab = traffic * b
        b = ab / (k + ab)
    return _erlang_c_from_b(agents, traffic, b)


def service_level(agents: int, traffic: float, handle_seconds: float, answer_within_seconds: float) -> float:
    """Share of leads answered within `answer_within_seconds` by `agents` agents.

    0.0 when agents <= traffic (an unstable queue answers nothing within any fixed time in the long run).
    """
    _check_agents(agents)
    _check_traffic(traffic)
    _check_positive("handle_seconds", handle_seconds)
    _check_answer_within(answer_within_seconds)
    if agents <= traffic:
        return 0.0
    b = 1.0
    for k in range(1, agents + 1):
        ab = traffic * b
        b = ab / (k + ab)
    return _service_level_from_b(agents, traffic, b, handle_seconds, answer_within_seconds)


def required_agents(
    traffic: float,
    handle_seconds: float,
    answer_within_seconds: float,
    target_service_level: float,
    max_occupancy: float,
) -> int:
    """The smallest N > traffic whose service level reaches the target and whose occupancy A/N is at
    most `max_occupancy`; 0 when there is no traffic."""
    _check_targets(handle_seconds, answer_within_seconds, target_service_level, max_occupancy)
    _check_traffic(traffic)
    if traffic == 0:
        return 0
    b = 1.0
    k = 0
    while True:
        k += 1
        ab = traffic * b
        b = ab / (k + ab)
        if k <= traffic:
            continue
        level = _service_level_from_b(k, traffic, b, handle_seconds, answer_within_seconds)
        if level >= target_service_level and traffic / k <= max_occupancy:
            return k
        if level == 1.0:
            # Only the occupancy cap is unmet, and the service level can rise no further: the answer is
            # where the cap is met. Jumping there avoids walking to A/max_occupancy (100·A at a cap of 1 %).
            return _occupancy_floor(traffic, max_occupancy)


def required_agents_many(
    traffic: npt.ArrayLike,
    handle_seconds: float,
    answer_within_seconds: float,
    target_service_level: float,
    max_occupancy: float,
) -> Staffing:
    """`required_agents` for many intervals at once, with the service level and occupancy achieved.

    Intervals with no traffic get 0 agents, service level 1.0 and occupancy 0.0. The answer is the one
    `required_agents` gives, interval by interval, bit for bit.

    One walk up k serves every interval: the B recursion is elementwise, so each step is three ufunc
    calls over the intervals still searching, and the service level is checked a block of k at a time,
    only for the intervals whose A lies below the block. Measured (best of 7, OMP_NUM_THREADS=1, one core
    of a shared 2-core development machine, numpy 2.4, Python 3.11): 672 intervals (a week of 15 minutes)
    with A spread uniformly over 0-10,000: 26 ms; all 672 at A = 10,000: 24 ms; A up to 500: 2.6 ms.
    `required_agents` called 672 times on the first set takes ~310 ms.
    """
    _check_targets(handle_seconds, answer_within_seconds, target_service_level, max_occupancy)
    values = np.asarray(traffic, dtype=np.float64)
    flat = values.ravel()
    _check_traffic_array(flat)

    agents = np.zeros(flat.size, dtype=np.int64)
    levels = np.ones(flat.size, dtype=np.float64)
    occupancy = np.zeros(flat.size, dtype=np.float64)

    live = np.flatnonzero(flat > 0)
    order = live[np.argsort(flat[live], kind="stable")]  # ascending A: the intervals to check are a prefix
    a = flat[order]
    b = np.ones(a.size, dtype=np.float64)
    k0 = 1  # the k of the first row of the block
    while a.size:
        history = np.empty((_BLOCK, a.size), dtype=np.float64)
        product = np.empty(a.size, dtype=np.float64)
        denominator = np.empty(a.size, dtype=np.float64)
        previous = b
        for j in range(_BLOCK):
            np.multiply(a, previous, out=product)
            np.add(product, k0 + j, out=denominator)
            previous = history[j]
            np.divide(product, denominator, out=previous)
        k_last = k0 + _BLOCK - 1
        checked = int(np.searchsorted(a, k_last, side="left"))  # a < k_last: some k of the block is > A
        keep = np.ones(a.size, dtype=bool)
        if checked:
            ks = np.arange(k0, k_last + 1, dtype=np.float64)[:, None]
            a_checked = a[:checked]
            b_checked = history[:, :checked]
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                # rows with k <= A give meaningless numbers here; `above` masks them out
                c = ks * b_checked / (ks - a_checked * (1.0 - b_checked))
                level = 1.0 - c * np.exp(-(ks - a_checked) * answer_within_seconds / handle_seconds)
            above = ks > a_checked
            met = above & (level >= target_service_level) & (a_checked / ks <= max_occupancy)
            stop = met | (above & (level == 1.0))
            found = np.flatnonzero(stop.any(axis=0))
            rows = stop.argmax(axis=0)[found]
            for column, row in zip(found.tolist(), rows.tolist(), strict=True):
                load = float(a_checked[column])
                if met[row, column]:
                    n = k0 + row
                    levels[order[column]] = level[row, column]
                else:  # the same jump as in required_agents
                    n = _occupancy_floor(load, max_occupancy)
                    levels[order[column]] = 1.0
                agents[order[column]] = n
                occupancy[order[column]] = load / n
            keep[found] = False
        a, order, b = a[keep], order[keep], history[-1][keep]
        k0 += _BLOCK

    shape = values.shape
    return Staffing(agents.reshape(shape), levels.reshape(shape), occupancy.reshape(shape))


def _erlang_c_from_b(agents: int, traffic: float, b: float) -> float:
    return agents * b / (agents - traffic * (1.0 - b))


def _service_level_from_b(
    agents: int, traffic: float, b: float, handle_seconds: float, answer_within_seconds: float
) -> float:
    c = _erlang_c_from_b(agents, traffic, b)
    return float(1.0 - c * np.exp(-(agents - traffic) * answer_within_seconds / handle_seconds))


def _occupancy_floor(traffic: float, max_occupancy: float) -> int:
    """The smallest integer N > traffic with traffic / N <= max_occupancy, as the float test sees it."""
    bound = traffic / max_occupancy
    if not bound < _EXACT_INTEGERS:  # beyond it, N and N - 1 are the same float: the search below never ends
        raise ValueError(f"max_occupancy {max_occupancy} is too small for traffic {traffic}")
    n = max(math.floor(traffic) + 1, math.ceil(bound))
    while traffic / n > max_occupancy:
        n += 1
    while n - 1 > traffic and traffic / (n - 1) <= max_occupancy:
        n -= 1
    return n


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _check_positive(name: str, value: float) -> None:
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _check_answer_within(value: float) -> None:
    if not (_is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"answer_within_seconds must be a finite number >= 0, got {value!r}")


def _check_targets(
    handle_seconds: float, answer_within_seconds: float, target_service_level: float, max_occupancy: float
) -> None:
    _check_positive("handle_seconds", handle_seconds)
    _check_answer_within(answer_within_seconds)
    if not (_is_number(target_service_level) and 0 < target_service_level < 1):
        raise ValueError(
            f"target_service_level must be a number between 0 and 1 (exclusive), got {target_service_level!r}"
        )
    if not (_is_number(max_occupancy) and 0 < max_occupancy <= 1):
        raise ValueError(f"max_occupancy must be a number in (0, 1], got {max_occupancy!r}")


def _check_traffic(traffic: float) -> None:
    if not (_is_number(traffic) and math.isfinite(traffic) and traffic >= 0):
        raise ValueError(f"traffic must be a finite number >= 0, got {traffic!r}")


def _check_traffic_array(traffic: FloatArray) -> None:
    bad = np.flatnonzero(~(np.isfinite(traffic) & (traffic >= 0)))
    if bad.size:
        raise ValueError(
            f"traffic must be finite numbers >= 0, got {traffic[bad[0]]!r} at position {int(bad[0])}"
        )


def _check_agents(agents: int) -> None:
    if not (isinstance(agents, int | np.integer) and not isinstance(agents, bool) and agents >= 0):
        raise ValueError(f"agents must be an integer >= 0, got {agents!r}")
