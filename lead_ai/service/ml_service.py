"""MLService: the use cases (ingest, train, forecast, list and promote models), free of HTTP and events.

Training libraries (scikit-learn, skl2onnx) are imported inside `train` only, so the prediction
and ingest functions never load them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from lead_ai.artifacts import ArtifactRef, ArtifactStore
from lead_ai.config import Settings, get_settings
from lead_ai.errors import InsufficientHistoryError, LeadAIError, SeriesNotFoundError, VersionConflictError
from lead_ai.history import HistoryStore
from lead_ai.model_tracker import ModelTracker, ModelVersion, TrainingRecord
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import AnalyticsService, MetricsAnalytics
from lead_ai.validation import ObservationBatch, interval_name

if TYPE_CHECKING:
    from lead_ai.model_cache import ModelCache

_PROMOTION_ATTEMPTS = 8


class Dependencies:
    """The adapters every use case needs; each built once per container, on first use."""

    def __init__(self, settings: Settings, analytics: AnalyticsService) -> None:
        self.settings = settings
        self.analytics = analytics

    @cached_property
    def history(self) -> HistoryStore:
        from lead_ai.aws_clients import client

        return HistoryStore(client("dynamodb"), self.settings.observations_table)

    @cached_property
    def tracker(self) -> ModelTracker:
        from lead_ai.aws_clients import client

        return ModelTracker(client("dynamodb"), self.settings.registry_table, self.analytics)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from lead_ai.aws_clients import client

        return ArtifactStore(client("s3"), self.settings.bucket)

    @cached_property
    def cache(self) -> ModelCache:
        # Only the prediction function pays for onnxruntime.
        from lead_ai.model_cache import ModelCache

        return ModelCache(
            self.tracker,
            self.artifacts,
            self.history,
            self.analytics,
            ttl_seconds=self.settings.registry_ttl_seconds,
        )


def build_dependencies(
    settings: Settings | None = None,
    analytics: AnalyticsService | None = None,
    *,
    uses_s3: bool = True,
    serves_forecasts: bool = False,
) -> Dependencies:
    """Build the container's adapters now (at init, outside the handler), S3 only where it is used."""
    deps = Dependencies(settings or get_settings(), analytics or MetricsAnalytics())
    _ = deps.history, deps.tracker
    if uses_s3:
        _ = deps.artifacts
    if serves_forecasts:
        _ = deps.cache
    return deps


class MLService:
    """Use cases for one series."""

    MIN_TRAINING_POINTS = 1000  # the default; LEAD_AI_MIN_TRAINING_POINTS overrides it

    def __init__(self, series_id: str, deps: Dependencies) -> None:
        self.series_id = series_id
        self._deps = deps

    @cached_property
    def min_training_points(self) -> int:
        return self._deps.settings.min_training_points or self.MIN_TRAINING_POINTS

    # -- ingest ---------------------------------------------------------------------------------

    def interval(self) -> str:
        """The series' interval, fixed at its first ingest; the configured default for a new series."""
        series = self._deps.tracker.get_series(self.series_id)
        return interval_name(series.interval_seconds) if series else self._deps.settings.default_interval

    def ingest(self, batch: ObservationBatch) -> dict[str, Any]:
        deps = self._deps
        deps.tracker.register_series(self.series_id, batch.interval_seconds)
        deps.history.put(self.series_id, batch.points, batch.interval_seconds)
        span = deps.history.span(self.series_id, batch.interval_seconds)
        assert span is not None  # we just wrote at least one slot
        revision = deps.tracker.record_ingest(
            self.series_id, span.first_timestamp, span.last_timestamp, span.observed_points
        )
        deps.analytics.track("ObservationsAccepted", self.series_id, {"count": len(batch.points)})
        return {
            "series_id": self.series_id,
            "accepted": len(batch.points),
            "interval": interval_name(batch.interval_seconds),
            "span": {
                "first": _iso(span.first_timestamp),
                "last": _iso(span.last_timestamp),
                "observations": span.observed_points,
            },
            "revision": revision,
        }

    # -- train ----------------------------------------------------------------------------------

    def train(self) -> dict[str, Any]:
        """Fit, export to ONNX, upload and verify, register; promote only if it beats the champion."""
        from lead_ai.forecaster import SeriesData, TrainingSettings, train_forecaster

        deps = self._deps
        series = deps.tracker.get_series(self.series_id)
        if series is None:
            raise SeriesNotFoundError(f"series '{self.series_id}' has no observations", field="series_id")
        window = deps.history.history(self.series_id, series.interval_seconds)
        observed = window.observed_points if window is not None else 0
        if window is None or observed < self.min_training_points:
            raise InsufficientHistoryError(
                f"series '{self.series_id}' has {observed} observations; training needs at least "
                f"{self.min_training_points} (LEAD_AI_MIN_TRAINING_POINTS)",
                field="observations",
            )
        started = time.perf_counter()
        result = train_forecaster(
            [SeriesData(self.series_id, window.values, window.first_timestamp, window.interval_seconds)],
            TrainingSettings(
                max_horizon=deps.settings.max_horizon,
                min_points=self.min_training_points,
                holidays=deps.settings.holidays,
            ),
        )
        logger.info(
            "model trained",
            extra={
                "series_id": self.series_id,
                "seconds": round(time.perf_counter() - started, 3),
                "metrics": result.metrics,
            },
        )
        record = TrainingRecord(
            feature_spec=result.feature_spec,
            metrics=result.metrics,
            library_versions=result.library_versions,
            training_start=result.training_start,
            training_end=result.training_end,
            training_points=result.n_points,
            history_revision=series.revision,
        )
        version = self._register(result.onnx_bytes, record)
        outcome = self._promote_if_better(version)
        # Recorded only once the version is promoted or rejected: if promotion failed (a DynamoDB
        # fault), the series stays due and the next scheduled run trains it again.
        deps.tracker.record_training_attempt(self.series_id, series.revision)
        return outcome.to_dict() | {"current": outcome.promoted_at is not None}

    def _register(self, onnx_bytes: bytes, record: TrainingRecord) -> ModelVersion:
        """Allocate a version, upload and verify its artifact, then mark it verified — or undo it all."""
        deps = self._deps
        allocated = deps.tracker.allocate_version(self.series_id, record.feature_spec)
        uploaded: ArtifactRef | None = None
        try:
            uploaded = deps.artifacts.put_model(self.series_id, allocated.version, onnx_bytes)
            deps.artifacts.get_model(uploaded)  # read back: the bytes in S3 are the bytes we trained
            deps.tracker.mark_verified(self.series_id, allocated.version, uploaded, record)
        except Exception as exc:
            self._undo_registration(allocated.version, uploaded, exc)
            raise
        return deps.tracker.get_version(self.series_id, allocated.version)

    def _undo_registration(self, version: str, uploaded: ArtifactRef | None, cause: Exception) -> None:
        logger.error(
            "registration failed; removing the partial version",
            extra={"series_id": self.series_id, "model_version": version, "error": str(cause)},
        )
        if uploaded is not None:
            try:
                self._deps.artifacts.delete(uploaded)
            except Exception:
                logger.exception(
                    "could not delete the artifact of a failed version", extra={"key": uploaded.key}
                )
        try:
            self._deps.tracker.mark_failed(self.series_id, version, f"registration failed: {cause}")
        except Exception:
            # The record stays pending and references no artifact: nothing can serve it.
            logger.exception("could not mark the version failed", extra={"model_version": version})

    def _promote_if_better(self, candidate: ModelVersion) -> ModelVersion:
        tracker = self._deps.tracker
        for _ in range(_PROMOTION_ATTEMPTS):
            current = tracker.current(self.series_id)
            champion = tracker.get_version(self.series_id, current.version) if current else None
            reason = why_not_promoted(candidate.metrics, champion)
            if reason is not None:
                tracker.mark_rejected(self.series_id, candidate.version, reason, candidate.metrics)
                return tracker.get_version(self.series_id, candidate.version)
            try:
                tracker.promote(
                    self.series_id, candidate, expected_current=current.version if current else None
                )
                return tracker.get_version(self.series_id, candidate.version)
            except VersionConflictError:
                continue  # another training moved CURRENT meanwhile: compare against the new champion
        raise VersionConflictError(f"could not promote {candidate.version}: the current model kept changing")

    # -- forecast -------------------------------------------------------------------------------

    def forecast(self, horizon: int, level: float = 0.8) -> dict[str, Any]:
        state = self._deps.cache.state(self.series_id)
        window = state.window
        arrays = state.forecaster.predict_rows(state.rows, horizon, level)
        step = window.interval_seconds
        stamps = window.last_timestamp + step * np.arange(1, horizon + 1, dtype=np.int64)
        texts = np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")
        rows = [
            {"timestamp": f"{t}Z", "value": v, "lower": lo, "upper": hi}
            for t, v, lo, hi in zip(
                texts.tolist(),
                np.round(arrays.value, 3).tolist(),
                np.round(arrays.lower, 3).tolist(),
                np.round(arrays.upper, 3).tolist(),
                strict=True,
            )
        ]
        response: dict[str, Any] = {
            "series_id": self.series_id,
            "model_version": state.version,
            "interval": interval_name(step),
            "origin": _iso(window.last_timestamp),
            "level": level,
            "forecast": rows,
        }
        if state.fallback_from is not None:
            response["fallback_from_version"] = state.fallback_from
        return response

    async def predict_workload(self, horizon: int) -> list[dict[str, Any]]:
        """The seed's API: the next `horizon` intervals as rows {timestamp, value, lower, upper}."""
        rows: list[dict[str, Any]] = self.forecast(horizon)["forecast"]
        return rows

    # -- models ---------------------------------------------------------------------------------

    def list_models(self) -> dict[str, Any]:
        tracker = self._deps.tracker
        current = tracker.current(self.series_id)
        versions = tracker.list_versions(self.series_id)
        if not versions and tracker.get_series(self.series_id) is None:
            raise SeriesNotFoundError(f"series '{self.series_id}' does not exist", field="series_id")
        return {
            "series_id": self.series_id,
            "current_version": current.version if current else None,
            "versions": [
                v.to_dict() | {"current": current is not None and v.version == current.version}
                for v in versions
            ],
        }

    def promote(self, version: str) -> dict[str, Any]:
        """Make `version` current (e.g. a rollback); atomic against concurrent trainings."""
        tracker = self._deps.tracker
        target = tracker.get_version(self.series_id, version)
        if target.artifact is None:
            raise VersionConflictError(
                f"version {version} is {target.status}: only verified versions can be promoted",
                field="version",
            )
        current = tracker.current(self.series_id)
        if current is not None and current.version == version:
            return target.to_dict() | {"current": True}
        tracker.promote(self.series_id, target, expected_current=current.version if current else None)
        return tracker.get_version(self.series_id, version).to_dict() | {"current": True}


def why_not_promoted(metrics: Mapping[str, float], champion: ModelVersion | None) -> str | None:
    """None if the candidate may be promoted, else the reason it may not."""
    mase = metrics.get("mase")
    baseline = metrics.get("baseline_mase")
    if mase is None or not np.isfinite(mase):
        return "the backtest produced no MASE"
    if baseline is not None and np.isfinite(baseline) and mase >= baseline:
        return f"backtest MASE {mase:.4f} does not beat the seasonal-naive baseline's {baseline:.4f}"
    champion_mase = champion.metrics.get("mase") if champion else None
    if champion is not None and champion_mase is not None and mase >= champion_mase:
        return f"backtest MASE {mase:.4f} does not beat the current model {champion.version} ({champion_mase:.4f})"
    return None


def retrain_changed_series(deps: Dependencies) -> dict[str, Any]:
    """The daily schedule: retrain every series whose history changed since it was last trained."""
    trained: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for series in deps.tracker.series_needing_training():
        try:
            outcome = MLService(series.series_id, deps).train()
        except InsufficientHistoryError as exc:
            skipped.append({"series_id": series.series_id, "reason": exc.message})
        except LeadAIError as exc:
            # One series' failure must not starve the others; its revision stays untrained, so the
            # next scheduled run tries it again.
            logger.exception("scheduled training failed", extra={"series_id": series.series_id})
            failed.append({"series_id": series.series_id, "reason": exc.message})
        else:
            trained.append(
                {"series_id": series.series_id, "version": outcome["version"], "status": outcome["status"]}
            )
    logger.info(
        "scheduled retraining done",
        extra={"trained": len(trained), "skipped": len(skipped), "failed": len(failed)},
    )
    return {"trained": trained, "skipped": skipped, "failed": failed}


def sweep_orphan_artifacts(deps: Dependencies, *, min_age_seconds: float = 3600.0) -> int:
    """Delete model objects no verified or rejected version references (the scheduled clean-up).

    Training deletes its upload when registration fails, but if S3 is down for that delete too, the
    object stays; this catches it later. Objects younger than `min_age_seconds` are left alone: they
    may belong to a training still registering.
    """
    from datetime import UTC, datetime

    referenced: dict[str, set[tuple[str, str | None]]] = {}
    deleted = 0
    now = datetime.now(UTC)
    for key, version_id, modified in deps.artifacts.stored_models():
        if (now - modified).total_seconds() < min_age_seconds:
            continue
        series_id = key.split("/")[1] if key.count("/") >= 2 else ""
        if series_id not in referenced:
            referenced[series_id] = {
                (v.artifact.key, v.artifact.version_id)
                for v in deps.tracker.list_versions(series_id)
                if v.artifact is not None
            }
        if (key, version_id) not in referenced[series_id]:
            deps.artifacts.delete(ArtifactRef(key, version_id, "", 0))
            logger.warning("deleted an orphan model object", extra={"key": key, "s3_version_id": version_id})
            deleted += 1
    return deleted


def _iso(ts: int) -> str:
    return f"{np.datetime_as_string(np.datetime64(int(ts), 's'), unit='s')}Z"
