"""RestApp routes and answers exactly as Powertools' APIGatewayRestResolver, which it replaces (lead_ai/api/router.py
says why): the same paths match, with the same parameters, and the answers have the same shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from hypothesis import given, settings
from hypothesis import strategies as st

from lead_ai.api.router import RestApp
from lead_ai.errors import ServiceUnavailableError, ValidationError

ROUTES = [
    ("GET", "/series/<series_id>/forecast"),
    ("GET", "/series/<series_id>/models"),
    ("POST", "/series/<series_id>/observations"),
    ("POST", "/series/<series_id>/train"),
    ("POST", "/series/<series_id>/models/<version>/promote"),
]


def _apps() -> tuple[RestApp, APIGatewayRestResolver]:
    ours, theirs = RestApp(), APIGatewayRestResolver()
    for method, path in ROUTES:
        for app in (ours, theirs):
            register = app.get if method == "GET" else app.post

            def handler(_path: str = path, **params: str) -> dict[str, Any]:
                return {"route": _path, "params": params}

            register(path)(handler)
    return ours, theirs


OURS, THEIRS = _apps()
NO_CONTEXT: Any = None  # neither router reads the Lambda context on these routes


def event(method: str, path: str) -> dict[str, Any]:
    return {"httpMethod": method, "path": path, "headers": {}, "queryStringParameters": None, "body": None}


_segment = st.one_of(
    st.sampled_from(["s1", "acme-inbound", "..", "", "a/b", "%2F", "1.0.0", "x y", "ü", "a\nb", "{id}"]),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "get", "OPTIONS"]),
    template=st.sampled_from([p for _, p in ROUTES] + ["/series/<series_id>", "/<series_id>/forecast"]),
    first=_segment,
    second=_segment,
    trailing=st.sampled_from(["", "/", "//"]),
)
def test_every_path_matches_as_powertools_matches_it(
    method: str, template: str, first: str, second: str, trailing: str
) -> None:
    # Given any path built from hostile segments
    path = template.replace("<series_id>", first).replace("<version>", second) + trailing
    # When both routers resolve it
    ours = OURS.resolve(event(method, path), NO_CONTEXT)
    theirs = THEIRS.resolve(event(method, path), NO_CONTEXT)
    # Then the same route answers with the same parameters, or both answer 404
    assert ours["statusCode"] == theirs["statusCode"]
    if theirs["statusCode"] == 200:
        assert json.loads(ours["body"]) == json.loads(theirs["body"])
        assert ours == theirs  # byte for byte, headers included


def test_errors_are_one_json_answer_per_exception_with_retry_after_on_5xx() -> None:
    # Given routes that fail with a caller's mistake, an outage, and a bug
    app = RestApp()

    @app.get("/bad")
    def bad() -> None:
        raise ValidationError("horizon must be an integer from 1 to 168", field="horizon")

    @app.get("/down")
    def down() -> None:
        raise ServiceUnavailableError("the model store is unavailable", retry_after_seconds=7)

    @app.get("/bug")
    def bug() -> None:
        raise KeyError("secret detail")

    # When each is resolved
    answers = {name: app.resolve(event("GET", f"/{name}"), None) for name in ("bad", "down", "bug")}
    # Then each is one JSON body naming the error, and 5xx say when to retry
    assert answers["bad"]["statusCode"] == 400
    assert json.loads(answers["bad"]["body"]) == {
        "error": "invalid_request",
        "message": "horizon must be an integer from 1 to 168",
        "field": "horizon",
    }
    assert answers["down"]["statusCode"] == 503
    assert answers["down"]["multiValueHeaders"]["Retry-After"] == ["7"]
    assert answers["bug"]["statusCode"] == 500
    assert "secret detail" not in answers["bug"]["body"]
    for answer in answers.values():
        assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_a_handler_reads_the_request_it_is_answering() -> None:
    # Given a route reading the query string (a parameter it declares) and the body
    app = RestApp()

    @app.post("/echo/<name>", query=("level",))
    def echo(name: str) -> tuple[dict[str, Any], int]:
        request = app.current_event
        return {
            "name": name,
            "level": request.get_query_string_value("level", "0.8"),
            "body": request.body,
        }, 201

    # When it is called with both
    answer = app.resolve(
        {**event("POST", "/echo/x"), "queryStringParameters": {"level": "0.9"}, "body": "{}"}, None
    )
    # Then it answers with the status it chose, and the request is gone once answered
    assert answer["statusCode"] == 201
    assert json.loads(answer["body"]) == {"name": "x", "level": "0.9", "body": "{}"}
    with pytest.raises(RuntimeError, match="current_event"):
        _ = app.current_event


def test_a_query_parameter_the_route_does_not_declare_is_400_before_the_handler_runs() -> None:
    # Given a route that takes `level` only, and counts its calls
    app, calls = RestApp(), []

    @app.get("/echo/<name>", query=("level",))
    def echo(name: str) -> dict[str, Any]:
        calls.append(name)
        return {}

    # When it is called with a misspelt `levle` beside `level`
    query = {"level": "0.9", "levle": "0.95"}
    answer = app.resolve({**event("GET", "/echo/x"), "queryStringParameters": query}, None)
    # Then it is a 400 naming the parameter and what this route takes, and the handler never ran
    body = json.loads(answer["body"])
    assert (answer["statusCode"], body["field"]) == (400, "levle"), body
    assert "GET /echo/{name} takes level" in body["message"], body
    assert calls == []
    # And a route that declares none refuses any
    app.post("/bare")(lambda: {})
    bare = app.resolve({**event("POST", "/bare"), "queryStringParameters": {"x": "1"}}, None)
    assert bare["statusCode"] == 400
    assert "takes no query parameters" in json.loads(bare["body"])["message"]
    assert app.routes == [("GET", "/echo/{name}", ("level",)), ("POST", "/bare", ())]


@pytest.mark.parametrize("base_path", ["", "/leads", "/v2/leads", "/Prod"])
@pytest.mark.parametrize(
    ("method", "route", "resource", "parameters"),
    [
        ("GET", "/series/<series_id>/forecast", "/series/{series_id}/forecast", {"series_id": "acme"}),
        ("GET", "/series/<series_id>/models", "/series/{series_id}/models", {"series_id": "acme"}),
        (
            "POST",
            "/series/<series_id>/models/<version>/promote",
            "/series/{series_id}/models/{version}/promote",
            {"series_id": "acme", "version": "1.2.0"},
        ),
    ],
)
def test_the_route_api_gateway_matched_is_answered_wherever_the_api_is_mounted(
    base_path: str, method: str, route: str, resource: str, parameters: dict[str, str]
) -> None:
    # Given an event as API Gateway sends it behind a custom domain's base path mapping: the matched
    # resource and its parameters, and the path with the mapping's prefix
    path = base_path + resource.format(**parameters)
    routed = {**event(method, path), "resource": resource, "pathParameters": parameters}
    # When our router resolves it
    answer = OURS.resolve(routed, NO_CONTEXT)
    # Then the route answers with API Gateway's parameters (Powertools' resolver, matching the raw path,
    # finds no route once there is a prefix)
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"]) == {"route": route, "params": parameters}
    if base_path:
        assert THEIRS.resolve(routed, NO_CONTEXT)["statusCode"] == 404


def test_an_event_whose_resource_is_no_route_falls_back_to_the_path() -> None:
    # Given a greedy proxy resource (or a resource missing its parameters)
    for extra in (
        {"resource": "/{proxy+}", "pathParameters": {"proxy": "series/x/forecast"}},
        {"resource": "/series/{series_id}/forecast", "pathParameters": None},
    ):
        routed = {**event("GET", "/series/x/forecast"), **extra}
        # Then the path decides, as it did before
        answer = OURS.resolve(routed, NO_CONTEXT)
        assert json.loads(answer["body"]) == {
            "route": "/series/<series_id>/forecast",
            "params": {"series_id": "x"},
        }


def test_delete_routes_match_by_method() -> None:
    app = RestApp()

    @app.delete("/series/<series_id>")
    def gone(series_id: str) -> dict[str, str]:
        return {"deleted": series_id}

    assert app.resolve(event("DELETE", "/series/a"), None)["statusCode"] == 200
    assert app.resolve(event("GET", "/series/a"), None)["statusCode"] == 404


def test_a_query_parameter_given_twice_is_refused_naming_it_before_the_handler_runs() -> None:
    # Given a route taking both, and API Gateway's event for ?horizon=24&horizon=48&level=0.8
    app, called = RestApp(), []

    @app.get("/forecast", query=("horizon", "level"))
    def forecast() -> dict[str, Any]:
        called.append(1)
        return {}

    request = event("GET", "/forecast") | {
        "queryStringParameters": {"horizon": "48", "level": "0.8"},
        "multiValueQueryStringParameters": {"horizon": ["24", "48"], "level": ["0.8"]},
    }
    # When it is resolved
    answer = app.resolve(request, NO_CONTEXT)
    # Then it is a 400 naming the repeated parameter, and the handler never ran
    assert answer["statusCode"] == 400 and called == []
    assert json.loads(answer["body"])["field"] == "horizon"
    # And a parameter given once passes
    single = request | {"multiValueQueryStringParameters": {"horizon": ["48"], "level": ["0.8"]}}
    assert app.resolve(single, NO_CONTEXT)["statusCode"] == 200 and called == [1]
