"""An Excel "CSV UTF-8" export starts with a byte-order mark: the API reads it as the CSV it is."""

from __future__ import annotations

import base64

import pytest

from lead_ai_dev.local.events import api_event, load_event
from tests.conftest import ROOT, Api

CSV = "timestamp,value\r\n2026-11-02T00:00:00Z,3\r\n2026-11-02T01:00:00Z,4\r\n"


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["text", "base64"])
def test_a_csv_with_a_byte_order_mark_is_accepted(api: Api, base64_encoded: bool) -> None:
    # Given Excel's CSV UTF-8 (a BOM, CRLF line ends), as text or as a base64 binary body
    body = "\ufeff" + CSV
    event_body = base64.b64encode(body.encode()).decode() if base64_encoded else body
    event = api_event(
        load_event(ROOT / "events", "ingest-observations-csv.json"), series_id="excel", body=event_body
    )
    event["isBase64Encoded"] = base64_encoded
    # When it is posted
    response = api.invoke("IngestFunction", event)
    # Then both rows are stored, the header read as `timestamp,value`
    assert response["statusCode"] == 200, response["body"]
    assert '"accepted":2' in response["body"]


def test_a_csv_whose_lines_end_in_a_lone_carriage_return_is_accepted(api: Api) -> None:
    # Given Excel for Mac's "CSV (Macintosh)": lines end in CR alone (it was a 400 quoting Python: "new-line
    # character seen in unquoted field - do you need to open the file in universal-newline mode?")
    body = CSV.replace("\r\n", "\r")
    # When it is posted, Then both rows are stored
    status, payload, _ = api.call(
        "IngestFunction", "ingest-observations-csv.json", series_id="mac", body=body, content_type="text/csv"
    )
    assert (status, payload.get("accepted")) == (200, 2), payload
    # And an error in such a file names its line as the file has them
    status, payload, _ = api.call(
        "IngestFunction",
        "ingest-observations-csv.json",
        series_id="mac",
        body=body + "2026-11-02T02:00:00Z,lots\r",
        content_type="text/csv",
    )
    assert (status, payload["field"]) == (400, "line 4.value"), payload


def test_a_json_body_with_a_byte_order_mark_is_accepted(api: Api) -> None:
    body = '\ufeff{"observations": [{"timestamp": "2026-11-02T00:00:00Z", "value": 3}]}'
    status, payload, _ = api.call(
        "IngestFunction", "ingest-observations.json", series_id="bom-json", body=body
    )
    assert status == 200 and payload["accepted"] == 1
