"""TrainFunction: train on request, promote (roll back) on request, and the daily retraining schedule."""

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
from lead_ai.api.requests import validate_series_id, validate_version
from lead_ai.api.responses import training_body, version_body
from lead_ai.api.router import create_app
from lead_ai.errors import ConfigurationError
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies
from lead_ai.service.pruning import prune_expired_versions
from lead_ai.service.schedule import retrain_changed_series, sweep_orphan_artifacts

deps = build_dependencies()
app = create_app()

if not deps.settings.idempotency_table:
    raise ConfigurationError("LEAD_AI_IDEMPOTENCY_TABLE is required by the training function")
# EventBridge delivers at least once: a scheduled event id is processed once for a day.
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=86_400)
persistence = DynamoDBPersistenceLayer(table_name=deps.settings.idempotency_table)


@app.post("/series/<series_id>/train")
def post_train(series_id: str) -> tuple[dict[str, Any], int]:
    outcome = MLService(validate_series_id(series_id), deps).train()
    if not outcome.trained:  # unchanged history and settings: the current version, no new one
        metrics.add_metric(name="TrainingSkippedUnchanged", unit=MetricUnit.Count, value=1)
        return training_body(outcome), 200
    metrics.add_metric(name="TrainingCompleted", unit=MetricUnit.Count, value=1)
    return training_body(outcome), 201


@app.post("/series/<series_id>/models/<version>/promote")
def post_promote(series_id: str, version: str) -> dict[str, Any]:
    promoted = version_body(
        MLService(validate_series_id(series_id), deps).promote(validate_version(version)), current=True
    )
    metrics.add_metric(name="ModelPromotedManually", unit=MetricUnit.Count, value=1)
    return promoted


@idempotent_function(data_keyword_argument="event", config=idempotency, persistence_store=persistence)
def run_schedule(event: dict[str, Any]) -> dict[str, Any]:
    outcome = retrain_changed_series(deps)
    outcome["versions_pruned"] = prune_expired_versions(deps)  # before the sweep: it catches what this misses
    outcome["orphan_artifacts_deleted"] = sweep_orphan_artifacts(deps)
    metrics.add_metric(name="ScheduledTrainings", unit=MetricUnit.Count, value=len(outcome["trained"]))
    return outcome


def _is_scheduled_event(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _is_scheduled_event(event):
        logger.set_correlation_id(event.get("id"))
        metrics.add_metric(name="ScheduledEventReceived", unit=MetricUnit.Count, value=1)
        idempotency.register_lambda_context(context)
        time_budget.begin_invocation(context)  # the function's own timeout, less the answer's margin
        try:
            return run_schedule(event=event)
        finally:
            time_budget.end()
    return app.resolve(event, context)
