"""Pruning: versions older than the retention period go, with their S3 objects.

Run after each training of a series, for that series: the cost follows the trainings (one query of the
series' versions), not the size of the registry, and a series that is never trained again has no new
versions to prune. A pruned version was created, and last promoted, more than
LEAD_AI_VERSION_RETENTION_DAYS ago: one that lost (rejected), never finished (failed), or served and was
replaced (verified; the daily schedule promotes a new version of a series most days, so these grow by one
a day). Never pruned: the version CURRENT names (a rejected version promoted by hand), the newest
verified version besides it (the serving fallback when the current artifact cannot be read), and any
version promoted within the retention period (a rollback target). A version still `pending` after the
retention period belongs to no training any more and goes too.

A version is first marked `pruning` (conditionally: a promotion or a rollback racing the clean-up wins),
so that nothing promotes it or falls back to it; then its object is deleted, then its record. If the
object's delete fails, the record stays `pruning` and the series' next pruning tries again (the orphan
sweep looks only at objects younger than a week: it would never see a pruned version's).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lead_ai.domain.models import ModelVersion, Status
from lead_ai.errors import LeadAIError
from lead_ai.monitoring.logger import logger
from lead_ai.service.dependencies import Dependencies


def prune_expired_versions(deps: Dependencies, series_id: str, *, now: datetime | None = None) -> int:
    """Delete the series' expired versions and their objects, but the current one and its fallback;
    returns how many."""
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
        if not deps.tracker.claim_expired_version(version, created_before):
            continue  # promoted (or changed) since it was listed
        if _delete_object(deps, version):
            deps.tracker.delete_pruned_version(version)
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


def _delete_object(deps: Dependencies, version: ModelVersion) -> bool:
    """Delete a pruned version's object; False (and the record kept, marked pruning) if S3 failed."""
    if version.artifact is None:
        return True
    try:
        deps.artifacts.delete(version.artifact)
    except LeadAIError:
        logger.warning(
            "could not delete a pruned version's object; the next pruning of the series retries",
            extra={"series_id": version.series_id, "model_version": version.version},
        )
        return False
    return True


def _serving_fallback(deps: Dependencies, series_id: str, current: set[str]) -> set[str]:
    """The newest verified version other than the current one: what serving falls back to."""
    for version in deps.tracker.list_versions(series_id):
        if version.status == Status.VERIFIED and version.version not in current:
            return {version.version}
    return set()
