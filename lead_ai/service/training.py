"""Training: fit on a series' history, export to ONNX, upload and verify, register; then promotion decides.

Training libraries (scikit-learn, skl2onnx) are imported inside `train_series` only, so the prediction
and ingest functions never load them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from lead_ai import time_budget
from lead_ai.domain.intervals import interval_name, min_points_for_interval
from lead_ai.domain.models import ArtifactRef, CurrentModel, ModelVersion, Status, TrainingRecord
from lead_ai.domain.series import SeriesInfo, SeriesSettings
from lead_ai.errors import InsufficientHistoryError, LeadAIError, SeriesNotFoundError
from lead_ai.forecasting.contiguous import RecentHistory, recent_contiguous
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.promotion import Comparison, promote_if_better
from lead_ai.service.pruning import prune_expired_versions

if TYPE_CHECKING:
    from lead_ai.forecasting.training.backtest import Champion
    from lead_ai.forecasting.training.settings import TrainingResult, TrainingSettings


class TrainingOutcome(NamedTuple):
    version: ModelVersion
    current: bool  # whether this version is now the one served
    trained: bool = True  # False: the history and settings had not changed; `version` is the current one


def train_series(
    deps: Dependencies, series_id: str, min_points: int, known: SeriesInfo | None = None
) -> TrainingOutcome:
    """Fit, export to ONNX, upload and verify, register; promote only if it beats the champion.

    `min_points` is a count of hours (LEAD_AI_MIN_TRAINING_POINTS): the same duration of history is
    needed at every interval (domain.intervals.min_points_for_interval). `known`: the caller's read of
    the series' SERIES item, if it made one (the training worker), so it is not read again."""
    from lead_ai.forecasting.training.train import SeriesData, train_forecaster

    series = known if known is not None else deps.catalogue.get_series(series_id)
    if series is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    unchanged = trained_already(deps, series)
    if unchanged is not None:
        deps.catalogue.record_training_attempt(series_id, series.revision, series.created_at)  # not due
        return unchanged
    settings = _training_settings(deps, series, min_points)
    recent = _training_history(deps, series_id, series.interval_seconds, settings.max_gap_days)
    _require_enough_history(series, recent, settings, min_points)
    champion, comparison = _champion(deps, series)
    started = time.perf_counter()
    result = train_forecaster(
        [SeriesData(series_id, recent.values, recent.first_timestamp, series.interval_seconds)],
        settings,
        champion,
    )
    # A fit that outlasted an API request's budget: the caller has its 504 from API Gateway by now;
    # registering the version (within the function's own timeout) beats throwing the fit away.
    if time_budget.finish_in_function_time(deps.settings.aws_calls.attempt_seconds * 2):
        logger.warning("training outlasted the request's time budget; registering it anyway")
    logger.info(
        "model trained",
        extra={
            "series_id": series_id,
            "seconds": round(time.perf_counter() - started, 3),
            "metrics": result.metrics,
        },
    )
    # All three conditioned on the SERIES item read above: a series deleted (and perhaps created again)
    # meanwhile (its revisions restart at 1) gets no version of this model, is not served it and is not
    # taken off the DueIndex by it.
    version = register(
        deps,
        series_id,
        result.onnx_bytes,
        training_record(result, series.revision),
        series_created_at=series.created_at,
    )
    outcome = promote_if_better(deps, series_id, version, comparison, series_created_at=series.created_at)
    # Recorded only once the version is promoted or rejected: if promotion failed (a DynamoDB
    # fault), the series stays due and the next scheduled run trains it again.
    deps.catalogue.record_training_attempt(
        series_id,
        series.revision,
        series.created_at,
        pool_served=served_by_pool(deps, series_id, outcome, comparison),
    )
    _prune_after_training(deps, series_id)
    return TrainingOutcome(outcome, current=outcome.promoted_at is not None)


def served_by_pool(
    deps: Dependencies, series_id: str, outcome: ModelVersion, comparison: Comparison | None
) -> bool:
    """Whether its group's pool serves the series after this training: its own model lost to the pool.
    The catalogue keeps it as the `pool_served` mark, so that the planner re-trains the pool as the
    series' data change, even when the group has no young series left."""
    if outcome.promoted_at is not None or comparison is None or comparison.pool_id is None:
        return False
    # Lost to the pool; unless a version was promoted by hand while it trained (the only other way to
    # be rejected without a model of its own), the series still has no CURRENT: one read, only here.
    return deps.tracker.current(series_id) is None


def _prune_after_training(deps: Dependencies, series_id: str) -> None:
    """Expired rejected and failed versions of the series go now (service.pruning); a failure only
    postpones them to its next training."""
    try:
        prune_expired_versions(deps, series_id)
    except LeadAIError:
        logger.warning(
            "pruning expired versions failed; the next training retries", extra={"series_id": series_id}
        )


def _training_settings(deps: Dependencies, series: SeriesInfo, min_points: int) -> TrainingSettings:
    """Production settings for this series: its interval's horizon and minimum, its zone and calendar."""
    from lead_ai.forecasting.training.train import TrainingSettings

    chosen = SeriesSettings.of(series, deps.settings.series_defaults)
    return TrainingSettings(
        max_horizon=deps.settings.max_horizon_steps(series.interval_seconds),
        min_points=min_points_for_interval(min_points, series.interval_seconds),
        holidays=chosen.holidays,
        timezone=chosen.timezone,
    )


def _require_enough_history(
    series: SeriesInfo, recent: RecentHistory, settings: TrainingSettings, min_points: int
) -> None:
    observed = int(np.count_nonzero(~np.isnan(recent.values)))
    if observed >= settings.min_points:
        return
    rule = f"{settings.min_points} ({min_points} hours of history, LEAD_AI_MIN_TRAINING_POINTS)"
    since = (
        f" since its last gap of more than {settings.max_gap_days:g} days" if recent.dropped_points else ""
    )
    raise InsufficientHistoryError(
        f"series '{series.series_id}' has {observed} observations{since}; training needs at least {rule} "
        f"at {interval_name(series.interval_seconds)}",
        field="observations",
    )


def _training_history(
    deps: Dependencies, series_id: str, interval_seconds: int, max_gap_days: float
) -> RecentHistory:
    """The stored history after its last gap longer than max_gap_days (contiguous.recent_contiguous)."""
    window = deps.history.history(series_id, interval_seconds)
    if window is None:
        return RecentHistory(np.zeros(0), 0, 0)
    recent = recent_contiguous(window.values, window.first_timestamp, interval_seconds, max_gap_days * 86400)
    if recent.dropped_points:
        logger.warning(
            "training reads the history after its last long gap",
            extra={"series_id": series_id, "points_before_the_gap": recent.dropped_points},
        )
    return recent


def _champion(deps: Dependencies, series: SeriesInfo) -> tuple[Champion | None, Comparison | None]:
    """The model serving the series, loaded from S3 to be scored on the candidate's backtest windows: its
    own current model, or, while it has none, the pooled model of its group (service.pooling). One that
    forecasts on another grid (the series' interval changed) cannot be scored on them."""
    current = deps.tracker.current(series.series_id)
    if current is not None:
        # Fitted on this series: scored only on what came after its data (backtest.Champion).
        trained_until = deps.tracker.get_version(series.series_id, current.version).training_end
        champion, comparison = champion_of(deps, series.series_id, current, trained_until=trained_until)
    else:
        from lead_ai.service.pooling import pool_key_of

        pool_id = pool_key_of(deps, series).pool_id
        champion, comparison = champion_of(deps, pool_id, deps.tracker.current(pool_id), pool_id=pool_id)
    if (
        champion is not None
        and comparison is not None
        and champion.spec.interval_seconds != series.interval_seconds
    ):
        return None, comparison._replace(unscored="it forecasts on another grid")
    return champion, comparison


def champion_of(
    deps: Dependencies,
    key: str,
    current: CurrentModel | None,
    *,
    pool_id: str | None = None,
    trained_until: int | None = None,
) -> tuple[Champion | None, Comparison | None]:
    """The model `current` points at (under registry key `key`), loaded to be scored (load_champion).

    One that cannot be read or run is no obstacle: the candidate is then promoted with that reason
    (serving falls back from such an artifact anyway). The detail goes to the log only."""
    from lead_ai.forecasting.training.train import load_champion

    if current is None:
        return None, None
    try:
        champion = load_champion(deps.artifacts.get_model(current.artifact), trained_until)
        return champion, Comparison(
            current.version, pool_id=pool_id, champion_promotion_id=current.promotion_id
        )
    except Exception as exc:  # S3 errors, a sha256 mismatch, bytes that are no lead_ai model
        logger.warning(
            "the current model could not be loaded to compare with",
            extra={"series_id": key, "model_version": current.version, "error": str(exc)},
        )
        return None, Comparison(
            current.version,
            "its artifact could not be read to compare on the same windows",
            pool_id,
            current.promotion_id,
        )


def trained_already(deps: Dependencies, series: SeriesInfo) -> TrainingOutcome | None:
    """The newest version, if it was trained on this very history revision with today's settings
    (interval, horizon, time zone, holiday calendar), promoted or rejected: training again would only make
    a copy of it (and a copy of a rejected one would be rejected the same way)."""
    newest, _ = deps.tracker.list_versions_page(series.series_id, 1)
    if not newest:
        return None
    version = newest[0]
    if version.history_revision != series.revision or not _same_settings(deps, series, version.feature_spec):
        return None
    current = deps.tracker.current(series.series_id)
    is_current = current is not None and current.version == version.version
    # Decided: served now, rejected, or served once and rolled back from. A verified version never
    # promoted is one whose promotion failed (a DynamoDB fault): training again is how it gets served.
    decided = is_current or version.status == Status.REJECTED or version.promoted_at is not None
    return TrainingOutcome(version, current=is_current, trained=False) if decided else None


def _same_settings(deps: Dependencies, series: SeriesInfo, spec: Mapping[str, Any]) -> bool:
    settings = SeriesSettings.of(series, deps.settings.series_defaults)
    return (
        spec.get("interval_seconds") == series.interval_seconds
        and spec.get("max_horizon") == deps.settings.max_horizon_steps(series.interval_seconds)
        and spec.get("timezone", "UTC") == settings.timezone
        and spec.get("holidays", "none") == settings.holidays
    )


def training_record(result: TrainingResult, history_revision: int) -> TrainingRecord:
    """What the registry keeps of a training (a series' or a pool's), for the history revision it saw."""
    return TrainingRecord(
        feature_spec=result.feature_spec,
        metrics=result.metrics,
        library_versions=result.library_versions,
        training_start=result.training_start,
        training_end=result.training_end,
        training_points=result.n_points,
        history_revision=history_revision,
        note=result.note,
    )


def register(
    deps: Dependencies,
    series_id: str,
    onnx_bytes: bytes,
    record: TrainingRecord,
    *,
    series_created_at: str | None = None,
) -> ModelVersion:
    """Allocate a version, upload and verify its artifact, then mark it verified — or undo it all.

    `series_created_at`: the SERIES item the model was trained from: a series deleted (or deleted and
    created again) since gets no version and no object (SeriesDeletingError, registry.allocate_version)."""
    allocated = deps.tracker.allocate_version(series_id, record.feature_spec, series_created_at)
    uploaded: ArtifactRef | None = None
    try:
        uploaded = deps.artifacts.put_model(series_id, allocated.version, onnx_bytes)
        deps.artifacts.get_model(uploaded)  # read back: the bytes in S3 are the bytes we trained
        deps.tracker.mark_verified(series_id, allocated.version, uploaded, record)
    except Exception as exc:
        written = _verified_after_all(deps, series_id, allocated.version, uploaded)
        if written is not None:
            return written
        _undo_registration(deps, series_id, allocated.version, uploaded, exc)
        raise
    return deps.tracker.get_version(series_id, allocated.version)


def _verified_after_all(
    deps: Dependencies, series_id: str, version: str, uploaded: ArtifactRef | None
) -> ModelVersion | None:
    """The version, if the verified mark was written although its call failed (a timeout after DynamoDB
    committed it; the SDK's retry then fails its condition): undoing would delete the object of a record
    that says verified. None when it was not written, or when that cannot be read either."""
    if uploaded is None:
        return None
    try:
        version_now = deps.tracker.get_version(series_id, version)
    except Exception:
        return None
    if version_now.artifact is None or version_now.artifact.sha256 != uploaded.sha256:
        return None
    logger.warning(
        "the verified mark was written although its call failed; the version stands",
        extra={"series_id": series_id, "model_version": version},
    )
    return version_now


def _undo_registration(
    deps: Dependencies, series_id: str, version: str, uploaded: ArtifactRef | None, cause: Exception
) -> None:
    logger.error(
        "registration failed; removing the partial version",
        extra={"series_id": series_id, "model_version": version, "error": str(cause)},
    )
    if uploaded is not None:
        try:
            deps.artifacts.delete(uploaded)
        except Exception:
            logger.exception("could not delete the artifact of a failed version", extra={"key": uploaded.key})
    try:
        deps.tracker.mark_failed(series_id, version, failure_reason(cause))
    except Exception:
        # The record stays pending and references no artifact: nothing can serve it.
        logger.exception("could not mark the version failed", extra={"model_version": version})


def failure_reason(cause: Exception) -> str:
    """The reason a failed version records (GET /models returns it): our own words, never an AWS error
    text (ARNs, account ids, resource names, endpoints); the log above keeps the detail."""
    if isinstance(cause, LeadAIError):
        return f"registration failed: {cause.message}"
    return "registration failed: an unexpected error (the training function's log has the detail)"
