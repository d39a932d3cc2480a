"""The series catalogue: one `SERIES` item per series in the registry table (storage.registry_table).

It holds the series' interval (fixed at its first ingest), a revision counter that every ingest bumps,
the span of its observations (both written by storage.series_writes, atomically with the observations)
and the revision its last training used. Every change of its observations or settings also marks the
series due (the sparse `DueIndex`); the training that records the current revision unmarks it, so the
daily planner reads the due series only, however many series, versions and pointers the table holds. A
series being deleted carries `deleting_at` (and leaves both indexes) until its SERIES item goes, last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from lead_ai.domain.fleet import DueSeries
from lead_ai.domain.isotime import utc_now_iso
from lead_ai.domain.series import SeriesInfo, SeriesSettings, SeriesSummary
from lead_ai.errors import SeriesDeletingError, StorageError, VersionConflictError
from lead_ai.storage.dynamo import (
    get_n,
    get_s,
    guarded,
    is_conditional_failure,
    n,
    paginate_query,
    s,
    storage_error,
)
from lead_ai.storage.registry_table import (
    DUE,
    DUE_INDEX,
    KIND,
    POOL_SERVED,
    SERIES,
    SERIES_INDEX,
    key,
    series_from_item,
    summary_from_item,
)

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_dynamodb.client import DynamoDBClient

_BATCH_ROUNDS = 5
# Removed when a training succeeds: the last queued failure no longer describes the series.
_FAILURE_ATTRIBUTES = "failed_at, failed_revision, failed_attempt, failed_error"


class SeriesCatalogue:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
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

    def save_settings(
        self, series_id: str, settings: SeriesSettings, *, expected_revision: int | None, retrain: bool
    ) -> SeriesInfo:
        """Store the series' settings if its revision is still `expected_revision` (None: the series does not
        exist yet); `retrain` bumps the revision so the schedule trains it with the new settings.
        VersionConflictError when an ingest or another change moved the revision meanwhile;
        SeriesDeletingError while DELETE /series/{id} is under way (its record is hidden from get_series)."""
        values = {
            ":i": n(settings.interval_seconds),
            ":tz": s(settings.timezone),
            ":h": s(settings.holidays),
            ":oh": s(settings.open_hours),
            ":od": s(settings.open_days),
            ":u": s(utc_now_iso()),
        }
        created = ""
        if expected_revision is None:
            condition = "attribute_not_exists(revision)"
            values[":next"] = n(0)
            created = ", created_at = if_not_exists(created_at, :u)"
        else:
            condition = "revision = :expected"
            values[":expected"] = n(expected_revision)
            values[":next"] = n(expected_revision + (1 if retrain else 0))
        # Listed in the SeriesIndex from its creation; a retrain is due like an ingest's (the DueIndex, in
        # the partition of its pool_served mark, as series_writes sets it).
        due = (
            ", #due = if_not_exists(#pool_served, :due)" if retrain and expected_revision is not None else ""
        )
        values |= {":kind": s(KIND)} | ({":due": s(DUE)} if due else {})
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET interval_seconds = :i, time_zone = :tz, holiday_calendar = :h, "
                "open_hours = :oh, open_days = :od, settings_updated_at = :u, revision = :next, #kind = :kind"
                + created
                + due,
                ConditionExpression=f"({condition}) AND attribute_not_exists(deleting_at)",
                ExpressionAttributeNames={"#kind": "kind"}
                | ({"#due": "due", "#pool_served": "pool_served"} if due else {}),
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if is_conditional_failure(exc) and "deleting_at" in getattr(exc, "response", {}).get("Item", {}):
                raise SeriesDeletingError(
                    f"series '{series_id}' is being deleted; repeat DELETE /series/{series_id} to finish it",
                    field="series_id",
                ) from exc
            if is_conditional_failure(exc):
                raise VersionConflictError(
                    f"series '{series_id}' changed while its settings were saved; retry", field="series_id"
                ) from exc
            raise storage_error("saving the series settings", exc) from exc
        return series_from_item(response["Attributes"])

    def begin_deletion(self, series_id: str) -> bool:
        """Mark the series as being deleted: from now on every write of its observations is refused (their
        transactions check the mark); False when there is no SERIES item."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                # Out of the DueIndex and the SeriesIndex at once: the planner and GET /series no longer see it.
                UpdateExpression="SET deleting_at = if_not_exists(deleting_at, :now) REMOVE #due, #kind",
                ConditionExpression="attribute_exists(#r)",
                ExpressionAttributeNames={"#r": "record", "#due": "due", "#kind": "kind"},
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

    def record_training_attempt(
        self, series_id: str, revision: int, created_at: str | None = None, *, pool_served: bool | None = None
    ) -> None:
        """Remember the history revision a training used, so the planner skips unchanged series.

        The series stops being due only if no ingest came in since the training read its history: the
        condition `revision = :r` and the removal of `due` are one write, so an ingest racing the training
        is never lost (it bumped the revision, the condition fails, the series stays due). `created_at`:
        the SERIES item the training read (SeriesInfo.created_at), if known; nothing is recorded on a
        series deleted and created again since, whose revisions restarted at 1. `pool_served`: whether
        its group's pool serves the series after this training (its own model lost to the pool), kept as
        the `pool_served` mark that the next change copies into `due`; None leaves the mark as it is.
        """
        values = {":r": n(revision), ":now": s(utc_now_iso())}
        if created_at:
            values[":c"] = s(created_at)
        condition = "(attribute_not_exists(trained_revision) OR trained_revision < :r)" + (
            " AND created_at = :c" if created_at else ""
        )
        mark = _MarkClauses.of(pool_served, values)
        if self._update_series_if(
            series_id,
            f"SET trained_revision = :r, trained_at = :now{mark.set} REMOVE #due, {_FAILURE_ATTRIBUTES}{mark.remove}",
            f"revision = :r AND {condition}",
            values,
            {"#due": "due"} | mark.names,
        ):
            return
        # Newer history arrived meanwhile: the training is recorded, the series stays due.
        moved, names = "", mark.names
        if pool_served is not None:
            # In the partition of the new mark (an ingest during the training copied the old one); a
            # series being deleted has no `due` and gets none back.
            values[":partition"] = s(POOL_SERVED if pool_served else DUE)
            moved, names = ", #due = :partition", names | {"#due": "due"}
            condition += " AND attribute_exists(#due)"
        self._update_series_if(
            series_id,
            f"SET trained_revision = :r, trained_at = :now{mark.set}{moved} REMOVE {_FAILURE_ATTRIBUTES}{mark.remove}",
            # Never creates a SERIES item: the series may have been deleted while it trained.
            f"attribute_exists(revision) AND {condition}",
            values,
            names,
        )  # False: a newer revision recorded already, or another series: fine

    def _update_series_if(
        self, series_id: str, update: str, condition: str, values: dict[str, Any], names: dict[str, str]
    ) -> bool:
        """One conditional update of the series' SERIES item; False when its condition failed."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": key(series_id, SERIES),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:  # DynamoDB refuses an empty map
            request["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**request)
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise storage_error("updating the series", exc) from exc
        return True

    def record_training_failure(self, series_id: str, revision: int, attempt: int, error: str) -> None:
        """Note a failed queued training (GET /series shows it); the series stays due. Never creates a series."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET failed_at = :now, failed_revision = :r, failed_attempt = :a, failed_error = :e",
                ConditionExpression="attribute_exists(revision)",
                ExpressionAttributeValues={
                    ":now": s(utc_now_iso()),
                    ":r": n(revision),
                    ":a": n(attempt),
                    ":e": s(error[:64]),
                },
            )
        except Exception as exc:
            if not is_conditional_failure(exc):  # no such series: nothing to note
                raise storage_error("updating the series", exc) from exc

    def due_series(self) -> Iterator[DueSeries]:
        """The series whose history changed since their last training: one Query per partition of the
        sparse DueIndex (`DUE`, then `POOL_SERVED`: those its pool served at their last training), which
        holds the due series and nothing else (items read = series due, whatever the table holds)."""
        for partition in (DUE, POOL_SERVED):
            yield from self._due_in(partition)

    def _due_in(self, partition: str) -> Iterator[DueSeries]:
        items = paginate_query(
            self._client,
            TableName=self._table,
            IndexName=DUE_INDEX,
            KeyConditionExpression="#due = :due",
            ExpressionAttributeNames={"#due": "due"},
            ExpressionAttributeValues={":due": s(partition)},
        )
        for item in guarded("listing due series", lambda: list(items)):
            yield DueSeries(
                series_id=get_s(item, "series_id") or "",
                interval_seconds=int(get_n(item, "interval_seconds", 0) or 0),
                revision=int(get_n(item, "revision", 0) or 0),
                observed_points=int(get_n(item, "observation_count", 0) or 0),
                pool_served=partition == POOL_SERVED,
            )

    def series_of(self, series_ids: list[str]) -> dict[str, SeriesInfo]:
        """The SERIES items of the given series (the planner: the settings of the too-short ones), one
        BatchGetItem per 100 ids, eventually consistent; deleted or missing series are left out."""
        found: dict[str, SeriesInfo] = {}
        for start in range(0, len(series_ids), 100):
            request: dict[str, Any] = {
                self._table: {"Keys": [key(sid, SERIES) for sid in series_ids[start : start + 100]]}
            }
            for attempt in range(_BATCH_ROUNDS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # keys come back unprocessed when throttled: back off
                response = guarded(
                    "reading the series", partial(self._client.batch_get_item, RequestItems=request)
                )
                for item in response.get("Responses", {}).get(self._table, []):
                    info = series_from_item(item)
                    if not info.deleting:
                        found[info.series_id] = info
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StorageError("reading the series failed: keys left unprocessed")
        return found

    def series_with_interval(self, interval_seconds: int) -> list[SeriesInfo]:
        """Every series of one interval (a pool's candidates), from the SeriesIndex: a Query of SERIES
        items only (no VERSION# or CURRENT item is read), filtered on the interval."""
        items = paginate_query(
            self._client,
            TableName=self._table,
            IndexName=SERIES_INDEX,
            KeyConditionExpression="#kind = :kind",
            FilterExpression="interval_seconds = :i",
            ExpressionAttributeNames={"#kind": "kind"},
            ExpressionAttributeValues={":kind": s(KIND), ":i": n(interval_seconds)},
        )
        infos = [series_from_item(item) for item in guarded("listing series", lambda: list(items))]
        return [info for info in infos if not info.deleting]

    def list_series(self, limit: int, after: str | None = None) -> tuple[list[SeriesSummary], str | None]:
        """One page of series in id order, from the SeriesIndex: (page, the id to continue after, or None).

        Reads `limit + 1` index items: the extra one only says whether another page exists, so the last
        page never hands out a token that leads to an empty page.
        """
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SERIES_INDEX,
            "KeyConditionExpression": "#kind = :kind",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":kind": s(KIND)},
            "Limit": limit + 1,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {**key(after, SERIES), "kind": s(KIND)}
        page = guarded("listing series", lambda: self._client.query(**kwargs))
        items = page.get("Items", [])
        summaries = [summary_from_item(item) for item in items[:limit]]
        # More follow if the extra item came back, or if DynamoDB stopped early at its 1 MB page size.
        more = len(items) > limit or bool(page.get("LastEvaluatedKey"))
        return summaries, summaries[-1].series_id if more and summaries else None


class _MarkClauses(NamedTuple):
    """The `pool_served` mark's part of a training's update: ", …" clauses to append to SET and REMOVE."""

    set: str = ""
    remove: str = ""

    @classmethod
    def of(cls, pool_served: bool | None, values: dict[str, Any]) -> _MarkClauses:
        if pool_served is None:  # left as it is
            return cls()
        if not pool_served:
            return cls(remove=", #pool_served")
        values[":pool_served"] = s(POOL_SERVED)
        return cls(set=", #pool_served = :pool_served")

    @property
    def names(self) -> dict[str, str]:
        return {"#pool_served": "pool_served"} if self.set or self.remove else {}
