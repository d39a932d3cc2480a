"""The local stand-in's TransactWriteItems (lead_ai_dev/local/moto_patches.py): all or nothing, as DynamoDB's,
putting back the items a failed one touched instead of deep-copying every table it touches once per item."""

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


def _token(token_id: str, value: int) -> dict[str, Any]:
    return {"id": {"S": token_id}, "v": {"N": str(value)}}


@pytest.fixture
def tables(stack: LocalStack, aws: Callable[[str], Any]) -> dict[str, str]:
    """The observations, registry and idempotency tables (the last with a hash key only), holding the
    items a transaction may change or delete."""
    names = {
        name: stack.names[f"{name.title()}Table"] for name in ("observations", "registry", "idempotency")
    }
    put = aws("dynamodb").put_item
    put(TableName=names["observations"], Item=_chunk("kept", 0, 1))
    put(TableName=names["observations"], Item=_chunk("doomed", 0, 1))
    put(TableName=names["registry"], Item=_record("kept", "SERIES", 1))
    put(TableName=names["idempotency"], Item=_token("kept", 1))
    return names


def _everything(aws: Callable[[str], Any], tables: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    scan = aws("dynamodb").scan
    return {
        name: sorted(scan(TableName=table, ConsistentRead=True)["Items"], key=repr)
        for name, table in tables.items()
    }


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


def _writes(tables: dict[str, str], n: int) -> list[dict[str, Any]]:
    """One transaction's items in three tables: n new chunks, an update of an existing chunk, the delete
    of another, a new registry item, an update of an existing token and a new one."""
    observations, registry, idempotency = tables["observations"], tables["registry"], tables["idempotency"]
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
        {"Delete": {"TableName": observations, "Key": {"series_id": {"S": "doomed"}, "ts": {"N": "0"}}}},
        {"Put": {"TableName": registry, "Item": _record("new", "SERIES", 1)}},
        {
            "Update": {
                "TableName": idempotency,
                "Key": {"id": {"S": "kept"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "2"}},
            }
        },
        {"Put": {"TableName": idempotency, "Item": _token("new", 1)}},
    ]


def test_a_transaction_whose_condition_fails_writes_nothing_in_any_table(
    tables: dict[str, str], aws: Callable[[str], Any], table_copies: list[str]
) -> None:
    before = _everything(aws, tables)
    # Given a transaction of new, updated and deleted items in three tables, whose last item's condition
    # fails (after the others were applied to the stand-in's tables)
    failing = {
        "ConditionCheck": {
            "TableName": tables["registry"],
            "Key": {"series_id": {"S": "kept"}, "record": {"S": "SERIES"}},
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {":v": {"N": "99"}},
        }
    }
    # When it is sent
    with pytest.raises(ClientError) as raised:
        aws("dynamodb").transact_write_items(TransactItems=[*_writes(tables, 8), failing])
    # Then it is cancelled naming the failed condition, and no table holds any of its writes: the updated
    # items have their old values, the deleted one is back, the new ones are not there
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None"] * 13 + ["ConditionalCheckFailed"]
    assert _everything(aws, tables) == before
    # And no table was deep-copied for it (moto alone copies each one once per item it touches)
    assert table_copies == []


def test_a_transaction_that_succeeds_writes_every_item(
    tables: dict[str, str], aws: Callable[[str], Any], table_copies: list[str]
) -> None:
    # When a transaction of new, updated and deleted items in three tables succeeds
    aws("dynamodb").transact_write_items(TransactItems=_writes(tables, 8))
    # Then every item is written, and the deleted one is gone
    after = _everything(aws, tables)
    assert after == {
        "observations": sorted(
            [_chunk("kept", 0, 2), *(_chunk("new", ts, ts) for ts in range(1, 9))], key=repr
        ),
        "registry": sorted([_record("kept", "SERIES", 1), _record("new", "SERIES", 1)], key=repr),
        "idempotency": sorted([_token("kept", 2), _token("new", 1)], key=repr),
    }
    # And a later transaction that fails on a duplicate put leaves the state this one wrote
    with pytest.raises(ClientError):
        aws("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": tables["observations"], "Item": _chunk("later", 1, 1)}},
                {"Delete": {"TableName": tables["idempotency"], "Key": {"id": {"S": "new"}}}},
                {
                    "Put": {
                        "TableName": tables["registry"],
                        "Item": _record("new", "SERIES", 2),
                        "ConditionExpression": "attribute_not_exists(series_id)",
                    }
                },
            ]
        )
    assert _everything(aws, tables) == after
    assert table_copies == []


def test_a_transaction_naming_one_item_twice_is_refused_and_writes_nothing(
    tables: dict[str, str], aws: Callable[[str], Any]
) -> None:
    before = _everything(aws, tables)
    # When a transaction updates an item and then puts the same item (DynamoDB refuses it whole)
    twice = [
        *_writes(tables, 2),
        {"Put": {"TableName": tables["observations"], "Item": _chunk("kept", 0, 3)}},
    ]
    with pytest.raises(ClientError) as raised:
        aws("dynamodb").transact_write_items(TransactItems=twice)
    # Then it is a validation error, and nothing of it is written
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert _everything(aws, tables) == before
