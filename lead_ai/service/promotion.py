"""Promotion: which version is served. The policy (`why_not_promoted`) and the moves of the CURRENT pointer."""

from __future__ import annotations

import math
from collections.abc import Mapping

from lead_ai.domain.models import ModelVersion, WindowShape
from lead_ai.errors import VersionConflictError
from lead_ai.service.dependencies import Dependencies

_PROMOTION_ATTEMPTS = 8


def why_not_promoted(metrics: Mapping[str, float], champion: ModelVersion | None) -> str | None:
    """None if the candidate may be promoted, else the reason it may not."""
    mase = metrics.get("mase")
    baseline = metrics.get("baseline_mase")
    if mase is None or not math.isfinite(mase):
        return "the backtest produced no MASE"
    if baseline is not None and math.isfinite(baseline) and mase >= baseline:
        return f"backtest MASE {mase:.4f} does not beat the seasonal-naive baseline's {baseline:.4f}"
    champion_mase = champion.metrics.get("mase") if champion else None
    if champion is not None and champion_mase is not None and mase >= champion_mase:
        return f"backtest MASE {mase:.4f} does not beat the current model {champion.version} ({champion_mase:.4f})"
    return None


def promote_if_better(deps: Dependencies, series_id: str, candidate: ModelVersion) -> ModelVersion:
    """Promote the candidate if the policy allows it against the champion of the moment, else reject it."""
    tracker = deps.tracker
    for _ in range(_PROMOTION_ATTEMPTS):
        current = tracker.current(series_id)
        champion = tracker.get_version(series_id, current.version) if current else None
        reason = why_not_promoted(candidate.metrics, champion)
        if reason is not None:
            tracker.mark_rejected(series_id, candidate.version, reason, candidate.metrics)
            return tracker.get_version(series_id, candidate.version)
        try:
            tracker.promote(
                series_id,
                candidate,
                expected_current=current.version if current else None,
                window=window_of(candidate),
            )
            return tracker.get_version(series_id, candidate.version)
        except VersionConflictError:
            continue  # another training moved CURRENT meanwhile: compare against the new champion
    raise VersionConflictError(f"could not promote {candidate.version}: the current model kept changing")


def promote_version(deps: Dependencies, series_id: str, version: str) -> ModelVersion:
    """Make `version` current (e.g. a rollback); atomic against concurrent trainings."""
    tracker = deps.tracker
    target = tracker.get_version(series_id, version)
    if target.artifact is None:
        raise VersionConflictError(
            f"version {version} is {target.status}: only verified versions can be promoted", field="version"
        )
    current = tracker.current(series_id)
    if current is not None and current.version == version:
        return target
    tracker.promote(
        series_id,
        target,
        expected_current=current.version if current else None,
        window=window_of(target),
    )
    return tracker.get_version(series_id, version)


def window_of(version: ModelVersion) -> WindowShape | None:
    """The observations the version's model reads (recorded on CURRENT so serving can read them early)."""
    from lead_ai.forecasting.features import FeatureSpec

    if not version.feature_spec:
        return None  # FeatureSpec.from_dict({}) would describe the default spec, not this model's
    try:
        spec = FeatureSpec.from_dict(version.feature_spec)
    except (TypeError, ValueError, KeyError):
        return None  # a record without a readable spec: serving reads the window after loading the model
    return WindowShape(spec.window, spec.interval_seconds)
