"""Promotion: which version is served. The policy (`why_not_promoted`) and the moves of the CURRENT pointer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from lead_ai.domain.models import CurrentModel, ModelVersion, WindowShape
from lead_ai.errors import ModelNotFoundError, VersionConflictError
from lead_ai.service.dependencies import Dependencies

_PROMOTION_ATTEMPTS = 8


class Comparison(NamedTuple):
    """Which champion the candidate's backtest scored on its own windows (training loads it from S3).

    unscored: why it could not be (its artifact could not be read or run), in words a user may see.
    pool_id: the champion is the pooled model that serves the series until a model of its own wins.
    champion_promotion_id: the promotion_id of the CURRENT pointer it was read from: tells the pointer
    the training read from one a rollback wrote since, when both name the same version."""

    champion_version: str
    unscored: str | None = None
    pool_id: str | None = None
    champion_promotion_id: str | None = None

    def names(self, champion: ModelVersion) -> bool:
        """Whether this comparison scored `champion` (the same version of the same registry key)."""
        return self.champion_version == champion.version and (
            self.pool_id is None or self.pool_id == champion.series_id
        )

    def label(self) -> str:
        if self.pool_id is None:
            return f"the current model {self.champion_version}"
        return f"the pooled model {self.pool_id} {self.champion_version}"


class Decision(NamedTuple):
    promote: bool
    reason: str | None  # recorded on the version: why it was rejected, or why it won without a comparison


def decide(
    candidate: ModelVersion, champion: ModelVersion | None, comparison: Comparison | None = None
) -> Decision:
    """The promotion policy.

    - The first version of a series is promoted: its backtest chose among the model, the seasonal naive
      and their blends, so it is never worse on the backtest than the seasonal naive.
    - A champion that forecasts fewer steps than the candidate (LEAD_AI_MAX_HORIZON was raised) cannot
      answer what the service now asks: the candidate wins, with that reason.
    - Otherwise the candidate must beat the champion scored on the candidate's own backtest windows and
      steps after the data the champion was fitted on (challenger_* vs champion_* metrics): MASE, or
      MAE where MASE is undefined (a dead or constant history). A tie keeps the champion. Fewer than a
      week of such steps (champion_unseen_steps: a day's new data, or new settings on the same
      history) is no fair contest, since on the steps it was fitted on the champion recalls rather
      than forecasts: the candidate, fitted the same way on newer data, wins, with that reason. A
      champion whose artifact could not be read or run cannot be compared: the candidate wins, too.
    - Without such a score (the champion changed while the candidate trained, or the training reported
      none), the recorded figures are compared as a last resort: each measured on its own windows.
    - A series served by a pooled model (no model of its own yet): the pool is the champion, scored on
      the candidate's windows (which the pool never saw: a series served by it is never its member);
      the candidate takes over only if it beats the pool.
    """
    if champion is None:
        return Decision(True, None)
    theirs, ours = _max_horizon(champion.feature_spec), _max_horizon(candidate.feature_spec)
    if theirs is not None and ours is not None and theirs < ours:
        return Decision(
            True, f"promoted over {champion.version}, which forecasts {theirs} steps ahead; this one {ours}"
        )
    if comparison is not None and comparison.names(champion):
        if comparison.unscored is not None:
            promoted = "takes over from" if comparison.pool_id else "promoted over"
            over = comparison.label() if comparison.pool_id else champion.version
            return Decision(True, f"{promoted} {over}: {comparison.unscored}")
        if any(f"champion_{measure}" in candidate.metrics for measure in ("mase", "mae")):
            decision = _compare(
                candidate.metrics, "challenger_", candidate.metrics, "champion_", comparison.label()
            )
            if decision.promote and comparison.pool_id is not None:
                return Decision(True, _takeover(candidate.metrics, comparison.label()))
            return decision
        unseen = candidate.metrics.get("champion_unseen_steps")
        if unseen is not None:
            return Decision(True, _too_little_unseen(unseen, champion.version))
    return _compare(candidate.metrics, "", champion.metrics, "", f"the current model {champion.version}")


def why_not_promoted(
    candidate: ModelVersion, champion: ModelVersion | None, comparison: Comparison | None = None
) -> str | None:
    """None if the candidate may be promoted, else the reason it may not."""
    decision = decide(candidate, champion, comparison)
    return None if decision.promote else decision.reason


def _compare(
    ours: Mapping[str, float], our_prefix: str, theirs: Mapping[str, float], their_prefix: str, champion: str
) -> Decision:
    windows = " on the same backtest windows" if their_prefix else " (each on its own backtest windows)"
    for measure in ("mase", "mae"):
        mine, best = ours.get(our_prefix + measure), theirs.get(their_prefix + measure)
        if mine is None or best is None or not (math.isfinite(mine) and math.isfinite(best)):
            continue
        if mine < best:
            return Decision(True, None)
        return Decision(
            False,
            f"backtest {measure.upper()} {mine:.4f} does not beat {champion} ({best:.4f}){windows}",
        )
    return Decision(True, f"promoted over {champion}: no backtest measure of both to compare")


def _too_little_unseen(unseen: float, version: str) -> str:
    return (
        f"promoted over {version}: {unseen:.0f} steps of the backtest come after the data {version} was "
        "fitted on, fewer than a week's; on the others it would be scored on what it learnt"
    )


def _takeover(metrics: Mapping[str, float], pool: str) -> str:
    """Why a series' own model replaced the pool that served it, in figures."""
    for measure in ("mase", "mae"):
        mine, theirs = metrics.get("challenger_" + measure), metrics.get("champion_" + measure)
        if mine is not None and theirs is not None and math.isfinite(mine) and math.isfinite(theirs):
            return (
                f"takes over from {pool}: backtest {measure.upper()} {mine:.4f} against its {theirs:.4f} "
                "on the same windows"
            )
    return f"takes over from {pool}"


def _max_horizon(feature_spec: Mapping[str, Any]) -> int | None:
    value = feature_spec.get("max_horizon") if feature_spec else None
    return int(value) if isinstance(value, int | float) and value > 0 else None


def promote_if_better(
    deps: Dependencies,
    series_id: str,
    candidate: ModelVersion,
    comparison: Comparison | None = None,
    *,
    series_created_at: str | None = None,
) -> ModelVersion:
    """Promote the candidate if the policy allows it against the champion of the moment, else reject it.

    `series_created_at`: the SERIES item the candidate was trained from (registry.promote)."""
    tracker = deps.tracker
    for _ in range(_PROMOTION_ATTEMPTS):
        current = tracker.current(series_id)
        if current is not None and current.version == candidate.version:
            return tracker.get_version(series_id, candidate.version)  # promoted by hand meanwhile: served
        champion = (
            tracker.get_version(series_id, current.version) if current else _pool_champion(deps, comparison)
        )
        decision = _overruled_by_hand(current, comparison) or decide(candidate, champion, comparison)
        if not decision.promote:
            assert decision.reason is not None
            tracker.mark_rejected(series_id, candidate.version, decision.reason, candidate.metrics)
            return tracker.get_version(series_id, candidate.version)
        try:
            tracker.promote(
                series_id,
                candidate,
                expected_current=current,
                window=window_of(candidate),
                reason=_joined(candidate.reason, decision.reason),
                series_created_at=series_created_at,
            )
            return tracker.get_version(series_id, candidate.version)
        except VersionConflictError:
            continue  # another training moved CURRENT meanwhile: compare against the new champion
    raise VersionConflictError(f"could not promote {candidate.version}: the current model kept changing")


def _overruled_by_hand(current: CurrentModel | None, comparison: Comparison | None) -> Decision | None:
    """A rejection when CURRENT was moved by hand (a rollback) after the training read its champion: a
    training that began before the user's choice does not undo it. None otherwise (also when the hand's
    choice came first: it is the champion the candidate was scored against, and the contest is fair).
    The pointer is told apart by its promotion_id: a rollback A -> B -> A made while the candidate trained
    names the version it was scored against, but it is the user's choice, made after the training read A."""
    if current is None or not current.by_hand:
        return None
    if (
        comparison is not None
        and comparison.pool_id is None
        and comparison.champion_version == current.version
        and comparison.champion_promotion_id == current.promotion_id
    ):
        return None
    return Decision(
        False,
        f"not promoted: {current.version} was made current by hand while this version trained; "
        "promote this version by hand to serve it",
    )


def _pool_champion(deps: Dependencies, comparison: Comparison | None) -> ModelVersion | None:
    """The pooled model's version the candidate was scored against (None: no pool, or its record is gone)."""
    if comparison is None or comparison.pool_id is None:
        return None
    try:
        return deps.tracker.get_version(comparison.pool_id, comparison.champion_version)
    except ModelNotFoundError:
        return None


def _joined(*reasons: str | None) -> str | None:
    kept = [r for r in reasons if r]
    return "; ".join(kept) if kept else None


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
        expected_current=current,
        window=window_of(target),
        by_hand=True,
    )
    return tracker.get_version(series_id, version)


def window_of(version: ModelVersion) -> WindowShape | None:
    """The observations the version's model reads (recorded on CURRENT so serving can read them early)."""
    from lead_ai.forecasting.feature_spec import FeatureSpec

    if not version.feature_spec:
        return None  # FeatureSpec.from_dict({}) would describe the default spec, not this model's
    try:
        spec = FeatureSpec.from_dict(version.feature_spec)
    except (TypeError, ValueError, KeyError):
        return None  # a record without a readable spec: serving reads the window after loading the model
    return WindowShape(spec.window, spec.interval_seconds)
