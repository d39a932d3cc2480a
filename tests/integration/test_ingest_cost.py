"""Ingest cost does not depend on the history's length. Issue #10: "one-point ingest into 5 years of
history re-reads the whole history (329 ms hourly, 838 ms at 15 min, 1,046 items); a valid 7,000-point
batch with one point per chunk took 138 s and 14,013 calls, past the 30 s timeout".

Calls are counted with a botocore hook on the functions' own DynamoDB client (no timing): what each call
reads or writes, item by item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pytest

from lead_ai.storage.clients import client
from lead_ai.storage.observations import CHUNK_SLOTS
from lead_ai.storage.series_writes import MAX_CHUNKS_PER_WRITE
from tests.conftest import Api
from tests.faults.support import plain_client

HOUR = 3600
END = int(datetime(2026, 11, 9, 12, tzinfo=UTC).timestamp())  # tests.conftest.HISTORY_END


class Call(NamedTuple):
    operation: str
    items: int  # keys read or items written by the call


def _items(operation: str, params: dict[str, Any]) -> int:
    if operation == "BatchGetItem":
        return sum(len(t["Keys"]) for t in params["RequestItems"].values())
    if operation == "TransactWriteItems":
        return len(params["TransactItems"])
    return 1


@pytest.fixture
def calls(stack: Any) -> Iterator[list[Call]]:
    """Every DynamoDB call the functions make (they share this process's client)."""
    seen: list[Call] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append(Call(model.name, _items(model.name, params)))

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("provide-client-params.dynamodb", record)
    yield seen
    dynamodb.meta.events.unregister("provide-client-params.dynamodb", record)


def _body(stamps: Any, values: Any, interval: str | None = None) -> str:
    points = [
        {"timestamp": datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "value": float(v)}
        for t, v in zip(stamps, values, strict=True)
    ]
    return json.dumps({"observations": points} | ({"interval": interval} if interval else {}))


def _ingest(
    api: Api, series_id: str, stamps: Any, values: Any, interval: str | None = None
) -> tuple[int, Any]:
    status, payload, _ = api.call(
        "IngestFunction",
        "ingest-observations.json",
        series_id=series_id,
        body=_body(stamps, values, interval),
    )
    return status, payload


def _seed(api: Api, series_id: str, years: float, interval_seconds: int, interval: str) -> np.ndarray:
    """`years` of history ending at END, sent as the API takes it (batches of at most 99 chunks)."""
    slots = int(years * 365 * 86400 // interval_seconds)
    stamps = END - interval_seconds * np.arange(slots)[::-1]
    values = (stamps // interval_seconds) % 17 + 1.0
    per_request = min(MAX_CHUNKS_PER_WRITE * CHUNK_SLOTS, 10_000) // CHUNK_SLOTS * CHUNK_SLOTS
    for i in range(0, slots, per_request):
        status, payload = _ingest(
            api, series_id, stamps[i : i + per_request], values[i : i + per_request], interval
        )
        assert status == 200, payload
    return stamps


@pytest.mark.parametrize(
    ("interval_seconds", "interval", "years"), [(3600, "1h", 5), (900, "15min", 1)], ids=["1h", "15min"]
)
def test_a_one_point_ingest_reads_and_writes_the_same_few_items_into_a_week_or_years(
    api: Api, calls: list[Call], interval_seconds: int, interval: str, years: int
) -> None:
    # Given a series with a week of history, and one with years of it (5 years hourly: 261 chunks)
    _seed(api, "young", 7 / 365, interval_seconds, interval)
    _seed(api, "old", years, interval_seconds, interval)
    # When one new point is ingested into each
    costs = {}
    for series_id in ("young", "old"):
        calls.clear()
        status, payload = _ingest(api, series_id, [END + interval_seconds], [5.0], interval)
        assert status == 200, payload
        costs[series_id] = list(calls)
    # Then both read the series record and one chunk, write the chunk with the series record in one
    # transaction, and read the series record back (its stored span and revision, for the answer): the
    # same calls and items whatever the history's length, and no query or scan
    assert costs["old"] == costs["young"]
    assert costs["old"] == [
        Call("GetItem", 1),
        Call("BatchGetItem", 1),
        Call("TransactWriteItems", 2),
        Call("GetItem", 1),
    ]
    # And the span is still exact
    assert payload["span"]["observations"] == int(years * 365 * 86400 // interval_seconds) + 1
    assert payload["span"]["last"] == datetime.fromtimestamp(END + interval_seconds, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_a_batch_scattered_over_more_chunks_than_one_transaction_is_refused_up_front(
    api: Api, calls: list[Call]
) -> None:
    # Given a valid 7,000-point batch of a 15-minute series with one point per chunk (42 hours apart)
    stamps = END - CHUNK_SLOTS * 900 * np.arange(7000)[::-1]
    calls.clear()
    # When it is sent
    status, payload = _ingest(api, "scattered", stamps, np.ones(7000), "15min")
    # Then it is a 400 naming the field and the cap, before any write (one read of the series' interval)
    assert status == 400, payload
    assert payload["field"] == "observations"
    assert f"at most {MAX_CHUNKS_PER_WRITE} chunks" in payload["message"] and "7000" in payload["message"]
    assert [c.operation for c in calls] == ["GetItem"]
    # And nothing is stored
    names = api.stack.names
    for table in ("ObservationsTable", "RegistryTable"):
        assert plain_client("dynamodb").scan(TableName=names[table])["Count"] == 0


def test_a_batch_of_the_full_cap_is_one_read_and_one_transaction(api: Api, calls: list[Call]) -> None:
    # Given 99 chunks' worth of points, one per chunk, and 10,000 contiguous hours
    scattered = END - CHUNK_SLOTS * HOUR * np.arange(MAX_CHUNKS_PER_WRITE)[::-1]
    contiguous = END - HOUR * np.arange(10_000)[::-1]
    for series_id, stamps in (("scattered", scattered), ("contiguous", contiguous)):
        calls.clear()
        # When each is ingested
        status, payload = _ingest(api, series_id, stamps, np.ones(stamps.size))
        # Then it is stored whole, with one BatchGetItem and one transaction
        assert status == 200, payload
        assert payload["span"]["observations"] == stamps.size
        assert [c.operation for c in calls] == ["GetItem", "BatchGetItem", "TransactWriteItems"]
