"""The observation store: a series' slots in chunks of CHUNK_SLOTS, one DynamoDB item per chunk.

Why chunks: a forecast reads the newest 672 slots (four weeks of hours). Stored one item per slot, that
is 672 items for DynamoDB to return and botocore to parse, one number string at a time (95-150 ms in
moto, the local stand-in); stored as chunks it is five items whose values are one binary attribute each,
which numpy decodes in microseconds. Training reads five years of hourly history as 261 items, not 43,800.

An item: `series_id` (S), `ts` (N: the chunk's first slot, a multiple of CHUNK_SLOTS x the interval),
`v` (B: CHUNK_SLOTS little-endian float64, NaN for a slot nobody reported) and `rev` (N).

Writes (storage.series_writes) merge into a chunk with optimistic concurrency: read it, set the new
slots, put it back on the condition that its revision has not moved, in one transaction with the series'
SERIES record. Writing a slot again replaces it, so a re-sent or retried batch never double counts, and
concurrent overlapping batches cannot lose each other's slots: the one that loses the race reads the
chunk again and merges once more. This module reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from lead_ai.domain.series import SeriesWindow
from lead_ai.errors import StorageError
from lead_ai.storage.dynamo import guarded, paginate_query, s

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_dynamodb.client import DynamoDBClient


CHUNK_SLOTS = 168  # a week of hours: an hourly forecast window (672 slots) spans at most five chunks
_VALUE_DTYPE = np.dtype("<f8")
_CHUNK_BYTES = CHUNK_SLOTS * _VALUE_DTYPE.itemsize
_NAMES = {"#ts": "ts", "#v": "v"}


class _Chunk(NamedTuple):
    start: int
    values: np.ndarray  # CHUNK_SLOTS float64, NaN = not reported


class HistoryStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

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


def decode_chunk(raw: bytes) -> np.ndarray:
    if len(raw) != _CHUNK_BYTES:
        raise StorageError(f"an observation chunk has {len(raw)} bytes, expected {_CHUNK_BYTES}")
    return np.frombuffer(raw, dtype=_VALUE_DTYPE).astype(np.float64)


def encode_chunk(values: np.ndarray) -> bytes:
    return values.astype(_VALUE_DTYPE).tobytes()


def _to_grid(items: Iterable[dict[str, Any]], interval_seconds: int) -> SeriesWindow | None:
    """Lay chunks (oldest first) on one grid, trimmed to the first and last observed slot."""
    chunks = [_Chunk(int(item["ts"]["N"]), decode_chunk(item["v"]["B"])) for item in items]
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
