"""The training worker reads a series' SERIES item once per message: the idempotency key (its
`created_at`) and the training take the same read. Counted on the real client with a botocore hook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lead_ai.storage.clients import client
from lead_ai.storage.registry_table import SERIES
from tests.faults.conftest import CannedTraining
from tests.fleet.conftest import Fleet, message_body


@contextmanager
def series_reads(table: str) -> Iterator[Counter[str]]:
    """series id -> GetItem calls of its SERIES item in `table`, while the block runs."""
    reads: Counter[str] = Counter()

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetItem" and params.get("TableName") == table:
            item_key = params["Key"]
            if item_key["record"]["S"] == SERIES:
                reads[item_key["series_id"]["S"]] += 1

    events = client("dynamodb").meta.events
    events.register("provide-client-params.dynamodb", record)
    try:
        yield reads
    finally:
        events.unregister("provide-client-params.dynamodb", record)


def test_the_worker_reads_each_series_once_per_message(fleet: Fleet, canned_training: CannedTraining) -> None:
    # Given two due series queued by the planner, and a message for a series that does not exist
    fleet.ingest("reads-a")
    fleet.ingest("reads-b", seed=4)
    assert fleet.plan()["queued"] == 2
    fleet.send(message_body("reads-gone", 1))
    # When the worker trains them
    with series_reads(fleet.api.stack.names["RegistryTable"]) as reads:
        totals = fleet.drain()
    # Then each message read its series' SERIES item once: for the idempotency key and the training
    assert canned_training.calls == 2 and (totals.succeeded, totals.failed) == (3, 0)
    assert reads == {"reads-a": 1, "reads-b": 1, "reads-gone": 1}
    # When a copy of a trained message is delivered again (answered from its idempotency record)
    fleet.send(message_body("reads-a", 1))
    with series_reads(fleet.api.stack.names["RegistryTable"]) as reads:
        totals = fleet.drain()
    # Then it too read the series once, and trained nothing
    assert canned_training.calls == 2 and totals.succeeded == 1
    assert reads == {"reads-a": 1}
