"""What the embedded moto server (stack.LocalStack) is given so that it behaves as AWS does where lead_ai relies
on it, and answers fast enough for a test suite on a shared 2-core machine. Applied once per process.

- DynamoDB serves one request at a time (isolate_dynamodb_requests): DynamoDB's isolation.
- A TransactWriteItems that fails puts back the items it touched, not whole tables (undo_touched_items):
  moto deep-copies each table a transaction touches once per item, to restore on failure; a 25-item ingest
  into a table of thousands of chunks copied it 25 times, and the fan-out tests spent a quarter of their
  time in those copies.
- moto's list of its own service modules is read from disk once, not on every request (cache_module_list).
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterable
from typing import Any

_DYNAMODB_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)


def patch_moto() -> None:
    """Every patch of this module (idempotent: a second call changes nothing)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_lead_ai_isolated", False):
        return
    undo_touched_items()
    isolate_dynamodb_requests()
    cache_module_list()
    DynamoDBBackend._lead_ai_isolated = True  # type: ignore[attr-defined]


def isolate_dynamodb_requests() -> None:
    """Give moto's DynamoDB the isolation DynamoDB has: one request at a time.

    moto serves requests on several threads and its DynamoDB takes no lock: a transaction snapshots each
    table it touches (a deep copy, which fails when another request changes the table meanwhile) and, when
    one of its conditions fails, puts the snapshot back, erasing whatever other requests wrote in the
    meantime. DynamoDB serializes a transaction with the writes to its items; without this, concurrent
    optimistic writers (tests/faults/test_races.py) lose each other's committed writes on the stand-in.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()  # re-entrant: a transaction calls put_item/update_item itself
    for name in _DYNAMODB_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        def one_at_a_time(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(one_at_a_time))


class _NoTableCopies:
    """What moto.dynamodb.models sees as its `copy` module: `copy` itself, except that while `active` (a
    transaction under undo_touched_items) a table's deep copy is the table itself: moto's own rollback,
    which puts its copies back, then changes nothing, and _Undo puts back the items instead. Other deep
    copies (an item's, in update_item) are made as before. Only used under isolate_dynamodb_requests'
    lock (one DynamoDB request at a time)."""

    def __init__(self) -> None:
        self.active = False

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if self.active and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


class _Undo:
    """The items a transaction touches as they were before it (a copy of each, or None where there was
    none), and a whole copy of a table where an item's key could not be read (moto then refuses the
    transaction, but the copy costs nothing to keep the rule simple: all or nothing)."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self.items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range or None, item or None)
        self.tables: dict[str, Any] = {}
        for entry in transact_items:
            op = next(iter(entry.values()), None) if isinstance(entry, dict) else None
            name = op.get("TableName") if isinstance(op, dict) else None
            table = backend.tables.get(name) if isinstance(name, str) else None
            if table is None:
                continue  # moto refuses it before it writes anything
            try:
                self.items.append(_item_before(table, op))
            except Exception:
                self.tables.setdefault(str(name), copy.deepcopy(table))

    def restore(self, backend: Any) -> None:
        for table, hash_value, range_value, item in reversed(self.items):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
                continue
            if item is not None:
                table.items[hash_value][range_value] = item
            elif hash_value in table.items:
                table.items[hash_value].pop(range_value, None)
                if not table.items[hash_value]:
                    del table.items[hash_value]
        backend.tables.update(self.tables)


def _item_before(table: Any, op: Any) -> tuple[Any, Any, Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attributes = op["Item"] if "Item" in op else op["Key"]
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))


def undo_touched_items() -> None:
    """moto's TransactWriteItems, all or nothing as before (a failed transaction leaves every item it
    touched as it was), with a copy of each item it touches instead of each table, once per item."""
    import moto.dynamodb.models as models

    no_table_copies = _NoTableCopies()
    models.copy = no_table_copies  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _Undo(self, transact_items)
        no_table_copies.active = True
        try:
            original(self, transact_items)
        except BaseException:
            undo.restore(self)
            raise
        finally:
            no_table_copies.active = False

    models.DynamoDBBackend.transact_write_items = functools.wraps(original)(transact_write_items)  # type: ignore[method-assign]


def cache_module_list() -> None:
    """moto's server finds each request's service among its own modules, listing its package directory
    (a stat per module, ~150) on every request: that list does not change while it runs."""
    import moto.backends as backends

    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules
