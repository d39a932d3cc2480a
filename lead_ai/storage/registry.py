"""ModelTracker: the DynamoDB registry of series and model versions.

One table, partition key `series_id`, sort key `record`:
- `SERIES`                       the series' interval and a revision counter bumped by every ingest
- `VERSION#000001.000002.000000` one record per model version (sortable semantic version)
- `CURRENT`                      the pointer to the version prediction serves (a copy of its artifact ref)

Versions are allocated with conditional puts (two concurrent trainings can never share one), and the
`CURRENT` pointer only moves with a transaction that checks both the expected previous version and
that the new version's artifact was verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from lead_ai.artifacts import ArtifactRef
from lead_ai.dynamo import error_code, get_n, get_s, guarded, is_conditional_failure, n, paginate_query, s
from lead_ai.errors import IntervalMismatchError, ModelNotFoundError, StorageError, VersionConflictError
from lead_ai.features import FeatureSpec
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import AnalyticsService

FIRST_VERSION = (1, 0, 0)
_VERSION_PREFIX = "VERSION#"
_MAX_ALLOCATION_ATTEMPTS = 25


class Status:
    PENDING = "pending"  # allocated; artifact not yet uploaded and verified
    VERIFIED = "verified"  # artifact in S3, sha256 checked; eligible for promotion
    REJECTED = "rejected"  # verified, but did not beat the champion or the baseline
    FAILED = "failed"  # training or upload failed after allocation; no artifact is referenced


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "series_id": self.series_id,
            "version": self.version,
            "status": self.status,
            "created_at": self.created_at,
            "metrics": self.metrics,
            "feature_spec": self.feature_spec,
            "library_versions": self.library_versions,
            "training": {
                "start": _iso(self.training_start),
                "end": _iso(self.training_end),
                "points": self.training_points,
                "history_revision": self.history_revision,
            },
        }
        if self.artifact is not None:
            out["artifact"] = {
                "s3_key": self.artifact.key,
                "s3_version_id": self.artifact.version_id,
                "sha256": self.artifact.sha256,
                "size_bytes": self.artifact.size,
            }
        if self.reason:
            out["reason"] = self.reason
        if self.promoted_at:
            out["promoted_at"] = self.promoted_at
        return out


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


class SeriesInfo(NamedTuple):
    series_id: str
    interval_seconds: int
    revision: int
    trained_revision: int | None


class TrainingRecord(NamedTuple):
    """What a verified version records about how it was trained."""

    feature_spec: Mapping[str, Any]
    metrics: Mapping[str, float]
    library_versions: Mapping[str, str]
    training_start: int
    training_end: int
    training_points: int
    history_revision: int


def parse_version(text: str) -> tuple[int, int, int]:
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError(f"'{text}' is not a semantic version MAJOR.MINOR.PATCH")
    major, minor, patch = (int(p) for p in parts)
    return major, minor, patch


def format_version(version: tuple[int, int, int]) -> str:
    return "{}.{}.{}".format(*version)


def version_sort_key(version: tuple[int, int, int]) -> str:
    return _VERSION_PREFIX + "{:06d}.{:06d}.{:06d}".format(*version)


def next_version(latest: tuple[int, int, int] | None, *, spec_changed: bool) -> tuple[int, int, int]:
    """Retraining on newer data is a minor bump; a change of the model's inputs is a major one."""
    if latest is None:
        return FIRST_VERSION
    if spec_changed:
        return (latest[0] + 1, 0, 0)
    return (latest[0], latest[1] + 1, 0)


class ModelTracker:
    def __init__(self, client: Any, table: str, analytics: AnalyticsService) -> None:
        self._client = client
        self._table = table
        self._analytics = analytics

    # -- series ---------------------------------------------------------------------------------

    def get_series(self, series_id: str) -> SeriesInfo | None:
        item = self._get(series_id, "SERIES", consistent=False)
        return _series_from_item(item) if item else None

    def register_series(self, series_id: str, interval_seconds: int) -> SeriesInfo:
        """Create the series with its interval, or confirm the interval it already has."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(series_id, "SERIES"),
                UpdateExpression="SET interval_seconds = if_not_exists(interval_seconds, :i), "
                "revision = if_not_exists(revision, :zero)",
                ConditionExpression="attribute_not_exists(interval_seconds) OR interval_seconds = :i",
                ExpressionAttributeValues={":i": n(interval_seconds), ":zero": n(0)},
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                existing = self.get_series(series_id)
                raise IntervalMismatchError(
                    f"series '{series_id}' uses an interval of "
                    f"{existing.interval_seconds if existing else '?'} s, not {interval_seconds} s",
                    field="interval",
                ) from exc
            raise _storage_error("registering the series", exc) from exc
        return _series_from_item(response["Attributes"])

    def record_ingest(self, series_id: str, first_ts: int, last_ts: int, count: int) -> int:
        """Bump the series revision (so the schedule knows its history changed) and store its span."""
        response = guarded(
            "updating the series",
            lambda: self._client.update_item(
                TableName=self._table,
                Key=self._key(series_id, "SERIES"),
                UpdateExpression="SET first_ts = :f, last_ts = :l, observation_count = :c, updated_at = :u "
                "ADD revision :one",
                ExpressionAttributeValues={
                    ":f": n(first_ts),
                    ":l": n(last_ts),
                    ":c": n(count),
                    ":u": s(_now()),
                    ":one": n(1),
                },
                ReturnValues="UPDATED_NEW",
            ),
        )
        return int(response["Attributes"]["revision"]["N"])

    def record_training_attempt(self, series_id: str, revision: int) -> None:
        """Remember the history revision a training used, so the schedule skips unchanged series."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(series_id, "SERIES"),
                UpdateExpression="SET trained_revision = :r",
                ConditionExpression="attribute_not_exists(trained_revision) OR trained_revision < :r",
                ExpressionAttributeValues={":r": n(revision)},
            )
        except Exception as exc:
            if not is_conditional_failure(exc):  # a newer revision was recorded already: fine
                raise _storage_error("updating the series", exc) from exc

    def series_needing_training(self) -> Iterator[SeriesInfo]:
        """Series whose history changed since they were last trained (for the daily schedule)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#r = :series",
            "ExpressionAttributeNames": {"#r": "record"},
            "ExpressionAttributeValues": {":series": s("SERIES")},
        }
        while True:
            page = guarded("listing series", partial(self._client.scan, **kwargs))
            for item in page.get("Items", []):
                info = _series_from_item(item)
                if info.revision > 0 and (info.trained_revision or 0) < info.revision:
                    yield info
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- versions -------------------------------------------------------------------------------

    def allocate_version(self, series_id: str, feature_spec: Mapping[str, Any]) -> ModelVersion:
        """Claim the next free version with a conditional put; retry past versions others claimed."""
        spec_json = _canonical_json(feature_spec)
        for _ in range(_MAX_ALLOCATION_ATTEMPTS):
            latest = self._latest_version_item(series_id)
            latest_version = parse_version(get_s(latest, "version") or "") if latest else None
            spec_changed = latest is not None and get_s(latest, "feature_spec") not in (None, spec_json)
            candidate = next_version(latest_version, spec_changed=spec_changed)
            created = _now()
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        **self._key(series_id, version_sort_key(candidate)),
                        "version": s(format_version(candidate)),
                        "status": s(Status.PENDING),
                        "created_at": s(created),
                        "feature_spec": s(spec_json),
                    },
                    ConditionExpression="attribute_not_exists(#r)",
                    ExpressionAttributeNames={"#r": "record"},
                )
            except Exception as exc:
                if is_conditional_failure(exc):
                    continue  # another training claimed this version first: take the next one
                raise _storage_error("allocating a model version", exc) from exc
            version = format_version(candidate)
            logger.info("model version allocated", extra={"series_id": series_id, "model_version": version})
            return ModelVersion(series_id, version, Status.PENDING, created, dict(feature_spec), {}, {})
        raise VersionConflictError(
            f"could not allocate a version for '{series_id}': too many concurrent trainings"
        )

    def mark_verified(
        self, series_id: str, version: str, artifact: ArtifactRef, record: TrainingRecord
    ) -> None:
        """Attach the verified artifact and the training record; only a pending version can be verified."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(series_id, version_sort_key(parse_version(version))),
                UpdateExpression="SET #st = :verified, s3_key = :k, s3_version_id = :vid, sha256 = :sha, "
                "size_bytes = :size, #m = :m, library_versions = :lib, training_start = :ts, "
                "training_end = :te, training_points = :tp, history_revision = :rev, updated_at = :u",
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
                    ":u": s(_now()),
                },
            )
        except Exception as exc:
            raise _storage_error("recording the verified version", exc) from exc
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
                Key=self._key(series_id, version_sort_key(parse_version(version))),
                UpdateExpression="SET #st = :st, reason = :why, updated_at = :u",
                ConditionExpression="#st = :expected",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":st": s(status),
                    ":why": s(reason[:1000]),
                    ":u": s(_now()),
                    ":expected": s(expected),
                },
            )
        except Exception as exc:
            raise _storage_error(f"marking version {version} {status}", exc) from exc

    def get_version(self, series_id: str, version: str) -> ModelVersion:
        try:
            key = version_sort_key(parse_version(version))
        except ValueError as exc:
            raise ModelNotFoundError(str(exc), field="version") from exc
        item = self._get(series_id, key, consistent=True)
        if item is None:
            raise ModelNotFoundError(f"series '{series_id}' has no model version {version}", field="version")
        return _version_from_item(item)

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
                    ExpressionAttributeValues={":id": s(series_id), ":prefix": s(_VERSION_PREFIX)},
                    ScanIndexForward=False,
                )
            ),
        )
        return [_version_from_item(item) for item in items]

    # -- the current pointer --------------------------------------------------------------------

    def current(self, series_id: str) -> CurrentModel | None:
        item = self._get(series_id, "CURRENT", consistent=True)
        if item is None:
            return None
        slots, interval = get_n(item, "window_slots"), get_n(item, "interval_seconds")
        window = WindowShape(int(slots), int(interval)) if slots and interval else None
        return CurrentModel(series_id, get_s(item, "version") or "", _artifact_from_item(item), window)

    def promote(self, series_id: str, version: ModelVersion, *, expected_current: str | None) -> None:
        """Move CURRENT to `version` if CURRENT is still `expected_current` and the version is verified.

        Raises VersionConflictError when either condition fails (someone else moved it first).
        """
        if version.artifact is None:
            raise VersionConflictError(f"version {version.version} has no verified artifact", field="version")
        artifact = version.artifact
        now = _now()
        pointer_guard: dict[str, Any]
        if expected_current is None:
            pointer_guard = {
                "ConditionExpression": "attribute_not_exists(#r)",
                "ExpressionAttributeNames": {"#r": "record"},
            }
        else:
            pointer_guard = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": s(expected_current)},
            }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **self._key(series_id, "CURRENT"),
                                "version": s(version.version),
                                "s3_key": s(artifact.key),
                                "s3_version_id": s(artifact.version_id or ""),
                                "sha256": s(artifact.sha256),
                                "size_bytes": n(artifact.size),
                                "promoted_at": s(now),
                                **_window_attributes(version.feature_spec),
                            },
                            **pointer_guard,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": self._key(series_id, version_sort_key(parse_version(version.version))),
                            "UpdateExpression": "SET promoted_at = :now",
                            "ConditionExpression": "#st IN (:verified, :rejected) AND sha256 = :sha",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": {
                                ":now": s(now),
                                ":verified": s(Status.VERIFIED),
                                ":rejected": s(Status.REJECTED),
                                ":sha": s(artifact.sha256),
                            },
                        }
                    },
                ]
            )
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise VersionConflictError(
                    f"could not promote {version.version}: the current model changed or the version is not verified",
                    field="version",
                ) from exc
            raise _storage_error("promoting the model", exc) from exc
        logger.info("model promoted", extra={"series_id": series_id, "model_version": version.version})
        self._analytics.track("ModelPromoted", series_id, headline(version.metrics))

    # -- plumbing -------------------------------------------------------------------------------

    def _key(self, series_id: str, record: str) -> dict[str, dict[str, str]]:
        return {"series_id": s(series_id), "record": s(record)}

    def _get(self, series_id: str, record: str, *, consistent: bool) -> dict[str, Any] | None:
        response = guarded(
            "reading the model registry",
            lambda: self._client.get_item(
                TableName=self._table, Key=self._key(series_id, record), ConsistentRead=consistent
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
                ExpressionAttributeValues={":id": s(series_id), ":prefix": s(_VERSION_PREFIX)},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            ),
        )
        items = response.get("Items", [])
        return dict(items[0]) if items else None


def headline(metrics: Mapping[str, float]) -> dict[str, float]:
    """The backtest figures worth a CloudWatch metric (the record keeps them all)."""
    return {name: metrics[name] for name in ("mase", "baseline_mase", "coverage") if name in metrics}


def _storage_error(action: str, exc: Exception) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError | BotoCoreError):
        return StorageError(f"{action} failed: {exc}")
    return exc


def _series_from_item(item: Mapping[str, Any]) -> SeriesInfo:
    trained = get_n(item, "trained_revision")
    return SeriesInfo(
        series_id=get_s(item, "series_id") or "",
        interval_seconds=int(get_n(item, "interval_seconds", 0) or 0),
        revision=int(get_n(item, "revision", 0) or 0),
        trained_revision=int(trained) if trained is not None else None,
    )


def _window_attributes(feature_spec: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    if not feature_spec:
        return {}  # FeatureSpec.from_dict({}) would describe the default spec, not this model's
    try:
        spec = FeatureSpec.from_dict(feature_spec)
    except (TypeError, ValueError, KeyError):
        return {}  # a record without a readable spec: serving reads the window after loading the model
    return {"window_slots": n(spec.window), "interval_seconds": n(spec.interval_seconds)}


def _artifact_from_item(item: Mapping[str, Any]) -> ArtifactRef:
    return ArtifactRef(
        key=get_s(item, "s3_key") or "",
        version_id=get_s(item, "s3_version_id") or None,
        sha256=get_s(item, "sha256") or "",
        size=int(get_n(item, "size_bytes", 0) or 0),
    )


def _version_from_item(item: Mapping[str, Any]) -> ModelVersion:
    has_artifact = "sha256" in item
    start, end, points, revision = (
        get_n(item, k) for k in ("training_start", "training_end", "training_points", "history_revision")
    )
    return ModelVersion(
        series_id=get_s(item, "series_id") or "",
        version=get_s(item, "version") or "",
        status=get_s(item, "status") or "",
        created_at=get_s(item, "created_at") or "",
        artifact=_artifact_from_item(item) if has_artifact else None,
        feature_spec=json.loads(get_s(item, "feature_spec") or "{}"),
        metrics={k: float(v["N"]) for k, v in item.get("metrics", {}).get("M", {}).items()},
        library_versions={k: v["S"] for k, v in item.get("library_versions", {}).get("M", {}).items()},
        training_start=int(start) if start is not None else None,
        training_end=int(end) if end is not None else None,
        training_points=int(points) if points is not None else None,
        history_revision=int(revision) if revision is not None else None,
        reason=get_s(item, "reason"),
        promoted_at=get_s(item, "promoted_at"),
    )


def _canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
