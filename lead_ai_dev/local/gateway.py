"""What API Gateway does in front of the functions, on this machine.

Routes come from the `Type: Api` events of template.yaml (a route another engineer adds there is served
without a change here). A request is matched to its resource template the way a REST API matches it,
its API key is checked, it becomes a REST proxy event (format 1.0, as in events/*.json), the function's
handler runs in-process (lead_ai_dev/local/invoke.py), and its answer becomes the HTTP response.
API Gateway's own answers are kept: an unknown route or method is 403 "Missing Authentication Token",
a missing or wrong key 403 "Forbidden", a handler that raises or answers malformed JSON 502.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

from lead_ai_dev.local.template import Template

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
GATEWAY_TIMEOUT_SECONDS = 29  # API Gateway ends an integration after 29 s (a local run only warns)
API_KEY_HEADER = "x-api-key"


class Route(NamedTuple):
    path: str  # resource template, e.g. /series/{series_id}/forecast
    method: str  # GET, POST, … or ANY
    function: str  # logical id
    api_key_required: bool
    pattern: re.Pattern[str]


class HttpRequest(NamedTuple):
    method: str
    path: str  # as sent, percent escapes kept, without the query string
    query: list[tuple[str, str]]  # decoded, in order
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None


class HttpResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    function: str | None = None  # who answered (None: the gateway itself)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def routes_from_template(template: Template) -> list[Route]:
    """Every Api event of every function, most specific first (literal segments beat parameters)."""
    routes = [
        Route(event.path, event.method, logical_id, event.api_key_required, _pattern(event.path))
        for logical_id in template.function_ids()
        for event in template.function(logical_id).api_events
    ]
    return sorted(routes, key=_specificity)


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        single = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy[1]}>.+)")
        elif single:
            parts.append(f"(?P<{single[1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$")


def _specificity(route: Route) -> tuple[int, int, str]:
    segments = route.path.strip("/").split("/")
    literal = sum(1 for s in segments if not s.startswith("{"))
    greedy = sum(1 for s in segments if s.endswith("+}"))
    return (greedy, -literal, route.path)


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method in {method, "ANY"}:
            return route, {name: unquote(value) for name, value in found.groupdict().items()}
    return None


def proxy_event(request: HttpRequest, route: Route, parameters: dict[str, str], stage: str) -> dict[str, Any]:
    """The REST API proxy event (payload format 1.0) API Gateway would send for this request."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value  # the last value wins, as in API Gateway's single-value map
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "path": f"/{stage}{request.path}",
            "accountId": "000000000000",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestId": request_id,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent"),
                "apiKey": request.header(API_KEY_HEADER),
                "apiKeyId": "local" if request.header(API_KEY_HEADER) else None,
            },
            "domainName": request.header("Host") or "localhost",
            "apiId": "local",
        },
        # No BinaryMediaTypes in the template: API Gateway hands every body over as text.
        "body": request.body.decode("utf-8", errors="replace") if request.body else None,
        "isBase64Encoded": False,
    }


def gateway_answer(status: int, message: str, error_type: str) -> HttpResponse:
    """An answer API Gateway gives itself, before or instead of the function's."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)],
        body,
    )


def http_response(result: object, function: str) -> HttpResponse:
    """The handler's proxy answer as HTTP; a malformed one is API Gateway's 502."""
    if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int):
        return _bad_gateway(function)
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    seen = {name.lower() for name, _ in headers}
    headers.extend(
        (name, str(value))
        for name, value in (result.get("headers") or {}).items()
        if name.lower() not in seen
    )
    body = result.get("body") or ""
    if not isinstance(body, str):
        return _bad_gateway(function)
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, data, function)


def _bad_gateway(function: str) -> HttpResponse:
    answer = gateway_answer(502, "Internal server error", "InternalServerErrorException")
    return answer._replace(function=function)


Invoker = Callable[[str, dict[str, Any]], Any]


class Gateway:
    """Routes requests to the template's functions; one request at a time per function, as one
    Lambda container would run them."""

    def __init__(self, template: Template, invoker: Invoker, api_key: str | None) -> None:
        self.template = template
        self.routes = routes_from_template(template)
        self.stage = template.api_stage()
        self.api_key = api_key  # None: no key check (in-process callers, like `sam local invoke`)
        self._invoke = invoker
        self._locks = {fid: threading.Lock() for fid in template.function_ids()}

    def share_one_lock(self) -> None:
        """Run one request at a time in all: for functions whose environments differ (see serve.py)."""
        lock = threading.Lock()
        self._locks = dict.fromkeys(self._locks, lock)

    def handle(self, request: HttpRequest) -> HttpResponse:
        found = match_route(self.routes, request.method, request.path)
        if found is None:
            return gateway_answer(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        route, parameters = found
        key_checked = self.api_key is not None and route.api_key_required
        if key_checked and request.header(API_KEY_HEADER) != self.api_key:
            return gateway_answer(403, "Forbidden", "ForbiddenException")
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_answer(413, "Request Too Long", "RequestTooLongException")
        event = proxy_event(request, route, parameters, self.stage)
        with self._locks[route.function]:
            started = time.monotonic()
            try:
                result = self._invoke(route.function, event)
            except Exception:
                # A function error: Lambda reports it, API Gateway answers 502; the trace is for the developer.
                traceback.print_exc()
                return _bad_gateway(route.function)
            elapsed = time.monotonic() - started
        response = http_response(result, route.function)
        if elapsed > GATEWAY_TIMEOUT_SECONDS:
            print(
                f"warning: {route.function} took {elapsed:.0f} s; deployed, API Gateway would have "
                f"answered 504 after {GATEWAY_TIMEOUT_SECONDS} s",
                flush=True,
            )
        request_id = event["requestContext"]["requestId"]
        return response._replace(headers=[*response.headers, ("x-amzn-RequestId", request_id)])
