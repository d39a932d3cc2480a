"""The training queue (SQS): the planner sends one message per due series, ten per SendMessageBatch call.

The planner sends; the training worker sends a message again only for later: a pooled model's, delayed,
while its group's first models are still training, and one it has no time left to train, at once
(service.queued_training). Lambda's event source mapping
receives, hands the worker a batch and deletes what the worker did not report failed. (The prediction
and ingest functions, whose layer ships a botocore trimmed to DynamoDB and S3, never need SQS.)
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from lead_ai.domain.fleet import TrainingRequest
from lead_ai.storage.dynamo import guarded

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_sqs.client import SQSClient


BATCH_LIMIT = 10  # SendMessageBatch takes at most ten entries
_ROUNDS = 3  # entries SQS refused for a reason of its own (not ours) are sent again, twice at most


class SendReport(NamedTuple):
    sent: int
    # (what the entry was, the SQS error code) of entries that could not be sent: a series id, or the id
    # of a message sent again
    failed: list[tuple[str, str]]


class TrainingQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, requests: Sequence[TrainingRequest], delay_seconds: int = 0) -> SendReport:
        """Send the requests, each received no sooner than `delay_seconds` (SQS's DelaySeconds, 0..900)."""
        return self._send_all(
            [(r.series_id, {"MessageBody": r.to_json(), "DelaySeconds": delay_seconds}) for r in requests]
        )

    def send_again(self, message_id: str, body: str, event_attributes: Mapping[str, Any]) -> SendReport:
        """Send a received message again, as it came (its body and message attributes, as a Lambda SQS
        event carries them), to be received at once."""
        entry: dict[str, Any] = {"MessageBody": body, "DelaySeconds": 0}
        attributes = _api_attributes(event_attributes)
        if attributes:
            entry["MessageAttributes"] = attributes
        return self._send_all([(message_id, entry)])

    def _send_all(self, labelled: list[tuple[str, dict[str, Any]]]) -> SendReport:
        sent = 0
        failed: list[tuple[str, str]] = []
        for start in range(0, len(labelled), BATCH_LIMIT):
            chunk_sent, chunk_failed = self._send_chunk(labelled[start : start + BATCH_LIMIT])
            sent += chunk_sent
            failed.extend(chunk_failed)
        return SendReport(sent, failed)

    def _send_chunk(self, chunk: list[tuple[str, dict[str, Any]]]) -> tuple[int, list[tuple[str, str]]]:
        # Entry ids are positions: a series id could repeat within a chunk, a position cannot.
        pending = {str(i): entry for i, entry in enumerate(chunk)}
        sent = 0
        failed: list[tuple[str, str]] = []
        for attempt in range(_ROUNDS):
            if attempt:
                time.sleep(0.1 * 2**attempt)
            entries: list[Any] = [{"Id": i, **entry} for i, (_, entry) in pending.items()]
            response = guarded(
                "queueing trainings",
                partial(self._client.send_message_batch, QueueUrl=self._url, Entries=entries),
            )
            sent += len(response.get("Successful", []))
            retry: dict[str, tuple[str, dict[str, Any]]] = {}
            for error in response.get("Failed", []):
                label, entry = pending[error["Id"]]
                if error.get("SenderFault"):  # the entry itself is wrong: sending it again cannot help
                    failed.append((label, str(error.get("Code", "refused"))))
                else:
                    retry[error["Id"]] = (label, entry)
            pending = retry
            if not pending:
                break
        failed.extend((label, "not sent after retries") for label, _ in pending.values())
        return sent, failed


def _api_attributes(event_attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Message attributes as a Lambda SQS event carries them (stringValue, binaryValue in base64,
    dataType) in the shape SendMessage takes (StringValue, BinaryValue as bytes, DataType)."""
    converted: dict[str, Any] = {}
    for name, value in event_attributes.items():
        attribute: dict[str, Any] = {"DataType": value["dataType"]}
        if value.get("stringValue") is not None:
            attribute["StringValue"] = value["stringValue"]
        if value.get("binaryValue") is not None:
            attribute["BinaryValue"] = base64.b64decode(value["binaryValue"])
        converted[name] = attribute
    return converted
