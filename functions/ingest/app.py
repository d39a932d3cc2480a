"""IngestFunction: POST observations (JSON or CSV; re-sending a slot replaces it), PUT a series' settings."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai.api.requests import (
    content_type_of,
    parse_observations,
    request_body,
    validate_series_id,
)
from lead_ai.api.responses import ingest_body
from lead_ai.api.router import create_app
from lead_ai.api.series_requests import parse_series_settings
from lead_ai.api.series_responses import series_body
from lead_ai.domain.intervals import interval_name
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import MLService, build_dependencies
from lead_ai.service.series import save_settings

deps = build_dependencies(uses_s3=False)  # ingest never touches the bucket
app = create_app()


@app.post("/series/<series_id>/observations")
def post_observations(series_id: str) -> tuple[dict[str, Any], int]:
    service = MLService(validate_series_id(series_id), deps)
    event = app.current_event
    settings = service.settings()
    batch = parse_observations(
        request_body(event.body, bool(event.is_base64_encoded)),
        content_type_of(event.headers),
        default_interval=interval_name(settings.interval_seconds),
        max_bytes=deps.settings.max_body_bytes,
        max_observations=deps.settings.max_observations_per_request,
        now=time.time(),
        timezone=settings.timezone,
    )
    return ingest_body(service.ingest(batch)), 200


@app.put("/series/<series_id>")
def put_series(series_id: str) -> dict[str, Any]:
    series_id = validate_series_id(series_id)
    event = app.current_event
    change = parse_series_settings(
        request_body(event.body, bool(event.is_base64_encoded)), content_type_of(event.headers)
    )
    saved = series_body(save_settings(deps, series_id, change))
    metrics.add_metric(name="SeriesSettingsSaved", unit=MetricUnit.Count, value=1)
    return saved


# log_event stays off: ingest bodies are customer data and never go to the logs.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
