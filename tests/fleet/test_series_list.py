"""GET /series: every series a page at a time, with its interval, span, current version, last training, due."""

from __future__ import annotations

import base64
import json

import pytest

from lead_ai.domain.isotime import iso_utc
from lead_ai.storage.catalogue import SeriesCatalogue
from lead_ai.storage.clients import client
from lead_ai.storage.series_writes import SeriesWriter
from lead_ai_dev.local.reads import counting_reads
from tests.conftest import lead_history
from tests.faults.conftest import CannedTraining
from tests.fleet.conftest import Fleet


def _catalogue(fleet: Fleet) -> SeriesCatalogue:
    return SeriesCatalogue(client("dynamodb"), fleet.api.stack.names["RegistryTable"])


def _writer(fleet: Fleet) -> SeriesWriter:
    names = fleet.api.stack.names
    return SeriesWriter(client("dynamodb"), names["ObservationsTable"], names["RegistryTable"])


def _add(fleet: Fleet, *series_ids: str) -> None:
    writer = _writer(fleet)
    for series_id in series_ids:
        writer.ingest(series_id, 900, [(1_796_083_200 + 900 * k, float(k)) for k in range(5)])


def test_pages_cover_every_series_once_in_id_order(fleet: Fleet) -> None:
    # Given seven series
    names = [f"team-{c}" for c in "gfedcba"]
    _add(fleet, *names)
    # When they are listed three at a time, following next_token
    pages, token = [], None
    while True:
        status, page = fleet.series_list(limit="3", **({"next_token": token} if token else {}))
        assert status == 200, page
        pages.append([s["series_id"] for s in page["series"]])
        token = page["next_token"]
        if token is None:
            break
    # Then every series came once, in id order, and the last page ended the listing (no empty page)
    assert pages == [["team-a", "team-b", "team-c"], ["team-d", "team-e", "team-f"], ["team-g"]]


def test_a_last_page_that_is_exactly_full_has_no_next_token(fleet: Fleet) -> None:
    _add(fleet, "a", "b", "c")
    status, page = fleet.series_list(limit="3")
    assert status == 200 and len(page["series"]) == 3 and page["next_token"] is None


def test_no_series_is_an_empty_list(fleet: Fleet) -> None:
    assert fleet.series_list() == (200, {"series": [], "next_token": None})


def test_a_series_shows_its_interval_span_model_training_and_due_state(
    fleet: Fleet, canned_training: CannedTraining
) -> None:
    # Given a trained series, and another one ingested after it
    fleet.ingest("trained")
    fleet.plan()
    fleet.drain()
    _add(fleet, "waiting")
    # When the series are listed
    status, page = fleet.series_list()
    # Then each shows what it is
    assert status == 200
    trained, waiting = page["series"]
    assert trained["series_id"] == "trained" and trained["interval"] == "1h"
    stamps, _ = lead_history(9, seed=3)  # what fleet.ingest sent
    assert trained["span"] == {"first": iso_utc(stamps[0]), "last": iso_utc(stamps[-1]), "observations": 216}
    assert trained["current_version"] == "1.0.0" and trained["model_scope"] == "series"
    assert trained["last_training"]["revision"] == 1 and trained["last_training"]["at"].startswith("20")
    assert trained["due"] is False and trained["last_failure"] is None and trained["revision"] == 1
    assert waiting == {
        "series_id": "waiting",
        "interval": "15min",
        "span": {"first": "2026-12-01T00:00:00Z", "last": "2026-12-01T01:00:00Z", "observations": 5},
        "revision": 1,
        "current_version": None,
        "model_scope": None,
        "last_training": None,
        "due": True,
        "last_failure": None,
    }


def test_a_page_reads_its_own_series_only(fleet: Fleet) -> None:
    # Given 30 series
    _add(fleet, *[f"s-{i:02d}" for i in range(30)])
    # When a page of 10 is listed
    with counting_reads(client("dynamodb"), fleet.api.stack.names["RegistryTable"]) as reads:
        status, page = fleet.series_list(limit="10")
    # Then the index Query read 11 items (the extra one says whether more follow) and nothing was scanned
    assert status == 200 and len(page["series"]) == 10
    assert reads.items["Query"] == 11 and reads.calls["Query"] == 1
    assert "Scan" not in reads.calls
    assert reads.calls["BatchGetItem"] == 1  # the page's CURRENT pointers, in one call


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", " "])
def test_a_bad_limit_is_400_naming_it(fleet: Fleet, limit: str) -> None:
    status, payload = fleet.series_list(limit=limit)
    assert status == 400 and payload["field"] == "limit", payload
    assert "1 to 100" in payload["message"]


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "%%%",
        _token({"v": 1, "after": "../../etc"}),
        _token({"v": 2, "after": "a"}),
        _token({"v": 1, "after": "a", "more": 1}),
        _token(["a"]),
        "A" * 500,
    ],
)
def test_a_token_this_api_did_not_issue_is_400_naming_it(fleet: Fleet, token: str) -> None:
    status, payload = fleet.series_list(next_token=token)
    assert status == 400 and payload["field"] == "next_token", payload
