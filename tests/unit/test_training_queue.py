"""The training queue's SendMessageBatch rounds: what SQS refuses for a reason of its own is sent again,
what it refuses as the sender's fault is reported at once (storage/queue.py)."""

from __future__ import annotations

from typing import Any

import pytest

from lead_ai.domain.fleet import TrainingRequest, parse_training_request
from lead_ai.storage import queue as queue_module
from lead_ai.storage.queue import TrainingQueue


class ScriptedSQS:
    """An SQS client whose SendMessageBatch answers fail the entries named for each round, by label."""

    def __init__(self, rounds: list[dict[str, bool]]) -> None:
        self.rounds = rounds  # per call: label -> SenderFault of the entries it refuses
        self.calls: list[list[dict[str, Any]]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        refused = self.rounds[len(self.calls) - 1] if len(self.calls) <= len(self.rounds) else {}
        failed, successful = [], []
        for entry in Entries:
            label = parse_training_request(entry["MessageBody"]).series_id
            if label in refused:
                failed.append({"Id": entry["Id"], "SenderFault": refused[label], "Code": "Refused"})
            else:
                successful.append({"Id": entry["Id"], "MessageId": f"m-{label}"})
        return {"Successful": successful, "Failed": failed}


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module.time, "sleep", lambda _seconds: None)


def _requests(*ids: str) -> list[TrainingRequest]:
    return [TrainingRequest(series_id=i, revision=1) for i in ids]


def test_an_entry_refused_by_sqs_is_sent_again_alone_and_a_sender_fault_is_reported_at_once() -> None:
    # Given SQS refusing 'b' for a reason of its own once, and 'c' as the sender's fault
    client = ScriptedSQS([{"b": False, "c": True}])
    # When three requests are sent
    report = TrainingQueue(client, "url").send(_requests("a", "b", "c"))  # type: ignore[arg-type]
    # Then 'b' went again alone in a second round, and only 'c' is reported failed, with SQS's code
    assert [len(entries) for entries in client.calls] == [3, 1]
    assert parse_training_request(client.calls[1][0]["MessageBody"]).series_id == "b"
    assert report.sent == 2
    assert report.failed == [("c", "Refused")]


def test_an_entry_refused_every_round_is_reported_not_sent_after_the_last() -> None:
    # Given SQS refusing 'b' for a reason of its own in every round
    client = ScriptedSQS([{"b": False}] * 5)
    # When two requests are sent
    report = TrainingQueue(client, "url").send(_requests("a", "b"))  # type: ignore[arg-type]
    # Then it was tried three times in all, and is reported as not sent
    assert len(client.calls) == 3
    assert report.sent == 1
    assert report.failed == [("b", "not sent after retries")]


def test_a_message_sent_again_keeps_its_body_and_attributes_in_the_shape_sqs_takes() -> None:
    # Given a received message's body and attributes as a Lambda SQS event carries them
    client = ScriptedSQS([])
    body = TrainingRequest(series_id="a", revision=3).to_json()
    attributes = {
        "origin": {"stringValue": "planner", "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "dataType": "Binary"},
    }
    # When it is sent again
    report = TrainingQueue(client, "url").send_again("m-1", body, attributes)  # type: ignore[arg-type]
    # Then it goes at once, unchanged, its attributes as SendMessage spells them (binary as bytes)
    (entry,) = client.calls[0]
    assert report == (1, [])
    assert entry["MessageBody"] == body and entry["DelaySeconds"] == 0
    assert entry["MessageAttributes"] == {
        "origin": {"DataType": "String", "StringValue": "planner"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
