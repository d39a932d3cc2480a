"""Integrity: a corrupt current artifact is never served; rollback moves CURRENT atomically."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lead_ai.domain.models import ModelVersion
from lead_ai.errors import VersionConflictError
from lead_ai.service.ml_service import MLService, build_dependencies
from lead_ai.service.training import TrainingOutcome
from tests.conftest import Api, settings_for
from tests.faults.conftest import SERIES, CannedTraining, add_hour, call
from tests.faults.support import FaultInjector, assert_consistent, consistent_current_version, plain_client

pytestmark = pytest.mark.faults


@pytest.fixture
def two_versions(fast_api: Api, small_history: Any, canned_training: CannedTraining) -> Api:
    """1.0.0 and the better 1.1.0, which is current."""
    canned_training.mase = [0.7, 0.6, 0.5]
    fast_api.ingest(SERIES, *small_history)
    for k, expected in enumerate(("1.0.0", "1.1.0")):
        if k:
            add_hour(fast_api, small_history, k)
        status, payload, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
        assert (status, payload["version"], payload["current"]) == (201, expected, True)
    return fast_api


def _corrupt(api: Api, version: str, how: str) -> None:
    """Make the registered artifact of `version` bad, in its record and in CURRENT."""
    names = api.stack.names
    dynamodb, s3 = plain_client("dynamodb"), plain_client("s3")
    record = f"VERSION#{'{:06d}.{:06d}.{:06d}'.format(*map(int, version.split('.')))}"
    item = dynamodb.get_item(
        TableName=names["RegistryTable"], Key={"series_id": {"S": SERIES}, "record": {"S": record}}
    )["Item"]
    garbage = b"\x08\x07not an onnx model" * 100
    changes: dict[str, Any] = {}
    if how == "object replaced":  # another object version written at the key, and the record repointed
        put = s3.put_object(Bucket=names["ArtifactBucket"], Key=item["s3_key"]["S"], Body=garbage)
        changes = {"s3_version_id": {"S": put["VersionId"]}}
    elif how == "sha256 mismatch":  # the recorded digest no longer matches the bytes
        changes = {"sha256": {"S": hashlib.sha256(b"something else").hexdigest()}}
    elif how == "not a model":  # digest and size match, but the bytes are no ONNX model
        put = s3.put_object(Bucket=names["ArtifactBucket"], Key=item["s3_key"]["S"], Body=garbage)
        changes = {
            "s3_version_id": {"S": put["VersionId"]},
            "sha256": {"S": hashlib.sha256(garbage).hexdigest()},
            "size_bytes": {"N": str(len(garbage))},
        }
    for key in (
        {"series_id": {"S": SERIES}, "record": {"S": record}},
        {"series_id": {"S": SERIES}, "record": {"S": "CURRENT"}},
    ):
        dynamodb.update_item(
            TableName=names["RegistryTable"],
            Key=key,
            UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in changes),
            ExpressionAttributeValues={f":{k}": v for k, v in changes.items()},
        )


@pytest.mark.parametrize("how", ["object replaced", "sha256 mismatch", "not a model"])
def test_a_corrupt_current_artifact_is_never_served(
    two_versions: Api, capsys: Any, caplog: Any, how: str
) -> None:
    # Given the current version's artifact corrupted, in a cold prediction container
    _corrupt(two_versions, "1.1.0", how)
    capsys.readouterr()
    # When forecasts are asked for
    first = call(two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"})
    second = call(two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"})
    # Then they come from the newest verified version, saying which version could not be served
    for status, payload, _ in (first, second):
        assert status == 200, payload
        assert payload["model_version"] == "1.0.0"
        assert payload["fallback_from_version"] == "1.1.0"
    # And an error log names the corrupt version, and the metrics say so
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any(
        r.getMessage() == "model artifact failed verification and will not be served"
        and getattr(r, "model_version", None) == "1.1.0"
        for r in errors
    ), [r.getMessage() for r in errors]
    out = capsys.readouterr().out
    assert '"ModelArtifactCorrupt":[1.0]' in out
    assert '"ModelFallbackServed":[1.0]' in out


def test_a_corrupt_artifact_with_no_verified_fallback_is_a_503(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    fast_api.ingest(SERIES, *small_history)
    assert call(fast_api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    _corrupt(fast_api, "1.0.0", "sha256 mismatch")
    status, payload, headers = call(
        fast_api, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"}
    )
    assert status == 503, payload
    assert "no verified model" in payload["message"]
    assert int(headers["Retry-After"]) > 0


def test_rollbacks_racing_a_training_leave_one_consistent_current(
    two_versions: Api, canned_training: CannedTraining, small_history: Any
) -> None:
    # Given 1.0.0 and 1.1.0 (current), and a training of new history that will beat both (MASE 0.5)
    add_hour(two_versions, small_history, 2)
    settings = settings_for(two_versions)
    barrier = threading.Barrier(7)

    def work(i: int) -> Any:
        service = MLService(SERIES, build_dependencies(settings))
        barrier.wait()
        try:
            return service.train() if i == 0 else service.promote("1.0.0" if i % 2 else "1.1.0")
        except VersionConflictError as exc:
            return exc

    # When six rollbacks/promotions race it
    with ThreadPoolExecutor(7) as pool:
        outcomes = list(pool.map(work, range(7)))
    # Then each one succeeded or was cleanly refused with a conflict, and CURRENT is one version whose
    # artifact is its record's
    assert all(isinstance(o, TrainingOutcome | ModelVersion | VersionConflictError) for o in outcomes), (
        outcomes
    )
    state = assert_consistent(two_versions.stack.names, SERIES)
    assert state.current is not None
    assert set(state.versions) == {"1.0.0", "1.1.0", "1.2.0"}
    # And an explicit rollback through the API moves CURRENT, and forecasts follow it
    status, payload, _ = call(
        two_versions, "TrainFunction", "promote.json", series_id=SERIES, version="1.0.0"
    )
    assert (status, payload["current"]) == (200, True)
    assert consistent_current_version(two_versions.stack.names, SERIES) == "1.0.0"
    forecast = call(
        two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "3"}
    )
    assert forecast[1]["model_version"] == "1.0.0"


def _current_record(api: Api, version: str) -> dict[str, Any]:
    record = f"VERSION#{'{:06d}.{:06d}.{:06d}'.format(*map(int, version.split('.')))}"
    item = plain_client("dynamodb").get_item(
        TableName=api.stack.names["RegistryTable"], Key={"series_id": {"S": SERIES}, "record": {"S": record}}
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


@pytest.mark.parametrize("how", ["object version deleted", "object deleted", "access denied"])
def test_a_missing_or_unreadable_current_artifact_falls_back(
    two_versions: Api, faults: FaultInjector, capsys: Any, caplog: Any, how: str
) -> None:
    # Given the current version's S3 object gone for good (NoSuchVersion; NoSuchKey when the record has
    # no version id), or this role denied reading it, while S3 itself answers
    names = two_versions.stack.names
    s3 = plain_client("s3")
    item = _current_record(two_versions, "1.1.0")
    if how == "object version deleted":
        s3.delete_object(Bucket=names["ArtifactBucket"], Key=item["s3_key"], VersionId=item["s3_version_id"])
    elif how == "object deleted":
        s3.delete_object(Bucket=names["ArtifactBucket"], Key=item["s3_key"], VersionId=item["s3_version_id"])
        for record in ("VERSION#000001.000001.000000", "CURRENT"):  # a record written without a version id
            plain_client("dynamodb").update_item(
                TableName=names["RegistryTable"],
                Key={"series_id": {"S": SERIES}, "record": {"S": record}},
                UpdateExpression="SET s3_version_id = :none",
                ExpressionAttributeValues={":none": {"S": ""}},
            )
    else:
        faults.inject("s3", "GetObject", "denied", when=lambda request: "/1.1.0/" in request.url)
    capsys.readouterr()
    # When forecasts are asked for in a cold prediction container
    answers = [
        call(two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"})
        for _ in range(2)
    ]
    # Then they come from the newest verified version that loads, saying which one could not be served
    for status, payload, _ in answers:
        assert status == 200, payload
        assert (payload["model_version"], payload["fallback_from_version"]) == ("1.0.0", "1.1.0")
    # And an error log names the version, and the metrics say so
    assert any(
        r.levelname == "ERROR"
        and r.getMessage() == "model artifact is missing or unreadable and will not be served"
        and getattr(r, "model_version", None) == "1.1.0"
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    out = capsys.readouterr().out
    assert '"ModelArtifactUnavailable":[1.0]' in out
    assert '"ModelFallbackServed":[1.0]' in out


def test_s3_down_is_not_taken_for_a_missing_artifact(two_versions: Api, faults: FaultInjector) -> None:
    # Given S3 failing with 5xx (down, not "this object is gone") and a cold prediction container
    faults.inject("s3", "GetObject", "5xx")
    # When a forecast is asked for
    status, payload, headers = call(
        two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"}
    )
    # Then it is a 503 to retry, not a fallback to an older version
    assert status == 503, payload
    assert int(headers["Retry-After"]) > 0


def test_a_rollback_made_while_a_training_runs_is_not_undone_by_that_training(
    two_versions: Api, canned_training: CannedTraining, small_history: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1.0.0 and 1.1.0 (current), and a training of new history that beats both (MASE 0.5)
    import lead_ai.forecasting.training.train

    add_hour(two_versions, small_history, 2)
    canned_training.mase = [0.5]
    rollbacks: list[int] = []

    def fit_while_the_user_rolls_back(*args: Any, **kwargs: Any) -> Any:
        # When the user rolls back to 1.0.0 while the training fits (it read 1.1.0 as its champion)
        status, payload, _ = call(
            two_versions, "TrainFunction", "promote.json", series_id=SERIES, version="1.0.0"
        )
        rollbacks.append(status)
        assert (status, payload["current"]) == (200, True), payload
        return canned_training(*args, **kwargs)

    monkeypatch.setattr(lead_ai.forecasting.training.train, "train_forecaster", fit_while_the_user_rolls_back)
    status, payload, _ = call(two_versions, "TrainFunction", "train.json", series_id=SERIES)
    assert rollbacks == [200]
    # Then the training registers its version, but does not make it current over the user's choice
    assert (status, payload["version"], payload["current"]) == (201, "1.2.0", False), payload
    assert payload["status"] == "rejected"
    assert "1.0.0" in payload["reason"] and "by hand" in payload["reason"], payload["reason"]
    # And 1.0.0 stays current and serves
    assert consistent_current_version(two_versions.stack.names, SERIES) == "1.0.0"
    forecast = call(
        two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "3"}
    )
    assert forecast[1]["model_version"] == "1.0.0"
    # And the user may still promote the new version by hand
    status, payload, _ = call(
        two_versions, "TrainFunction", "promote.json", series_id=SERIES, version="1.2.0"
    )
    assert (status, payload["current"]) == (200, True), payload


@pytest.mark.parametrize("when", ["while it fits", "just before its promotion"])
def test_a_rollback_away_and_back_while_a_training_runs_stands(
    two_versions: Api,
    canned_training: CannedTraining,
    small_history: Any,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    # Given 1.0.0 and 1.1.0 (current, promoted by a training), and a training of new history that beats
    # both (MASE 0.5): it reads 1.1.0 as its champion
    import lead_ai.forecasting.training.train
    from lead_ai.storage.registry import ModelTracker

    add_hour(two_versions, small_history, 2)
    canned_training.mase = [0.5]
    conflicts: list[str] = []

    def roll_back_and_forth() -> None:
        # When the user rolls back to 1.0.0, then forward to 1.1.0 again (A -> B -> A, by hand)
        for version in ("1.0.0", "1.1.0"):
            status, payload, _ = call(
                two_versions, "TrainFunction", "promote.json", series_id=SERIES, version=version
            )
            assert (status, payload["current"]) == (200, True), payload

    def fit_while_the_user_rolls_back(*args: Any, **kwargs: Any) -> Any:
        roll_back_and_forth()
        return canned_training(*args, **kwargs)

    real_promote = ModelTracker.promote

    def promote_after_the_rollbacks(self: ModelTracker, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("by_hand") or conflicts:
            return real_promote(self, *args, **kwargs)
        roll_back_and_forth()  # after the training read CURRENT (1.1.0) and decided to promote over it
        try:
            return real_promote(self, *args, **kwargs)
        except VersionConflictError as exc:
            conflicts.append(exc.message)
            raise

    if when == "while it fits":
        monkeypatch.setattr(
            lead_ai.forecasting.training.train, "train_forecaster", fit_while_the_user_rolls_back
        )
    else:
        monkeypatch.setattr(ModelTracker, "promote", promote_after_the_rollbacks)
    status, payload, _ = call(two_versions, "TrainFunction", "train.json", series_id=SERIES)
    # Then the training's promotion over the 1.1.0 it read is refused (the pointer is not the one it read,
    # though it names the same version), and its version is rejected, saying the hand chose 1.1.0
    if when == "just before its promotion":
        assert len(conflicts) == 1, conflicts
    assert (status, payload["version"], payload["current"], payload["status"]) == (
        201, "1.2.0", False, "rejected",
    ), payload  # fmt: skip
    assert "1.1.0" in payload["reason"] and "by hand" in payload["reason"], payload["reason"]
    # And CURRENT is still the 1.1.0 the user made current by hand
    assert consistent_current_version(two_versions.stack.names, SERIES) == "1.1.0"
    current = build_dependencies(settings_for(two_versions)).tracker.current(SERIES)
    assert current is not None and current.by_hand, current


def test_promoting_the_fallback_version_by_hand_clears_fallback_from_version_in_a_warm_container(
    two_versions: Api,
) -> None:
    # Given the current 1.1.0 corrupt, and a warm prediction container serving 1.0.0 in its place
    _corrupt(two_versions, "1.1.0", "sha256 mismatch")
    status, payload, _ = call(
        two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"}
    )
    assert (status, payload["model_version"], payload["fallback_from_version"]) == (200, "1.0.0", "1.1.0")
    # When the user rolls back to 1.0.0, the version being served
    status, promoted, _ = call(
        two_versions, "TrainFunction", "promote.json", series_id=SERIES, version="1.0.0"
    )
    assert (status, promoted["current"]) == (200, True), promoted
    # Then the same container answers from 1.0.0 as the current model, not as a fallback from 1.1.0
    status, payload, _ = call(
        two_versions, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"}
    )
    assert status == 200 and payload["model_version"] == "1.0.0", payload
    assert payload.get("fallback_from_version") is None, payload


def test_a_training_whose_new_version_the_user_promoted_before_it_decided_leaves_it_current_and_verified(
    two_versions: Api, canned_training: CannedTraining, small_history: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1.0.0 and 1.1.0 (current), and a training of new history whose version does worse (MASE 0.9)
    import lead_ai.service.training

    add_hour(two_versions, small_history, 2)
    canned_training.mase = [0.9]
    real_decision = lead_ai.service.training.promote_if_better

    def user_promotes_it_first(
        deps: Any, series_id: str, candidate: ModelVersion, comparison: Any, **kwargs: Any
    ) -> Any:
        # When the user promotes the new version by hand after it was registered, before training decides
        status, payload, _ = call(
            two_versions, "TrainFunction", "promote.json", series_id=SERIES, version=candidate.version
        )
        assert (status, payload["version"], payload["current"]) == (200, "1.2.0", True), payload
        return real_decision(deps, series_id, candidate, comparison, **kwargs)

    monkeypatch.setattr(lead_ai.service.training, "promote_if_better", user_promotes_it_first)
    status, payload, _ = call(two_versions, "TrainFunction", "train.json", series_id=SERIES)
    # Then the training answers the version as current and verified: not rejected while it is served
    assert (status, payload["version"], payload["current"], payload["status"]) == (
        201, "1.2.0", True, "verified",
    ), payload  # fmt: skip
    assert consistent_current_version(two_versions.stack.names, SERIES) == "1.2.0"
