"""Pooled models: one model per group of series that share an interval, a time zone and a holiday calendar,
serving the series of that group that are too young for a model of their own.

A pool is keyed by what its FeatureSpec fixes (FeatureSpec carries one interval, one zone and one calendar):
`pool:<interval>:<zone>:<calendar>`, e.g. `pool:1h:America.New_York:US` (the zone's `/` written as `.`,
so the id is one S3 key segment). Its registry records (VERSION#…, CURRENT) live under that id like any
series' records. A series id is `[A-Za-z0-9_-]{1,64}`, so no series id can ever contain `:` and collide
with a pool's.

Who is in a pool (decided each time it trains, from the group's series):
- eligible: series of the group with a model of their own (a CURRENT pointer) and at least the minimum
  history; a series still served by the pool is never in it, so the comparison that lets its own model
  take over is made on windows the pool has never seen;
- held out: a fixed share of the eligible series, the first by a hash of (pool id, series id), so the
  same series give the same split every day (a series changes role only when the group changes, or when
  it has no young window since its last long gap: it is then a member, and the next series is held out); the
  pool's blend and intervals are chosen and calibrated on them only, on windows cut to the history a new
  team has (14 days up to the minimum);
- members: the other eligible series (capped), whose history the pool is fitted on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS, interval_name, parse_series_interval

POOL_PREFIX = "pool"
# The pool serves a series from this much history (the weekly same-slot features need two weeks)
POOL_MIN_DAYS = 14
# Caps that keep a pool's training inside the worker's timeout (docs/pooled-model-and-cost.md, "Sizing")
POOL_MAX_MEMBERS = 40
POOL_MAX_HELD_OUT = 12
POOL_HELD_OUT_SHARE = 0.25
POOL_MIN_MEMBERS = 3  # fewer members than this (and one held out) make no pool
POOL_HISTORY_DAYS = 56  # the newest days of each member's and held-out series' history that are read

_POOL_ID = re.compile(r"pool:([0-9a-z]+):([A-Za-z0-9_.+-]{1,64}):([A-Za-z0-9-]{1,16})")


class PoolKey(NamedTuple):
    """What one pool's model fixes: the grid, the local clock and the holidays of its series."""

    interval_seconds: int
    timezone: str
    holidays: str

    @property
    def pool_id(self) -> str:
        """The pool's registry key: `pool:1h:Europe.Berlin:DE-BY` (never a valid series id)."""
        zone = self.timezone.replace("/", ".")
        return f"{POOL_PREFIX}:{interval_name(self.interval_seconds)}:{zone}:{self.holidays}"

    def describe(self) -> str:
        return f"{interval_name(self.interval_seconds)}, {self.timezone}, holidays {self.holidays}"


def is_pool_id(text: str) -> bool:
    return _POOL_ID.fullmatch(text) is not None


def parse_pool_id(text: str) -> PoolKey:
    """The key of a pool id; ValueError when `text` is not one."""
    match = _POOL_ID.fullmatch(text)
    if match is None:
        raise ValueError(f"not a pool id: {text!r:.80}")
    interval = parse_series_interval(match.group(1))
    return PoolKey(interval, match.group(2).replace(".", "/"), match.group(3))


def pool_min_points(interval_seconds: int) -> int:
    """Observations a series needs before the pool serves it: POOL_MIN_DAYS of its interval."""
    return POOL_MIN_DAYS * DAY_SECONDS // interval_seconds


def old_enough_for_pool(observed_points: int, interval_seconds: int) -> bool:
    """Whether a series without a model of its own has the history its group's pool serves from."""
    return observed_points >= pool_min_points(interval_seconds)


def thin_window_start(values: np.ndarray, first_timestamp: int, interval_seconds: int) -> int | None:
    """When a serving window's observations span fewer than POOL_MIN_DAYS (its first observed slot is
    less than 14 days before its last), that slot's time; None when they span enough."""
    observed = np.flatnonzero(~np.isnan(values))
    first = int(observed[0]) if observed.size else len(values)
    if len(values) - first >= min(pool_min_points(interval_seconds), len(values)):
        return None
    return first_timestamp + first * interval_seconds


class PoolSplit(NamedTuple):
    members: list[str]
    held_out: list[str]


def split_pool(pool_id: str, eligible: Sequence[str], cannot_calibrate: Collection[str] = ()) -> PoolSplit:
    """Held-out and member series of a pool, by a stable hash: the same series give the same split.

    Every 4th series (POOL_HELD_OUT_SHARE, at least one, at most POOL_MAX_HELD_OUT) is held out, the first
    by the hash that are not in `cannot_calibrate` (too little history since a long gap to cut a young
    window from: they stay members); the rest, up to POOL_MAX_MEMBERS, are members. Both lists are empty
    when there are too few series, or none to hold out."""
    ranked = sorted(set(eligible), key=lambda sid: hashlib.sha256(f"{pool_id}|{sid}".encode()).hexdigest())
    held = min(POOL_MAX_HELD_OUT, max(1, round(len(ranked) * POOL_HELD_OUT_SHARE)))
    held_out = [sid for sid in ranked if sid not in cannot_calibrate][:held]
    members = [sid for sid in ranked if sid not in held_out][:POOL_MAX_MEMBERS]
    if len(members) < POOL_MIN_MEMBERS or not held_out:
        return PoolSplit([], [])
    return PoolSplit(sorted(members), sorted(held_out))
