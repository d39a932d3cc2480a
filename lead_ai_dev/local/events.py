"""Real-format events from events/, adapted (series, body, query) for local runs and tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def load_event(events_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((events_dir / name).read_text())
    return data


def api_event(
    template_event: dict[str, Any],
    *,
    series_id: str | None = None,
    pool_id: str | None = None,
    version: str | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """A copy of an API Gateway proxy event with the series (or pool), version, query or body replaced."""
    event = copy.deepcopy(template_event)
    params = dict(event.get("pathParameters") or {})
    if series_id is not None:
        params["series_id"] = series_id
    if pool_id is not None:
        params["pool_id"] = pool_id
    if version is not None:
        params["version"] = version
    event["pathParameters"] = params
    path = event["resource"]
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    event["path"] = path
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if body is not None:
        event["body"] = body
    if content_type is not None:
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
    return event


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
