"""PredictFunction as it would be with Powertools' APIGatewayRestResolver instead of lead_ai's `RestApp`.

Benchmark only (never deployed): the serving benchmark copies this file as `app.py` into a scratch
function directory, compiles it like the real one and cold-starts it on the shipped layers, to price
`RestApp` (lead_ai/api/router.py). Same routes, same handler decorators, same answers; what `RestApp` does
besides routing (quiet SDK loggers, one JSON error body and one metric per project exception, a 500 that
carries no stack trace) is done here the resolver's way, so both sides do the same work.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.requests import parse_horizon, parse_level, reject_unknown_parameters, validate_series_id
from lead_ai.api.responses import forecast_body, models_body
from lead_ai.domain.intervals import SHORTEST_INTERVAL
from lead_ai.errors import LeadAIError, ServiceUnavailableError
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies

for _sdk_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)

deps = build_dependencies(serves_forecasts=True)
app = APIGatewayRestResolver()


@app.get("/series/<series_id>/forecast")
def get_forecast(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    reject_unknown_parameters(
        app.current_event.query_string_parameters or {}, ("horizon", "level"), "a forecast"
    )
    horizon = parse_horizon(
        app.current_event.get_query_string_value("horizon"),
        deps.settings.max_horizon_steps(SHORTEST_INTERVAL),
    )
    level = parse_level(app.current_event.get_query_string_value("level"))
    forecast = forecast_body(MLService(series_id, deps).forecast(horizon, level))
    metrics.add_metric(name="ForecastServed", unit=MetricUnit.Count, value=1)
    return forecast


@app.get("/series/<series_id>/models")
def get_models(series_id: str) -> dict[str, Any]:
    models = models_body(MLService(validate_series_id(series_id), deps).list_models())
    metrics.add_metric(name="ModelsListed", unit=MetricUnit.Count, value=1)
    return models


@app.exception_handler(LeadAIError)
def project_error(error: LeadAIError) -> Response[str]:
    headers: dict[str, str] = {}
    if isinstance(error, ServiceUnavailableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif error.status >= 500:
        headers["Retry-After"] = "5"
    details: dict[str, object] = {"status": error.status, "error": error.code, "field": error.field}
    if error.status >= 500:
        logger.error("request failed", extra=details | {"reason": error.message})
    else:
        logger.warning("request rejected", extra=details)
    return _json_answer(error.status, error.to_body(), headers)


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return _json_answer(500, {"error": "internal_error", "message": "internal error; see the service logs"})


@app.not_found
def no_route(error: Exception) -> Response[str]:
    return _json_answer(404, {"error": "not_found", "message": "no route matches this method and path"})


def _json_answer(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> Response[str]:
    metrics.add_metric(
        name="RequestRejected" if status < 500 else "RequestFailed", unit=MetricUnit.Count, value=1
    )
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers or {})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
