"""ModelTracker: the model versions of each series and the pointer to the one being served.

Records in the registry table (layout in storage.registry_table):
- `VERSION#000001.000002.000000` one record per model version (sortable semantic version)
- `CURRENT`                      the pointer to the version prediction serves (a copy of its artifact ref)

Versions are allocated with conditional puts (two concurrent trainings can never share one), each in one
transaction with the check that the series is alive (not being deleted, nor deleted), and the
`CURRENT` pointer only moves with a transaction that checks both the expected previous pointer (its
`promotion_id`, fresh on every move) and that the new version's artifact was verified. Every change is
published to the analytics service.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from lead_ai.domain.isotime import utc_now_iso
from lead_ai.domain.models import (
    ArtifactRef,
    CurrentModel,
    ModelVersion,
    Status,
    TrainingRecord,
    WindowShape,
    headline,
)
from lead_ai.domain.pools import is_pool_id
from lead_ai.domain.versions import Version, format_version, next_version, parse_version
from lead_ai.errors import ModelNotFoundError, SeriesDeletingError, StorageError, VersionConflictError
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import AnalyticsService
from lead_ai.storage.dynamo import (
    error_code,
    get_n,
    get_s,
    guarded,
    is_conditional_failure,
    n,
    paginate_query,
    s,
    storage_error,
)
from lead_ai.storage.registry_table import (
    CURRENT,
    SERIES,
    VERSION_PREFIX,
    artifact_from_item,
    key,
    version_from_item,
    version_sort_key,
)

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_dynamodb.client import DynamoDBClient

_MAX_ALLOCATION_ATTEMPTS = 25
_ALLOCATION_PUT, _ALLOCATION_SERIES_CHECK = 0, 1  # the items of an allocation's transaction
_MAX_BATCH_ROUNDS = 5


class ModelTracker:
    def __init__(self, client: DynamoDBClient, table: str, analytics: AnalyticsService) -> None:
        self._client = client
        self._table = table
        self._analytics = analytics

    # -- versions -------------------------------------------------------------------------------

    def allocate_version(
        self, series_id: str, feature_spec: Mapping[str, Any], series_created_at: str | None = None
    ) -> ModelVersion:
        """Claim the next free version with a conditional put; retry past versions others claimed.

        The put is one transaction with the check that the series is alive (`_series_alive`, as a promotion
        checks it): a training that outlasted DELETE /series/{id} registers nothing behind it (it wrote a
        pending record, then an S3 object, after the deletion had removed everything). SeriesDeletingError
        then; a pool has no SERIES item and passes."""
        spec_json = json.dumps(feature_spec, sort_keys=True, separators=(",", ":"))
        for _ in range(_MAX_ALLOCATION_ATTEMPTS):
            latest = self._latest_version_item(series_id)
            latest_version = parse_version(get_s(latest, "version") or "") if latest else None
            spec_changed = latest is not None and get_s(latest, "feature_spec") not in (None, spec_json)
            candidate = next_version(latest_version, spec_changed=spec_changed)
            created = utc_now_iso()
            try:
                self._client.transact_write_items(
                    TransactItems=self._allocation(
                        series_id, candidate, created, spec_json, series_created_at
                    )
                )
            except Exception as exc:
                failed = _failed_items(exc)
                if _ALLOCATION_SERIES_CHECK in failed:
                    raise SeriesDeletingError(
                        f"series '{series_id}' was deleted, or is being deleted, while this model was "
                        "trained: no version is registered",
                        field="series_id",
                    ) from exc
                if _ALLOCATION_PUT in failed:
                    continue  # another training claimed this version first: take the next one
                raise storage_error("allocating a model version", exc) from exc
            version = format_version(candidate)
            logger.info("model version allocated", extra={"series_id": series_id, "model_version": version})
            return ModelVersion(series_id, version, Status.PENDING, created, dict(feature_spec), {}, {})
        raise VersionConflictError(
            f"could not allocate a version for '{series_id}': too many concurrent trainings"
        )

    def _allocation(
        self,
        series_id: str,
        candidate: Version,
        created: str,
        spec_json: str,
        series_created_at: str | None,
    ) -> list[Any]:
        """The allocation's transaction: the pending record if its version is free, and the series alive."""
        return [  # plain request dicts; the stubs' TypedDicts would only restate them
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **key(series_id, version_sort_key(candidate)),
                        "version": s(format_version(candidate)),
                        "status": s(Status.PENDING),
                        "created_at": s(created),
                        "feature_spec": s(spec_json),
                    },
                    "ConditionExpression": "attribute_not_exists(#r)",
                    "ExpressionAttributeNames": {"#r": "record"},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": key(series_id, SERIES),
                    **_series_alive(series_id, series_created_at),
                }
            },
        ]

    def mark_verified(
        self, series_id: str, version: str, artifact: ArtifactRef, record: TrainingRecord
    ) -> None:
        """Attach the verified artifact and the training record; only a pending version can be verified."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, version_sort_key(parse_version(version))),
                UpdateExpression="SET #st = :verified, s3_key = :k, s3_version_id = :vid, sha256 = :sha, "
                "size_bytes = :size, #m = :m, library_versions = :lib, training_start = :ts, "
                "training_end = :te, training_points = :tp, history_revision = :rev, updated_at = :u"
                + (", reason = :why" if record.note else ""),
                ConditionExpression="#st = :pending",
                ExpressionAttributeNames={"#st": "status", "#m": "metrics"},
                ExpressionAttributeValues={
                    ":verified": s(Status.VERIFIED),
                    ":pending": s(Status.PENDING),
                    ":k": s(artifact.key),
                    ":vid": s(artifact.version_id or ""),
                    ":sha": s(artifact.sha256),
                    ":size": n(artifact.size),
                    ":m": {"M": {k: n(float(v)) for k, v in record.metrics.items() if v == v}},
                    ":lib": {"M": {k: s(str(v)) for k, v in record.library_versions.items()}},
                    ":ts": n(record.training_start),
                    ":te": n(record.training_end),
                    ":tp": n(record.training_points),
                    ":rev": n(record.history_revision),
                    ":u": s(utc_now_iso()),
                    **({":why": s(record.note[:1000])} if record.note else {}),
                },
            )
        except Exception as exc:
            raise storage_error("recording the verified version", exc) from exc
        self._analytics.track("ModelVersionRegistered", series_id, headline(record.metrics))

    def mark_rejected(self, series_id: str, version: str, reason: str, metrics: Mapping[str, float]) -> None:
        self._set_status(series_id, version, Status.REJECTED, reason, expected=Status.VERIFIED)
        logger.info(
            "model version rejected",
            extra={"series_id": series_id, "model_version": version, "reason": reason},
        )
        self._analytics.track("ModelVersionRejected", series_id, headline(metrics))

    def mark_failed(self, series_id: str, version: str, reason: str) -> None:
        self._set_status(series_id, version, Status.FAILED, reason, expected=Status.PENDING)
        self._analytics.track("ModelVersionFailed", series_id)

    def _set_status(self, series_id: str, version: str, status: str, reason: str, *, expected: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, version_sort_key(parse_version(version))),
                UpdateExpression="SET #st = :st, reason = :why, updated_at = :u",
                ConditionExpression="#st = :expected",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":st": s(status),
                    ":why": s(reason[:1000]),
                    ":u": s(utc_now_iso()),
                    ":expected": s(expected),
                },
            )
        except Exception as exc:
            raise storage_error(f"marking version {version} {status}", exc) from exc

    def get_version(self, series_id: str, version: str) -> ModelVersion:
        try:
            record = version_sort_key(parse_version(version))
        except ValueError as exc:
            raise ModelNotFoundError(str(exc), field="version") from exc
        item = self._get(series_id, record, consistent=True)
        if item is None:
            owner = f"pooled model '{series_id}'" if is_pool_id(series_id) else f"series '{series_id}'"
            raise ModelNotFoundError(f"{owner} has no model version {version}", field="version")
        return version_from_item(item)

    def list_versions(self, series_id: str) -> list[ModelVersion]:
        """Every version of the series, newest first."""
        items = guarded(
            "listing model versions",
            lambda: list(
                paginate_query(
                    self._client,
                    TableName=self._table,
                    KeyConditionExpression="series_id = :id AND begins_with(#r, :prefix)",
                    ExpressionAttributeNames={"#r": "record"},
                    ExpressionAttributeValues={":id": s(series_id), ":prefix": s(VERSION_PREFIX)},
                    ScanIndexForward=False,
                )
            ),
        )
        return [version_from_item(item) for item in items]

    def list_versions_page(
        self, series_id: str, limit: int, after: str | None = None
    ) -> tuple[list[ModelVersion], str | None]:
        """Up to `limit` versions, newest first, after the version record `after` (a previous page's
        last); and the record the next page starts after (None on the last page)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "series_id = :id AND begins_with(#r, :prefix)",
            "ExpressionAttributeNames": {"#r": "record"},
            "ExpressionAttributeValues": {":id": s(series_id), ":prefix": s(VERSION_PREFIX)},
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one more than asked: tells whether a next page exists
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = key(series_id, after)
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            page = guarded("listing model versions", partial(self._client.query, **kwargs))
            items.extend(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        versions = [version_from_item(item) for item in items[:limit]]
        more = len(items) > limit
        return versions, (get_s(items[limit - 1], "record") if more else None)

    def expired_versions(self, series_id: str, created_before: str) -> list[ModelVersion]:
        """The series' versions created and last promoted before `created_before` (ISO 8601), newest
        first, whatever their status (a pending one that old belongs to no training any more; a pruning
        one is a pruning that could not delete its object): one query of its version records. Which of
        them may go is the caller's rule (service.pruning): never the current one, nor the serving
        fallback."""
        items = guarded(
            "listing expired model versions",
            lambda: list(
                paginate_query(
                    self._client,
                    TableName=self._table,
                    KeyConditionExpression="series_id = :id AND begins_with(#r, :prefix)",
                    FilterExpression="created_at < :t AND "
                    "(attribute_not_exists(promoted_at) OR promoted_at < :t)",
                    ExpressionAttributeNames={"#r": "record"},
                    ExpressionAttributeValues={
                        ":id": s(series_id),
                        ":prefix": s(VERSION_PREFIX),
                        ":t": s(created_before),
                    },
                    ScanIndexForward=False,
                )
            ),
        )
        return [version_from_item(item) for item in items]

    def claim_expired_version(self, version: ModelVersion, created_before: str) -> bool:
        """Mark a version that is still expired `pruning` (not promoted since `created_before`: a promotion
        or a rollback racing the clean-up wins), so that nothing promotes or falls back to it while its
        object is deleted. False when it no longer qualifies."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(version.series_id, version_sort_key(parse_version(version.version))),
                UpdateExpression="SET #st = :pruning, updated_at = :u",
                ConditionExpression="attribute_exists(#st) AND "
                "(attribute_not_exists(promoted_at) OR promoted_at < :t)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":pruning": s(Status.PRUNING),
                    ":t": s(created_before),
                    ":u": s(utc_now_iso()),
                },
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise storage_error("marking an expired model version", exc) from exc
        return True

    def delete_pruned_version(self, version: ModelVersion) -> None:
        """Delete the record of a version marked `pruning` whose object is gone."""
        guarded(
            "deleting an expired model version",
            partial(
                self._client.delete_item,
                TableName=self._table,
                Key=key(version.series_id, version_sort_key(parse_version(version.version))),
            ),
        )

    def delete_series_versions(self, series_id: str) -> int:
        """Delete every version record of the series (a series deletion), 100 per transaction."""
        deleted = 0
        while True:
            items = guarded(
                "listing model versions",
                lambda: self._client.query(
                    TableName=self._table,
                    KeyConditionExpression="series_id = :id AND begins_with(#r, :prefix)",
                    ExpressionAttributeNames={"#r": "record"},
                    ExpressionAttributeValues={":id": s(series_id), ":prefix": s(VERSION_PREFIX)},
                    ProjectionExpression="#r",
                    ConsistentRead=True,
                    Limit=100,
                ).get("Items", []),
            )
            if not items:
                return deleted
            deletes: list[Any] = [
                {"Delete": {"TableName": self._table, "Key": key(series_id, get_s(i, "record") or "")}}
                for i in items
            ]
            guarded(
                "deleting model versions", partial(self._client.transact_write_items, TransactItems=deletes)
            )
            deleted += len(items)

    # -- the current pointer --------------------------------------------------------------------

    def delete_current(self, series_id: str) -> None:
        """Remove the CURRENT pointer: the series is no longer served (a series deletion)."""
        guarded(
            "deleting the current model pointer",
            lambda: self._client.delete_item(TableName=self._table, Key=key(series_id, CURRENT)),
        )

    def current(self, series_id: str) -> CurrentModel | None:
        item = self._get(series_id, CURRENT, consistent=True)
        if item is None:
            return None
        slots, interval = get_n(item, "window_slots"), get_n(item, "interval_seconds")
        window = WindowShape(int(slots), int(interval)) if slots and interval else None
        by_hand = bool(item.get("by_hand", {}).get("BOOL", False))
        return CurrentModel(
            series_id,
            get_s(item, "version") or "",
            artifact_from_item(item),
            window,
            by_hand,
            get_s(item, "promotion_id"),
        )

    def current_versions(self, series_ids: list[str]) -> dict[str, str]:
        """The current version of each series that has one (GET /series): one BatchGetItem per 100 ids,
        eventually consistent (a listing, not a promotion decision)."""
        found: dict[str, str] = {}
        for start in range(0, len(series_ids), 100):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [key(series_id, CURRENT) for series_id in series_ids[start : start + 100]],
                    "ProjectionExpression": "series_id, version",
                }
            }
            for attempt in range(_MAX_BATCH_ROUNDS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # keys come back unprocessed when throttled: back off
                response = guarded(
                    "reading the current models",
                    partial(self._client.batch_get_item, RequestItems=request),
                )
                for item in response.get("Responses", {}).get(self._table, []):
                    found[get_s(item, "series_id") or ""] = get_s(item, "version") or ""
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StorageError("reading the current models failed: keys left unprocessed")
        return found

    def promote(
        self,
        series_id: str,
        version: ModelVersion,
        *,
        expected_current: CurrentModel | None,
        window: WindowShape | None = None,
        reason: str | None = None,
        by_hand: bool = False,
        series_created_at: str | None = None,
    ) -> None:
        """Move CURRENT to `version` if CURRENT is still the pointer `expected_current` the caller read
        (None: there must be none) and the version is verified.

        Raises VersionConflictError when either condition fails (someone else moved it first). The pointer
        is matched on its `promotion_id`, not its version: after a rollback A -> B -> A the version is A
        again, but the user's A is not the A the caller read. A reason
        (why it won without beating the champion on the same windows) is recorded on the version. A move
        made by hand (a rollback) is marked on CURRENT: a training that began before it does not undo it.
        `series_created_at`: the SERIES item the version was trained from (SeriesInfo.created_at), if
        known: a series deleted and created again since is not served the deleted one's model
        (SeriesDeletingError, like a series being deleted).
        """
        if version.artifact is None:
            raise VersionConflictError(f"version {version.version} has no verified artifact", field="version")
        artifact = version.artifact
        now = utc_now_iso()
        transaction: list[Any] = [  # plain request dicts; the stubs' TypedDicts would only restate them
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **key(series_id, CURRENT),
                        "version": s(version.version),
                        "s3_key": s(artifact.key),
                        "s3_version_id": s(artifact.version_id or ""),
                        "sha256": s(artifact.sha256),
                        "size_bytes": n(artifact.size),
                        "promoted_at": s(now),
                        "promotion_id": s(uuid.uuid4().hex),
                        **_window_attributes(window),
                        **({"by_hand": {"BOOL": True}} if by_hand else {}),
                    },
                    **_pointer_guard(expected_current),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": key(series_id, version_sort_key(parse_version(version.version))),
                    "UpdateExpression": "SET promoted_at = :now" + (", reason = :why" if reason else ""),
                    "ConditionExpression": "#st IN (:verified, :rejected) AND sha256 = :sha",
                    "ExpressionAttributeNames": {"#st": "status"},
                    "ExpressionAttributeValues": {
                        ":now": s(now),
                        ":verified": s(Status.VERIFIED),
                        ":rejected": s(Status.REJECTED),
                        ":sha": s(artifact.sha256),
                        **({":why": s(reason[:1000])} if reason else {}),
                    },
                }
            },
            {
                # Not while DELETE /series/{id} is under way, nor once it is done: a promotion (a rollback,
                # or a training that outlasted the delete) would serve a series the catalogue calls gone.
                # A pool has no SERIES item, which passes.
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": key(series_id, SERIES),
                    **_series_alive(series_id, series_created_at),
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=transaction)
        except Exception as exc:
            if _failed_item(exc) == len(transaction) - 1:
                raise SeriesDeletingError(
                    f"series '{series_id}' was deleted, or is being deleted, while this model was trained: "
                    "it is not served"
                    if series_created_at
                    else f"series '{series_id}' is being deleted; repeat DELETE /series/{series_id} to finish it",
                    field="series_id",
                ) from exc
            if error_code(exc) == "TransactionCanceledException":
                raise VersionConflictError(
                    f"could not promote {version.version}: the current model changed or the version is not verified",
                    field="version",
                ) from exc
            raise storage_error("promoting the model", exc) from exc
        logger.info("model promoted", extra={"series_id": series_id, "model_version": version.version})
        self._analytics.track("ModelPromoted", series_id, headline(version.metrics))

    # -- plumbing -------------------------------------------------------------------------------

    def _key(self, series_id: str, record: str) -> dict[str, dict[str, str]]:
        return {"series_id": s(series_id), "record": s(record)}

    def _get(self, series_id: str, record: str, *, consistent: bool) -> dict[str, Any] | None:
        response = guarded(
            "reading the model registry",
            lambda: self._client.get_item(
                TableName=self._table, Key=key(series_id, record), ConsistentRead=consistent
            ),
        )
        item = response.get("Item")
        return dict(item) if item else None

    def _latest_version_item(self, series_id: str) -> dict[str, Any] | None:
        response = guarded(
            "reading the latest model version",
            lambda: self._client.query(
                TableName=self._table,
                KeyConditionExpression="series_id = :id AND begins_with(#r, :prefix)",
                ExpressionAttributeNames={"#r": "record"},
                ExpressionAttributeValues={":id": s(series_id), ":prefix": s(VERSION_PREFIX)},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            ),
        )
        items = response.get("Items", [])
        return dict(items[0]) if items else None


def _pointer_guard(expected: CurrentModel | None) -> dict[str, Any]:
    """The condition that CURRENT is still the pointer the caller read: none, the same `promotion_id`, or
    (a pointer written before promotion ids were recorded, which no move since has replaced) the same
    version."""
    if expected is None:
        return {
            "ConditionExpression": "attribute_not_exists(#r)",
            "ExpressionAttributeNames": {"#r": "record"},
        }
    if expected.promotion_id is not None:
        return {
            "ConditionExpression": "promotion_id = :expected",
            "ExpressionAttributeValues": {":expected": s(expected.promotion_id)},
        }
    return {
        "ConditionExpression": "attribute_not_exists(promotion_id) AND version = :expected",
        "ExpressionAttributeValues": {":expected": s(expected.version)},
    }


def _series_alive(series_id: str, created_at: str | None) -> dict[str, Any]:
    """The promotion's condition on the SERIES item: it exists, is not being deleted and, if given, was
    created at `created_at` (a pool has none)."""
    if is_pool_id(series_id):
        return {"ConditionExpression": "attribute_not_exists(deleting_at)"}
    guard: dict[str, Any] = {
        "ConditionExpression": "attribute_exists(#r) AND attribute_not_exists(deleting_at)",
        "ExpressionAttributeNames": {"#r": "record"},
    }
    if created_at:
        guard["ConditionExpression"] += " AND created_at = :created"
        guard["ExpressionAttributeValues"] = {":created": s(created_at)}
    return guard


def _window_attributes(window: WindowShape | None) -> dict[str, dict[str, str]]:
    if window is None:
        return {}  # serving reads the window after loading the model
    return {"window_slots": n(window.slots), "interval_seconds": n(window.interval_seconds)}


def _failed_item(exc: Exception) -> int | None:
    """Which item's condition cancelled a transaction (its index), if the answer says it was one alone."""
    failed = _failed_items(exc)
    return next(iter(failed)) if len(failed) == 1 else None


def _failed_items(exc: Exception) -> set[int]:
    """The items whose conditions cancelled a transaction (their indexes); empty for any other error."""
    if error_code(exc) != "TransactionCanceledException":
        return set()
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}
