"""The local gateway (lead-ai serve, the CLI verbs): routes read from template.yaml, the REST proxy event
it builds, API Gateway's own answers, and the Lambda context a handler sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lead_ai_dev.local.gateway import Gateway, HttpRequest, match_route, routes_from_template
from lead_ai_dev.local.invoke import forget_loaded_handlers, invoke
from lead_ai_dev.local.template import Template
from tests.conftest import ROOT

TEMPLATE = Template(ROOT / "template.yaml")


def _request(method: str, path: str, **kwargs: Any) -> HttpRequest:
    return HttpRequest(method=method, path=path, **{"query": [], "headers": [], "body": b""} | kwargs)


class Recorder:
    """An invoker that records the event and answers what it is told to."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "{}"}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_every_api_event_of_the_template_is_a_route() -> None:
    # Given the template's Api events, read independently of the gateway
    declared = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id)
        for logical_id, resource in TEMPLATE.resources_of_type("AWS::Serverless::Function").items()
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    # When the gateway reads its routes
    routes = {(r.method, r.path, r.function) for r in routes_from_template(TEMPLATE)}
    # Then they are the same, every one behind the API key as the template's Auth says
    assert routes == declared and routes
    assert all(r.api_key_required for r in routes_from_template(TEMPLATE))


def test_the_proxy_event_has_the_shape_of_the_recorded_events() -> None:
    # Given a recorded API Gateway event (events/forecast.json) and the same request made over HTTP
    recorded = json.loads((ROOT / "events" / "forecast.json").read_text())
    recorder = Recorder()
    gateway = Gateway(TEMPLATE, recorder, api_key="k")
    request = _request(
        "GET",
        "/series/demo-leads/forecast",
        query=[("horizon", "24"), ("level", "0.5"), ("level", "0.9")],
        headers=[("x-api-key", "k"), ("Accept", "application/json"), ("X-Many", "1"), ("X-Many", "2")],
    )
    # When the gateway handles it
    assert gateway.handle(request).status == 200
    function, event = recorder.calls[0]
    # Then the function the template names gets an event with every field the recorded one has
    assert function == "PredictFunction"
    assert set(event) == set(recorded)
    assert set(recorded["requestContext"]) <= set(event["requestContext"])
    assert event["resource"] == recorded["resource"] == "/series/{series_id}/forecast"
    assert event["path"] == "/series/demo-leads/forecast"
    assert event["pathParameters"] == {"series_id": "demo-leads"}
    # with API Gateway's single- and multi-value maps (the last value wins in the single one)
    assert event["queryStringParameters"] == {"horizon": "24", "level": "0.9"}
    assert event["multiValueQueryStringParameters"]["level"] == ["0.5", "0.9"]
    assert event["headers"]["X-Many"] == "2" and event["multiValueHeaders"]["X-Many"] == ["1", "2"]
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["path"] == "/v1/series/demo-leads/forecast"
    assert event["requestContext"]["requestId"] and event["body"] is None
    assert event["isBase64Encoded"] is False


def test_path_parameters_are_decoded_and_literal_segments_win() -> None:
    routes = routes_from_template(TEMPLATE)
    found = match_route(routes, "POST", "/series/a%20b/models/1.2.0/promote")
    assert found is not None
    route, parameters = found
    assert route.function == "TrainFunction"
    assert parameters == {"series_id": "a b", "version": "1.2.0"}
    # a trailing slash matches as in API Gateway; an empty segment does not
    assert match_route(routes, "GET", "/series/x/models/") is not None
    assert match_route(routes, "GET", "/series//models") is None


@pytest.mark.parametrize(
    ("key", "path", "message"),
    [
        (None, "/series/x/models", "Forbidden"),
        ("wrong", "/series/x/models", "Forbidden"),
        ("k", "/series/x/nothing", "Missing Authentication Token"),
        ("k", "/", "Missing Authentication Token"),
    ],
)
def test_the_gateway_answers_403_itself_and_runs_no_function(
    key: str | None, path: str, message: str
) -> None:
    recorder = Recorder()
    headers = [("X-API-Key", key)] if key else []
    response = Gateway(TEMPLATE, recorder, api_key="k").handle(_request("GET", path, headers=headers))
    assert response.status == 403 and response.json() == {"message": message}
    assert recorder.calls == [] and response.function is None


@pytest.mark.parametrize("answer", [RuntimeError("boom"), {"body": "no status"}, "not a dict"])
def test_a_function_error_or_malformed_answer_is_a_502(answer: Any) -> None:
    response = Gateway(TEMPLATE, Recorder(answer), api_key=None).handle(_request("GET", "/series/x/models"))
    assert response.status == 502 and response.json() == {"message": "Internal server error"}


def test_the_answer_keeps_the_functions_status_headers_and_body() -> None:
    answer = {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"Content-Type": ["text/html"], "X-Two": ["a", "b"]},
        "body": "<p>hi</p>",
    }
    response = Gateway(TEMPLATE, Recorder(answer), api_key=None).handle(_request("POST", "/series/x/train"))
    assert response.status == 201 and response.body == b"<p>hi</p>"
    assert ("Content-Type", "text/html") in response.headers
    assert [v for k, v in response.headers if k == "X-Two"] == ["a", "b"]
    assert ("X-One", "1") in response.headers


def test_the_handler_sees_the_memory_size_and_timeout_of_its_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a template with a Globals memory size and a function that sets its own
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(
        "def handler(event, context):\n"
        "    return {'memory': context.memory_limit_in_mb, 'ms': context.get_remaining_time_in_millis()}\n"
    )
    (tmp_path / "template.yaml").write_text(
        "Globals:\n  Function:\n    MemorySize: 256\n    Timeout: 30\n"
        "Resources:\n"
        "  Small:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: fn/, Handler: app.handler}\n"
        "  Big:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: fn/, Handler: app.handler, MemorySize: 3008, Timeout: 900}\n"
    )
    template = Template(tmp_path / "template.yaml")
    forget_loaded_handlers()
    try:
        # When each is invoked
        small, big = (invoke(template, name, {}) for name in ("Small", "Big"))
    finally:
        forget_loaded_handlers()
    # Then each context reports its own memory (Powertools logs it as function_memory_size) and timeout
    assert small["memory"] == 256 and 29_000 < small["ms"] <= 30_000
    assert big["memory"] == 3008 and 899_000 < big["ms"] <= 900_000
