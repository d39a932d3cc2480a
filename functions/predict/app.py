"""PredictFunction: forecasts and the model list. Read-only; imports no training library."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.page_tokens import decode_token, parse_limit
from lead_ai.api.requests import parse_horizon, parse_level, validate_series_id
from lead_ai.api.responses import forecast_body, models_body
from lead_ai.api.router import create_app
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies

# Once per container, during init: clients, settings, and the model cache (onnxruntime loads here,
# not in the first request).
deps = build_dependencies(serves_forecasts=True)
app = create_app()


@app.get("/series/<series_id>/forecast")
def get_forecast(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    horizon = parse_horizon(app.current_event.get_query_string_value("horizon"), deps.settings.max_horizon)
    level = parse_level(app.current_event.get_query_string_value("level"))
    forecast = forecast_body(MLService(series_id, deps).forecast(horizon, level))
    metrics.add_metric(name="ForecastServed", unit=MetricUnit.Count, value=1)
    return forecast


@app.get("/series/<series_id>/models")
def get_models(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    limit = parse_limit(app.current_event.get_query_string_value("limit"))
    after = decode_token(app.current_event.get_query_string_value("next_token"), series_id)
    models = models_body(MLService(series_id, deps).list_models(limit, after))
    metrics.add_metric(name="ModelsListed", unit=MetricUnit.Count, value=1)
    return models


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
