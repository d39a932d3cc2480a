"""Property-based fuzzing of every route: no path parameter, query string, header or body yields a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead_ai_dev.local.events import load_event
from tests.conftest import ROOT, Api

pytestmark = pytest.mark.faults

ROUTES = [
    ("IngestFunction", "ingest-observations.json"),
    ("PredictFunction", "forecast.json"),
    ("PredictFunction", "models.json"),
    ("TrainFunction", "promote.json"),
    ("TrainFunction", "train.json"),
    ("IngestFunction", "put-series.json"),
    ("PredictFunction", "series.json"),
    ("PredictFunction", "staffing.json"),
]
_segment = st.one_of(
    st.sampled_from(["s1", "acme-inbound", "..", "", "a/b", "x" * 65, "%2F", "1.0.0", "9.9.9"]),
    st.text(max_size=70),
)
_observation = st.fixed_dictionaries(
    {
        "timestamp": st.one_of(
            st.sampled_from(["2026-11-24T12:00:00Z", "2026-11-24T12:30:00Z", "1970-01-01T00:00:00Z"]),
            st.text(max_size=30),
            st.integers(),
        ),
        "value": st.one_of(
            st.floats(allow_nan=True), st.integers(), st.text(max_size=5), st.none(), st.booleans()
        ),
    }
)
_json_body = st.one_of(
    st.builds(lambda obs: json.dumps({"observations": obs}), st.lists(_observation, max_size=5)),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=10)),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    ).map(lambda v: json.dumps(v)),
)
_settings_body = st.fixed_dictionaries(
    {},
    optional={
        "interval": st.one_of(st.sampled_from(["1h", "15min", "2h", ""]), st.text(max_size=8), st.integers()),
        "timezone": st.one_of(
            st.sampled_from(["America/New_York", "Asia/Kolkata", "../x", "UTC"]), st.text(max_size=20)
        ),
        "holidays": st.one_of(st.sampled_from(["US", "DE-BY", "xx", "none"]), st.text(max_size=8)),
    },
).map(json.dumps)
_body = st.one_of(
    st.none(),
    _json_body,
    _settings_body,
    st.text(max_size=200),
    st.just("timestamp,value\n2026-11-24T12:00:00Z,1\n"),
)
_headers = st.dictionaries(
    st.sampled_from(
        ["Content-Type", "content-type", "Accept", "X-Forwarded-For", "Content-Length", "x-api-key"]
    ),
    st.one_of(
        st.sampled_from(["application/json", "text/csv", "text/plain; charset=utf-8", ""]),
        st.text(max_size=30),
    ),
    max_size=3,
)
_query = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["horizon", "level", "x", "", "quantile", "shrinkage", "handle_seconds"]),
        st.one_of(st.sampled_from(["1", "24", "0", "-1", "nan", "1e9", "0.8"]), st.text(max_size=12)),
        max_size=3,
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    series_id=_segment,
    version=_segment,
    query=_query,
    body=_body,
    headers=_headers,
    base64=st.booleans(),
)
def test_no_request_yields_a_5xx(
    api: Api,
    route: tuple[str, str],
    series_id: str,
    version: str,
    query: dict[str, str] | None,
    body: str | None,
    headers: dict[str, str],
    base64: bool,
) -> None:
    function, event_file = route
    event: dict[str, Any] = load_event(ROOT / "events", event_file)
    event["pathParameters"] = {"series_id": series_id, "version": version}
    path = event["resource"].replace("{series_id}", series_id).replace("{version}", version)
    event["path"] = path
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    event["body"] = body
    event["isBase64Encoded"] = base64
    response = api.invoke(function, event)
    assert response["statusCode"] < 500, (response, event)
    payload = json.loads(response["body"])
    assert isinstance(payload, dict)
    if response["statusCode"] >= 400:
        assert payload.get("error") and payload.get("message"), payload
