"""Pruning: versions older than the retention period go, with their S3 objects.

Run after each training of a series, for that series: the cost follows the trainings (one query of the
series' versions), not the size of the registry, and a series that is never trained again has no new
versions to prune. A pruned version was created, and last promoted, more than
LEAD_AI_VERSION_RETENTION_DAYS ago: one that lost (rejected), never finished (failed), or served and was
replaced (verified; the daily schedule promotes a new version of a series most days, so these grow by one
a day). Never pruned: the version CURRENT names (a rejected version promoted by hand), the newest
verified version besides it (the serving fallback when the current artifact cannot be read), and any
version promoted within the retention period (a rollback target). The record goes first, then its
object: if the object's delete fails, the orphan sweep that runs next removes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lead_ai.domain.models import Status
from lead_ai.errors import LeadAIError
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies


def prune_expired_versions(deps: Dependencies, series_id: str, *, now: datetime | None = None) -> int:
    """Delete the series' expired rejected and failed versions and their objects; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=deps.settings.version_retention_days)
    created_before = cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # as utc_now_iso
    expired = deps.tracker.expired_versions(series_id, created_before)
    current = deps.tracker.current(series_id) if expired else None
    kept = {current.version} if current is not None else set()
    kept |= _serving_fallback(deps, series_id, kept) if expired else set()
    pruned = 0
    for version in expired:
        if version.version in kept:
            continue
        if not deps.tracker.delete_expired_version(version, created_before):
            continue  # promoted (or changed) since it was listed
        if version.artifact is not None:
            try:
                deps.artifacts.delete(version.artifact)
            except LeadAIError:
                logger.warning(
                    "could not delete a pruned version's object; the orphan sweep will",
                    extra={"series_id": version.series_id, "key": version.artifact.key},
                )
        logger.info(
            "expired model version pruned",
            extra={
                "series_id": version.series_id,
                "model_version": version.version,
                "status": version.status,
            },
        )
        pruned += 1
    return pruned


def _serving_fallback(deps: Dependencies, series_id: str, current: set[str]) -> set[str]:
    """The newest verified version other than the current one: what serving falls back to."""
    for version in deps.tracker.list_versions(series_id):
        if version.status == Status.VERIFIED and version.version not in current:
            return {version.version}
    return set()
