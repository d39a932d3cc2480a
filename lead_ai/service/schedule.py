"""The daily schedule (the planner): queue one training per due series, and sweep orphan model objects.

The planner trains nothing itself. It reads the due series from the sparse DueIndex (items read = series
due, however many versions and pointers the registry holds) and sends one `{series_id, revision}`
message per series to the training queue; Lambda fans the queue out to the training worker
(service.queued_training) at the concurrency the template allows. A series stays due until a training
records its revision, so a message that is lost, expires or ends in the dead-letter queue is sent again
by the next day's plan.

Series too young for a model of their own (fewer observations than LEAD_AI_MIN_TRAINING_POINTS hours of
history) stay due and are served by the pooled model of their group (interval, zone, calendar): the plan
queues that pool's training with them (service.pooling), at most once a day. So does a grown series
whose own model lost to the pool at its last training (the DueIndex's POOL_SERVED partition) when it has
new data; it is queued for its own training as well, as any grown series with new data: that training
is how its own model takes over once it beats the pool, and what takes it off the DueIndex.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from lead_ai.domain.fleet import DueSeries, TrainingRequest
from lead_ai.domain.intervals import min_points_for_interval
from lead_ai.domain.models import ArtifactRef
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.pooling import plan_day, pools_to_train
from lead_ai.storage.artifacts import series_of_key

# The sweep looks at objects between one hour old (a training may still be registering a younger one)
# and a week old: anything older was looked at by an earlier daily run, so the sweep reads the registry
# of recently trained series only, not of every series. A week leaves room for missed runs.
SWEEP_MIN_AGE_SECONDS = 3600.0
SWEEP_MAX_AGE_SECONDS = 7 * 86_400.0


class Plan(NamedTuple):
    queued: list[TrainingRequest]
    too_short: list[DueSeries]  # due, but with fewer observations than a model of their own needs
    not_sent: list[tuple[str, str]]  # (series_id, reason): SQS refused them; they stay due for tomorrow
    pools: list[TrainingRequest]  # the pooled models queued for the series they serve (service.pooling)
    pool_served: list[DueSeries]  # due grown series their pool served at their last training

    def summary(self) -> dict[str, object]:
        return {
            "queued": len(self.queued),
            "too_short": [s.series_id for s in self.too_short],
            "pool_served": [s.series_id for s in self.pool_served],
            "pools": [p.series_id for p in self.pools],
            "not_sent": [{"series_id": sid, "reason": why} for sid, why in self.not_sent],
        }


def plan_training(deps: Dependencies, day: int | None = None) -> Plan:
    """Send one training message per due series that has enough history for a model of its own, and one
    per pooled model that serves a due series (too short for a model of its own, or whose own model lost
    to the pool: service.pooling), once a day."""
    hours = deps.settings.min_training_points  # hours of history: the same duration at every interval
    grown: list[DueSeries] = []
    too_short: list[DueSeries] = []
    for series in deps.catalogue.due_series():
        if series.observed_points < min_points_for_interval(hours, series.interval_seconds or 3600):
            too_short.append(series)
        else:
            grown.append(series)
    queued = [TrainingRequest(s.series_id, s.revision) for s in grown]
    pool_served = [s for s in grown if s.pool_served]
    pools = pools_to_train(deps, too_short, pool_served, plan_day() if day is None else day)
    report = deps.training_queue.send([*queued, *pools])
    not_sent = {sid for sid, _ in report.failed}
    plan = Plan(
        [r for r in queued if r.series_id not in not_sent],
        too_short,
        report.failed,
        [p for p in pools if p.series_id not in not_sent],
        pool_served,
    )
    logger.info(
        "training planned",
        extra={
            "queued": len(plan.queued),
            "too_short": len(too_short),
            "pool_served": len(pool_served),
            "pools": len(plan.pools),
            "not_sent": len(report.failed),
        },
    )
    return plan


def sweep_orphan_artifacts(
    deps: Dependencies,
    *,
    min_age_seconds: float = SWEEP_MIN_AGE_SECONDS,
    max_age_seconds: float = SWEEP_MAX_AGE_SECONDS,
) -> int:
    """Delete model objects no verified or rejected version references (the daily clean-up).

    Training deletes its upload when registration fails, but if S3 is down for that delete too, the
    object stays; this catches it later. Only objects between `min_age_seconds` (younger ones may belong
    to a training still registering) and `max_age_seconds` old are looked at.
    """
    referenced: dict[str, set[tuple[str, str | None]]] = {}
    deleted = 0
    now = datetime.now(UTC)
    for key, version_id, modified in deps.artifacts.stored_models():
        age = (now - modified).total_seconds()
        if not min_age_seconds <= age <= max_age_seconds:
            continue
        series_id = series_of_key(key) or ""
        if series_id not in referenced:
            referenced[series_id] = (
                {
                    (v.artifact.key, v.artifact.version_id)
                    for v in deps.tracker.list_versions(series_id)
                    if v.artifact is not None
                }
                if series_id
                else set()
            )
        if (key, version_id) not in referenced[series_id]:
            deps.artifacts.delete(ArtifactRef(key, version_id, "", 0))
            logger.warning("deleted an orphan model object", extra={"key": key, "s3_version_id": version_id})
            deleted += 1
    return deleted
