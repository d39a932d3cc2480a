"""The training worker's use case: train the series of one queue message, once per history revision.

Three guards keep a history from being trained twice: the worker's Powertools idempotency record keyed on
(series_id, revision, created_at) (a re-delivered message, or the same message from two plans; see
`incarnation`); the check below that the catalogue has not recorded this revision as trained already (a
message that outlived its idempotency record); and the revision a training records, which takes the
series off the DueIndex.

What is not worth retrying is an outcome, not an error: a series too short to train or that no longer
exists is "skipped" and its message deleted. Anything else raises: SQS re-delivers the message after its
visibility timeout, and after maxReceiveCount receives moves it to the dead-letter queue. A pool waiting
for its group's first models (service.pooling.PoolAwaitingMembers) is neither: its message is sent again
for later (recheck_pool_later), with nothing recorded, until the pool trains or its day is over.

A message the invocation has too little time left to train (LEAD_AI_TRAINING_MIN_SECONDS_LEFT) is not
started: it is sent again as it came, to be received at once by another invocation, and this one is done
(`deferred`, `defer_for_lack_of_time`). A training cut off by the function's timeout would fail the whole
invocation: every message of the batch re-delivered after the visibility timeout, each counting a
receive towards the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lead_ai import time_budget
from lead_ai.domain.fleet import TrainingRequest
from lead_ai.domain.pools import is_pool_id
from lead_ai.domain.series import SeriesInfo
from lead_ai.errors import (
    InsufficientHistoryError,
    LeadAIError,
    SeriesDeletingError,
    ServiceUnavailableError,
)
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.pooling import SKIPPED, TRAINED, WAITING, PoolAwaitingMembers, train_pool
from lead_ai.service.training import train_series

DEFERRED = "deferred"  # sent again for another invocation: too little time left in this one

__all__ = [
    "DEFERRED",
    "SKIPPED",
    "TRAINED",
    "WAITING",
    "PoolAwaitingMembers",
    "defer_for_lack_of_time",
    "idempotency_key",
    "incarnation",
    "note_failure",
    "out_of_time",
    "read_series",
    "recheck_pool_later",
    "train_requested",
]


def out_of_time(deps: Dependencies) -> bool:
    """Whether the invocation has too little time left to start a training (LEAD_AI_TRAINING_MIN_SECONDS_LEFT)."""
    return time_budget.function_seconds_left() < deps.settings.training_min_seconds_left


def defer_for_lack_of_time(
    deps: Dependencies, message_id: str, body: str, event_attributes: Mapping[str, Any]
) -> dict[str, Any]:
    """Send a message the invocation has no time to train again, as it came and with no delay; the outcome
    as JSON data. The worker then reports it done, so this copy is deleted. Raises when SQS takes no
    message: the worker then reports it failed, and this copy comes back after the visibility timeout."""
    report = deps.training_queue.send_again(message_id, body, event_attributes)
    if report.failed:
        raise ServiceUnavailableError(f"the message could not be sent again ({report.failed[0][1]})")
    seconds_left = round(time_budget.function_seconds_left(), 1)
    logger.info(
        "training deferred: too little time left in this invocation",
        extra={
            "message_id": message_id,
            "seconds_left": seconds_left,
            "min_seconds_left": deps.settings.training_min_seconds_left,
        },
    )
    return {"status": DEFERRED, "seconds_left": seconds_left}


def read_series(deps: Dependencies, request: TrainingRequest) -> SeriesInfo | None:
    """The message's series as the catalogue holds it: read once per message (one GetItem), for the
    idempotency key (`incarnation`) and the training alike; None for a pool, or a series that no longer
    exists."""
    return None if is_pool_id(request.series_id) else deps.catalogue.get_series(request.series_id)


def incarnation(series: SeriesInfo | None) -> str:
    """Which life of the series the message is for, as the worker's idempotency key holds it: when its
    SERIES item was created ("" for a pool, a series that no longer exists, or an item written before
    it was recorded). A series deleted and created again restarts its revisions at 1; without this its
    revision 1 found the deleted series' stored outcome for two days and was never trained."""
    return (series.created_at or "") if series is not None else ""


def idempotency_key(request: TrainingRequest, series: SeriesInfo | None) -> dict[str, Any]:
    """What the worker's idempotency record is keyed on ([series_id, revision, created_at]): the history
    revision the training reads, which is the series' (`series`, read once) when it is newer than the
    message's, and the series' `incarnation`. Two plans, one before and one after an ingest, queue two
    revisions of the series that both train its newest history: keyed on the message's revision, two
    workers holding them at once both trained it."""
    revision = max(request.revision, series.revision) if series is not None else request.revision
    return {"series_id": request.series_id, "revision": revision, "created_at": incarnation(series)}


def train_requested(
    deps: Dependencies, request: TrainingRequest, series: SeriesInfo | None
) -> dict[str, Any]:
    """Train the requested series unless its revision is trained already; the outcome as JSON data.

    `series` is the message's `read_series` (None for a pool): the training does not read it again."""
    outcome: dict[str, Any] = request.to_dict()
    if is_pool_id(request.series_id):  # a pooled model, once a day (revision = the plan's day)
        try:
            return train_pool(deps, request.series_id, request.revision)
        except InsufficientHistoryError as exc:
            # Its series have too little usable history today: tomorrow's plan queues it again.
            logger.info("pool skipped", extra={"pool_id": request.series_id, "reason": exc.message})
            return outcome | {"status": SKIPPED, "reason": exc.message}
    if series is None:
        return outcome | {"status": SKIPPED, "reason": "the series does not exist"}
    if series.trained_revision is not None and series.trained_revision >= request.revision:
        return outcome | {
            "status": SKIPPED,
            "reason": f"revision {series.trained_revision} is trained already",
        }
    try:
        trained = train_series(deps, request.series_id, deps.settings.min_training_points, series)
    except InsufficientHistoryError as exc:
        # Too little history since its last long gap, or in the backtest's windows (the planner counts the
        # whole history): the revision is recorded so the series is not due, and queued, again every day
        # for the same history. More history bumps the revision and the planner sends it again. Without a
        # model of its own it is its pool's to serve: marked so, its new data re-train the pool.
        served = deps.tracker.current(request.series_id) is None
        deps.catalogue.record_training_attempt(
            request.series_id, series.revision, series.created_at, pool_served=served
        )
        return outcome | {"status": SKIPPED, "reason": exc.message}
    except SeriesDeletingError:
        # DELETE /series/{id} came while the model was fitted: its promotion was refused, nothing is served.
        return outcome | {"status": SKIPPED, "reason": "the series was deleted while it trained"}
    version = trained.version
    if not trained.trained:  # the current version was trained on this very history and settings
        return outcome | {"status": SKIPPED, "reason": f"unchanged since version {version.version}"}
    logger.info(
        "queued training done",
        extra={"series_id": request.series_id, "model_version": version.version, "current": trained.current},
    )
    return outcome | {
        "status": TRAINED,
        "version": version.version,
        "version_status": version.status,
        "current": trained.current,
    }


def recheck_pool_later(deps: Dependencies, waiting: PoolAwaitingMembers) -> dict[str, Any]:
    """Send a waiting pool's message again, LEAD_AI_POOL_RECHECK_SECONDS from now; the outcome as JSON
    data. Raises when SQS takes no message: the worker then reports this one failed, for re-delivery."""
    request = TrainingRequest(waiting.pool_id, waiting.day)
    delay = deps.settings.pool_recheck_seconds
    report = deps.training_queue.send([request], delay_seconds=delay)
    if report.failed:
        raise ServiceUnavailableError(f"the pool's message could not be sent again ({report.failed[0][1]})")
    logger.info(
        "pool waits for its members",
        extra={"pool_id": waiting.pool_id, "reason": waiting.reason, "recheck_seconds": delay},
    )
    return request.to_dict() | {"status": WAITING, "reason": waiting.reason, "recheck_seconds": delay}


def note_failure(deps: Dependencies, request: TrainingRequest, attempt: int, error: BaseException) -> None:
    """Record on the series that its queued training failed (GET /series shows it); never raises.

    The SERIES item keeps the error code only: the message may quote AWS error text, which the logs keep.
    """
    code = error.code if isinstance(error, LeadAIError) else "internal_error"
    logger.error(
        "queued training failed",
        extra={
            "series_id": request.series_id,
            "revision": request.revision,
            "attempt": attempt,
            "error": code,
        },
    )
    try:
        deps.catalogue.record_training_failure(request.series_id, request.revision, attempt, code)
    except Exception:
        logger.exception("could not record the failed training", extra={"series_id": request.series_id})
