"""A batch is written whole or not at all: a fault at its write leaves every chunk and the series as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.conftest import Api
from tests.faults.support import FaultInjector, plain_client

pytestmark = pytest.mark.faults

HOUR = 3600
END = int(datetime(2026, 11, 9, 12, tzinfo=UTC).timestamp())


def _ingest(api: Api, stamps: np.ndarray, value: float) -> tuple[int, object]:
    return api.ingest("s", stamps, np.full(stamps.size, value))


def test_a_failed_batch_writes_nothing(api: Api, faults: FaultInjector) -> None:
    # Given a series with a week of history
    stamps = END - HOUR * np.arange(168)[::-1]
    assert _ingest(api, stamps, 1.0)[0] == 200
    before = plain_client("dynamodb").scan(TableName=api.stack.names["ObservationsTable"])["Items"]
    # When a batch over 60 chunks fails at its write (the SDK retries, then gives up)
    faults.inject("dynamodb", "TransactWriteItems", "5xx")
    batch = END + HOUR - HOUR * np.arange(10_000)[::-1]
    status, payload = _ingest(api, batch, 2.0)
    # Then the caller is told (503) and not one chunk changed: the batch was one transaction
    assert status == 503, payload
    assert plain_client("dynamodb").scan(TableName=api.stack.names["ObservationsTable"])["Items"] == before
    series = plain_client("dynamodb").get_item(
        TableName=api.stack.names["RegistryTable"], Key={"series_id": {"S": "s"}, "record": {"S": "SERIES"}}
    )["Item"]
    assert (series["revision"]["N"], series["observation_count"]["N"]) == ("1", "168")
