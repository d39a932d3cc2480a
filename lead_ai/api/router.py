"""The REST routing every API function uses: routes with path parameters, one JSON error body per
project exception.

Why not Powertools' APIGatewayRestResolver: importing `aws_lambda_powertools.event_handler` loads every
resolver Powertools ships (AppSync, AppSync Events, Bedrock agents, VPC Lattice, HTTP, OpenAPI models):
~30 ms of the prediction function's ~330 ms cold start, for five routes in three functions
(benchmarks/serving/). `RestApp` keeps that resolver's shape and behaviour for the part we use:
`@app.get("/series/<series_id>/forecast")`, `app.current_event`, `app.resolve(event, context)`, the same
route matching (a path segment per parameter, trailing slashes allowed) and the same response format
(`statusCode`, compact JSON `body`, `multiValueHeaders`). Logging, metrics and idempotency stay Powertools.

Three things it does that the resolver does not:
- it matches the route API Gateway matched (the event's `resource`, e.g. `/series/{series_id}/forecast`,
  with `pathParameters`) before the raw `path`: behind a custom domain's base path mapping the path is
  `/leads/series/acme/forecast` and would match nothing; events without a resource match on the path;
- it starts each request's time budget (lead_ai/time_budget.py) from the Lambda context, capped by
  LEAD_AI_API_TIME_BUDGET_SECONDS, so that every AWS call the request makes ends in time for an answer;
- each route declares the query parameters it takes (`@app.get(path, query=("horizon", "level"))`), and
  any other, or one given twice, is a 400 naming it before the handler runs: a misspelt `levle` would
  otherwise be ignored and the default served as if asked for, a `dry_run` would delete for real.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit

from lead_ai import time_budget
from lead_ai.api.requests import reject_unknown_parameters
from lead_ai.config import AwsCallLimits
from lead_ai.errors import LeadAIError, ServiceUnavailableError, ValidationError
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import metrics

# The SDK's DEBUG logs carry request parameters (customer data, e.g. ingested values) and signed
# headers (the access key id, the session token). A function log level of DEBUG (Lambda's advanced
# logging controls set the root logger's level) must not turn them on. Every handler imports this module.
for _sdk_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)

# A path parameter is one segment: the characters RFC 3986 allows in it, percent escapes, and the few
# unsafe ones clients send anyway (the set Powertools' resolver accepts, so the same paths match).
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAMETER = re.compile(r"<(\w+)>")
_APPLICATION_JSON = "application/json"

RouteHandler = Callable[..., Any]


class ApiRequest(NamedTuple):
    """The parts of an API Gateway REST (v1) proxy event the handlers read."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: str | None
    is_base64_encoded: bool
    resource: str | None = None  # the route template API Gateway matched, e.g. /series/{series_id}
    path_parameters: Mapping[str, str] = {}
    # Query parameters given more than once (queryStringParameters keeps only the last of them)
    repeated_query: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ApiRequest:
        resource = event.get("resource")
        parameters = event.get("pathParameters")
        return cls(
            method=str(event.get("httpMethod") or "").upper(),
            path=str(event.get("path") or ""),
            headers=event.get("headers") or {},
            query=event.get("queryStringParameters") or {},
            body=event.get("body"),
            is_base64_encoded=bool(event.get("isBase64Encoded")),
            resource=resource if isinstance(resource, str) else None,
            path_parameters=parameters if isinstance(parameters, dict) else {},
            repeated_query=_repeated(event.get("multiValueQueryStringParameters")),
        )

    def get_query_string_value(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)


class Response(NamedTuple):
    """An answer that is not JSON (the forecast page): its text, media type and extra headers."""

    status: int
    body: str
    content_type: str
    headers: Mapping[str, str] = {}  # never mutated


class _Route(NamedTuple):
    method: str
    pattern: re.Pattern[str]
    handler: RouteHandler
    resource: str  # the same route as API Gateway writes it: /series/{series_id}/forecast
    parameters: tuple[str, ...]
    query: tuple[str, ...]  # the query parameters the route takes

    def match_resource(self, request: ApiRequest) -> dict[str, str] | None:
        """The parameters, when the request's matched resource is this route's and names them all."""
        if request.resource is None or request.resource.rstrip("/") != self.resource:
            return None
        values = {name: request.path_parameters.get(name) for name in self.parameters}
        if not all(isinstance(v, str) and v for v in values.values()):
            return None
        return {name: str(value) for name, value in values.items()}


class RestApp:
    """Routes API Gateway REST proxy events to handlers; maps every exception to one JSON answer."""

    def __init__(self, time_budget_seconds: float | None = None) -> None:
        self._routes: list[_Route] = []
        self._current: ApiRequest | None = None
        # Read once, with the app (once per container): the cap on each request's time budget.
        self._budget_cap = (
            AwsCallLimits.from_env().api_budget_seconds
            if time_budget_seconds is None
            else time_budget_seconds
        )

    def get(self, path: str, query: tuple[str, ...] = ()) -> Callable[[RouteHandler], RouteHandler]:
        return self._route("GET", path, query)

    def post(self, path: str, query: tuple[str, ...] = ()) -> Callable[[RouteHandler], RouteHandler]:
        return self._route("POST", path, query)

    def put(self, path: str, query: tuple[str, ...] = ()) -> Callable[[RouteHandler], RouteHandler]:
        return self._route("PUT", path, query)

    def delete(self, path: str, query: tuple[str, ...] = ()) -> Callable[[RouteHandler], RouteHandler]:
        return self._route("DELETE", path, query)

    @property
    def current_event(self) -> ApiRequest:
        if self._current is None:
            raise RuntimeError("current_event is only available while a request is being resolved")
        return self._current

    def resolve(self, event: Mapping[str, Any], context: object) -> dict[str, Any]:
        request = ApiRequest.from_event(event)
        self._current = request
        time_budget.begin_invocation(context, self._budget_cap)
        try:
            return self._answer(request)
        finally:
            self._current = None
            time_budget.end()

    @property
    def routes(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(method, resource as API Gateway writes it, query parameters taken) of every route."""
        return [(route.method, route.resource, route.query) for route in self._routes]

    def _route(
        self, method: str, path: str, query: tuple[str, ...]
    ) -> Callable[[RouteHandler], RouteHandler]:
        # Trailing slashes match too, as API Gateway and Powertools' REST resolver treat them.
        pattern = re.compile("^" + _PARAMETER.sub(lambda m: f"(?P<{m[1]}>{_SEGMENT})", path) + "/*$")
        resource = _PARAMETER.sub(lambda m: "{" + m[1] + "}", path).rstrip("/")
        parameters = tuple(_PARAMETER.findall(path))

        def register(handler: RouteHandler) -> RouteHandler:
            self._routes.append(_Route(method, pattern, handler, resource, parameters, query))
            return handler

        return register

    def _match(self, request: ApiRequest) -> tuple[_Route, dict[str, str]] | None:
        candidates = [route for route in self._routes if route.method == request.method]
        for route in candidates:  # the route API Gateway matched, wherever the API is mounted
            parameters = route.match_resource(request)
            if parameters is not None:
                return route, parameters
        for route in candidates:
            match = route.pattern.match(request.path)
            if match is not None:
                return route, match.groupdict()
        return None

    def _answer(self, request: ApiRequest) -> dict[str, Any]:
        matched = self._match(request)
        if matched is not None:
            route, parameters = matched
            try:
                _refuse_repeated_query(request)
                reject_unknown_parameters(request.query, route.query, f"{route.method} {route.resource}")
                result = route.handler(**parameters)
                if isinstance(result, Response):
                    return _response(result.status, result.body, dict(result.headers), result.content_type)
                body, status = result if isinstance(result, tuple) else (result, 200)
                return _response(status, json.dumps(body, separators=(",", ":")), {})
            except LeadAIError as error:
                return _error_answer(error)
            except Exception:
                # Never a stack trace to the caller; the log keeps it.
                logger.exception("unexpected error")
                return _json_answer(
                    500, {"error": "internal_error", "message": "internal error; see the service logs"}
                )
        return _json_answer(404, {"error": "not_found", "message": "no route matches this method and path"})


def _repeated(multi: object) -> tuple[str, ...]:
    if not isinstance(multi, dict):
        return ()
    return tuple(sorted(str(k) for k, v in multi.items() if isinstance(v, list) and len(v) > 1))


def _refuse_repeated_query(request: ApiRequest) -> None:
    """A 400 naming a query parameter given twice: which one was meant is not for us to guess (API
    Gateway's queryStringParameters silently keeps the last)."""
    if request.repeated_query:
        name = request.repeated_query[0][:64]
        raise ValidationError(f"query parameter {name} is given more than once; give it once", field=name)


def create_app() -> RestApp:
    return RestApp()


def _error_answer(error: LeadAIError) -> dict[str, Any]:
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
    return _json_answer(error.status, error.to_body(), headers)


def _json_answer(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    # One metric per error answer: 4xx are the callers' mistakes, 5xx ours (or a dependency's).
    metrics.add_metric(
        name="RequestRejected" if status < 500 else "RequestFailed", unit=MetricUnit.Count, value=1
    )
    return _response(status, json.dumps(body), headers or {})


def _response(
    status: int, body: str, headers: dict[str, str], content_type: str = _APPLICATION_JSON
) -> dict[str, Any]:
    multi_value = {name: [value] for name, value in headers.items()}
    multi_value["Content-Type"] = [content_type]
    return {"statusCode": status, "body": body, "isBase64Encoded": False, "multiValueHeaders": multi_value}
