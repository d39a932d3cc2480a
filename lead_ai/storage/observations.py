"""The observation store: a series' slots in chunks of CHUNK_SLOTS, one DynamoDB item per chunk.

Why chunks: a forecast reads the newest 672 slots (four weeks of hours). Stored one item per slot, that
is 672 items for DynamoDB to return and botocore to parse, one number string at a time (95-150 ms in
moto, the local stand-in); stored as chunks it is five items whose values are one binary attribute each,
which numpy decodes in microseconds. Training reads five years of hourly history as 261 items, not 43,800.

An item: `series_id` (S), `ts` (N: the chunk's first slot, a multiple of CHUNK_SLOTS x the interval),
`v` (B: CHUNK_SLOTS little-endian float64, NaN for a slot nobody reported) and `rev` (N).

Writes merge into a chunk with optimistic concurrency: read it, set the new slots, put it back on the
condition that its revision has not moved. Writing a slot again replaces it, so a re-sent or retried
batch never double counts, and concurrent overlapping batches cannot lose each other's slots: the one
that loses the race reads the chunk again and merges once more.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from lead_ai.domain.series import SeriesWindow, Span
from lead_ai.errors import ServiceUnavailableError, StorageError
from lead_ai.storage.dynamo import guarded, is_conditional_failure, n, paginate_query, s

CHUNK_SLOTS = 168  # a week of hours: an hourly forecast window (672 slots) spans at most five chunks
_VALUE_DTYPE = np.dtype("<f8")
_CHUNK_BYTES = CHUNK_SLOTS * _VALUE_DTYPE.itemsize
_MAX_MERGE_ATTEMPTS = 12
_NAMES = {"#ts": "ts", "#v": "v"}


class _Chunk(NamedTuple):
    start: int
    values: np.ndarray  # CHUNK_SLOTS float64, NaN = not reported


class HistoryStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    # -- writes -------------------------------------------------------------------------------------

    def put(self, series_id: str, points: Sequence[tuple[int, float]], interval_seconds: int) -> None:
        """Write slots (timestamp on the interval grid, value); each write replaces its slot."""
        chunk_seconds = CHUNK_SLOTS * interval_seconds
        by_chunk: dict[int, list[tuple[int, float]]] = {}
        for ts, value in points:
            by_chunk.setdefault(ts - ts % chunk_seconds, []).append((ts, value))
        for start, slots in sorted(by_chunk.items()):
            offsets = np.fromiter(((ts - start) // interval_seconds for ts, _ in slots), dtype=np.intp)
            values = np.fromiter((value for _, value in slots), dtype=np.float64)
            self._merge(series_id, start, offsets, values)

    def _merge(self, series_id: str, start: int, offsets: np.ndarray, values: np.ndarray) -> None:
        for attempt in range(_MAX_MERGE_ATTEMPTS):
            current, revision = self._read_chunk(series_id, start)
            merged = np.full(CHUNK_SLOTS, np.nan) if current is None else current  # a fresh decode
            merged[offsets] = values
            if self._write_chunk(series_id, start, merged, revision):
                return
            # Another batch wrote this chunk since we read it: back off with jitter, then merge again.
            time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.0))
        raise ServiceUnavailableError(
            f"observations of '{series_id}' kept changing under concurrent writes; retry the request"
        )

    def _read_chunk(self, series_id: str, start: int) -> tuple[np.ndarray | None, int | None]:
        item = guarded(
            "reading observations",
            lambda: self._client.get_item(
                TableName=self._table,
                Key={"series_id": s(series_id), "ts": n(start)},
                ConsistentRead=True,  # the revision we condition on must be the latest
                ProjectionExpression="#v, rev",
                ExpressionAttributeNames={"#v": "v"},
            ).get("Item"),
        )
        if item is None:
            return None, None
        return _decode(item["v"]["B"]), int(item["rev"]["N"])

    def _write_chunk(self, series_id: str, start: int, values: np.ndarray, revision: int | None) -> bool:
        """Put the chunk unless someone else changed it since `revision`; False when they did."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(#ts)", "ExpressionAttributeNames": {"#ts": "ts"}}
            if revision is None
            else {"ConditionExpression": "rev = :rev", "ExpressionAttributeValues": {":rev": n(revision)}}
        )
        item = {
            "series_id": s(series_id),
            "ts": n(start),
            "v": {"B": values.astype(_VALUE_DTYPE).tobytes()},
            "rev": n((revision or 0) + 1),
        }

        def put() -> bool:
            try:
                self._client.put_item(TableName=self._table, Item=item, **condition)
            except Exception as exc:
                if is_conditional_failure(exc):
                    return False
                raise
            return True

        return guarded("writing observations", put)

    # -- reads --------------------------------------------------------------------------------------

    def latest(self, series_id: str, count: int, interval_seconds: int) -> SeriesWindow | None:
        """The newest `count` slots of the grid that ends at the latest observation."""
        # `count` slots ending anywhere inside the newest chunk reach back at most this many chunks.
        needed = -(-count // CHUNK_SLOTS) + 1
        items = guarded(
            "reading recent observations",
            lambda: self._client.query(
                TableName=self._table,
                KeyConditionExpression="series_id = :id",
                ExpressionAttributeValues={":id": s(series_id)},
                ScanIndexForward=False,
                Limit=needed,
                ProjectionExpression="#ts, #v",
                ExpressionAttributeNames=_NAMES,
            ).get("Items", []),
        )
        window = _to_grid(reversed(items), interval_seconds)
        if window is None:
            return None
        values = window.values[-count:]
        if values.size < count:  # a young series: the older slots are unknown
            values = np.concatenate([np.full(count - values.size, np.nan), values])
        first = window.last_timestamp - (count - 1) * interval_seconds
        return SeriesWindow(values=values, first_timestamp=first, interval_seconds=interval_seconds)

    def history(self, series_id: str, interval_seconds: int) -> SeriesWindow | None:
        """Every slot from the first observation to the last, gaps as NaN."""
        items = guarded(
            "reading the history",
            lambda: list(
                paginate_query(
                    self._client,
                    TableName=self._table,
                    KeyConditionExpression="series_id = :id",
                    ExpressionAttributeValues={":id": s(series_id)},
                    ProjectionExpression="#ts, #v",
                    ExpressionAttributeNames=_NAMES,
                )
            ),
        )
        return _to_grid(items, interval_seconds)

    def span(self, series_id: str, interval_seconds: int) -> Span | None:
        """First and last observed slot and the number of observed slots."""
        window = self.history(series_id, interval_seconds)
        if window is None:
            return None
        return Span(window.first_timestamp, window.last_timestamp, window.observed_points)


def _decode(raw: bytes) -> np.ndarray:
    if len(raw) != _CHUNK_BYTES:
        raise StorageError(f"an observation chunk has {len(raw)} bytes, expected {_CHUNK_BYTES}")
    return np.frombuffer(raw, dtype=_VALUE_DTYPE).astype(np.float64)


def _to_grid(items: Iterable[dict[str, Any]], interval_seconds: int) -> SeriesWindow | None:
    """Lay chunks (oldest first) on one grid, trimmed to the first and last observed slot."""
    chunks = [_Chunk(int(item["ts"]["N"]), _decode(item["v"]["B"])) for item in items]
    if not chunks:
        return None
    origin = chunks[0].start
    size = (chunks[-1].start - origin) // interval_seconds + CHUNK_SLOTS
    values = np.full(size, np.nan)
    for chunk in chunks:
        offset = (chunk.start - origin) // interval_seconds
        values[offset : offset + CHUNK_SLOTS] = chunk.values
    observed = np.flatnonzero(~np.isnan(values))
    if observed.size == 0:
        return None
    first, last = int(observed[0]), int(observed[-1])
    return SeriesWindow(
        values=values[first : last + 1],
        first_timestamp=origin + first * interval_seconds,
        interval_seconds=interval_seconds,
    )
