"""`lead-ai worker`: Lambda's SQS event source mapping, locally, without Docker.

moto runs an SQS trigger's handler in Docker only, one record per invoke, with a hard-coded receive count
and no partial-batch responses (../shared/FINDINGS.md). This poller does what Lambda's poller does for an
`SQS` event of template.yaml:

- receives up to the event's BatchSize messages (all system and message attributes, so
  ApproximateReceiveCount is the queue's real count);
- builds the event Lambda would send (the shape of `sam local generate-event sqs receive-message`:
  messageId, receiptHandle, body, attributes, messageAttributes, md5OfBody, eventSource `aws:sqs`,
  eventSourceARN, awsRegion) and invokes the function in-process (lead_ai_dev.local.invoke);
- with `FunctionResponseTypes: [ReportBatchItemFailures]`, deletes every message but those the response
  lists in `batchItemFailures` (an identifier it cannot match fails the whole batch, as on Lambda); without
  it, deletes all of them unless the handler raised;
- leaves failed messages to the queue: they come back after the visibility timeout, and SQS's redrive
  policy moves a message to the dead-letter queue once it has been received maxReceiveCount times.

One difference, on request only: `retry_after_seconds` makes failed messages visible again after that many
seconds (ChangeMessageVisibility) instead of the queue's visibility timeout (30 minutes in the template),
so that retries and the redrive to the dead-letter queue can be watched in seconds.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lead_ai_dev.local.invoke import invoke
from lead_ai_dev.local.stack import queue_url
from lead_ai_dev.local.template import Template

_SQS_MAX_RECEIVE = 10  # ReceiveMessage returns ten messages at most
_DEFAULT_BATCH_SIZE = 10  # Lambda's default for an SQS event
IDLE_PAUSE_SECONDS = 0.1  # between empty receives without long polling (wait_seconds=0): see LocalPoller.run


@dataclass(frozen=True)
class QueueTrigger:
    """An `SQS` event of a function in template.yaml."""

    function: str  # the consuming function's logical id
    queue: str  # the queue's logical id
    batch_size: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None


def queue_triggers(template: Template) -> list[QueueTrigger]:
    triggers: list[QueueTrigger] = []
    for logical_id, resource in template.resources_of_type("AWS::Serverless::Function").items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties", {})
            queue = props["Queue"]
            if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
                raise ValueError(f"{logical_id}: the SQS event's Queue must be !GetAtt <queue>.Arn locally")
            concurrency = props.get("ScalingConfig", {}).get("MaximumConcurrency")
            if isinstance(concurrency, dict) and "Ref" in concurrency:
                concurrency = template.parameter_default(concurrency["Ref"])
            triggers.append(
                QueueTrigger(
                    function=logical_id,
                    queue=queue["Fn::GetAtt"][0],
                    batch_size=int(props.get("BatchSize", _DEFAULT_BATCH_SIZE)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                    maximum_concurrency=int(concurrency) if concurrency is not None else None,
                )
            )
    return triggers


def queue_trigger(template: Template, function: str | None = None) -> QueueTrigger:
    """The SQS trigger of `function`, or the template's only one."""
    triggers = [t for t in queue_triggers(template) if function is None or t.function == function]
    if len(triggers) != 1:
        names = ", ".join(sorted(t.function for t in queue_triggers(template))) or "none"
        raise KeyError(f"no single SQS-triggered function {function or ''} in the template (have: {names})")
    return triggers[0]


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ReceiveMessage message as a record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # ReceiveMessage's StringValue/BinaryValue/DataType become Lambda's camelCase keys, binary in base64.
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


@dataclass
class BatchResult:
    received: int
    succeeded: int
    failed: int
    error: str | None = None  # the handler raised (the whole batch failed)

    def __str__(self) -> str:
        text = f"batch of {self.received}: {self.succeeded} done, {self.failed} failed"
        return text + (f" ({self.error})" if self.error else "")


@dataclass
class WorkerTotals:
    batches: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, result: BatchResult) -> None:
        self.batches += 1
        self.received += result.received
        self.succeeded += result.succeeded
        self.failed += result.failed
        if result.error:
            self.errors.append(result.error)


Invoker = Callable[[Template, str, dict[str, Any], dict[str, str] | None], Any]


class LocalPoller:
    """Polls one queue of the local stack and feeds its function, as Lambda's event source mapping does."""

    def __init__(
        self,
        template: Template,
        trigger: QueueTrigger,
        *,
        sqs: Any | None = None,
        retry_after_seconds: int | None = None,
        wait_seconds: int = 1,
        overrides: dict[str, str] | None = None,
        invoker: Invoker = invoke,
    ) -> None:
        _powertools_environment(template, trigger.function)
        from lead_ai.storage.clients import client

        self.template = template
        self.trigger = trigger
        self.sqs = sqs or client("sqs")
        self.queue_url = queue_url(os.environ["AWS_ENDPOINT_URL"], trigger.queue)
        self.retry_after_seconds = retry_after_seconds
        self.wait_seconds = wait_seconds
        self.overrides = overrides
        self._invoke = invoker
        self.region = self.sqs.meta.region_name
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self) -> BatchResult | None:
        """Receive one batch and invoke the function with it; None when no message came."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.trigger.batch_size, _SQS_MAX_RECEIVE),
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return None
        event = {"Records": [lambda_record(m, self.queue_arn, self.region) for m in messages]}
        try:
            response = self._invoke(self.template, self.trigger.function, event, self.overrides)
        except Exception as exc:  # Lambda: a function error fails the whole batch
            self._retry(messages)
            return BatchResult(len(messages), 0, len(messages), f"{type(exc).__name__}: {exc}")
        failed_ids = self._failed_ids(response, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self._retry([m for m in messages if m["MessageId"] in failed_ids])
        return BatchResult(len(messages), len(done), len(messages) - len(done))

    def run(
        self,
        *,
        until_empty: bool = False,
        timeout_seconds: float | None = None,
        on_batch: Callable[[BatchResult], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> WorkerTotals:
        """Poll until stopped; with `until_empty`, until the queue holds no message, visible, in flight or
        delayed."""
        totals = WorkerTotals()
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while not should_stop():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"the queue was not drained in {timeout_seconds} s: {self.depth()}")
            result = self.poll_once()
            if result is not None:
                totals.add(result)
                if on_batch is not None:
                    on_batch(result)
            elif until_empty and self.is_empty():
                break
            elif self.wait_seconds == 0:
                # Nothing visible, some in flight or delayed (a retry, a pool waiting for its members):
                # a short pause, not a loop of ReceiveMessage calls that keeps a core and the stack busy
                time.sleep(IDLE_PAUSE_SECONDS)
        return totals

    def is_empty(self, readings: int = 3, pause_seconds: float = 0.1) -> bool:
        """No message visible, in flight or delayed, in `readings` readings in a row.

        SQS's counts are approximate (AWS advises several zero readings); moto's are two reads of the
        clock, so a message turning visible between them is in neither count, once.
        """
        for reading in range(readings):
            if reading:
                time.sleep(pause_seconds)
            if sum(self.depth().values()):
                return False
        return True

    def depth(self) -> dict[str, int]:
        # Delayed messages count: a pool waiting for its members is sent again for later (service.pooling)
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)[
            "Attributes"
        ]
        return {name: int(attributes.get(name, 0)) for name in names}

    def _failed_ids(self, response: Any, batch: set[str]) -> set[str]:
        if not self.trigger.report_batch_item_failures:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return set()  # None or [] both mean: every message succeeded
        ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(not isinstance(i, str) or i not in batch for i in ids):
            return set(batch)  # Lambda treats a response it cannot match as a failure of the whole batch
        return set(ids)  # type: ignore[arg-type]

    def _retry(self, messages: list[dict[str, Any]]) -> None:
        if self.retry_after_seconds is None or not messages:
            return  # back after the queue's visibility timeout, as on Lambda
        self.sqs.change_message_visibility_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "ReceiptHandle": m["ReceiptHandle"],
                    "VisibilityTimeout": self.retry_after_seconds,
                }
                for i, m in enumerate(messages)
            ],
        )


def _powertools_environment(template: Template, function: str) -> None:
    """Put the function's POWERTOOLS_* settings in this process's environment, unless set already.

    Powertools' singletons (the metrics namespace, the service name) read them when lead_ai is first
    imported, which here is before any invocation applies the function's environment: without the
    namespace every batch failed ("Must contain a metric namespace") once its training was done. In
    Lambda the function's environment is in place before anything is imported."""
    for name, value in template.function(function).environment.items():
        if name.startswith("POWERTOOLS_") and isinstance(value, str):
            os.environ.setdefault(name, value)
