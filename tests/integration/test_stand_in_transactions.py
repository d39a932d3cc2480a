"""The local stand-in's TransactWriteItems (lead_ai_dev/local/stack.py): all or nothing, as DynamoDB's, with
each touched table snapshotted once per transaction instead of once per item."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lead_ai_dev.local.stack import LocalStack


def _chunk(series_id: str, ts: int, value: int) -> dict[str, Any]:
    return {"series_id": {"S": series_id}, "ts": {"N": str(ts)}, "v": {"N": str(value)}}


def _record(series_id: str, record: str, value: int) -> dict[str, Any]:
    return {"series_id": {"S": series_id}, "record": {"S": record}, "v": {"N": str(value)}}


def _all(aws: Callable[[str], Any], table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=repr)


@pytest.fixture
def tables(stack: LocalStack, aws: Callable[[str], Any]) -> tuple[str, str]:
    """The observations and registry tables, each holding one item a transaction may change."""
    observations, registry = stack.names["ObservationsTable"], stack.names["RegistryTable"]
    aws("dynamodb").put_item(TableName=observations, Item=_chunk("kept", 0, 1))
    aws("dynamodb").put_item(TableName=registry, Item=_record("kept", "SERIES", 1))
    return observations, registry


@pytest.fixture
def table_copies(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the DynamoDB tables the stand-in deep-copies (its server runs in this process)."""
    from moto.dynamodb.models.table import Table

    copied: list[str] = []
    real = copy.deepcopy

    def counting(value: Any, memo: Any = None, _nil: Any = None) -> Any:
        if isinstance(value, Table):
            copied.append(value.name)
        return real(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    yield copied


def _writes(observations: str, registry: str, n: int) -> list[dict[str, Any]]:
    """n new chunks, an update of the existing chunk, and a new registry item: one transaction's items."""
    return [
        *({"Put": {"TableName": observations, "Item": _chunk("new", ts, ts)}} for ts in range(1, n + 1)),
        {
            "Update": {
                "TableName": observations,
                "Key": {"series_id": {"S": "kept"}, "ts": {"N": "0"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "2"}},
            }
        },
        {"Put": {"TableName": registry, "Item": _record("new", "SERIES", 1)}},
    ]


def test_a_transaction_whose_condition_fails_writes_nothing_in_any_table(
    tables: tuple[str, str], aws: Callable[[str], Any], table_copies: list[str]
) -> None:
    observations, registry = tables
    before = (_all(aws, observations), _all(aws, registry))
    # Given a transaction of new items in two tables and an update of an existing one, whose last item's
    # condition fails (after the others were applied on the stand-in's tables)
    failing = {
        "ConditionCheck": {
            "TableName": registry,
            "Key": {"series_id": {"S": "kept"}, "record": {"S": "SERIES"}},
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {":v": {"N": "99"}},
        }
    }
    # When it is sent
    with pytest.raises(ClientError) as raised:
        aws("dynamodb").transact_write_items(TransactItems=[*_writes(observations, registry, 8), failing])
    # Then it is cancelled naming the failed condition, and neither table holds any of its writes
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None"] * 10 + ["ConditionalCheckFailed"]
    assert (_all(aws, observations), _all(aws, registry)) == before
    # And each table was copied once for it, not once per item
    assert sorted(table_copies) == sorted([observations, registry])


def test_a_transaction_that_succeeds_writes_every_item(
    tables: tuple[str, str], aws: Callable[[str], Any], table_copies: list[str]
) -> None:
    observations, registry = tables
    # When a transaction of new items in two tables and an update of an existing one succeeds
    aws("dynamodb").transact_write_items(TransactItems=_writes(observations, registry, 8))
    # Then every item is written
    assert _all(aws, observations) == sorted(
        [_chunk("kept", 0, 2), *(_chunk("new", ts, ts) for ts in range(1, 9))], key=repr
    )
    assert _all(aws, registry) == sorted(
        [_record("kept", "SERIES", 1), _record("new", "SERIES", 1)], key=repr
    )
    assert sorted(table_copies) == sorted([observations, registry])
    # And the next transaction takes its own copies: a later failure puts back the state after this one
    with pytest.raises(ClientError):
        aws("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": observations, "Item": _chunk("later", 1, 1)}},
                {
                    "Put": {
                        "TableName": registry,
                        "Item": _record("new", "SERIES", 2),
                        "ConditionExpression": "attribute_not_exists(series_id)",
                    }
                },
            ]
        )
    assert len(_all(aws, observations)) == 9
    assert _all(aws, registry) == sorted(
        [_record("kept", "SERIES", 1), _record("new", "SERIES", 1)], key=repr
    )
    assert len(table_copies) == 4
