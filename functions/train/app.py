"""TrainFunction: train on request and promote (roll back) on request. The daily retraining is the
planner's (functions/planner) and the training worker's (functions/train_worker)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.requests import (
    validate_pool_id,
    validate_series_id,
    validate_version,
)
from lead_ai.api.responses import training_body, version_body
from lead_ai.api.router import create_app
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies
from lead_ai.service.promotion import promote_version

deps = build_dependencies()
app = create_app()


@app.post("/series/<series_id>/train")
def post_train(series_id: str) -> tuple[dict[str, Any], int]:
    series_id = validate_series_id(series_id)
    outcome = MLService(series_id, deps).train()
    if not outcome.trained:  # unchanged history and settings: the version trained on it, no new one
        metrics.add_metric(name="TrainingSkippedUnchanged", unit=MetricUnit.Count, value=1)
        return training_body(outcome), 200
    metrics.add_metric(name="TrainingCompleted", unit=MetricUnit.Count, value=1)
    return training_body(outcome), 201


@app.post("/series/<series_id>/models/<version>/promote")
def post_promote(series_id: str, version: str) -> dict[str, Any]:
    series_id, version = validate_series_id(series_id), validate_version(version)
    promoted = version_body(MLService(series_id, deps).promote(version), current=True)
    metrics.add_metric(name="ModelPromotedManually", unit=MetricUnit.Count, value=1)
    return promoted


@app.post("/pools/<pool_id>/models/<version>/promote")
def post_pool_promote(pool_id: str, version: str) -> dict[str, Any]:
    version, pool_id = validate_version(version), validate_pool_id(pool_id)
    promoted = version_body(promote_version(deps, pool_id, version), current=True)
    metrics.add_metric(name="PoolModelPromotedManually", unit=MetricUnit.Count, value=1)
    return promoted


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
