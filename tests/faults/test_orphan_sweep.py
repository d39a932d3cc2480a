"""The scheduled clean-up: a model object left behind when S3 failed during a training's own undo."""

from __future__ import annotations

from typing import Any

import pytest

from lead_ai.service.ml_service import build_dependencies
from lead_ai.service.schedule import sweep_orphan_artifacts
from tests.conftest import Api, settings_for
from tests.faults.conftest import SERIES, CannedTraining, add_hour, call
from tests.faults.support import FaultInjector, consistent_current_version, plain_client

pytestmark = pytest.mark.faults


def test_an_object_orphaned_by_a_failed_undo_is_swept_and_referenced_ones_are_kept(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, faults: FaultInjector
) -> None:
    # Given a current version, then a training whose mark-verified and undo-delete both fail
    fast_api.ingest(SERIES, *small_history)
    status, first, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    assert status == 201
    add_hour(fast_api, small_history)
    faults.inject("dynamodb", "UpdateItem", "5xx")
    faults.inject("s3", "DeleteObject", "5xx")
    status, _, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    faults.clear()
    assert status == 503
    bucket = fast_api.stack.names["ArtifactBucket"]
    keys = sorted(
        v["Key"] for v in plain_client("s3").list_object_versions(Bucket=bucket).get("Versions", [])
    )
    assert len(keys) == 2, keys  # the current model and the orphan
    # When the sweep runs (age limit 0: the objects here are seconds old)
    deleted = sweep_orphan_artifacts(build_dependencies(settings_for(fast_api)), min_age_seconds=0)
    # Then exactly the orphan is gone; the current version's object is kept and still verifies
    assert deleted == 1
    left = plain_client("s3").list_object_versions(Bucket=bucket).get("Versions", [])
    assert [v["Key"] for v in left] == [first["artifact"]["s3_key"]]
    assert consistent_current_version(fast_api.stack.names, SERIES) == first["version"]


def test_the_sweep_leaves_young_objects_alone(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    # Given an object with no record, just uploaded (a training may still be registering it)
    bucket = fast_api.stack.names["ArtifactBucket"]
    plain_client("s3").put_object(Bucket=bucket, Key=f"models/{SERIES}/9.0.0/model.onnx", Body=b"in flight")
    # When the sweep runs with the production age limit
    deleted = sweep_orphan_artifacts(build_dependencies(settings_for(fast_api)))
    # Then it is kept
    assert deleted == 0
    assert len(plain_client("s3").list_object_versions(Bucket=bucket)["Versions"]) == 1


def test_the_sweep_looks_only_at_objects_inside_its_age_window(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    # Given an object no record references
    bucket = fast_api.stack.names["ArtifactBucket"]
    plain_client("s3").put_object(Bucket=bucket, Key=f"models/{SERIES}/9.0.0/model.onnx", Body=b"orphan")
    deps = build_dependencies(settings_for(fast_api))
    # When the sweep's window ends before the object's age (older objects were seen by earlier daily runs)
    deleted = sweep_orphan_artifacts(deps, min_age_seconds=0, max_age_seconds=0)
    # Then it is not looked at; with the window around its age, it is deleted
    assert deleted == 0
    assert sweep_orphan_artifacts(deps, min_age_seconds=0, max_age_seconds=3600) == 1
