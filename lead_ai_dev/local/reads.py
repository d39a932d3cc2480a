"""Count the DynamoDB items a piece of code reads, through botocore's event hooks on the process's client.

`ScannedCount` for Query and Scan (what DynamoDB evaluated and bills, before any filter), the items
returned for GetItem and BatchGetItem: the read cost of the planner or of a GET /series page, measured on
the real client the handlers use, not estimated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ReadCounter:
    def __init__(self, table: str | None = None) -> None:
        self.table = table  # count reads of this table only (None: every table)
        self.items: Counter[str] = Counter()  # operation -> items read
        self.calls: Counter[str] = Counter()  # operation -> calls

    @property
    def total(self) -> int:
        return sum(self.items.values())

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["lead_ai_table"] = params.get("TableName") or next(iter(params.get("RequestItems", {})), None)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.table is not None and context.get("lead_ai_table") != self.table:
            return
        operation = model.name
        if operation in ("Query", "Scan"):
            read = int(parsed.get("ScannedCount", len(parsed.get("Items", []))))
        elif operation == "GetItem":
            read = 1 if parsed.get("Item") else 0
        elif operation == "BatchGetItem":
            read = sum(len(items) for items in parsed.get("Responses", {}).values())
        else:
            return
        self.calls[operation] += 1
        self.items[operation] += read


@contextmanager
def counting_reads(client: Any, table: str | None = None) -> Iterator[ReadCounter]:
    """Count what `client` (a botocore DynamoDB client) reads while the block runs."""
    counter = ReadCounter(table)
    events = client.meta.events
    events.register("before-parameter-build.dynamodb", counter._before)
    events.register("after-call.dynamodb", counter._after)
    try:
        yield counter
    finally:
        events.unregister("before-parameter-build.dynamodb", counter._before)
        events.unregister("after-call.dynamodb", counter._after)
