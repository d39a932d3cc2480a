"""Model records: a version's status and artifact, the current pointer, what a training records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class Status:
    PENDING = "pending"  # allocated; artifact not yet uploaded and verified
    VERIFIED = "verified"  # artifact in S3, sha256 checked; eligible for promotion
    REJECTED = "rejected"  # verified, but did not beat the champion or the baseline
    FAILED = "failed"  # training or upload failed after allocation; no artifact is referenced
    PRUNING = "pruning"  # expired and being removed: its object is deleted first, then this record


class ArtifactRef(NamedTuple):
    """Where a model's ONNX bytes are and what they must hash to."""

    key: str
    version_id: str | None
    sha256: str
    size: int


class ModelVersion(NamedTuple):
    series_id: str
    version: str
    status: str
    created_at: str
    feature_spec: dict[str, Any]
    metrics: dict[str, float]
    library_versions: dict[str, str]
    artifact: ArtifactRef | None = None
    training_start: int | None = None
    training_end: int | None = None
    training_points: int | None = None
    history_revision: int | None = None
    reason: str | None = None
    promoted_at: str | None = None


class WindowShape(NamedTuple):
    """What a model reads to forecast: its newest `slots` observations on a grid of `interval_seconds`."""

    slots: int
    interval_seconds: int


class CurrentModel(NamedTuple):
    series_id: str
    version: str
    artifact: ArtifactRef
    # Copied from the version's feature spec at promotion, so serving can read the observations while
    # it loads the model; None on pointers written before it was recorded.
    window: WindowShape | None = None
    # Made current by hand (POST …/models/{version}/promote, a rollback), not by a training's promotion
    by_hand: bool = False
    # A fresh id written by every move of the pointer: a version string comes back after A -> B -> A, this
    # never does. None on pointers written before it was recorded.
    promotion_id: str | None = None


class TrainingRecord(NamedTuple):
    """What a verified version records about how it was trained."""

    feature_spec: Mapping[str, Any]
    metrics: Mapping[str, float]
    library_versions: Mapping[str, str]
    training_start: int
    training_end: int
    training_points: int
    history_revision: int
    note: str | None = None  # recorded as the version's reason, e.g. "seasonal naive served: ..."


def headline(metrics: Mapping[str, float]) -> dict[str, float]:
    """The backtest figures worth a CloudWatch metric (the record keeps them all)."""
    return {name: metrics[name] for name in ("mase", "baseline_mase", "coverage") if name in metrics}
