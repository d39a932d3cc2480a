"""PlannerFunction: the daily schedule. Queue one training per due series; sweep orphan model objects."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai import time_budget
from lead_ai.errors import ConfigurationError, LeadAIError, ValidationError
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import build_dependencies
from lead_ai.service.schedule import plan_training, sweep_orphan_artifacts
from lead_ai.storage.clients import client

deps = build_dependencies()
_ = deps.training_queue  # the SQS client, at init (and a missing queue URL fails the cold start)

if not deps.settings.idempotency_table:
    raise ConfigurationError("LEAD_AI_IDEMPOTENCY_TABLE is required by the planner")
# EventBridge delivers at least once: one scheduled event id is planned once (a second delivery gets the
# stored answer). Two different events (a manual run beside the schedule) both plan; the training
# worker's own idempotency keeps that from training anything twice.
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=86_400)
# Through the container's DynamoDB client: its timeouts, attempts and time-budget hooks, as every other AWS
# call (Powertools' own client would wait up to 60 s per read and make ten attempts, past the function's timeout).
persistence = DynamoDBPersistenceLayer(
    table_name=deps.settings.idempotency_table, boto3_client=client("dynamodb")
)


@idempotent_function(
    data_keyword_argument="event", config=idempotency, persistence_store=persistence, key_prefix="daily-plan"
)
def run_plan(event: dict[str, Any]) -> dict[str, Any]:
    plan = plan_training(deps)
    metrics.add_metric(name="TrainingsQueued", unit=MetricUnit.Count, value=len(plan.queued))
    metrics.add_metric(name="PoolTrainingsQueued", unit=MetricUnit.Count, value=len(plan.pools))
    metrics.add_metric(name="SeriesTooShort", unit=MetricUnit.Count, value=len(plan.too_short))
    metrics.add_metric(name="TrainingsNotQueued", unit=MetricUnit.Count, value=len(plan.not_sent))
    # After the messages are out, so that the trainings start while the sweep runs.
    return plan.summary() | {"orphan_artifacts_deleted": _sweep()}


def _sweep() -> int | None:
    """The orphan sweep, a clean-up: its failure must not fail the plan, whose messages are out (Lambda would
    retry the plan, queueing every due series again). None when it failed; the next day's sweep looks at
    the same objects (its window is a week)."""
    try:
        return sweep_orphan_artifacts(deps)
    except LeadAIError as exc:
        logger.warning("the orphan sweep failed; the next plan sweeps again", extra={"error": exc.message})
        metrics.add_metric(name="OrphanSweepFailed", unit=MetricUnit.Count, value=1)
        return None


def _is_scheduled_event(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not _is_scheduled_event(event):
        raise ValidationError("the planner runs on EventBridge scheduled events only", field="detail-type")
    idempotency.register_lambda_context(context)
    # Every delivery counts, a retry answered from the idempotency store too: the counts above appear once
    # per plan, so the two tell EventBridge's redeliveries apart (and no flush is ever empty).
    metrics.add_metric(name="ScheduleDeliveries", unit=MetricUnit.Count, value=1)
    # Every AWS call fits the function's own remaining time (lead_ai/time_budget.py).
    time_budget.begin_invocation(context)
    try:
        return run_plan(event=event)
    finally:
        time_budget.end()
