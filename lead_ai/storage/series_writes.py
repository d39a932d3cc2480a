"""Writes to a series' observations, each one atomic with its SERIES record.

The observations live in chunks (storage.observations: CHUNK_SLOTS slots per DynamoDB item); the
series' SERIES record (storage.catalogue) carries its interval, its revision (bumped by every change, so
the schedule retrains it) and its span: first and last observed slot and the number of observed slots.

A write reads what it touches and nothing else, so its cost does not depend on the history's length:
the SERIES record (one GetItem, or the caller's read), the chunks its slots fall in (one BatchGetItem of
up to MAX_CHUNKS_PER_WRITE keys), then one TransactWriteItems with every changed chunk and the SERIES
update. The span follows from what the merge changed (slots added or removed, the old span) instead of
a re-read of the history. Every item in the transaction is conditioned on what was read (a chunk's
`rev`, the series' `revision`): when another writer got there first, the whole transaction is cancelled,
nothing is written, and the write reads again and merges once more (optimistic concurrency, as before).

One transaction holds at most 100 items: a batch may touch MAX_CHUNKS_PER_WRITE chunks (a week of hours
each for an hourly series), so it is written whole or not at all; the ingest use case refuses a bigger
one before writing anything. A range delete spanning more chunks is written in several transactions,
oldest first; each leaves the series consistent, and repeating the request finishes the job.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.isotime import utc_now_iso
from lead_ai.domain.series import SeriesInfo, SeriesSettings, Span
from lead_ai.errors import IntervalMismatchError, SeriesDeletingError, ServiceUnavailableError
from lead_ai.storage.dynamo import error_code, guarded, n, s, storage_error
from lead_ai.storage.observations import CHUNK_SLOTS, decode_chunk, encode_chunk
from lead_ai.storage.registry_table import DUE, KIND, SERIES, key, series_from_item

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_dynamodb.client import DynamoDBClient


MAX_CHUNKS_PER_WRITE = 99  # + the SERIES record = DynamoDB's 100 items per transaction
_MAX_ATTEMPTS = 12
_NAMES = {"#ts": "ts", "#v": "v"}


class Unread:
    """The caller did not read the series (the writer reads it); see `SeriesWriter.ingest`."""


UNREAD = Unread()


class WriteResult(NamedTuple):
    span: Span | None  # None: the series has no observations left
    revision: int
    changed: int  # slots whose stored value changed (added, replaced or removed)


class _Stored(NamedTuple):
    values: np.ndarray  # CHUNK_SLOTS float64, NaN = not reported
    rev: int


class _Change(NamedTuple):
    start: int
    values: np.ndarray | None  # None: the chunk is emptied, and deleted
    rev: int | None  # the revision it was read at; None: it did not exist


def chunk_start(ts: int, interval_seconds: int) -> int:
    chunk_seconds = CHUNK_SLOTS * interval_seconds
    return ts - ts % chunk_seconds


def chunks_touched(timestamps: Iterable[int], interval_seconds: int) -> int:
    return len({chunk_start(ts, interval_seconds) for ts in timestamps})


class SeriesWriter:
    def __init__(self, client: DynamoDBClient, observations_table: str, registry_table: str) -> None:
        self._client = client
        self._observations = observations_table
        self._registry = registry_table

    # -- ingest -------------------------------------------------------------------------------------

    def ingest(
        self,
        series_id: str,
        interval_seconds: int,
        points: Sequence[tuple[int, float]],
        known: SeriesInfo | Unread | None = UNREAD,
        defaults: SeriesSettings | None = None,
    ) -> WriteResult:
        """Set slots (timestamp on the grid, value); a slot written again is replaced.

        `known` is the caller's read of the series (None: it did not exist), if it made one: the first
        attempt starts from it (a stale one only costs a cancelled transaction and a fresh read).
        `defaults`: the time zone and calendar a series without its own keeps from now on (its naive
        timestamps were read in that zone, so a later change of the deployment's defaults must not move it)."""
        by_chunk: dict[int, list[tuple[int, float]]] = {}
        for ts, value in points:
            by_chunk.setdefault(chunk_start(ts, interval_seconds), []).append((ts, value))
        if len(by_chunk) > MAX_CHUNKS_PER_WRITE:
            raise ValueError(
                f"{len(by_chunk)} chunks in one write; the caller caps it at {MAX_CHUNKS_PER_WRITE}"
            )
        stamps = [ts for ts, _ in points]
        for attempt in range(_MAX_ATTEMPTS):
            fresh = attempt > 0 or isinstance(known, Unread)
            series = self.read_series(series_id) if fresh or isinstance(known, Unread) else known
            _check_writable(series_id, series, interval_seconds)
            stored = self._read_chunks(series_id, sorted(by_chunk))
            changes: list[_Change] = []
            added = 0
            for start, slots in sorted(by_chunk.items()):
                old = stored.get(start)
                merged = np.full(CHUNK_SLOTS, np.nan) if old is None else old.values.copy()
                offsets = np.fromiter(((ts - start) // interval_seconds for ts, _ in slots), dtype=np.intp)
                merged[offsets] = np.fromiter((value for _, value in slots), dtype=np.float64)
                if old is not None and np.array_equal(old.values, merged, equal_nan=True):
                    continue  # re-sent values: nothing changes
                added += _observed(merged) - (0 if old is None else _observed(old.values))
                changes.append(_Change(start, merged, None if old is None else old.rev))
            if not changes:  # every value was stored already: answer what is stored, as it is now
                now = series if fresh else self.read_series(series_id)
                # `known` (the catalogue's read) hides a series being deleted: not stored, as a change is not
                _check_writable(series_id, now, interval_seconds)
                return WriteResult(now.span if now else None, now.revision if now else 0, 0)
            changed = sum(_changed_slots(stored.get(c.start), c) for c in changes)
            if series is None:  # a new series: its span is exactly what this batch holds
                span = Span(min(stamps), max(stamps), added)
                update = self._exact_series_update(series_id, None, interval_seconds, span, 1, defaults)
                if self._commit(series_id, changes, update):
                    return WriteResult(span, 1, changed)
            else:
                update = self._growing_series_update(
                    series_id, series, interval_seconds, added, min(stamps), max(stamps), defaults
                )
                if self._commit(series_id, changes, update):
                    # The span and revision as stored: the ADDs of concurrent batches included.
                    after = self.read_series(series_id)
                    return WriteResult(after.span if after else None, after.revision if after else 0, changed)
            _back_off(attempt)
        raise ServiceUnavailableError(
            f"observations of '{series_id}' kept changing under concurrent writes; retry the request"
        )

    # -- range delete -------------------------------------------------------------------------------

    def delete_range(self, series_id: str, first_ts: int, last_ts: int) -> WriteResult | None:
        """Remove every observation with first_ts <= timestamp <= last_ts; None if the series is unknown."""
        series = self.read_series(series_id)
        if series is None:
            return None
        interval = series.interval_seconds
        changed = 0
        cursor = chunk_start(first_ts, interval)
        while True:
            result, next_cursor = self._delete_group(series_id, first_ts, last_ts, cursor)
            changed += result.changed
            if next_cursor is None:
                return WriteResult(result.span, result.revision, changed)
            cursor = next_cursor

    def _delete_group(
        self, series_id: str, first_ts: int, last_ts: int, cursor: int
    ) -> tuple[WriteResult, int | None]:
        """Clear the range in the next MAX_CHUNKS_PER_WRITE chunks from `cursor`, in one transaction.

        Returns the result and where the next group starts (None when the range is done)."""
        for attempt in range(_MAX_ATTEMPTS):
            series = self.read_series(series_id)
            if series is None:
                raise ServiceUnavailableError(
                    f"series '{series_id}' was deleted meanwhile; retry the request"
                )
            _check_writable(series_id, series, series.interval_seconds)
            interval = series.interval_seconds
            page = self._query_chunks(series_id, cursor, last_ts, limit=MAX_CHUNKS_PER_WRITE)
            more = len(page) == MAX_CHUNKS_PER_WRITE
            next_cursor = page[-1][0] + 1 if more else None
            changes: list[_Change] = []
            removed = 0
            for start, stored in page:
                slot_times = start + interval * np.arange(CHUNK_SLOTS, dtype=np.int64)
                cleared = stored.values.copy()
                cleared[(slot_times >= first_ts) & (slot_times <= last_ts)] = np.nan
                lost = _observed(stored.values) - _observed(cleared)
                if lost == 0:
                    continue
                removed += lost
                changes.append(_Change(start, cleared if _observed(cleared) else None, stored.rev))
            if not changes:
                return WriteResult(series.span, series.revision, 0), next_cursor
            span = self._span_after_delete(series_id, series, changes, removed, first_ts, last_ts)
            revision = series.revision + 1
            if self._commit(
                series_id, changes, self._exact_series_update(series_id, series, interval, span, revision)
            ):
                return WriteResult(span, revision, removed), next_cursor
            _back_off(attempt)
        raise ServiceUnavailableError(
            f"observations of '{series_id}' kept changing under concurrent writes; retry the request"
        )

    def _span_after_delete(
        self, series_id: str, series: SeriesInfo, changes: list[_Change], removed: int, lo: int, hi: int
    ) -> Span | None:
        before = series.span
        count = (before.observed_points if before else 0) - removed
        if before is None or count <= 0:
            return None
        interval = series.interval_seconds
        observed = np.concatenate(
            [
                c.start + interval * np.flatnonzero(~np.isnan(c.values))
                for c in changes
                if c.values is not None
            ]
            or [np.empty(0, dtype=np.int64)]
        )
        first, last = before.first_timestamp, before.last_timestamp
        if lo <= first <= hi:  # the first observation went: the next one is after the range
            later = observed[observed > hi]
            first = (
                int(later.min())
                if later.size
                else self._observed_next_to(series_id, changes[-1].start, interval, forward=True)
            )
        if lo <= last <= hi:  # the last observation went: the previous one is before the range
            earlier = observed[observed < lo]
            last = (
                int(earlier.max())
                if earlier.size
                else self._observed_next_to(series_id, changes[0].start, interval, forward=False)
            )
        return Span(first, last, count)

    def _observed_next_to(self, series_id: str, start: int, interval: int, *, forward: bool) -> int:
        """The first observed slot after the chunk at `start` (or the last one before it)."""
        for chunk_ts, stored in self._neighbours(series_id, start, forward=forward):
            slots = np.flatnonzero(~np.isnan(stored.values))
            if slots.size:
                return chunk_ts + int(slots[0 if forward else -1]) * interval
        raise ServiceUnavailableError(f"the span of '{series_id}' disagrees with its observations; retry")

    # -- series delete ------------------------------------------------------------------------------

    def delete_all_observations(self, series_id: str) -> int:
        """Delete every chunk of the series, 100 per transaction; returns how many were deleted."""
        deleted = 0
        while True:
            page = guarded(
                "listing observations",
                lambda: self._client.query(
                    TableName=self._observations,
                    KeyConditionExpression="series_id = :id",
                    ExpressionAttributeValues={":id": s(series_id)},
                    ProjectionExpression="#ts",
                    ExpressionAttributeNames={"#ts": "ts"},
                    ConsistentRead=True,
                    Limit=MAX_CHUNKS_PER_WRITE + 1,
                ).get("Items", []),
            )
            if not page:
                return deleted
            deletes: list[Any] = [
                {
                    "Delete": {
                        "TableName": self._observations,
                        "Key": {"series_id": s(series_id), "ts": i["ts"]},
                    }
                }
                for i in page
            ]
            guarded(
                "deleting observations", partial(self._client.transact_write_items, TransactItems=deletes)
            )
            deleted += len(page)

    # -- reads --------------------------------------------------------------------------------------

    def read_series(self, series_id: str) -> SeriesInfo | None:
        item = guarded(
            "reading the series",
            lambda: self._client.get_item(
                TableName=self._registry, Key=key(series_id, SERIES), ConsistentRead=True
            ).get("Item"),
        )
        return series_from_item(item) if item else None

    def _read_chunks(self, series_id: str, starts: list[int]) -> dict[int, _Stored]:
        """The stored chunks among `starts` (at most 100), in one BatchGetItem (plus its leftovers)."""
        request: dict[str, Any] = {
            self._observations: {
                "Keys": [{"series_id": s(series_id), "ts": n(start)} for start in starts],
                "ConsistentRead": True,  # the revisions we condition on must be the latest
                "ProjectionExpression": "#ts, #v, rev",
                "ExpressionAttributeNames": _NAMES,
            }
        }
        found: dict[int, _Stored] = {}
        for attempt in range(_MAX_ATTEMPTS):
            page = guarded("reading observations", partial(self._client.batch_get_item, RequestItems=request))
            for item in page.get("Responses", {}).get(self._observations, []):
                found[int(item["ts"]["N"])] = _Stored(decode_chunk(item["v"]["B"]), int(item["rev"]["N"]))
            request = page.get("UnprocessedKeys") or {}
            if not request:
                return found
            _back_off(attempt)  # DynamoDB throttled part of the batch: ask again for the rest
        raise ServiceUnavailableError("reading observations was throttled; retry shortly")

    def _query_chunks(self, series_id: str, lo: int, hi: int, *, limit: int) -> list[tuple[int, _Stored]]:
        items = guarded(
            "reading observations",
            lambda: self._client.query(
                TableName=self._observations,
                KeyConditionExpression="series_id = :id AND #ts BETWEEN :lo AND :hi",
                ExpressionAttributeValues={":id": s(series_id), ":lo": n(lo), ":hi": n(hi)},
                ExpressionAttributeNames=_NAMES,
                ProjectionExpression="#ts, #v, rev",
                ConsistentRead=True,
                Limit=limit,
            ).get("Items", []),
        )
        return [(int(i["ts"]["N"]), _Stored(decode_chunk(i["v"]["B"]), int(i["rev"]["N"]))) for i in items]

    def _neighbours(self, series_id: str, start: int, *, forward: bool) -> Iterator[tuple[int, _Stored]]:
        """The chunks after (or before) the one at `start`, nearest first, a few at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self._observations,
            "KeyConditionExpression": f"series_id = :id AND #ts {'>' if forward else '<'} :start",
            "ExpressionAttributeValues": {":id": s(series_id), ":start": n(start)},
            "ExpressionAttributeNames": _NAMES,
            "ProjectionExpression": "#ts, #v, rev",
            "ScanIndexForward": forward,
            "ConsistentRead": True,
            "Limit": 2,
        }
        while True:
            page = guarded("reading observations", lambda: self._client.query(**kwargs))
            for i in page.get("Items", []):
                yield int(i["ts"]["N"]), _Stored(decode_chunk(i["v"]["B"]), int(i["rev"]["N"]))
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- the transaction ----------------------------------------------------------------------------

    def _commit(self, series_id: str, changes: list[_Change], series_update: dict[str, Any]) -> bool:
        """Write the changed chunks and the SERIES update in one transaction; False when a condition
        failed (someone else wrote first) and nothing was written."""
        items: list[Any] = [self._chunk_item(series_id, change) for change in changes]
        items.append({"Update": series_update})
        try:
            self._client.transact_write_items(
                TransactItems=items,
                # The SDK may resend a transaction whose answer it lost: the token makes that a no-op.
                ClientRequestToken=uuid.uuid4().hex,
            )
        except Exception as exc:
            if _lost_a_race(exc):
                return False  # a condition failed or another transaction held an item: read again
            raise storage_error("writing observations", exc) from exc
        return True

    def _chunk_item(self, series_id: str, change: _Change) -> dict[str, Any]:
        chunk_key = {"series_id": s(series_id), "ts": n(change.start)}
        guard: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(#ts)", "ExpressionAttributeNames": {"#ts": "ts"}}
            if change.rev is None
            else {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": n(change.rev)}}
        )
        if change.values is None:
            return {"Delete": {"TableName": self._observations, "Key": chunk_key, **guard}}
        item = {**chunk_key, "v": {"B": encode_chunk(change.values)}, "rev": n((change.rev or 0) + 1)}
        return {"Put": {"TableName": self._observations, "Item": item, **guard}}

    def _growing_series_update(
        self,
        series_id: str,
        series: SeriesInfo,
        interval_seconds: int,
        added: int,
        first: int,
        last: int,
        defaults: SeriesSettings | None,
    ) -> dict[str, Any]:
        """The SERIES update of an ingest into an existing series, which only adds or replaces slots.

        Not conditioned on the revision: concurrent batches into other chunks of the series must not
        cancel each other (their chunks' own conditions make `added` exact, so the count is an ADD).
        The span's ends are conditioned only on what this batch relies on: an end it extends must not
        have moved further meanwhile; an end it stays within must still cover it (a range delete may
        have moved it)."""
        span = series.span
        values: dict[str, Any] = {
            ":i": n(interval_seconds),
            ":u": s(utc_now_iso()),
            ":one": n(1),
            ":added": n(added),
            ":f": n(first),
            ":l": n(last),
        }
        assignments = ["updated_at = :u", *_changed_series(values, defaults)]
        conditions = ["attribute_exists(#rec)", "interval_seconds = :i", "attribute_not_exists(deleting_at)"]
        if span is None or first < span.first_timestamp:
            assignments.append("first_ts = :f")
            conditions.append("(attribute_not_exists(first_ts) OR first_ts >= :f)")
        else:
            conditions.append("first_ts <= :f")
        if span is None or last > span.last_timestamp:
            assignments.append("last_ts = :l")
            conditions.append("(attribute_not_exists(last_ts) OR last_ts <= :l)")
        else:
            conditions.append("last_ts >= :l")
        return {
            "TableName": self._registry,
            "Key": key(series_id, SERIES),
            "UpdateExpression": "SET "
            + ", ".join(assignments)
            + " ADD revision :one, observation_count :added",
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": {"#rec": "record", **_INDEX_NAMES},
            "ExpressionAttributeValues": values,
        }

    def _exact_series_update(
        self,
        series_id: str,
        series: SeriesInfo | None,
        interval_seconds: int,
        span: Span | None,
        revision: int,
        defaults: SeriesSettings | None = None,
    ) -> dict[str, Any]:
        """The SERIES update of a new series or of a range delete: the whole span, set exactly, on the
        condition that the series has not changed since it was read (its revision)."""
        values: dict[str, Any] = {
            ":i": n(interval_seconds),
            ":next": n(revision),
            ":u": s(utc_now_iso()),
            ":c": n(span.observed_points if span else 0),
        }
        assignments = [
            "interval_seconds = :i",
            "revision = :next",
            "updated_at = :u",
            "observation_count = :c",
            *_changed_series(values, defaults),
        ]
        removals = ""
        if span is None:
            removals = " REMOVE first_ts, last_ts"
        else:
            assignments += ["first_ts = :f", "last_ts = :l"]
            values |= {":f": n(span.first_timestamp), ":l": n(span.last_timestamp)}
        names = {"#rec": "record", **_INDEX_NAMES}
        if series is None:
            condition = "attribute_not_exists(#rec)"  # a new series: nobody created it meanwhile
            assignments.append("created_at = :u")
        else:
            # Unchanged since we read it (revision), same interval, and not being deleted.
            condition = (
                "attribute_exists(#rec) AND interval_seconds = :i AND attribute_not_exists(deleting_at) AND "
                + (
                    "revision = :r"
                    if series.revision
                    else "(attribute_not_exists(revision) OR revision = :r)"
                )
            )
            values[":r"] = n(series.revision)
        return {
            "TableName": self._registry,
            "Key": key(series_id, SERIES),
            "UpdateExpression": "SET " + ", ".join(assignments) + removals,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


_INDEX_NAMES = {"#due": "due", "#kind": "kind", "#pool_served": "pool_served"}


def _changed_series(values: dict[str, Any], defaults: SeriesSettings | None) -> list[str]:
    """What every change of the observations sets besides the span: the series is due for training (the
    sparse DueIndex the planner reads), listed (the SeriesIndex), and keeps the zone and calendar its
    naive timestamps were read in."""
    values |= {":due": s(DUE), ":kind": s(KIND)}
    # A series its pool serves (the mark its last training left) is due in the POOL_SERVED partition:
    # the planner then re-trains that pool as well, whether or not the group has young series.
    assignments = ["#due = if_not_exists(#pool_served, :due)", "#kind = :kind"]
    if defaults is not None:
        values |= {":tz": s(defaults.timezone), ":h": s(defaults.holidays)}
        assignments += [
            "time_zone = if_not_exists(time_zone, :tz)",
            "holiday_calendar = if_not_exists(holiday_calendar, :h)",
        ]
    return assignments


def _lost_a_race(exc: Exception) -> bool:
    """A cancelled transaction whose items failed only on our conditions or on a concurrent transaction."""
    if error_code(exc) != "TransactionCanceledException":
        return False
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    codes = {str(r.get("Code") or "None") for r in reasons}
    return codes <= {"None", "ConditionalCheckFailed", "TransactionConflict"}


def _check_writable(series_id: str, series: SeriesInfo | None, interval_seconds: int) -> None:
    if series is None:
        return
    if series.deleting:
        raise SeriesDeletingError(
            f"series '{series_id}' is being deleted; repeat DELETE /series/{series_id} to finish it",
            field="series_id",
        )
    if series.interval_seconds and series.interval_seconds != interval_seconds:
        raise IntervalMismatchError(
            f"series '{series_id}' uses an interval of {interval_name(series.interval_seconds)}, not "
            f"{interval_name(interval_seconds)}",
            field="interval",
        )


def _observed(values: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isnan(values)))


def _changed_slots(old: _Stored | None, change: _Change) -> int:
    before = np.full(CHUNK_SLOTS, np.nan) if old is None else old.values
    after = np.full(CHUNK_SLOTS, np.nan) if change.values is None else change.values
    same = (before == after) | (np.isnan(before) & np.isnan(after))
    return int(np.count_nonzero(~same))


def _back_off(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.0))
