"""Hostile input: every request below is a 4xx JSON body naming the problem, and nothing is stored."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from lead_ai_dev.local.events import api_event, load_event
from tests.conftest import ROOT, Api
from tests.faults.support import plain_client

pytestmark = pytest.mark.faults

GOOD_TS = "2026-11-24T12:00:00Z"


def _obs(*items: Any, **extra: Any) -> str:
    return json.dumps({"observations": list(items), **extra}, allow_nan=True)


def _invoke(
    api: Api, function: str, event_file: str, *, path: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    event = api_event(load_event(ROOT / "events", event_file), **kwargs)
    if path is not None:
        # A path no declared resource matches reaches a function only through a greedy proxy resource;
        # the router then has nothing but the path to go on.
        event["path"] = path
        event["resource"] = "/{proxy+}"
        event["pathParameters"] = {"proxy": path.lstrip("/")}
    return dict(api.invoke(function, event))


def _assert_rejected(api: Api, response: dict[str, Any], status: int | None = None) -> dict[str, Any]:
    assert 400 <= response["statusCode"] < 500, response
    if status is not None:
        assert response["statusCode"] == status, response
    payload = json.loads(response["body"])
    assert payload["error"] and payload["message"], payload
    assert "Traceback" not in response["body"]
    # nothing stored anywhere
    names = api.stack.names
    for table in ("ObservationsTable", "RegistryTable"):
        assert plain_client("dynamodb").scan(TableName=names[table])["Count"] == 0, table
    assert "Versions" not in plain_client("s3").list_object_versions(Bucket=names["ArtifactBucket"])
    return dict(payload)


BAD_SERIES = ["..%2Fx", "a%2Fb", "x" * 300, "s\u00e9rie", "\u0661\u0662", "a b", "a.b", "$(id)", "%00"]


@pytest.mark.parametrize("series_id", BAD_SERIES)
@pytest.mark.parametrize(
    ("function", "event_file"),
    [
        ("IngestFunction", "ingest-observations.json"),
        ("PredictFunction", "forecast.json"),
        ("PredictFunction", "models.json"),
        ("TrainFunction", "train.json"),
    ],
)
def test_bad_series_ids_are_400_naming_series_id(
    api: Api, function: str, event_file: str, series_id: str
) -> None:
    # (with a valid query where the route takes one: a parameter a route does not take is refused first)
    query = {"horizon": "3"} if event_file == "forecast.json" else {}
    response = _invoke(api, function, event_file, series_id=series_id, query=query)
    payload = _assert_rejected(api, response, 400)
    assert payload["field"] == "series_id"


@pytest.mark.parametrize(
    ("function", "event_file", "query"),
    [
        ("PredictFunction", "models.json", {"page_token": "eyJ2IjoxfQ"}),  # next_token misnamed
        ("PredictFunction", "pool-models.json", {"limit": "2", "pageToken": "x"}),
        ("PredictFunction", "series-list.json", {"limt": "2"}),
        ("PredictFunction", "series.json", {"verbose": "1"}),
        ("IngestFunction", "ingest-observations.json", {"interval": "15min"}),  # goes in the body
        ("IngestFunction", "put-series.json", {"timezone": "Europe/Berlin"}),  # goes in the body
        ("TrainFunction", "train.json", {"force": "true"}),
        ("TrainFunction", "promote.json", {"force": "true"}),
        ("TrainFunction", "promote-pool.json", {"force": "true"}),
        ("DeleteFunction", "delete-observations.json", {"from": "2026-11-20", "to": "2026-11-21", "dry_run": "1"}),
        ("DeleteFunction", "delete-series.json", {"dry_run": "1"}),
    ],
)  # fmt: skip
def test_a_query_parameter_a_route_does_not_take_is_400_naming_it(
    api: Api, function: str, event_file: str, query: dict[str, str]
) -> None:
    # Given a query parameter the route does not take (each was ignored: a misnamed page token listed
    # the first page again and again, a dry run deleted for real), beside any it does take
    unknown = next(name for name in query if name not in ("limit", "from", "to"))
    body = _obs({"timestamp": GOOD_TS, "value": 1}) if function == "IngestFunction" else None
    if event_file == "put-series.json":
        body = json.dumps({"interval": "1h"})
    # When the route is called, Then it is a 400 naming that parameter and what the route takes
    response = _invoke(
        api, function, event_file, series_id="s1", pool_id="pool:1h:UTC:none", version="1.0.0",
        query=query, body=body,
    )  # fmt: skip
    payload = _assert_rejected(api, response, 400)
    assert (payload["error"], payload["field"]) == ("invalid_request", unknown), payload
    assert "takes" in payload["message"], payload


@pytest.mark.parametrize(
    "path", ["/series/../x/observations", "/series/a/b/observations", "/series//observations"]
)
def test_paths_that_match_no_route_are_a_404_json(api: Api, path: str) -> None:
    response = _invoke(api, "IngestFunction", "ingest-observations.json", path=path)
    _assert_rejected(api, response, 404)


@pytest.mark.parametrize(
    # 673: past 7 days of the shortest interval (15min); 169 for an hourly series is refused once its
    # interval is known (tests/integration/test_staffing_route.py)
    "horizon",
    [None, "", "0", "-1", "1.5", "abc", "673", "1e2", " 5 5", "\u0663", "\uff13", "99999999999"],
)
def test_bad_horizons_are_400_naming_horizon(api: Api, horizon: str | None) -> None:
    query = {} if horizon is None else {"horizon": horizon}
    response = _invoke(api, "PredictFunction", "forecast.json", series_id="s1", query=query)
    assert _assert_rejected(api, response, 400)["field"] == "horizon"


@pytest.mark.parametrize(
    "version", ["1.0", "1.0.0.0", "x.y.z", "\uff11.0.0", "1.0.0%00", "-1.0.0", "01.0.0", "1.00.0"]
)
def test_bad_versions_are_400_naming_version(api: Api, version: str) -> None:
    response = _invoke(api, "TrainFunction", "promote.json", series_id="s1", version=version)
    assert _assert_rejected(api, response, 400)["field"] == "version"


HOSTILE_BODIES = [
    # (id, body, content type, status, field)
    ("malformed json", "{not json", "application/json", 400, "body"),
    ("json array", "[1, 2]", "application/json", 400, "body"),
    ("deeply nested", "[" * 100_000 + "]" * 100_000, "application/json", 400, "body"),
    ("NaN", _obs({"timestamp": GOOD_TS, "value": float("nan")}), "application/json", 400, "body"),
    ("Infinity", _obs({"timestamp": GOOD_TS, "value": float("inf")}), "application/json", 400, "body"),
    ("-Infinity", _obs({"timestamp": GOOD_TS, "value": float("-inf")}), "application/json", 400, "body"),
    (
        "1e400",
        '{"observations": [{"timestamp": "' + GOOD_TS + '", "value": 1e400}]}',
        "application/json",
        400,
        "value",
    ),
    ("negative", _obs({"timestamp": GOOD_TS, "value": -1}), "application/json", 400, "value"),
    ("string value", _obs({"timestamp": GOOD_TS, "value": "7"}), "application/json", 400, "value"),
    ("bool value", _obs({"timestamp": GOOD_TS, "value": True}), "application/json", 400, "value"),
    ("null value", _obs({"timestamp": GOOD_TS, "value": None}), "application/json", 400, "value"),
    ("huge int", _obs({"timestamp": GOOD_TS, "value": 10**30}), "application/json", 400, "value"),
    ("unparseable ts", _obs({"timestamp": "yesterday", "value": 1}), "application/json", 400, "timestamp"),
    (
        "month 13",
        _obs({"timestamp": "2026-13-01T00:00:00Z", "value": 1}),
        "application/json",
        400,
        "timestamp",
    ),
    ("epoch number ts", _obs({"timestamp": 1790000000, "value": 1}), "application/json", 400, "timestamp"),
    (
        "year 1",
        _obs({"timestamp": "0001-01-01T00:00:00+14:00", "value": 1}),
        "application/json",
        400,
        "timestamp",
    ),
    (
        "far future",
        _obs({"timestamp": "9999-12-31T23:00:00Z", "value": 1}),
        "application/json",
        400,
        "timestamp",
    ),
    (
        "off the grid",
        _obs({"timestamp": "2026-11-24T12:30:00Z", "value": 1}),
        "application/json",
        400,
        "timestamp",
    ),
    (
        "fraction of a second",
        _obs({"timestamp": "2026-11-24T12:00:00.5Z", "value": 1}),
        "application/json",
        400,
        "timestamp",
    ),
    (
        "unknown top field",
        _obs({"timestamp": GOOD_TS, "value": 1}, admin=True),
        "application/json",
        400,
        "admin",
    ),
    (
        "unknown item field",
        _obs({"timestamp": GOOD_TS, "value": 1, "series_id": "x"}),
        "application/json",
        400,
        "observations[0]",
    ),
    (
        "bad interval",
        _obs({"timestamp": GOOD_TS, "value": 1}, interval="1s"),
        "application/json",
        400,
        "interval",
    ),
    ("no observations", _obs(), "application/json", 400, "observations"),
    (  # json keeps the last of a repeated key: the first list was dropped unseen, with a 200
        "observations twice",
        '{"observations": [{"timestamp": "2026-11-24T11:00:00Z", "value": 1}], '
        '"observations": [{"timestamp": "2026-11-24T12:00:00Z", "value": 2}]}',
        "application/json",
        400,
        "observations",
    ),
    (
        "value twice",
        '{"observations": [{"timestamp": "' + GOOD_TS + '", "value": 1, "value": 5}]}',
        "application/json",
        400,
        "value",
    ),
    ("empty body", "", "application/json", 400, "body"),
    ("text/plain", _obs({"timestamp": GOOD_TS, "value": 1}), "text/plain", 415, "Content-Type"),
    ("form", "timestamp=1&value=2", "application/x-www-form-urlencoded", 415, "Content-Type"),
    ("csv without header", f"{GOOD_TS},1\n", "text/csv", 400, "body"),
    ("csv 3 cells", f"timestamp,value\n{GOOD_TS},1,2\n", "text/csv", 400, "line"),
    ("csv text value", f"timestamp,value\n{GOOD_TS},lots\n", "text/csv", 400, "value"),
    ("csv nan", f"timestamp,value\n{GOOD_TS},nan\n", "text/csv", 400, "value"),
    ("csv huge cell", "timestamp,value\n" + "9" * 200_000 + ",1\n", "text/csv", 400, ""),
    ("csv NUL", f"timestamp,value\n{GOOD_TS}\x00,1\n", "text/csv", 400, "timestamp"),
    (
        "lone surrogate",
        '{"observations": [{"timestamp": "\ud800", "value": 1}]}',
        "application/json",
        400,
        "",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [c[1:] for c in HOSTILE_BODIES],
    ids=[c[0] for c in HOSTILE_BODIES],
)
def test_hostile_ingest_bodies_are_4xx_naming_the_problem(
    api: Api, body: str, content_type: str, status: int, field: str
) -> None:
    response = _invoke(
        api,
        "IngestFunction",
        "ingest-observations.json",
        series_id="s1",
        body=body,
        content_type=content_type,
    )
    payload = _assert_rejected(api, response, status)
    assert field in (payload.get("field") or ""), payload


def test_a_body_over_the_size_limit_is_413(api: Api) -> None:
    item = {"timestamp": GOOD_TS, "value": 1}
    body = _obs(*[item] * 40_000)
    assert len(body) > 1_048_576
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    assert _assert_rejected(api, response, 413)["field"] == "body"


def test_more_observations_than_the_cap_is_400(api: Api) -> None:
    body = _obs(*[{"timestamp": GOOD_TS, "value": 1}] * 10_001)
    assert len(body) < 1_048_576
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    payload = _assert_rejected(api, response, 400)
    assert payload["field"] == "observations" and "10000" in payload["message"]


def test_a_missing_content_type_is_415(api: Api) -> None:
    event = api_event(load_event(ROOT / "events", "ingest-observations.json"), series_id="s1")
    for headers in (event["headers"], event["multiValueHeaders"]):
        for name in [n for n in headers if n.lower() == "content-type"]:
            del headers[name]
    assert _assert_rejected(api, dict(api.invoke("IngestFunction", event)), 415)["field"] == "Content-Type"


@pytest.mark.parametrize(
    "raw",
    [b"not base64 at all!!", base64.b64encode(b"\xff\xfe\x00garbage"), base64.b64encode(b"{not json")],
    ids=["invalid base64", "not utf-8", "malformed json inside"],
)
def test_hostile_base64_bodies_are_400(api: Api, raw: bytes) -> None:
    event = api_event(
        load_event(ROOT / "events", "ingest-observations.json"), series_id="s1", body=raw.decode()
    )
    event["isBase64Encoded"] = True
    assert _assert_rejected(api, dict(api.invoke("IngestFunction", event)), 400)["field"] == "body"


def test_a_valid_base64_body_is_accepted(api: Api) -> None:
    body = base64.b64encode(_obs({"timestamp": GOOD_TS, "value": 4}).encode()).decode()
    event = api_event(load_event(ROOT / "events", "ingest-observations.json"), series_id="s1", body=body)
    event["isBase64Encoded"] = True
    response = api.invoke("IngestFunction", event)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["accepted"] == 1


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_one_timestamp_with_two_values_is_400_naming_both(api: Api, content_type: str) -> None:
    # Given a batch where one timestamp comes twice with different values (issue #10: "silently collapsed,
    # last wins")
    rows = [(GOOD_TS, 3.0), ("2026-11-24T13:00:00Z", 4.0), (GOOD_TS, 5.0)]
    body = (
        _obs(*[{"timestamp": t, "value": v} for t, v in rows])
        if content_type == "application/json"
        else "timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows)
    )
    # When it is ingested
    response = _invoke(
        api,
        "IngestFunction",
        "ingest-observations.json",
        series_id="s1",
        body=body,
        content_type=content_type,
    )
    # Then it is a 400 naming both observations (by their place in the body: the CSV's lines, the header
    # being line 1) and the timestamp, and nothing is stored
    payload = _assert_rejected(api, response, 400)
    first, second = (
        ("observations[0]", "observations[2]") if content_type == "application/json" else ("line 2", "line 4")
    )
    assert payload["field"] == f"{second}.timestamp"
    assert f"{first} and {second}" in payload["message"] and GOOD_TS in payload["message"]


def test_one_timestamp_sent_twice_with_the_same_value_is_one_observation(api: Api) -> None:
    body = _obs(*[{"timestamp": GOOD_TS, "value": 3}] * 2, {"timestamp": "2026-11-24T13:00:00Z", "value": 4})
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    assert response["statusCode"] == 200, response
    payload = json.loads(response["body"])
    assert (payload["accepted"], payload["span"]["observations"]) == (2, 2)


@pytest.mark.parametrize(("interval", "step"), [("1h", 3600), ("15min", 900), ("1d", 86400)])
def test_a_timestamp_more_than_one_interval_after_the_request_is_refused(
    api: Api, interval: str, step: int
) -> None:
    # Given the slot after the next one (more than one interval after now; issue #10: a point stamped
    # 20 h in the future was accepted and moved the forecast's origin)
    now = time.time()
    too_late = (now // step + 2) * step
    body = _obs({"timestamp": _iso(too_late), "value": 1}, interval=interval)
    # When it is ingested, Then it is a 400 naming the field and the rule, and nothing is stored
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    payload = _assert_rejected(api, response, 400)
    assert payload["field"] == "observations[0].timestamp"
    assert f"one interval ({interval})" in payload["message"]


@pytest.mark.parametrize(
    "timestamp", ["9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T12:00:00-13:00"]
)
def test_a_daily_timestamp_whose_date_is_past_the_calendar_is_400(api: Api, timestamp: str) -> None:
    # Given a daily observation stamped with an offset that puts its date in year 10000 or year 0 (its
    # local date was read with datetime, which stops at 9999: a 500 internal_error)
    body = _obs({"timestamp": timestamp, "value": 1}, interval="1d")
    # When it is ingested, Then it is a 400 naming the field and the rule, and nothing is stored
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    payload = _assert_rejected(api, response, 400)
    assert payload["field"] == "observations[0].timestamp", payload
    assert "between 1990-01-01 and now" in payload["message"], payload


def test_the_current_and_the_next_slot_are_accepted(api: Api) -> None:
    # Given the slot now is in, and the next one (at most one interval after the request)
    now = time.time()
    slots = [(now // 3600) * 3600, (now // 3600 + 1) * 3600]
    body = _obs(*[{"timestamp": _iso(t), "value": 1} for t in slots])
    response = _invoke(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    assert response["statusCode"] == 200, response


def test_a_csv_error_names_the_line_and_shows_what_was_sent(api: Api) -> None:
    # Given a CSV whose third data line (line 4 of the file, the header being line 1) has no number
    body = f"timestamp,value\n{GOOD_TS},1\n2026-11-24T13:00:00Z,2\n2026-11-24T14:00:00Z,lots\n"
    # When it is ingested
    response = _invoke(
        api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body, content_type="text/csv"
    )
    # Then the 400 names that line and quotes the cell, and nothing is stored
    payload = _assert_rejected(api, response, 400)
    assert payload["field"] == "line 4.value" and "'lots'" in payload["message"], payload


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # blank lines are skipped, yet counted: the bad cell is on line 6 of the file
        ("timestamp,value\n\n\n2026-11-02T00:00:00Z,3\n\n2026-11-02T01:00:00Z,abc\n", "line 6.value"),
        # a quoted cell over lines 2-4: the row of 3 cells is line 5
        ('timestamp,value\n2026-11-02T00:00:00Z,"3\n\n"\n2026-11-02T01:00:00Z,4,5\n', "line 5"),
    ],
    ids=["blank lines", "multi-line cell"],
)
def test_csv_lines_are_counted_as_the_file_has_them(api: Api, body: str, field: str) -> None:
    response = _invoke(
        api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body, content_type="text/csv"
    )
    assert _assert_rejected(api, response, 400)["field"] == field
