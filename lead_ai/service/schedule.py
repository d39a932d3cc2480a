"""The daily schedule: retrain the series whose history changed, and sweep orphan model objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lead_ai.domain.models import ArtifactRef
from lead_ai.errors import InsufficientHistoryError, LeadAIError
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.training import train_series
from lead_ai.storage.artifacts import series_of_key


def retrain_changed_series(deps: Dependencies) -> dict[str, Any]:
    """Retrain every series whose history changed since it was last trained."""
    trained: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for series in deps.catalogue.series_needing_training():
        try:
            outcome = train_series(deps, series.series_id, deps.settings.min_training_points)
        except InsufficientHistoryError as exc:
            skipped.append({"series_id": series.series_id, "reason": exc.message})
        except LeadAIError as exc:
            # One series' failure must not starve the others; its revision stays untrained, so the
            # next scheduled run tries it again.
            logger.exception("scheduled training failed", extra={"series_id": series.series_id})
            failed.append({"series_id": series.series_id, "reason": exc.message})
        else:
            version = outcome.version
            if not outcome.trained:
                skipped.append(
                    {"series_id": series.series_id, "reason": "unchanged since the current version"}
                )
                continue
            trained.append(
                {"series_id": series.series_id, "version": version.version, "status": version.status}
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
    referenced: dict[str, set[tuple[str, str | None]]] = {}
    deleted = 0
    now = datetime.now(UTC)
    for key, version_id, modified in deps.artifacts.stored_models():
        if (now - modified).total_seconds() < min_age_seconds:
            continue
        series_id = series_of_key(key) or ""
        if series_id not in referenced:
            referenced[series_id] = (
                {
                    (v.artifact.key, v.artifact.version_id)
                    for v in deps.tracker.list_versions(series_id)
                    if v.artifact is not None
                }
                if series_id
                else set()
            )
        if (key, version_id) not in referenced[series_id]:
            deps.artifacts.delete(ArtifactRef(key, version_id, "", 0))
            logger.warning("deleted an orphan model object", extra={"key": key, "s3_version_id": version_id})
            deleted += 1
    return deleted
