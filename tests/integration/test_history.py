"""HistoryStore and SeriesWriter against moto: slots in 168-slot chunks, replaced on re-send, merged under
races, each write atomic with the series' span and revision."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest

from lead_ai.domain.series import Span
from lead_ai.errors import ServiceUnavailableError
from lead_ai.storage.observations import CHUNK_SLOTS, HistoryStore
from lead_ai.storage.series_writes import SeriesWriter
from lead_ai_dev.local.stack import LocalStack

HOUR = 3600
T0 = 1_700_006_400  # a multiple of a week of hours: chunk boundaries fall on T0 + k * 168 h


class Store:
    """The read side (HistoryStore) and the write side (SeriesWriter) of one observations table."""

    def __init__(self, stack: LocalStack, aws: Callable[[str], Any]) -> None:
        self.reader = HistoryStore(aws("dynamodb"), stack.names["ObservationsTable"])
        self.writer = SeriesWriter(
            aws("dynamodb"), stack.names["ObservationsTable"], stack.names["RegistryTable"]
        )
        self.latest = self.reader.latest
        self.history = self.reader.history

    def put(self, series_id: str, points: list[tuple[int, float]], interval: int) -> Any:
        return self.writer.ingest(series_id, interval, points)

    def span(self, series_id: str) -> Span | None:
        series = self.writer.read_series(series_id)
        return None if series is None else series.span


@pytest.fixture
def store(stack: LocalStack, aws: Callable[[str], Any]) -> Store:
    return Store(stack, aws)


def hourly(first: int, values: Iterable[float]) -> list[tuple[int, float]]:
    return [(first + HOUR * i, float(v)) for i, v in enumerate(values)]


def test_history_round_trips_across_chunk_boundaries(store: Store) -> None:
    # Given 500 hourly slots starting mid-chunk (they span four chunks)
    first = T0 + 100 * HOUR
    values = np.arange(500, dtype=float) * 0.5
    # When they are written and the history is read back
    store.put("s", hourly(first, values), HOUR)
    window = store.history("s", HOUR)
    # Then every value is where it was written, and the span is exact
    assert window is not None
    assert window.first_timestamp == first and window.last_timestamp == first + 499 * HOUR
    np.testing.assert_array_equal(window.values, values)
    assert store.span("s") == Span(first, first + 499 * HOUR, 500)


def test_resending_a_slot_replaces_it_and_gaps_stay_missing(store: Store) -> None:
    # Given slots 0..9 and 20..29, then slot 5 sent again with a new value
    store.put("s", hourly(T0, range(10)), HOUR)
    store.put("s", hourly(T0 + 20 * HOUR, range(20, 30)), HOUR)
    store.put("s", [(T0 + 5 * HOUR, 99.0)], HOUR)
    # When the history is read
    window = store.history("s", HOUR)
    # Then slot 5 holds the new value, slots 10..19 are NaN, and 20 slots are counted, not 21
    assert window is not None
    assert window.values[5] == 99.0
    assert np.isnan(window.values[10:20]).all()
    span = store.span("s")
    assert span is not None and span.observed_points == 20


def test_latest_is_the_newest_slots_ending_at_the_last_observation(
    store: Store, aws: Callable[[str], Any]
) -> None:
    # Given five weeks of hours whose last week ends mid-chunk
    values = np.arange(5 * CHUNK_SLOTS - 30, dtype=float)
    store.put("s", hourly(T0, values), HOUR)
    calls: list[dict[str, Any]] = []
    client = aws("dynamodb")
    client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: calls.append(params)
    )
    try:
        # When the 672-slot forecast window is read
        window = store.latest("s", 672, HOUR)
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.Query")
    # Then it is the last 672 values, read in one query of at most five chunks
    assert window is not None
    np.testing.assert_array_equal(window.values, values[-672:])
    assert window.last_timestamp == T0 + (values.size - 1) * HOUR
    assert len(calls) == 1 and calls[0]["Limit"] == 672 // CHUNK_SLOTS + 1


def test_latest_of_a_young_series_pads_the_unknown_past(store: Store) -> None:
    # Given only 48 slots
    store.put("s", hourly(T0 + 7 * HOUR, range(48)), HOUR)
    # When 672 are asked for
    window = store.latest("s", 672, HOUR)
    # Then the window has 672 slots ending at the last one, the first 624 missing
    assert window is not None and window.values.size == 672
    assert np.isnan(window.values[:624]).all()
    np.testing.assert_array_equal(window.values[624:], np.arange(48.0))
    assert window.last_timestamp == T0 + 54 * HOUR


def test_an_unknown_series_has_no_window(store: Store) -> None:
    assert store.latest("nobody", 672, HOUR) is None
    assert store.history("nobody", HOUR) is None
    assert store.span("nobody") is None


def test_quarter_hour_series_use_the_same_chunking(store: Store) -> None:
    # Given 15-minute slots across a chunk boundary (168 slots = 42 hours)
    q = 900
    first = T0 + 160 * q
    store.put("q", [(first + q * i, float(i)) for i in range(20)], q)
    # When read back
    window = store.history("q", q)
    # Then they are contiguous on the 15-minute grid
    assert window is not None and window.interval_seconds == q
    np.testing.assert_array_equal(window.values, np.arange(20.0))


def test_a_write_that_loses_a_race_merges_again_instead_of_overwriting(
    store: Store, stack: LocalStack, aws: Callable[[str], Any]
) -> None:
    # Given a chunk with slot 0, and a second writer that slips in slot 1 between our read and our write
    store.put("s", [(T0, 1.0)], HOUR)
    other = Store(stack, aws)
    original_read = store.writer._read_chunks
    raced: list[bool] = []

    def read_then_race(series_id: str, starts: list[int]) -> Any:
        seen = original_read(series_id, starts)
        if not raced:
            raced.append(True)
            other.put("s", [(T0 + HOUR, 2.0)], HOUR)
        return seen

    store.writer._read_chunks = read_then_race  # type: ignore[method-assign]
    # When our write of slot 2 is based on the stale read
    result = store.put("s", [(T0 + 2 * HOUR, 3.0)], HOUR)
    # Then no slot is lost: the transaction was cancelled, we re-read and merged
    window = store.history("s", HOUR)
    assert window is not None
    np.testing.assert_array_equal(window.values, [1.0, 2.0, 3.0])
    # and the span and revision count every write once
    assert store.span("s") == Span(T0, T0 + 2 * HOUR, 3)
    assert result.revision == 3


def test_a_chunk_that_never_stops_changing_is_a_503_not_a_lost_write(
    store: Store, stack: LocalStack, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another writer that changes the chunk between every read and write of ours
    store.put("s", [(T0, 1.0)], HOUR)
    other = Store(stack, aws)
    original_read = store.writer._read_chunks
    values = iter(range(100, 200))

    def read_then_race(series_id: str, starts: list[int]) -> Any:
        seen = original_read(series_id, starts)
        other.put("s", [(T0 + HOUR, float(next(values)))], HOUR)
        return seen

    store.writer._read_chunks = read_then_race  # type: ignore[method-assign]
    monkeypatch.setattr("lead_ai.storage.series_writes.time.sleep", lambda _: None)
    # When we write a slot of that chunk
    with pytest.raises(ServiceUnavailableError, match="retry"):
        store.put("s", [(T0 + 2 * HOUR, 3.0)], HOUR)
    # Then it answers 503 and the stored chunk is the other writer's, never a stale merge of ours
    window = store.history("s", HOUR)
    assert window is not None
    assert window.values.size == 2 and window.values[0] == 1.0
    assert store.span("s") == Span(T0, T0 + HOUR, 2)
