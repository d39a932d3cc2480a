"""PredictFunction: forecasts, staffing plans, a series' settings, the model and series lists, the forecast
page and the OpenAPI document. Read-only; imports no training library."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.pagination import (
    LIST_PARAMETERS,
    encode_token,
    models_position,
    parse_limit,
    series_list_position,
)
from lead_ai.api.requests import (
    STAFFING_QUERY,
    parse_horizon,
    parse_level,
    validate_pool_id,
    validate_series_id,
)
from lead_ai.api.responses import forecast_body, models_body, pool_models_body, series_list_body
from lead_ai.api.router import create_app
from lead_ai.api.series_responses import series_body
from lead_ai.domain.intervals import SHORTEST_INTERVAL
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies
from lead_ai.service.pooling import list_pool_models
from lead_ai.service.series import describe
from lead_ai.service.series_list import list_series

# Once per container, during init: clients, settings, and the model cache (onnxruntime loads here,
# not in the first request).
deps = build_dependencies(serves_forecasts=True)
app = create_app()


@app.get("/series/<series_id>/forecast", query=("horizon", "level"))
def get_forecast(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    # The limit is a duration (LEAD_AI_MAX_HORIZON): in intervals it depends on the series' interval, which
    # the service checks once it knows it; here, the most intervals any series could be allowed.
    horizon = parse_horizon(
        app.current_event.get_query_string_value("horizon"),
        deps.settings.max_horizon_steps(SHORTEST_INTERVAL),
    )
    level = parse_level(app.current_event.get_query_string_value("level"))
    forecast = forecast_body(MLService(series_id, deps).forecast(horizon, level))
    metrics.add_metric(name="ForecastServed", unit=MetricUnit.Count, value=1)
    return forecast


@app.get("/series/<series_id>/models", query=LIST_PARAMETERS)
def get_models(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    limit = parse_limit(app.current_event.get_query_string_value("limit"))
    after = models_position(app.current_event.get_query_string_value("next_token"), series_id)
    models = models_body(MLService(series_id, deps).list_models(limit, after))
    metrics.add_metric(name="ModelsListed", unit=MetricUnit.Count, value=1)
    return models


@app.get("/pools/<pool_id>/models", query=LIST_PARAMETERS)
def get_pool_models(pool_id: str) -> dict[str, Any]:
    pool_id = validate_pool_id(pool_id)
    limit = parse_limit(app.current_event.get_query_string_value("limit"))
    after = models_position(app.current_event.get_query_string_value("next_token"), pool_id)
    models = pool_models_body(list_pool_models(deps, pool_id, limit, after))
    metrics.add_metric(name="PoolModelsListed", unit=MetricUnit.Count, value=1)
    return models


@app.get("/openapi.json")
def get_openapi() -> dict[str, Any]:
    # Imported and built on the first call only: the forecast route never pays for it.
    from lead_ai.api.openapi import document

    return document()


@app.get("/series/<series_id>/dashboard")
def get_dashboard(series_id: str) -> Any:
    # The page's HTML and SVG code loads with its first request, never on the forecast route.
    from lead_ai.api.dashboard import dashboard_response
    from lead_ai.service.overview import series_overview

    overview = series_overview(deps, validate_series_id(series_id))
    metrics.add_metric(name="DashboardServed", unit=MetricUnit.Count, value=1)
    return dashboard_response(overview)


@app.get("/series", query=LIST_PARAMETERS)
def get_series_list() -> dict[str, Any]:
    event = app.current_event
    limit = parse_limit(event.get_query_string_value("limit"))
    after = series_list_position(event.get_query_string_value("next_token"))
    page = list_series(deps, limit, after)
    metrics.add_metric(name="SeriesListed", unit=MetricUnit.Count, value=1)
    return series_list_body(page, encode_token(page.next_after))


@app.get("/series/<series_id>/staffing", query=STAFFING_QUERY)
def get_staffing(series_id: str) -> dict[str, Any]:
    # Erlang C and the plan load with the first staffing request, never on the forecast route.
    from lead_ai.api.series_requests import parse_staffing_query
    from lead_ai.api.series_responses import staffing_body
    from lead_ai.service.staffing import staffing_for_series

    series_id = validate_series_id(series_id)
    query = parse_staffing_query(app.current_event.query, deps.settings.max_horizon_steps(SHORTEST_INTERVAL))
    plan = staffing_body(
        staffing_for_series(
            deps, series_id, query.horizon, query.assumptions, query.open_hours, query.open_days
        )
    )
    metrics.add_metric(name="StaffingPlanServed", unit=MetricUnit.Count, value=1)
    return plan


@app.get("/series/<series_id>")
def get_series(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    series = series_body(describe(deps, series_id))
    metrics.add_metric(name="SeriesDescribed", unit=MetricUnit.Count, value=1)
    return series


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
