"""The OpenAPI document and the routes cannot drift apart: every route of template.yaml and of the
RestApp routes in functions/*/app.py has a contract in lead_ai/api/openapi.py, every contract a route,
docs/openapi.json is what the code generates, and building it never touches the forecast path."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

from openapi_spec_validator import validate

from lead_ai.api.openapi import OPERATIONS, document
from lead_ai_dev.local.template import Template
from lead_ai_dev.openapi_file import rendered
from tests.conftest import ROOT

Route = tuple[str, str]  # (METHOD, /path/{param})
_DECORATOR_METHODS = {"get", "post", "put", "delete", "patch"}


def template_routes() -> dict[Route, str]:
    template = Template(ROOT / "template.yaml")
    return {
        (event.method, event.path): f"template.yaml {logical_id}.{event.name}"
        for logical_id in template.function_ids()
        for event in template.function(logical_id).api_events
    }


def _route_decorators() -> Iterator[tuple[Route, str, ast.Call]]:
    """`@app.get("/series/<series_id>/forecast", query=(...))` and the like in every functions/*/app.py:
    the route, where it is, and the decorator's call."""
    for path in sorted(ROOT.glob("functions/*/app.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in _DECORATOR_METHODS
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                    and isinstance(decorator.args[0].value, str)
                ):
                    route_path = re.sub(r"<(\w+)>", r"{\1}", decorator.args[0].value)
                    where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                    yield (decorator.func.attr.upper(), route_path), where, decorator


def app_routes() -> dict[Route, str]:
    return {route: where for route, where, _ in _route_decorators()}


def app_route_queries() -> dict[Route, tuple[str, ...]]:
    """The `query=` each route declares: a tuple, or a name from lead_ai.api's request modules."""
    import lead_ai.api.pagination
    import lead_ai.api.requests

    names = vars(lead_ai.api.pagination) | vars(lead_ai.api.requests)
    found: dict[Route, tuple[str, ...]] = {}
    for route, _, decorator in _route_decorators():
        query = next((k.value for k in decorator.keywords if k.arg == "query"), None)
        if query is None:
            found[route] = ()
        else:
            found[route] = names[query.id] if isinstance(query, ast.Name) else ast.literal_eval(query)
    return found


def documented_routes() -> set[Route]:
    return {(operation.method, operation.path) for operation in OPERATIONS}


def _how_to_add(route: Route, where: str) -> str:
    method, path = route
    params = re.findall(r"\{(\w+)\}", path)
    parameters = ", ".join(p.upper() for p in params) + ("," if len(params) == 1 else "")
    literal = [s for s in path.split("/") if s and not s.startswith("{")]
    name = method.lower() + "".join(
        part.title() for s in literal for part in re.split(r"[^A-Za-z]+", s) if part
    )
    return (
        f"  {method} {path} (routed by {where}) has no contract. Add to OPERATIONS in lead_ai/api/openapi.py:\n"
        f'    Operation("{method}", "{path}", "{name}", "<summary>", "<description>",\n'
        f'              ({parameters}), (200, MEDIA_JSON, "<a schema in SCHEMAS>"), (400, 404)),\n'
        f"  (parameters: SERIES_ID, VERSION, HORIZON, LEVEL or a new Parameter(...); error statuses: those the\n"
        f"  route answers besides 403, 500 and 503), then run `make openapi` to rewrite docs/openapi.json."
    )


def test_every_route_has_a_contract() -> None:
    # Given the routes the template sends to functions and the routes the functions' apps answer
    routed = {**app_routes(), **template_routes()}
    # When compared with the contracts of the OpenAPI document
    missing = sorted(set(routed) - documented_routes())
    # Then none is missing, and the message says what to write for each
    assert not missing, "\n" + "\n".join(_how_to_add(route, routed[route]) for route in missing)


def test_every_contract_is_routed_by_the_template_and_answered_by_an_app() -> None:
    # Given the contracts, the template's routes and the apps' routes
    template, apps = template_routes(), app_routes()
    # Then each contract has both (one without the other is a 403 from API Gateway or a 404 from RestApp)
    for route in sorted(documented_routes()):
        assert route in template, f"{route} has a contract but no Api event in template.yaml"
        assert route in apps, f"{route} has a contract but no @app.{route[0].lower()} in functions/*/app.py"
    # and the template and the apps agree with each other
    assert set(template) == set(apps), set(template) ^ set(apps)


def test_each_route_takes_exactly_the_query_parameters_its_contract_documents() -> None:
    # Given the query parameters each route declares to the router (any other is a 400 there)
    declared = app_route_queries()
    # Then each is the set its contract documents: a documented one refused, or an undocumented one
    # accepted, would be a contract the API does not keep
    for operation in OPERATIONS:
        documented = {p.name for p in operation.parameters if p.where == "query"}
        route = (operation.method, operation.path)
        assert set(declared[route]) == documented, (route, sorted(declared[route]), sorted(documented))


def test_the_staffing_route_takes_horizon_every_staffing_assumption_and_the_opening_hours() -> None:
    from lead_ai.api.requests import STAFFING_QUERY
    from lead_ai.domain.opening_hours import OpeningHours
    from lead_ai.domain.staffing import StaffingAssumptions

    opening = tuple(OpeningHours().describe())
    assert ("horizon", *StaffingAssumptions._fields, *opening) == STAFFING_QUERY


def test_docs_openapi_json_is_what_the_code_generates() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == rendered(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_the_document_is_valid_openapi_3_with_the_api_key_on_every_operation() -> None:
    spec = document()
    validate(spec)  # raises on any violation of the OpenAPI 3.0 schema
    assert spec["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "403" in responses and "500" in responses and "503" in responses, (method, path)
            errors = [code for code in responses if code.startswith(("4", "5")) and code != "403"]
            assert all(
                responses[code]["content"]["application/json"]["schema"]
                == {"$ref": "#/components/schemas/Error"}
                for code in errors
            )
    assert spec["components"]["schemas"]["Error"]["required"] == ["error", "message"]
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"error", "message", "field"}


def test_the_ingest_contract_takes_json_and_csv() -> None:
    body = document()["paths"]["/series/{series_id}/observations"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/csv"}


_PROBE = """
import importlib.util, json, sys
import lead_ai.api.openapi
spec = importlib.util.spec_from_file_location("predict_app", "functions/predict/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"modules": sorted(sys.modules), "cache": lead_ai.api.openapi.document.cache_info().currsize}))
"""


def test_the_prediction_function_loads_neither_the_document_nor_the_page_at_init() -> None:
    # Given a fresh interpreter with the prediction function's environment
    env = {
        **os.environ,
        "LEAD_AI_BUCKET": "b",
        "LEAD_AI_REGISTRY_TABLE": "r",
        "LEAD_AI_OBSERVATIONS_TABLE": "o",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # When the openapi module is imported and the handler module loaded (a cold start)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    # Then the document was not built, and the handler imported neither the page nor the staffing code
    assert loaded["cache"] == 0
    modules = set(loaded["modules"])
    assert {
        "lead_ai.api.dashboard",
        "lead_ai.service.overview",
        "lead_ai.service.staffing",
        "lead_ai.domain.staffing",
    }.isdisjoint(modules)


def test_the_series_contract_names_every_field_of_its_current_model() -> None:
    # Given the answer of GET /series/{id} for a series with a model (tests/e2e checks the HTTP round trip)
    from lead_ai.api.series_responses import series_body
    from lead_ai.domain.models import ModelVersion
    from lead_ai.domain.series import SeriesInfo, SeriesSettings
    from lead_ai.service.series import SeriesView

    spec = {"interval_seconds": 3600, "timezone": "America/New_York", "holidays": "US", "max_horizon": 168}
    current = ModelVersion("acme", "1.0.0", "verified", "2026-12-01T00:00:00Z", spec, {}, {}, promoted_at="x")
    view = SeriesView(SeriesInfo("acme", 3600, 1, 1), SeriesSettings(3600, "America/New_York", "US"), current)
    model = series_body(view)["current_model"]
    # Then the Series schema documents each of its fields
    documented = document()["components"]["schemas"]["Series"]["properties"]["current_model"]["properties"]
    assert set(model) <= set(documented), sorted(set(model) - set(documented))


def test_a_series_nothing_answers_yet_conforms_to_the_series_list_contract() -> None:
    # Given GET /series' entry for a series with no model and no pool (docs/fleet.md: model_scope null)
    from openapi_schema_validator import OAS30Validator

    entry = {
        "series_id": "new-team",
        "interval": "1h",
        "span": {"first": "2026-11-24T09:00:00Z", "last": "2026-11-24T11:00:00Z", "observations": 3},
        "revision": 1,
        "current_version": None,
        "model_scope": None,
        "last_training": None,
        "due": True,
        "last_failure": None,
    }
    # Then the contract accepts it (an enum with nullable must list null itself)
    doc = document()
    schema = {**doc["components"]["schemas"]["SeriesSummary"], "components": doc["components"]}
    errors = [e.message for e in OAS30Validator(schema).iter_errors(entry)]
    assert errors == []
