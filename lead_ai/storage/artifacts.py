"""The artifact store: ONNX models in a versioned S3 bucket, addressed by key and S3 version id."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from lead_ai.domain.models import ArtifactRef
from lead_ai.errors import ArtifactUnavailableError, IntegrityError, StorageError
from lead_ai.monitoring.logger import logger
from lead_ai.storage.dynamo import error_code, guarded

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_s3.client import S3Client


# S3's answers for one object that cannot be read while S3 itself is up: the object (or the recorded
# version of it) was deleted, the version id is not one S3 knows, or this role may not read it.
_UNREADABLE_OBJECT = frozenset(
    {"NoSuchKey", "NoSuchVersion", "InvalidArgument", "AccessDenied", "404", "403"}
)


_GONE = frozenset({"NoSuchKey", "NoSuchVersion", "InvalidArgument", "404"})


def model_key(series_id: str, version: str) -> str:
    # series ids are validated against [A-Za-z0-9_-]{1,64}, so they cannot escape the prefix.
    return f"models/{series_id}/{version}/model.onnx"


def series_of_key(key: str) -> str | None:
    """The series a model key belongs to (the inverse of model_key); None for any other key."""
    parts = key.split("/")
    return parts[1] if len(parts) == 4 and parts[0] == "models" and parts[3] == "model.onnx" else None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put_model(self, series_id: str, version: str, data: bytes) -> ArtifactRef:
        """Upload with an S3-verified SHA-256 checksum, so a corrupted upload is refused by S3 itself."""
        digest = hashlib.sha256(data).digest()
        key = model_key(series_id, version)
        response = guarded(
            "uploading the model",
            lambda: self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType="application/octet-stream",
                ChecksumSHA256=base64.b64encode(digest).decode(),
                Metadata={"sha256": digest.hex(), "series-id": series_id, "model-version": version},
            ),
        )
        return ArtifactRef(key=key, version_id=response.get("VersionId"), sha256=digest.hex(), size=len(data))

    def get_model(self, ref: ArtifactRef) -> bytes:
        """Download exactly the recorded object version and check it against the recorded sha256."""
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": ref.key}
        if ref.version_id:
            kwargs["VersionId"] = ref.version_id
        data = guarded("downloading the model", lambda: self._download(ref, kwargs))
        if len(data) != ref.size or sha256_hex(data) != ref.sha256:
            raise IntegrityError(
                f"artifact {ref.key} (version {ref.version_id}) does not match its recorded sha256/size"
            )
        return bytes(data)

    def _download(self, ref: ArtifactRef, kwargs: dict[str, Any]) -> bytes:
        try:
            return bytes(self._client.get_object(**kwargs)["Body"].read())
        except Exception as exc:
            code = error_code(exc)
            if code not in _UNREADABLE_OBJECT:
                raise  # S3 down, throttled, timed out: a StorageError (guarded), not this artifact's fault
            logger.error(
                "a recorded model object cannot be read",
                extra={
                    "key": ref.key,
                    "s3_version_id": ref.version_id,
                    "error_code": code,
                    "error": str(exc),
                },
            )
            gone = code in _GONE
            raise ArtifactUnavailableError(
                f"the model artifact {ref.key} cannot be read ({'deleted' if gone else 'not readable'})",
                gone=gone,
            ) from exc

    def delete(self, ref: ArtifactRef) -> None:
        """Remove the object version for good (not a delete marker): no orphan artifact is left."""
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": ref.key}
        if ref.version_id:
            kwargs["VersionId"] = ref.version_id
        guarded("deleting the model", lambda: self._client.delete_object(**kwargs))

    def stored_models(self) -> Iterator[tuple[str, str | None, datetime]]:
        """Every stored model object version: (key, S3 version id, last modified)."""
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": "models/"}
        while True:
            page = guarded("listing stored models", partial(self._client.list_object_versions, **kwargs))
            for version in page.get("Versions", []):
                yield version["Key"], version.get("VersionId"), version["LastModified"]
            if not page.get("IsTruncated"):
                return
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")

    def delete_series_objects(self, series_id: str) -> int:
        """Delete every stored version (and delete marker) of every model object of the series, for good;
        returns how many. Objects are listed and deleted a page (up to 1,000) at a time."""
        prefix = f"models/{series_id}/"  # the trailing slash: 'acme' must not reach 'acme-2'
        deleted = 0
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        while True:
            page = guarded("listing the series' models", partial(self._client.list_object_versions, **kwargs))
            targets: list[Any] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                if v["Key"].startswith(prefix)
            ]
            if targets:
                answer = guarded(
                    "deleting the series' models",
                    partial(
                        self._client.delete_objects,
                        Bucket=self._bucket,
                        Delete={"Objects": targets, "Quiet": True},
                    ),
                )
                if answer.get("Errors"):
                    # Each error names an object (and S3's reason): the log keeps them, the caller retries.
                    logger.error(
                        "some model objects were not deleted", extra={"errors": answer["Errors"][:10]}
                    )
                    raise StorageError("deleting the series' models failed; retry shortly")
                deleted += len(targets)
            if not page.get("IsTruncated"):
                return deleted
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")
