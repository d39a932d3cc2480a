"""The training queue (SQS): the planner sends one message per due series, ten per SendMessageBatch call.

The planner sends; the training worker sends only a pooled model's message again, delayed, while its
group's first models are still training (service.queued_training). Lambda's event source mapping
receives, hands the worker a batch and deletes what the worker did not report failed. (The prediction
and ingest functions, whose layer ships a botocore trimmed to DynamoDB and S3, never need SQS.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    failed: list[tuple[str, str]]  # (series_id, the SQS error code) of entries that could not be sent


class TrainingQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, requests: Sequence[TrainingRequest], delay_seconds: int = 0) -> SendReport:
        """Send the requests, each received no sooner than `delay_seconds` (SQS's DelaySeconds, 0..900)."""
        sent = 0
        failed: list[tuple[str, str]] = []
        for start in range(0, len(requests), BATCH_LIMIT):
            chunk = list(requests[start : start + BATCH_LIMIT])
            chunk_sent, chunk_failed = self._send_chunk(chunk, delay_seconds)
            sent += chunk_sent
            failed.extend(chunk_failed)
        return SendReport(sent, failed)

    def _send_chunk(
        self, chunk: list[TrainingRequest], delay_seconds: int
    ) -> tuple[int, list[tuple[str, str]]]:
        # Entry ids are positions: a series id could repeat within a chunk, a position cannot.
        pending = {str(i): request for i, request in enumerate(chunk)}
        sent = 0
        failed: list[tuple[str, str]] = []
        for attempt in range(_ROUNDS):
            if attempt:
                time.sleep(0.1 * 2**attempt)
            entries: list[Any] = [
                {"Id": i, "MessageBody": r.to_json(), "DelaySeconds": delay_seconds}
                for i, r in pending.items()
            ]
            response = guarded(
                "queueing trainings",
                partial(self._client.send_message_batch, QueueUrl=self._url, Entries=entries),
            )
            sent += len(response.get("Successful", []))
            retry: dict[str, TrainingRequest] = {}
            for error in response.get("Failed", []):
                request = pending[error["Id"]]
                if error.get("SenderFault"):  # the entry itself is wrong: sending it again cannot help
                    failed.append((request.series_id, str(error.get("Code", "refused"))))
                else:
                    retry[error["Id"]] = request
            pending = retry
            if not pending:
                break
        failed.extend((r.series_id, "not sent after retries") for r in pending.values())
        return sent, failed
