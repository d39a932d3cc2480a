"""Pooled models (domain.pools): which pools the daily plan trains, training one, and which one serves a series.

- The planner queues one training per pool that has a young series to serve (a due series with at least
  POOL_MIN_DAYS of history and fewer observations than a model of its own needs), or a grown series whose
  own model lost to it and that has new data (the DueIndex's POOL_SERVED partition): message
  `{series_id: <pool id>, revision: <day number>}`, so a pool is trained at most once a day.
- The worker trains it (train_pool): the group's series from the SeriesIndex, their CURRENT pointers
  (BatchGetItem), the split into members and held-out series (domain.pools.split_pool), their newest
  POOL_HISTORY_DAYS, forecasting.training.pool, then the same register → verify → promote path as any
  series' model, under the pool's id.
- A new group's first run queues its established series and its pool together, and the pool's message can
  come first: when the group has too few models yet but enough series training their first, the pool
  waits (PoolAwaitingMembers: the worker sends its message again, LEAD_AI_POOL_RECHECK_SECONDS later,
  and records nothing), so its young series are served the same day, not the next.
- Serving (serving_pool) falls back to the pool of the series' group when a series has no CURRENT of its
  own and at least POOL_MIN_DAYS of history.

Training libraries are imported inside train_pool only: the prediction function imports this module.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lead_ai.domain.fleet import DueSeries, TrainingRequest
from lead_ai.domain.intervals import DAY_SECONDS, interval_name, min_points_for_interval
from lead_ai.domain.models import CurrentModel
from lead_ai.domain.pools import (
    POOL_HISTORY_DAYS,
    POOL_MIN_DAYS,
    POOL_MIN_MEMBERS,
    PoolKey,
    PoolSplit,
    old_enough_for_pool,
    parse_pool_id,
    pool_min_points,
    split_pool,
)
from lead_ai.domain.series import SeriesInfo, SeriesSettings, SeriesSummary
from lead_ai.errors import InsufficientHistoryError, LeadAIError, ModelNotFoundError, SeriesNotFoundError
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.promotion import Comparison, promote_if_better
from lead_ai.service.serving import ModelList, versions_page

if TYPE_CHECKING:
    from lead_ai.forecasting.training.backtest import Champion
    from lead_ai.forecasting.training.settings import SeriesData, TrainingSettings

# What a queued training (a series' or a pool's) came to: the worker's metric and idempotency record
TRAINED = "trained"
SKIPPED = "skipped"
WAITING = "waiting"  # a pool sent again for later, nothing recorded (PoolAwaitingMembers)


class PoolAwaitingMembers(Exception):
    """A pool with too few members today, whose group has enough series training their first models:
    raised (not returned) so the worker's idempotency record of (pool, day) is not written, and the
    message sent again later trains the pool."""

    def __init__(self, pool_id: str, day: int, reason: str) -> None:
        super().__init__(reason)
        self.pool_id = pool_id
        self.day = day
        self.reason = reason


def pool_key_of(deps: Dependencies, info: SeriesInfo | SeriesSummary) -> PoolKey:
    """The pool a series belongs to: its interval, time zone and holiday calendar (defaults filled in)."""
    chosen = SeriesSettings.of(info, deps.settings.series_defaults)
    return PoolKey(chosen.interval_seconds, chosen.timezone, chosen.holidays)


def plan_day(now: float | None = None) -> int:
    """The day number (UTC) a plan's pool messages carry: the pool's idempotency key is (pool, day)."""
    return int((time.time() if now is None else now) // DAY_SECONDS)


def pools_to_train(
    deps: Dependencies, too_short: list[DueSeries], pool_served: list[DueSeries], day: int
) -> list[TrainingRequest]:
    """One training per pool that serves a due series: a young one, or a grown one whose own model lost to
    it (`pool_served`). One BatchGetItem of their SERIES items (their zone and calendar; the DueIndex
    holds their interval and count only)."""
    young = [s.series_id for s in too_short if old_enough_for_pool(s.observed_points, s.interval_seconds)]
    served = young + [s.series_id for s in pool_served]
    if not served:
        return []
    infos = deps.catalogue.series_of(served)
    return [
        TrainingRequest(pool_id, day)
        for pool_id in sorted({pool_key_of(deps, i).pool_id for i in infos.values()})
    ]


def serving_pool(deps: Dependencies, series_id: str) -> tuple[str, CurrentModel]:
    """The pool that serves a series without a model of its own, and its CURRENT pointer; a 404 naming
    why there is none (too little history, or no pool for the series' group yet)."""
    info = deps.catalogue.get_series(series_id)
    if info is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    return pool_serving(deps, info)


def series_start(deps: Dependencies, series_id: str) -> int | None:
    """The time of the series' first stored observation; None when it has none or no longer exists."""
    info = deps.catalogue.get_series(series_id)
    return info.span.first_timestamp if info is not None and info.span is not None else None


def pool_serving(deps: Dependencies, info: SeriesInfo) -> tuple[str, CurrentModel]:
    """serving_pool for a series whose registry item was read already."""
    series_id = info.series_id
    key = pool_key_of(deps, info)
    needed = pool_min_points(key.interval_seconds)
    observed = info.span.observed_points if info.span is not None else 0
    own = min_points_for_interval(deps.settings.min_training_points, key.interval_seconds)
    if not old_enough_for_pool(observed, key.interval_seconds):
        raise ModelNotFoundError(
            f"series '{series_id}' has {observed} observations: forecasts start at {POOL_MIN_DAYS} days of "
            f"history ({needed} at {interval_name(key.interval_seconds)}, from the pooled model of its group); "
            f"a model of its own needs {own}",
            field="series_id",
        )
    pointer = deps.tracker.current(key.pool_id)
    if pointer is None:
        raise ModelNotFoundError(
            f"series '{series_id}' has no model of its own yet ({observed} of {own} observations) and no "
            f"pooled model serves its group ({key.describe()}) yet: the daily run trains one when the group "
            f"has {POOL_MIN_MEMBERS + 1} series with models of their own",
            field="series_id",
        )
    return key.pool_id, pointer


def list_pool_models(
    deps: Dependencies, pool_id: str, limit: int = 50, after: str | None = None
) -> ModelList:
    """A page of a pool's versions, newest first (GET /pools/{pool_id}/models); a 404 when none was ever
    trained for that group, whether a page token is given or not."""
    page = versions_page(deps, pool_id, limit, after)
    # An empty page after a token: the end of the list, or a pool that never had a version.
    if not page.versions and (after is None or not deps.tracker.list_versions_page(pool_id, 1)[0]):
        raise ModelNotFoundError(
            f"no pooled model has been trained for {parse_pool_id(pool_id).describe()}: the daily run trains "
            f"one when the group has a series with {POOL_MIN_DAYS} days of history and no model of its own, "
            f"and {POOL_MIN_MEMBERS + 1} series with models of their own",
            field="pool_id",
        )
    return page


def train_pool(deps: Dependencies, pool_id: str, day: int) -> dict[str, Any]:
    """Train the pool once for `day`; the outcome as JSON data (the worker's idempotency record keeps it)."""
    from lead_ai.forecasting.training.pool import train_pool_forecaster
    from lead_ai.forecasting.training.settings import TrainingSettings
    from lead_ai.service.training import register, training_record

    outcome: dict[str, Any] = {"series_id": pool_id, "revision": day}
    key = parse_pool_id(pool_id)
    own = min_points_for_interval(deps.settings.min_training_points, key.interval_seconds)
    eligible, first_models = _group_series(deps, key, own)
    settings = TrainingSettings(
        max_horizon=deps.settings.max_horizon_steps(key.interval_seconds),
        min_points=own,
        holidays=key.holidays,
        timezone=key.timezone,
    )
    split, held_out = _split_with_held_out(deps, pool_id, eligible, settings)
    if not split.members:
        reason = (
            f"{len(eligible)} series of the group ({key.describe()}) have a model of their own; "
            f"a pool needs {POOL_MIN_MEMBERS + 1}"
        )
        if len(eligible) + len(first_models) > POOL_MIN_MEMBERS and day >= plan_day():
            raise PoolAwaitingMembers(
                pool_id, day, f"{reason}, and {len(first_models)} more are due for their first"
            )
        logger.info("pool skipped", extra={"pool_id": pool_id, "reason": reason})
        return outcome | {"status": SKIPPED, "reason": reason}
    members = _histories(deps, split.members, key.interval_seconds)
    champion, comparison = _pool_champion(deps, pool_id)
    started = time.perf_counter()
    result = train_pool_forecaster(
        members,
        held_out,
        settings,
        new_min_points=pool_min_points(key.interval_seconds),
        history_days=POOL_HISTORY_DAYS,
        champion=champion,
    )
    logger.info(
        "pool trained",
        extra={
            "pool_id": pool_id,
            "seconds": round(time.perf_counter() - started, 3),
            "members": split.members,
            "held_out": split.held_out,
            "metrics": result.metrics,
        },
    )
    registered = register(deps, pool_id, result.onnx_bytes, training_record(result, day))
    version = promote_if_better(deps, pool_id, registered, comparison)
    _prune(deps, pool_id)
    return outcome | {
        "status": TRAINED,
        "version": version.version,
        "version_status": version.status,
        "current": version.promoted_at is not None,
        "members": len(members),
        "held_out": split.held_out,
    }


def _group_series(deps: Dependencies, key: PoolKey, own_points: int) -> tuple[list[str], list[str]]:
    """The group's series with at least the minimum history: those with a model of their own (the pool's
    candidates), and those without one yet that are due for training (their first is queued or running)."""
    grown = [
        info
        for info in deps.catalogue.series_with_interval(key.interval_seconds)
        if pool_key_of(deps, info) == key
        and info.span is not None
        and info.span.observed_points >= own_points
    ]
    current = deps.tracker.current_versions([info.series_id for info in grown])
    eligible = [info.series_id for info in grown if info.series_id in current]
    first_models = [info.series_id for info in grown if info.series_id not in current and info.training_due]
    return eligible, first_models


def _split_with_held_out(
    deps: Dependencies, pool_id: str, eligible: list[str], settings: TrainingSettings
) -> tuple[PoolSplit, list[SeriesData]]:
    """The pool's split and its held-out series' histories. A series held out that cannot calibrate (it
    resumed after a gap longer than 28 days: no young window since) is made a member, and the next by
    the split's order is held out in its place; else one such series stopped its group's pool."""
    from lead_ai.forecasting.training.pool import can_calibrate

    interval = parse_pool_id(pool_id).interval_seconds
    new_min = pool_min_points(interval)
    cannot: set[str] = set()
    while True:
        split = split_pool(pool_id, eligible, cannot)
        held_out = _histories(deps, split.held_out, interval)
        usable = [s for s in held_out if can_calibrate(s, settings, new_min)]
        if len(usable) == len(split.held_out):
            break
        cannot |= set(split.held_out) - {s.series_id for s in usable}
    if cannot and not split.held_out:
        raise InsufficientHistoryError(
            f"no series of the pool has {new_min + settings.max_horizon} slots since its last gap of more than "
            f"{settings.max_gap_days:g} days to calibrate the pool on"
        )
    return split, held_out


def _histories(deps: Dependencies, series_ids: list[str], interval_seconds: int) -> list[SeriesData]:
    from lead_ai.forecasting.training.settings import SeriesData

    slots = POOL_HISTORY_DAYS * DAY_SECONDS // interval_seconds
    out = []
    for sid in series_ids:
        window = deps.history.latest(sid, slots, interval_seconds)
        if window is not None:
            out.append(SeriesData(sid, window.values, window.first_timestamp, interval_seconds))
    return out


def _pool_champion(deps: Dependencies, pool_id: str) -> tuple[Champion | None, Comparison | None]:
    from lead_ai.service.training import champion_of

    return champion_of(deps, pool_id, deps.tracker.current(pool_id))


def _prune(deps: Dependencies, pool_id: str) -> None:
    from lead_ai.service.pruning import prune_expired_versions

    try:
        prune_expired_versions(deps, pool_id)
    except LeadAIError:
        logger.warning("pruning the pool's expired versions failed; its next training retries")
