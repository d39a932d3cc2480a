"""DeleteFunction: DELETE a range of a series' observations, or a whole series with its models.

Its own function so that its role is the only one that may delete observations, version records and
model objects wholesale; ingest, training and serving keep the narrower roles they had.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.requests import parse_time_range, validate_series_id
from lead_ai.api.responses import range_deletion_body, series_deletion_body
from lead_ai.api.router import create_app
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies

deps = build_dependencies()
app = create_app()


@app.delete("/series/<series_id>/observations", query=("from", "to"))
def delete_observations(series_id: str) -> dict[str, Any]:
    service = MLService(validate_series_id(series_id), deps)
    event = app.current_event
    settings = service.settings()
    first, last = parse_time_range(
        event.get_query_string_value("from"),
        event.get_query_string_value("to"),
        settings.timezone,
        settings.interval_seconds,
    )
    outcome = range_deletion_body(service.delete_observations(first, last))
    metrics.add_metric(name="ObservationRangeDeleted", unit=MetricUnit.Count, value=1)
    return outcome


@app.delete("/series/<series_id>")
def delete_series(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    outcome = series_deletion_body(MLService(series_id, deps).delete())
    metrics.add_metric(name="SeriesDeleted", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
