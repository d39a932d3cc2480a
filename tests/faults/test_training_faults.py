"""Faults while training: S3 / DynamoDB throttling, 5xx and timeouts at each step of registration.

Whatever fails, no version record points at a missing or partial artifact, no object is left that no
record references, nothing is promoted that should not be, and the API answers a 503 JSON with
Retry-After. The training itself is the real model computed once (canned_training).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lead_ai.service.ml_service import build_dependencies
from tests.conftest import Api, settings_for
from tests.faults.conftest import SERIES, CannedTraining, call
from tests.faults.support import FaultInjector, assert_consistent, body_contains, consistent_current_version

pytestmark = pytest.mark.faults

MARK_VERIFIED = body_contains('":verified"', '":pending"')
# Two transactions: the allocation (a pending version put, the SERIES check) and the promotion (CURRENT)
ALLOCATION = body_contains('"pending"', '"ConditionCheck"')
PROMOTION = body_contains('"CURRENT"')


def _assert_503(status: int, payload: Any, headers: dict[str, str]) -> None:
    assert status == 503, payload
    assert payload["error"] == "service_unavailable"
    assert int(headers["Retry-After"]) > 0
    assert "Traceback" not in json.dumps(payload)


@pytest.mark.parametrize(
    ("step", "service", "operation", "kind", "when", "kept"),
    [
        ("allocate the version", "dynamodb", "TransactWriteItems", "5xx", ALLOCATION, "nothing"),
        ("upload", "s3", "PutObject", "throttle", None, "failed"),
        ("upload", "s3", "PutObject", "timeout", None, "failed"),
        ("verify read-back", "s3", "GetObject", "5xx", None, "failed"),
        ("mark verified", "dynamodb", "UpdateItem", "throttle", MARK_VERIFIED, "failed"),
        # DynamoDB down after the upload: neither verified nor failed can be written; the record stays
        # pending, with no artifact, and the uploaded object is removed.
        ("mark verified, registry down", "dynamodb", "UpdateItem", "5xx", body_contains('"#st"'), "pending"),
        ("promote", "dynamodb", "TransactWriteItems", "timeout", PROMOTION, "verified"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_fault_during_training_leaves_no_partial_version_and_answers_503(
    fast_api: Api,
    small_history: Any,
    canned_training: CannedTraining,
    faults: FaultInjector,
    step: str,
    service: str,
    operation: str,
    kind: str,
    when: Any,
    kept: str,
) -> None:
    # Given a series with history and no model
    fast_api.ingest(SERIES, *small_history)
    # When training hits a persistent fault at this step (the SDK retries, then gives up)
    fault = faults.inject(service, operation, kind, when=when)
    status, payload, headers = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    faults.clear()
    # Then the API answers a clear 503 with Retry-After, never a stack trace
    assert fault.hits >= 1, f"the fault at '{step}' was never reached"
    _assert_503(status, payload, headers)
    # And the registry and the bucket hold no version pointing at a missing or partial artifact,
    # no orphan object, and no CURRENT
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert state.current is None
    if kept == "nothing":
        assert state.versions == {}
    else:
        assert [v["status"] for v in state.versions.values()] == [kept]
        assert len(state.objects) == (1 if kept == "verified" else 0)
    # And once the fault is gone, training works again and its version becomes current
    status, payload, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    assert status == 201, payload
    assert payload["current"] is True
    assert consistent_current_version(fast_api.stack.names, SERIES) == payload["version"]


def test_a_verified_mark_written_although_its_call_failed_keeps_the_version_and_its_object(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lead_ai.errors import StorageError
    from lead_ai.storage.registry import ModelTracker

    real_mark_verified = ModelTracker.mark_verified

    def written_then_lost(self: ModelTracker, *args: Any, **kwargs: Any) -> None:
        real_mark_verified(self, *args, **kwargs)
        raise StorageError("recording the verified version")  # the answer lost after the write

    # Given a series with history, and a registry whose answer to the verified mark is lost after the
    # write (a timeout once DynamoDB had committed it)
    fast_api.ingest(SERIES, *small_history)
    monkeypatch.setattr(ModelTracker, "mark_verified", written_then_lost)
    # When it is trained
    status, payload, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    # Then the training goes on with the version it registered: current, its object kept (the undo
    # would have deleted the object of a record that says verified)
    assert (status, payload["version"], payload["current"]) == (201, "1.0.0", True), payload
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert len(state.objects) == 1


def test_a_failed_promotion_leaves_the_series_due_for_the_next_scheduled_training(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, faults: FaultInjector
) -> None:
    # Given a training whose promotion step failed (DynamoDB transaction throttled)
    fast_api.ingest(SERIES, *small_history)
    faults.inject("dynamodb", "TransactWriteItems", "throttle", when=PROMOTION)
    status, _, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    faults.clear()
    assert status == 503
    # Then the series is still due, so the next plan queues it again
    deps = build_dependencies(settings_for(fast_api))
    assert [s.series_id for s in deps.catalogue.due_series()] == [SERIES]


def test_a_transient_fault_is_retried_by_the_sdk_and_training_succeeds(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, faults: FaultInjector
) -> None:
    # Given one throttled upload and one read-back timeout (each fails once, then recovers)
    fast_api.ingest(SERIES, *small_history)
    put = faults.inject("s3", "PutObject", "throttle", times=1)
    get = faults.inject("s3", "GetObject", "timeout", times=1)
    # When training
    status, payload, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    # Then the retries absorbed both faults: one verified, current version, no stray object
    assert (put.hits, get.hits) == (1, 1)
    assert status == 201, payload
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert state.current is not None and state.current["version"] == payload["version"]
    assert len(state.objects) == 1
