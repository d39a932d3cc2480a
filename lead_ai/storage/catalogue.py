"""The series catalogue: one `SERIES` item per series in the registry table (storage.registry_table).

It holds the series' interval (fixed at its first ingest), a revision counter that every change of its
observations bumps, the span of its observations (both written by storage.series_writes, atomically with
the observations) and the revision its last training used: the schedule trains the series whose
revision moved. A series being deleted carries `deleting_at` until its SERIES item goes, last.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from lead_ai.domain.isotime import utc_now_iso
from lead_ai.domain.series import SeriesInfo
from lead_ai.storage.dynamo import guarded, is_conditional_failure, n, s, storage_error
from lead_ai.storage.registry_table import SERIES, key, series_from_item


class SeriesCatalogue:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get_series(self, series_id: str) -> SeriesInfo | None:
        """The series, or None when it does not exist or is being deleted."""
        response = guarded(
            "reading the series",
            lambda: self._client.get_item(TableName=self._table, Key=key(series_id, SERIES)),
        )
        item = response.get("Item")
        info = series_from_item(item) if item else None
        return None if info is None or info.deleting else info

    def begin_deletion(self, series_id: str) -> bool:
        """Mark the series as being deleted: from now on every write of its observations is refused (their
        transactions check the mark); False when there is no SERIES item."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET deleting_at = if_not_exists(deleting_at, :now)",
                ConditionExpression="attribute_exists(#r)",
                ExpressionAttributeNames={"#r": "record"},
                ExpressionAttributeValues={":now": s(utc_now_iso())},
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise storage_error("marking the series deleted", exc) from exc
        return True

    def delete_series_record(self, series_id: str) -> None:
        """The last step of a series deletion: once its SERIES item is gone, the series id is free."""
        guarded(
            "deleting the series",
            lambda: self._client.delete_item(TableName=self._table, Key=key(series_id, SERIES)),
        )

    def record_training_attempt(self, series_id: str, revision: int) -> None:
        """Remember the history revision a training used, so the schedule skips unchanged series."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET trained_revision = :r",
                ConditionExpression="attribute_not_exists(trained_revision) OR trained_revision < :r",
                ExpressionAttributeValues={":r": n(revision)},
            )
        except Exception as exc:
            if not is_conditional_failure(exc):  # a newer revision was recorded already: fine
                raise storage_error("updating the series", exc) from exc

    def series_needing_training(self) -> Iterator[SeriesInfo]:
        """Series whose history changed since they were last trained (for the daily schedule)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#r = :series",
            "ExpressionAttributeNames": {"#r": "record"},
            "ExpressionAttributeValues": {":series": s(SERIES)},
        }
        while True:
            page = guarded("listing series", partial(self._client.scan, **kwargs))
            for item in page.get("Items", []):
                info = series_from_item(item)
                if info.deleting:
                    continue
                if info.revision > 0 and (info.trained_revision or 0) < info.revision:
                    yield info
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
