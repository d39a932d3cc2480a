"""The embedded local AWS stand-in: a moto server on 127.0.0.1 with the template's bucket, tables (and their
global secondary indexes) and queues (with their redrive policy to the dead-letter queue)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lead_ai_dev.local.moto_patches import patch_moto
from lead_ai_dev.local.template import Template

LOCAL_PREFIX = "lead-ai-local-"
RESET_TIMEOUT_SECONDS = 30  # see LocalStack.reset
LOCAL_ACCOUNT = "123456789012"  # moto's default account: its queue URLs and ARNs carry it
_FAKE_CREDENTIALS = {
    # moto accepts any credentials; these keep boto3 from looking for real ones.
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def physical_name(logical_id: str, resource_type: str) -> str:
    """Deterministic local names, so every process talking to one stack agrees on them."""
    name = f"{LOCAL_PREFIX}{logical_id}"
    return name.lower() if resource_type == "AWS::S3::Bucket" else name


def queue_url(endpoint: str, logical_id: str) -> str:
    """What `!Ref <queue>` is locally: the queue URL moto hands out for the queue's physical name."""
    return f"{endpoint}/{LOCAL_ACCOUNT}/{physical_name(logical_id, 'AWS::SQS::Queue')}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortInUseError(OSError):
    """The port is taken: the message says which and what to do."""


def ensure_port_free(host: str, port: int, hint: str) -> None:
    """Raise PortInUseError when something listens on host:port (as a server binds: SO_REUSEADDR on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"port {port} on {host} is in use ({hint}): stop it or pick another with --port"
            ) from exc


class LocalStack:
    def __init__(self, template: Template, port: int | None = None) -> None:
        self.template = template
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self.names: dict[str, str] = {}  # logical id -> physical name, once resources exist
        self.queue_urls: dict[str, str] = {}  # logical id -> URL, for the template's queues
        self._clients: dict[str, Any] = {}  # service -> boto3 client on this stack (_client)

    def start(self) -> LocalStack:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call otherwise
        # moto binds in its own thread and never signals a failure: on a busy port start() would wait forever.
        ensure_port_free("127.0.0.1", self.port, "another lead-ai stack?")
        patch_moto()  # DynamoDB's isolation, and fast enough for the tests (moto_patches)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, **_FAKE_CREDENTIALS}

    def reset(self) -> None:
        """Empty every service (moto keeps state across server instances in one process)."""
        import urllib.request

        # Not 5 s: the reset re-creates every service's backend in the server's thread, which shares this
        # process (and a 2-core machine) with the tests, other pytest-xdist workers and their trainings; 5 s
        # timed out a fan-out test's set-up under that load. 30 s: room under load; a hung server still fails.
        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"),
            timeout=RESET_TIMEOUT_SECONDS,
        )

    def create_resources(self) -> dict[str, str]:
        """Create the template's buckets, tables and queues; returns logical id -> physical name."""
        s3, dynamodb, sqs = (self._client(service) for service in ("s3", "dynamodb", "sqs"))
        names: dict[str, str] = {}
        buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for logical_id, resource in self.template.resources_of_type("AWS::S3::Bucket").items():
            name = physical_name(logical_id, "AWS::S3::Bucket")
            names[logical_id] = _create_bucket(s3, name, resource, exists=name in buckets)
        tables = set(dynamodb.list_tables().get("TableNames", []))
        for logical_id, resource in self.template.resources_of_type("AWS::DynamoDB::Table").items():
            name = physical_name(logical_id, "AWS::DynamoDB::Table")
            names[logical_id] = name if name in tables else _create_table(dynamodb, name, resource)
        self.queue_urls = _create_queues(sqs, self.template)
        names.update(
            {logical_id: physical_name(logical_id, "AWS::SQS::Queue") for logical_id in self.queue_urls}
        )
        self.names = names
        return names

    def _client(self, service: str) -> Any:
        """A boto3 client on this stack, made once (the tests create the resources again for each test:
        a new client each time was a third of that)."""
        if service not in self._clients:
            import boto3

            make: Any = boto3.client  # a service named at run time: no per-service overload of the stubs
            self._clients[service] = make(
                service,
                endpoint_url=self.endpoint,
                region_name=_FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]


def _create_bucket(s3: Any, name: str, resource: dict[str, Any], *, exists: bool) -> str:
    props = resource.get("Properties", {})
    if not exists:
        s3.create_bucket(Bucket=name)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _create_table(dynamodb: Any, name: str, resource: dict[str, Any]) -> str:
    props = resource.get("Properties", {})
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in props.get("GlobalSecondaryIndexes", [])
    ]
    dynamodb.create_table(
        TableName=name,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return name


# CloudFormation queue properties that are SQS queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def _create_queues(sqs: Any, template: Template) -> dict[str, str]:
    """Every queue of the template with its attributes, then the redrive policies (which name other
    queues' ARNs, so they are set once every queue exists). Returns logical id -> URL."""
    queues = template.resources_of_type("AWS::SQS::Queue")
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical_id, resource in queues.items():
        props = resource.get("Properties", {})
        attributes = {
            name: _attribute_text(_resolve(template, props[name], arns))
            for name in _QUEUE_ATTRIBUTES
            if name in props
        }
        name = physical_name(logical_id, "AWS::SQS::Queue")
        urls[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=urls[logical_id], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    for logical_id, resource in queues.items():
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            policy = {key: _resolve(template, value, arns) for key, value in redrive.items()}
            sqs.set_queue_attributes(
                QueueUrl=urls[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)}
            )
    return urls


def _resolve(template: Template, value: Any, arns: dict[str, str]) -> Any:
    """A property value with `!Ref <parameter>` (its default) and `!GetAtt <queue>.Arn` resolved."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        default = template.parameter_default(value["Ref"])
        if default is None:
            raise ValueError(f"cannot resolve {value!r} locally")
        return default
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute != "Arn" or logical_id not in arns:
            raise ValueError(f"cannot resolve {value!r} locally")
        return arns[logical_id]
    return value


def _attribute_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@contextmanager
def patched_environ(values: dict[str, str], environ: MutableMapping[str, str] = os.environ) -> Iterator[None]:
    saved = {key: environ.get(key) for key in values}
    environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                environ.pop(key, None)
            else:
                environ[key] = old


@contextmanager
def running_stack(template_path: Path, port: int | None = None) -> Iterator[LocalStack]:
    """Start a stack, create the template's resources, point this process at it; stop it afterwards."""
    from lead_ai.storage.clients import reset_clients

    stack = LocalStack(Template(template_path), port).start()
    try:
        with patched_environ(stack.environment()):
            reset_clients()
            stack.create_resources()
            yield stack
    finally:
        reset_clients()
        stack.stop()
