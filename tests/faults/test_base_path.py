"""Routes match behind a custom domain's base path. Issue #10: "an API with a custom domain base path
(`/leads/series/…`): every route 404s: the router matches the raw `path`".

With a base path mapping, API Gateway's event keeps `resource` (the route it matched) and
`pathParameters`, and puts the mapping's prefix in `path`: /leads/series/acme/forecast.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lead_ai_dev.local.demo import _iso
from lead_ai_dev.local.events import api_event, load_event
from tests.conftest import ROOT, Api
from tests.faults.conftest import SERIES, CannedTraining, add_hour

pytestmark = pytest.mark.faults


def _behind_base_path(api: Api, function: str, event_file: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    event = api_event(load_event(ROOT / "events", event_file), series_id=SERIES, **kwargs)
    event["path"] = "/leads" + event["path"]
    event["requestContext"]["path"] = event["path"]  # a custom domain has no stage in the path
    response = api.invoke(function, event)
    return response["statusCode"], json.loads(response["body"])


def test_every_route_answers_behind_a_base_path(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    stamps, values = small_history
    body = json_body(stamps, values)
    canned_training.mase = [0.7, 0.6]
    # When every route is called through /leads/series/...
    assert _behind_base_path(fast_api, "IngestFunction", "ingest-observations.json", body=body)[0] == 200
    assert _behind_base_path(fast_api, "TrainFunction", "train.json")[0] == 201
    add_hour(fast_api, small_history)
    assert _behind_base_path(fast_api, "TrainFunction", "train.json")[0] == 201
    status, forecast = _behind_base_path(fast_api, "PredictFunction", "forecast.json", query={"horizon": "3"})
    assert (status, len(forecast["forecast"])) == (200, 3)
    status, models = _behind_base_path(fast_api, "PredictFunction", "models.json")
    assert (status, len(models["versions"])) == (200, 2)
    assert _behind_base_path(fast_api, "TrainFunction", "promote.json", version="1.0.0")[0] == 200
    status, removed = _behind_base_path(
        fast_api,
        "DeleteFunction",
        "delete-observations.json",
        query={"from": "2026-10-25T00:00:00Z", "to": "2026-10-25T23:00:00Z"},
    )
    assert (status, removed["removed"]) == (200, 24)
    # Then each reached its handler, down to deleting the series
    status, deleted = _behind_base_path(fast_api, "DeleteFunction", "delete-series.json")
    assert (status, deleted["deleted"]["model_versions"]) == (200, 2)


def json_body(stamps: Any, values: Any) -> str:
    points = [{"timestamp": _iso(t), "value": float(v)} for t, v in zip(stamps, values, strict=True)]
    return json.dumps({"observations": points})
