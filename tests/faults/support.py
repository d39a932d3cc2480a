"""Fault injection on the real boto3 clients, and the invariants every fault test checks.

Faults are injected at botocore's `before-send` event of the process-wide clients the handlers use
(`lead_ai.storage.clients.client`): the request is built and signed, then answered with a real AWS error
response (or a read timeout) instead of going to the server. The SDK's retry policy sees it exactly as
it would see AWS: throttling and 5xx are retried, then surface as a ClientError.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import numpy as np
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError

from lead_ai.storage.clients import client as service_client

# What real AccessDenied answers carry, and what must never reach a caller: the role ARN, the account id,
# the table or bucket ARN (with its physical name).
ACCOUNT_ID = "123456789012"
ROLE_ARN = (
    f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/lead-ai-prod-PredictFunctionRole-1X2Y3Z/lead-ai-prod-Predict"
)
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/lead-ai-prod-RegistryTable-ABCDEF"
BUCKET_ARN = f"arn:aws:s3:::lead-ai-prod-artifactbucket-{ACCOUNT_ID}"
SECRETS = (ACCOUNT_ID, "arn:aws", "assumed-role", "lead-ai-prod", "not authorized", "AccessDenied")

_S3_ERRORS = {
    "throttle": (503, "SlowDown", "Please reduce your request rate."),
    "5xx": (500, "InternalError", "We encountered an internal error. Please try again."),
    "denied": (
        403,
        "AccessDenied",
        f"User: {ROLE_ARN} is not authorized to perform: s3:GetObject on resource: "
        f'"{BUCKET_ARN}/models/x" because no identity-based policy allows the s3:GetObject action',
    ),
}
_DYNAMODB_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "5xx": (500, "InternalServerError", "Internal server error"),
    "denied": (
        400,
        "AccessDeniedException",
        f"User: {ROLE_ARN} is not authorized to perform: dynamodb:GetItem on resource: {TABLE_ARN} "
        "because no identity-based policy allows the dynamodb:GetItem action",
    ),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(service: str, kind: str, url: str) -> AWSResponse:
    if service == "s3":
        status, code, message = _S3_ERRORS[kind]
        body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message>"
        body += "</Error>"
        headers = {"Content-Type": "application/xml", "x-amz-request-id": "FAULT"}
    else:
        status, code, message = _DYNAMODB_ERRORS[kind]
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "FAULT"}
    return AWSResponse(url, status, HTTPHeaders.from_dict(headers), _Raw(body.encode()))


@dataclass
class Fault:
    service: str
    operation: str
    kind: str  # "throttle" | "5xx" | "denied" | "timeout"
    when: Callable[[AWSPreparedRequest], bool] | None = None
    times: int | None = None  # how many matching requests fail; None: every one (an outage)
    hits: int = 0
    seen: list[str] = field(default_factory=list)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if self.when is not None and not self.when(request):
            return None
        if self.times is not None and self.hits >= self.times:
            return None
        self.hits += 1
        if self.kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        return error_response(self.service, self.kind, request.url)


class FaultInjector:
    """`inject("s3", "PutObject", "throttle")` (operation "*": all of them); every fault is removed when the
    test ends."""

    def __init__(self) -> None:
        self._registered: list[tuple[Any, str, Fault]] = []

    def inject(
        self,
        service: str,
        operation: str,
        kind: str,
        *,
        when: Callable[[AWSPreparedRequest], bool] | None = None,
        times: int | None = None,
    ) -> Fault:
        fault = Fault(service, operation, kind, when, times)
        aws_client = service_client(service)
        event = f"before-send.{aws_client.meta.service_model.service_id.hyphenize()}"
        if operation != "*":  # "*": every operation of the service
            event += f".{operation}"
        aws_client.meta.events.register_first(event, fault)
        self._registered.append((aws_client, event, fault))
        return fault

    def clear(self) -> None:
        for aws_client, event, fault in self._registered:
            aws_client.meta.events.unregister(event, fault)
        self._registered.clear()

    @contextmanager
    def active(self) -> Iterator[FaultInjector]:
        try:
            yield self
        finally:
            self.clear()


def body_contains(*needles: str) -> Callable[[AWSPreparedRequest], bool]:
    """A predicate on the request body, e.g. to fail only the UpdateItem that marks a version verified."""

    def match(request: AWSPreparedRequest) -> bool:
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        return all(needle.encode() in body for needle in needles)

    return match


def plain_client(service: Literal["s3", "dynamodb"]) -> Any:
    """A fresh client with no fault hooks, for asserting what is really stored."""
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")


@dataclass
class Stored:
    versions: dict[str, dict[str, Any]]  # version -> registry item (plain values)
    current: dict[str, Any] | None
    objects: list[dict[str, Any]]  # every S3 object version under models/
    observations: int


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, attr in item.items():
        ((kind, value),) = attr.items()
        out[name] = float(value) if kind == "N" else value
    return out


def stored(names: dict[str, str], series_id: str) -> Stored:
    dynamodb, s3 = plain_client("dynamodb"), plain_client("s3")
    items = dynamodb.query(
        TableName=names["RegistryTable"],
        KeyConditionExpression="series_id = :id",
        ExpressionAttributeValues={":id": {"S": series_id}},
        ConsistentRead=True,
    )["Items"]
    versions = {i["version"]: i for i in map(_plain, items) if i["record"].startswith("VERSION#")}
    currents = [i for i in map(_plain, items) if i["record"] == "CURRENT"]
    objects = s3.list_object_versions(Bucket=names["ArtifactBucket"], Prefix=f"models/{series_id}/")
    chunks = dynamodb.query(
        TableName=names["ObservationsTable"],
        KeyConditionExpression="series_id = :id",
        ExpressionAttributeValues={":id": {"S": series_id}},
        ConsistentRead=True,
    )["Items"]
    # Each chunk item holds its slots as float64 bytes, NaN where nothing was reported.
    observations = sum(int(np.count_nonzero(~np.isnan(np.frombuffer(c["v"]["B"], "<f8")))) for c in chunks)
    return Stored(
        versions, currents[0] if currents else None, list(objects.get("Versions", [])), observations
    )


def assert_consistent(names: dict[str, str], series_id: str) -> Stored:
    """The registry invariants no fault or race may break; returns what is stored."""
    state = stored(names, series_id)
    s3 = plain_client("s3")
    referenced = set()
    for version, item in state.versions.items():
        if "sha256" in item:
            # a record with an artifact is verified (or rejected after verification, or being pruned) and its
            # object is intact
            assert item["status"] in ("verified", "rejected", "pruning"), (version, item["status"])
            data = s3.get_object(
                Bucket=names["ArtifactBucket"], Key=item["s3_key"], VersionId=item["s3_version_id"]
            )["Body"].read()
            assert hashlib.sha256(data).hexdigest() == item["sha256"], version
            assert len(data) == int(item["size_bytes"]), version
            referenced.add((item["s3_key"], item["s3_version_id"]))
        else:
            # a record without an artifact can never be served or promoted
            assert item["status"] in ("pending", "failed"), (version, item["status"])
            assert "promoted_at" not in item, version
    orphans = [
        (o["Key"], o["VersionId"]) for o in state.objects if (o["Key"], o["VersionId"]) not in referenced
    ]
    assert orphans == [], f"S3 objects no version record references: {orphans}"
    if state.current is not None:
        target = state.versions.get(state.current["version"])
        assert target is not None, f"CURRENT names a version that does not exist: {state.current['version']}"
        for name in ("s3_key", "s3_version_id", "sha256", "size_bytes"):
            assert state.current[name] == target[name], (name, state.current, target)
        assert "promoted_at" in target
        assert target["status"] != "pruning", f"CURRENT names a version being pruned: {target['version']}"
    return state


def consistent_current_version(names: dict[str, str], series_id: str) -> str | None:
    """assert_consistent, then the version CURRENT names (None when there is no CURRENT)."""
    current = assert_consistent(names, series_id).current
    return None if current is None else str(current["version"])
