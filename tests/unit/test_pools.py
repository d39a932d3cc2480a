"""Pool ids and membership (lead_ai.domain.pools), and the training message that names a pool."""

from __future__ import annotations

import numpy as np
import pytest

from lead_ai.domain.fleet import TrainingRequest, parse_training_request
from lead_ai.domain.pools import (
    POOL_MAX_HELD_OUT,
    POOL_MAX_MEMBERS,
    PoolKey,
    is_pool_id,
    parse_pool_id,
    pool_min_points,
    split_pool,
    thin_window_start,
)
from lead_ai.domain.series import SERIES_ID_PATTERN
from lead_ai.storage.artifacts import model_key, series_of_key


@pytest.mark.parametrize(
    ("key", "pool_id"),
    [
        (PoolKey(3600, "UTC", "none"), "pool:1h:UTC:none"),
        (PoolKey(900, "America/New_York", "US"), "pool:15min:America.New_York:US"),
        (PoolKey(86400, "Etc/GMT+5", "DE-BY"), "pool:1d:Etc.GMT+5:DE-BY"),
        (
            PoolKey(1800, "America/Argentina/Buenos_Aires", "AR"),
            "pool:30min:America.Argentina.Buenos_Aires:AR",
        ),
    ],
)
def test_a_pool_id_round_trips_and_can_never_be_a_series_id(key: PoolKey, pool_id: str) -> None:
    assert key.pool_id == pool_id
    assert parse_pool_id(pool_id) == key
    assert is_pool_id(pool_id)
    assert SERIES_ID_PATTERN.fullmatch(pool_id) is None  # ':' is not in a series id's alphabet
    # and its model objects stay one key segment: the orphan sweep finds the pool's registry key
    assert series_of_key(model_key(pool_id, "1.0.0")) == pool_id


@pytest.mark.parametrize(
    "text", ["acme-inbound", "pool", "pool:1h:UTC", "pool:1h:UTC:none:x", "pool:1h:Europe/Berlin:none"]
)
def test_anything_else_is_not_a_pool_id(text: str) -> None:
    assert not is_pool_id(text)
    with pytest.raises(ValueError):
        parse_pool_id(text)


def test_an_interval_that_is_no_series_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_pool_id("pool:2h:UTC:none")


def test_the_pool_serves_from_14_days_at_every_interval() -> None:
    assert [pool_min_points(s) for s in (900, 1800, 3600, 86400)] == [1344, 672, 336, 14]


@pytest.mark.parametrize("interval", [900, 1800, 3600, 86400])
def test_a_window_holding_under_14_days_of_observations_is_thin_at_every_interval(interval: int) -> None:
    # Given four-week serving windows at each interval
    slots, days = 28 * 86400 // interval, 86400 // interval
    full = np.ones(slots)
    resumed = np.where(np.arange(slots) >= slots - 13 * days, 1.0, np.nan)  # 13 days after a gap
    gappy = np.where(np.arange(slots) % 2 == 0, 1.0, np.nan)  # every other slot reported
    two_weeks = np.where(np.arange(slots) >= slots - 14 * days, 1.0, np.nan)
    # Then only the one whose observations span under 14 days is thin, named by its first observed slot
    assert thin_window_start(resumed, 0, interval) == (slots - 13 * days) * interval
    for fine in (full, gappy, two_weeks):
        assert thin_window_start(fine, 0, interval) is None


def test_held_out_series_are_never_members_and_the_split_is_the_same_every_day() -> None:
    # Given 20 series with models of their own
    series = [f"team-{i:02d}" for i in range(20)]
    split = split_pool("pool:1h:UTC:none", series)
    # Then a quarter are held out, the rest are members, and no series is both
    assert len(split.held_out) == 5 and len(split.members) == 15
    assert not set(split.members) & set(split.held_out)
    # and the same series give the same split, in whatever order they are listed
    assert split_pool("pool:1h:UTC:none", list(reversed(series))) == split
    # while another pool draws its own held-out series
    assert split_pool("pool:1h:Europe.Berlin:DE", series).held_out != split.held_out


def test_a_series_that_cannot_calibrate_is_a_member_and_the_next_is_held_out_in_its_place() -> None:
    # Given a group whose split holds out one series
    series = ["a", "b", "c", "d", "e"]
    split = split_pool("pool:1h:UTC:none", series)
    (held,) = split.held_out
    # When that one has no young window since its last long gap
    moved = split_pool("pool:1h:UTC:none", series, cannot_calibrate={held})
    # Then it is a member, another is held out, and the group still makes a pool
    assert held in moved.members and moved.held_out and held not in moved.held_out
    assert set(moved.members) | set(moved.held_out) == set(series)
    # and with none that can calibrate there is no pool
    assert split_pool("pool:1h:UTC:none", series, cannot_calibrate=series) == ([], [])


def test_the_caps_and_the_minimum() -> None:
    assert split_pool("p", ["a", "b", "c"]) == ([], [])  # 1 held out leaves 2 members: no pool
    four = split_pool("p", ["a", "b", "c", "d"])
    assert len(four.held_out) == 1 and len(four.members) == 3
    many = split_pool("p", [f"s{i}" for i in range(500)])
    assert len(many.held_out) == POOL_MAX_HELD_OUT and len(many.members) == POOL_MAX_MEMBERS


def test_a_training_message_may_name_a_pool() -> None:
    request = TrainingRequest("pool:1h:Europe.Berlin:DE-BY", 20423)
    assert parse_training_request(request.to_json()) == request
