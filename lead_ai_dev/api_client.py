"""The API as the CLI verbs call it: over HTTP (a deployed stage, or `lead-ai serve`), or in-process
through the local gateway (the handlers of template.yaml on AWS_ENDPOINT_URL's stack, or an embedded one).

Both answer the same `HttpResponse`, so a verb cannot tell them apart: what it prints and its exit code
depend on the API's answer only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from lead_ai_dev.local.gateway import HttpRequest, HttpResponse

JSON = "application/json"


class ApiClient(Protocol):
    def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None
    ) -> HttpResponse: ...


def series_path(series_id: str, *rest: str) -> str:
    """/series/{id}/… with each segment escaped (an id with a '/' stays one segment, and is refused)."""
    return "/" + "/".join(quote(part, safe="") for part in ("series", series_id, *rest))


class HttpApiClient:
    """A deployed API (`--api https://…/v1 --api-key …`) or `lead-ai serve`."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None
    ) -> HttpResponse:
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", JSON)
        if self.api_key:
            request.add_header("x-api-key", self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return HttpResponse(answer.status, list(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, list(error.headers.items()), error.read())


class LocalApiClient:
    """The handlers in this process, behind the same routing as `lead-ai serve` (no key to check)."""

    def __init__(self, template_path: Path) -> None:
        from lead_ai_dev.local.serve import build_gateway
        from lead_ai_dev.local.template import Template

        # One call at a time: each invocation sets its function's environment and restores this one's.
        self.gateway = build_gateway(Template(template_path), api_key=None, threaded=False)

    def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None
    ) -> HttpResponse:
        headers = [("Content-Type", JSON)] if body is not None else []
        # As `lead-ai invoke` does: the functions' own output (logs, EMF metrics) on stderr, answers on stdout.
        with redirect_stdout(sys.stderr):
            return self._handle(method, path, query, headers, body)

    def _handle(
        self, method: str, path: str, query: dict[str, str] | None, headers: list[tuple[str, str]], body: Any
    ) -> HttpResponse:
        return self.gateway.handle(
            HttpRequest(
                method=method,
                path=path,
                query=list((query or {}).items()),
                headers=[*headers, ("User-Agent", "lead-ai")],
                body=json.dumps(body).encode() if body is not None else b"",
            )
        )


@contextmanager
def api_client(api_url: str | None, api_key: str | None, template_path: Path) -> Iterator[ApiClient]:
    """HTTP when a URL is given; else in-process, on AWS_ENDPOINT_URL's stack or an embedded one."""
    import os

    if api_url:
        yield HttpApiClient(api_url, api_key)
        return
    if os.environ.get("AWS_ENDPOINT_URL"):
        yield LocalApiClient(template_path)
        return
    from lead_ai_dev.local.stack import running_stack

    print(
        "no --api and no AWS_ENDPOINT_URL: running on an embedded, empty local stack that ends with this "
        "command (start `lead-ai serve` and pass --api, or `lead-ai stack` and export its variables)",
        file=sys.stderr,
    )
    with running_stack(template_path):
        yield LocalApiClient(template_path)


def error_line(response: HttpResponse) -> str:
    """One line for a 4xx/5xx: the status, the API's error code, its message and the field it names."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        field = f" (field {body['field']})" if body.get("field") else ""
        return f"HTTP {response.status} {body['error']}: {body.get('message', '')}{field}"
    if isinstance(body, dict) and "message" in body:  # API Gateway's own answer
        hint = " (check --api-key / LEAD_AI_API_KEY)" if body["message"] == "Forbidden" else ""
        return f"HTTP {response.status}: {body['message']}{hint}"
    return f"HTTP {response.status}: {response.body[:200].decode('utf-8', 'replace')}"
