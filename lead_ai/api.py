"""The REST resolver every API function uses: one JSON error body per project exception."""

from __future__ import annotations

import json
import logging

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.metrics import MetricUnit

from lead_ai.errors import LeadAIError, ServiceUnavailableError
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import metrics

# The SDK's DEBUG logs carry request parameters (customer data, e.g. ingested values) and signed
# headers (the access key id, the session token). A function log level of DEBUG (Lambda's advanced
# logging controls set the root logger's level) must not turn them on. Every handler imports this module.
for _sdk_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)


def create_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(LeadAIError)
    def handle_lead_ai_error(error: LeadAIError) -> Response:
        headers: dict[str, str] = {}
        if isinstance(error, ServiceUnavailableError):
            headers["Retry-After"] = str(error.retry_after_seconds)
        elif error.status >= 500:
            headers["Retry-After"] = "5"
        details: dict[str, object] = {"status": error.status, "error": error.code, "field": error.field}
        if error.status >= 500:
            logger.error("request failed", extra=details | {"reason": error.message})
        else:
            # A 4xx message may quote the request (a rejected value or timestamp): customer data stays
            # out of the logs; the caller gets the message, the log the rule and the field.
            logger.warning("request rejected", extra=details)
        return _json_response(error.status, error.to_body(), headers)

    @app.exception_handler(ServiceError)
    def handle_resolver_error(error: ServiceError) -> Response:
        # The resolver's own errors (NotFoundError: no route matches the path): without this handler
        # they would reach the catch-all below and answer 500.
        body: dict[str, object]
        if error.status_code == 404:
            body = {"error": "not_found", "message": "no route matches this method and path"}
        else:
            body = {"error": "invalid_request", "message": str(error.msg)[:200]}
        return _json_response(error.status_code, body, {})

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        # Never a stack trace to the caller; the log keeps it.
        logger.exception("unexpected error")
        return _json_response(
            500, {"error": "internal_error", "message": "internal error; see the service logs"}, {}
        )

    return app


def _json_response(status: int, body: dict[str, object], headers: dict[str, str]) -> Response:
    # One metric per error answer: 4xx are the callers' mistakes, 5xx ours (or a dependency's).
    metrics.add_metric(
        name="RequestRejected" if status < 500 else "RequestFailed", unit=MetricUnit.Count, value=1
    )
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers,
    )
