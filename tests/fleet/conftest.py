"""Fixtures for the fan-out tests: the schedule -> planner -> queue -> local poller -> worker flow on moto.

The training itself is the real model computed once (`canned_training`, from the fault suite): these
tests are about the plumbing around it (messages, retries, idempotency, the dead-letter queue).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lead_ai.domain.fleet import TrainingRequest
from lead_ai.storage.clients import client
from lead_ai_dev.local.events import load_event
from lead_ai_dev.local.worker import LocalPoller, WorkerTotals, lambda_record, queue_trigger
from tests.conftest import ROOT, Api, lead_history
from tests.faults.conftest import (  # noqa: F401  (fixtures, registered by being imported here)
    CannedTraining,
    _restore_environ,
    canned_training,
    fast_api,
    faults,
    small_history,
    trained_result,
)


def metric_values(stdout: str, name: str) -> list[float]:
    """The values of one metric in the CloudWatch embedded-metric lines a handler printed."""
    values: list[float] = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            values += json.loads(line).get(name, [])
    return values


def schedule_event(event_id: str | None = None) -> dict[str, Any]:
    """The EventBridge scheduled event of events/, with its own id (a distinct schedule) if given."""
    event = copy.deepcopy(load_event(ROOT / "events", "schedule.json"))
    if event_id is not None:
        event["id"] = event_id
    return event


@dataclass
class Fleet:
    api: Api

    @property
    def queue_url(self) -> str:
        return self.api.stack.queue_urls["TrainingQueue"]

    @property
    def dlq_url(self) -> str:
        return self.api.stack.queue_urls["TrainingDeadLetterQueue"]

    def ingest(self, series_id: str, days: int = 9, seed: int = 3) -> None:
        status, payload = self.api.ingest(series_id, *lead_history(days, seed=seed))
        assert status == 200, payload

    def plan(self, event_id: str | None = None) -> dict[str, Any]:
        """One scheduled run of the planner (a fresh schedule unless an event id is given)."""
        outcome: dict[str, Any] = self.api.invoke(
            "PlannerFunction", schedule_event(event_id or str(uuid.uuid4()))
        )
        return outcome

    def poller(self, retry_after_seconds: int = 1) -> LocalPoller:
        template = self.api.template
        return LocalPoller(
            template,
            queue_trigger(template),
            retry_after_seconds=retry_after_seconds,
            wait_seconds=0,
            overrides=self.api.overrides,
        )

    def drain(self, timeout_seconds: float = 600) -> WorkerTotals:
        return self.poller().run(until_empty=True, timeout_seconds=timeout_seconds)

    def send(self, *bodies: str) -> None:
        for body in bodies:
            client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message in the dead-letter queue (left there: received with a zero visibility timeout)."""
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(20):
            messages = (
                client("sqs")
                .receive_message(
                    QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
                )
                .get("Messages", [])
            )
            if not messages:
                break
            seen.update({m["MessageId"]: m for m in messages})
        return list(seen.values())

    def queue_depth(self) -> int:
        """Messages in the training queue, visible or in flight (read when none is about to turn visible)."""
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def series_list(self, **query: str) -> tuple[int, Any]:
        status, payload, _ = self.api.call("PredictFunction", "series-list.json", query=query)
        return status, payload

    def all_series(self) -> dict[str, dict[str, Any]]:
        listed: dict[str, dict[str, Any]] = {}
        token: str | None = None
        while True:
            status, page = self.series_list(limit="100", **({"next_token": token} if token else {}))
            assert status == 200, page
            listed.update({s["series_id"]: s for s in page["series"]})
            token = page["next_token"]
            if token is None:
                return listed

    def versions(self, series_id: str) -> list[dict[str, Any]]:
        status, models, _ = self.api.call("PredictFunction", "models.json", series_id=series_id)
        assert status == 200, models
        return list(models["versions"])


@pytest.fixture
def fleet(fast_api: Api) -> Fleet:  # noqa: F811
    return Fleet(fast_api)


class FailingFor:
    """Wraps the canned training: raises for the named series (a bug, or a model that will not export)."""

    def __init__(self, canned: CannedTraining, *series_ids: str) -> None:
        self.canned = canned
        self.failing = set(series_ids)
        self.calls: dict[str, int] = {}

    def __call__(self, series: Any, *args: Any, **kwargs: Any) -> Any:
        series_id = series[0].series_id
        self.calls[series_id] = self.calls.get(series_id, 0) + 1
        if series_id in self.failing:
            raise RuntimeError(f"training {series_id} failed")
        return self.canned(series, *args, **kwargs)


@pytest.fixture
def failing_training(
    monkeypatch: pytest.MonkeyPatch,
    canned_training: CannedTraining,  # noqa: F811
) -> Callable[..., FailingFor]:
    import lead_ai.forecasting.training.train

    def make(*series_ids: str) -> FailingFor:
        wrapper = FailingFor(canned_training, *series_ids)
        monkeypatch.setattr(lead_ai.forecasting.training.train, "train_forecaster", wrapper)
        return wrapper

    return make


def message_body(series_id: str, revision: int) -> str:
    """A training message as the planner writes it."""
    return TrainingRequest(series_id, revision).to_json()


def sqs_event(fleet: Fleet, body: str) -> dict[str, Any]:
    """Send one message and receive it back as the one record of a Lambda SQS event (what the training
    worker's handler gets), for tests that drive a worker container by hand."""
    fleet.send(body)
    message = client("sqs").receive_message(
        QueueUrl=fleet.queue_url, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=1
    )["Messages"][0]
    return {"Records": [lambda_record(message, "arn:aws:sqs:us-east-1:123456789012:training", "us-east-1")]}
