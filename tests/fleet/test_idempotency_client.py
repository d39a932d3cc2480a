"""The planner's and the worker's idempotency records go through the container's DynamoDB client, like
every other AWS call: its timeouts (1 s connect, 4 s read), its three attempts and the hooks that keep each
call inside the invocation's time budget (lead_ai/storage/call_budget.py).

Powertools' DynamoDBPersistenceLayer builds a client of its own unless it is given one: botocore's
defaults, a 60 s connect and a 60 s read timeout per attempt and ten attempts for DynamoDB, so an
idempotency table that hangs held a worker past its 300 s timeout (the whole batch re-delivered) and the
planner past its own, and no budget hook ever saw those calls. The faults here are injected on the
container's client (tests/faults/support.py): a call that bypasses it would not see them.
"""

from __future__ import annotations

from tests.faults.conftest import CannedTraining
from tests.faults.support import FaultInjector, body_contains
from tests.fleet.conftest import Fleet, message_body, sqs_event


def test_a_timed_out_idempotency_write_fails_the_message_and_trains_nothing(
    fleet: Fleet, faults: FaultInjector, canned_training: CannedTraining
) -> None:
    # Given a due series' training message, and every write to the idempotency table timing out
    fleet.ingest("idem-worker")
    event = sqs_event(fleet, message_body("idem-worker", 1))
    table = fleet.api.stack.names["IdempotencyTable"]
    fault = faults.inject("dynamodb", "PutItem", "timeout", when=body_contains(table))
    # When the worker handles it
    response = fleet.api.invoke("TrainWorkerFunction", event)
    # Then the write went through the container's client (its attempts, its budget) and failed there:
    # the message is reported failed, for re-delivery, and nothing was trained
    assert fault.hits == 3  # LEAD_AI_AWS_MAX_ATTEMPTS
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert canned_training.calls == 0


def test_a_timed_out_idempotency_write_fails_the_plan_before_anything_is_queued(
    fleet: Fleet, faults: FaultInjector
) -> None:
    # Given a due series, and every write to the idempotency table timing out
    fleet.ingest("idem-planner")
    table = fleet.api.stack.names["IdempotencyTable"]
    fault = faults.inject("dynamodb", "PutItem", "timeout", when=body_contains(table))
    # When the schedule runs the planner
    try:
        fleet.plan()
    except Exception as exc:  # the invocation fails: EventBridge's delivery is retried
        failure: Exception | None = exc
    else:
        failure = None
    # Then the write went through the container's client and failed there, and nothing was queued
    assert failure is not None
    assert fault.hits == 3  # LEAD_AI_AWS_MAX_ATTEMPTS
    assert fleet.queue_depth() == 0
