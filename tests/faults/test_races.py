"""Races: concurrent trainings of one series, concurrent overlapping ingests (threads, one moto server).

Each thread builds its own Dependencies, like a separate Lambda container would.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from lead_ai.api.requests import ObservationBatch
from lead_ai.errors import VersionConflictError
from lead_ai.service.ml_service import MLService, build_dependencies
from tests.conftest import Api, settings_for
from tests.faults.conftest import SERIES
from tests.faults.support import assert_consistent, stored

pytestmark = pytest.mark.faults


def _run_together(count: int, work: Any) -> list[Any]:
    """Run `work(i)` in `count` threads released at once; returns each result or the exception raised."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_eight_concurrent_trainings_get_distinct_versions_and_one_consistent_current(
    fast_api: Api, small_history: Any, replayed_training: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a series with 20 days of history
    assert fast_api.ingest(SERIES, *small_history)[0] == 200
    settings = settings_for(fast_api)
    # When 8 containers train it at the same moment: the real model of that history (fitted once a
    # session), each fit returning only once all 8 are fitting, as 8 real fits overlap (so every
    # container read the series and its champion before any registered); the race is in what follows,
    # the upload, registration and promotion, which each container runs for itself, all 8 at once
    _fits_overlap(8, monkeypatch)
    outcomes = _run_together(8, lambda _: MLService(SERIES, build_dependencies(settings)).train())
    # Then each either registered a version or was cleanly refused with a conflict: nothing else
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, VersionConflictError) for e in errors), errors
    registered = [o for o in outcomes if not isinstance(o, Exception)]
    assert registered, "every training was refused"
    versions = [o.version.version for o in registered]
    assert len(set(versions)) == len(versions), f"two trainings got the same version: {versions}"
    # And every record with an artifact points at an intact S3 object version, no orphan object, and
    # CURRENT is one verified version whose artifact fields equal its record
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert set(versions) <= set(state.versions)
    assert all(state.versions[v]["status"] in ("verified", "rejected") for v in versions)
    assert state.current is not None
    # And the champion is the best model registered: no losing race promoted a worse one over it
    mase = {o.version.version: o.version.metrics["mase"] for o in registered}
    assert mase[state.current["version"]] == min(mase.values())
    # And exactly one answer said "current" for identical data (the others lost on MASE, none promoted twice)
    assert sum(1 for o in registered if o.current) == 1


def _fits_overlap(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The current train_forecaster, each call waiting until `count` calls are in it."""
    import lead_ai.forecasting.training.train as train

    fit, barrier = train.train_forecaster, threading.Barrier(count, timeout=120)

    def overlapping(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return fit(*args, **kwargs)

    monkeypatch.setattr(train, "train_forecaster", overlapping)


def test_concurrent_overlapping_ingests_lose_no_slot(fast_api: Api, small_history: Any) -> None:
    # Given 8 batches of 3 days each, every one overlapping its neighbours by a day
    stamps, values = small_history
    settings = settings_for(fast_api, "IngestFunction")
    batches = [
        ObservationBatch(
            [
                (int(t), float(v) + i)
                for t, v in zip(stamps[i * 48 : i * 48 + 72], values[i * 48 : i * 48 + 72], strict=True)
            ],
            3600,
        )
        for i in range(8)
    ]
    expected = {t for b in batches for t, _ in b.points}
    # When 8 containers ingest them at the same moment
    outcomes = _run_together(8, lambda i: MLService(SERIES, build_dependencies(settings)).ingest(batches[i]))
    # Then all succeed, and every slot of every batch is stored once, with a value one of its batches sent
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    state = stored(fast_api.stack.names, SERIES)
    assert state.observations == len(expected)
    sent: dict[int, set[float]] = {}
    for batch in batches:
        for t, v in batch.points:
            sent.setdefault(t, set()).add(v)
    deps = build_dependencies(settings)
    window = deps.history.history(SERIES, 3600)
    assert window is not None and window.observed_points == len(expected)
    for offset, value in enumerate(window.values):
        t = window.first_timestamp + offset * 3600
        assert (t in expected) == (not np.isnan(value))
        if t in expected:
            assert value in sent[t]
    # And the series revision counted every ingest, so the schedule knows the history changed
    series = deps.catalogue.get_series(SERIES)
    assert series is not None and series.revision == 8
    # And its span is the stored history's, exactly
    assert series.span == (window.first_timestamp, window.last_timestamp, window.observed_points)


def test_concurrent_ingests_and_range_deletes_keep_the_span_exact(fast_api: Api, small_history: Any) -> None:
    # Given a series with 20 days of hours
    stamps, values = small_history
    settings = settings_for(fast_api, "IngestFunction")
    MLService(SERIES, build_dependencies(settings)).ingest(
        ObservationBatch([(int(t), float(v)) for t, v in zip(stamps, values, strict=True)], 3600)
    )
    last = int(stamps[-1])
    # When 5 containers append days after it, one before it, and 3 delete ranges (its first day, a day in
    # the middle, its last day), all at the same moment
    appends = [
        ObservationBatch([(last + 3600 * (24 * k + h + 1), 1.0) for h in range(24)], 3600) for k in range(5)
    ] + [ObservationBatch([(int(stamps[0]) - 3600 * (h + 1), 2.0) for h in range(24)], 3600)]
    deletes = [
        (int(stamps[0]), int(stamps[23])),
        (int(stamps[200]), int(stamps[223])),
        (int(stamps[-24]), last),
    ]

    def work(i: int) -> Any:
        service = MLService(SERIES, build_dependencies(settings))
        if i < len(appends):
            return service.ingest(appends[i])
        return service.delete_observations(*deletes[i - len(appends)])

    outcomes = _run_together(len(appends) + len(deletes), work)
    # Then each succeeded, and the span the series records is exactly its stored history's
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    deps = build_dependencies(settings)
    window = deps.history.history(SERIES, 3600)
    series = deps.catalogue.get_series(SERIES)
    assert window is not None and series is not None
    assert series.span == (window.first_timestamp, window.last_timestamp, window.observed_points)
    assert window.observed_points == stamps.size + 6 * 24 - 3 * 24
