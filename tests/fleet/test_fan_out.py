"""The daily fan-out on moto with the local poller: schedule -> planner -> training queue -> worker.

Every due series ends trained or in the dead-letter queue with its reason; a duplicate message trains
nothing twice; a poison message does not block its batch; a message that keeps failing reaches the
dead-letter queue after maxReceiveCount deliveries.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from lead_ai.domain.pools import PoolKey
from lead_ai_dev.local.invoke import LocalLambdaContext
from lead_ai_dev.local.stack import patched_environ
from lead_ai_dev.local.worker import IDLE_PAUSE_SECONDS, lambda_record
from tests.conftest import HISTORY_END, ROOT, lead_history
from tests.faults.conftest import CannedTraining
from tests.faults.support import FaultInjector
from tests.fleet.conftest import FailingFor, Fleet, message_body, metric_values, sqs_event

MAX_RECEIVE = 3  # the template's TrainingMaxReceiveCount default


@pytest.mark.slow
def test_a_scheduled_run_with_200_due_series_ends_with_each_trained_or_dead_lettered_with_its_reason(
    fleet: Fleet, failing_training: Callable[..., FailingFor]
) -> None:
    # Given 200 series with new history, two of which fail to train whatever happens, and a poison message
    training = failing_training("team-broken-1", "team-broken-2")
    names = [f"team-{i:03d}" for i in range(198)] + ["team-broken-1", "team-broken-2"]
    for name in names:
        fleet.ingest(name)
    fleet.send("not a training message")
    # When the schedule fires once
    plan = fleet.plan()
    # Then the planner queued one message per due series (and sent nothing else)
    assert plan["queued"] == 200 and plan["not_sent"] == [] and plan["too_short"] == []
    assert fleet.queue_depth() == 201
    # When the local poller drains the queue (failed messages come back after 1 s instead of 30 min)
    totals = fleet.drain()
    # Then every healthy series was trained exactly once, is served and is no longer due
    listed = fleet.all_series()
    assert set(listed) == set(names)
    for name in names[:198]:
        assert training.calls[name] == 1, name
        assert listed[name]["current_version"] == "1.0.0" and listed[name]["due"] is False, listed[name]
        assert listed[name]["last_failure"] is None
    # and each broken series was tried maxReceiveCount times, is still due, and says why
    for name in ("team-broken-1", "team-broken-2"):
        assert training.calls[name] == MAX_RECEIVE
        assert listed[name]["due"] is True and listed[name]["current_version"] is None
        assert listed[name]["last_failure"]["attempt"] == MAX_RECEIVE
        assert listed[name]["last_failure"]["error"] == "internal_error"
    # and the dead-letter queue holds exactly the two broken series and the poison message
    bodies = sorted(m["Body"] for m in fleet.dead_letters())
    assert bodies == sorted(
        [message_body("team-broken-1", 1), message_body("team-broken-2", 1), "not a training message"]
    )
    assert fleet.queue_depth() == 0
    assert totals.succeeded == 198 and totals.errors == []


def test_a_duplicate_message_trains_nothing_twice(fleet: Fleet, canned_training: CannedTraining) -> None:
    # Given a due series, queued by two schedules (two plans: two messages for one revision)
    fleet.ingest("dup")
    assert fleet.plan()["queued"] == 1
    assert fleet.plan()["queued"] == 1
    # and the same message sent a third time (SQS's at-least-once delivery)
    fleet.send(message_body("dup", 1))
    assert fleet.queue_depth() == 3
    # When the poller drains the queue
    totals = fleet.drain()
    # Then the history was trained once; the other messages got the stored outcome and were deleted
    assert canned_training.calls == 1
    assert [v["version"] for v in fleet.versions("dup")] == ["1.0.0"]
    assert totals.succeeded == 3 and totals.failed == 0
    assert fleet.dead_letters() == []


def test_a_message_for_a_revision_already_trained_is_skipped_even_without_its_idempotency_record(
    fleet: Fleet, canned_training: CannedTraining, aws: Any
) -> None:
    # Given a series trained at revision 1, and its idempotency records gone (expired)
    fleet.ingest("old")
    fleet.plan()
    fleet.drain()
    table = fleet.api.stack.names["IdempotencyTable"]
    for item in aws("dynamodb").scan(TableName=table)["Items"]:
        aws("dynamodb").delete_item(TableName=table, Key={"id": item["id"]})
    # When a late copy of the revision-1 message arrives
    fleet.send(message_body("old", 1))
    totals = fleet.drain()
    # Then the catalogue says revision 1 is trained: nothing is trained again
    assert canned_training.calls == 1 and totals.succeeded == 1
    assert len(fleet.versions("old")) == 1


def test_a_series_deleted_and_created_again_is_trained_by_the_next_run(
    fleet: Fleet, canned_training: CannedTraining
) -> None:
    # Given a series trained at revision 1 by the daily run, then deleted (a team reloading its history)
    fleet.ingest("team-x")
    fleet.plan()
    fleet.drain()
    assert canned_training.calls == 1
    status, payload = fleet.api.call("DeleteFunction", "delete-series.json", series_id="team-x")[:2]
    assert status == 200, payload
    # When its corrected history is sent (a new series: revision 1 again) and the next run plans it
    fleet.ingest("team-x", seed=5)
    assert fleet.plan()["queued"] == 1
    totals = fleet.drain()
    # Then it is trained, though the deleted series' revision 1 has an idempotency record (2 days)
    assert canned_training.calls == 2 and (totals.succeeded, totals.failed) == (1, 0)
    listed = fleet.all_series()["team-x"]
    assert listed["current_version"] == "1.0.0" and listed["due"] is False, listed
    assert fleet.api.forecast("team-x", 24)[0] == 200


def test_a_series_deleted_while_its_queued_training_fits_stays_deleted(
    fleet: Fleet,
    canned_training: CannedTraining,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import lead_ai.forecasting.training.train as train
    from lead_ai.service.deletion import delete_series
    from lead_ai.service.dependencies import build_dependencies
    from tests.conftest import settings_for

    # Given a due series queued by the daily run
    fleet.ingest("team-gone")
    assert fleet.plan()["queued"] == 1
    # and a DELETE /series/team-gone that runs to its end while the worker fits the series' model
    deletions: list[Any] = []

    def fit_then_delete(*args: Any, **kwargs: Any) -> Any:
        result = canned_training(*args, **kwargs)
        deletions.append(
            delete_series(build_dependencies(settings_for(fleet.api, "DeleteFunction")), "team-gone")
        )
        return result

    monkeypatch.setattr(train, "train_forecaster", fit_then_delete)
    # When the worker finishes that training
    capsys.readouterr()
    totals = fleet.drain()
    # Then its message is done, skipped (not failed: there is nothing to retry)
    assert len(deletions) == 1 and (totals.succeeded, totals.failed) == (1, 0)
    printed = capsys.readouterr().out
    assert metric_values(printed, "QueuedTrainingSkipped") == [1.0]
    assert metric_values(printed, "QueuedTrainingFailed") == []
    # and the series stays deleted: not listed, nothing served, nothing of it left behind (the training
    # registered a version and uploaded its object after the deletion had removed everything)
    assert "team-gone" not in fleet.all_series()
    assert fleet.api.forecast("team-gone", 24)[0] == 404
    assert _registry_records(fleet, "team-gone") == set()
    assert _model_objects(fleet, "team-gone") == 0
    # and its id can be used afresh: the next ingest creates a new series, due for its own first model
    fleet.ingest("team-gone", seed=5)
    listed = fleet.all_series()["team-gone"]
    assert listed["revision"] == 1 and listed["due"] is True and listed["current_version"] is None, listed


def test_a_series_deleted_and_created_again_while_its_training_fits_is_trained_on_its_new_history(
    fleet: Fleet, canned_training: CannedTraining, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lead_ai.forecasting.training.train as train
    from lead_ai.service.deletion import delete_series
    from lead_ai.service.dependencies import build_dependencies
    from tests.conftest import settings_for

    # Given a due series queued by the daily run
    fleet.ingest("team-reload")
    assert fleet.plan()["queued"] == 1

    # and, while the worker fits its model, the team deletes it and sends its corrected history
    # (a new series under the same id, at revision 1 again)
    def fit_then_reload(*args: Any, **kwargs: Any) -> Any:
        result = canned_training(*args, **kwargs)
        if canned_training.calls == 1:
            delete_series(build_dependencies(settings_for(fleet.api, "DeleteFunction")), "team-reload")
            fleet.ingest("team-reload", seed=5)
        return result

    monkeypatch.setattr(train, "train_forecaster", fit_then_reload)
    # When the worker finishes that training
    totals = fleet.drain()
    # Then the model fitted on the deleted history does not serve the new series, which stays due
    assert (totals.succeeded, totals.failed) == (1, 0)
    listed = fleet.all_series()["team-reload"]
    assert listed["current_version"] is None and listed["due"] is True, listed
    # And the next run trains the new series on its own history
    assert fleet.plan()["queued"] == 1
    fleet.drain()
    listed = fleet.all_series()["team-reload"]
    assert listed["current_version"] is not None and listed["due"] is False, listed
    assert canned_training.calls == 2


def test_a_poison_message_does_not_block_its_batch(fleet: Fleet, canned_training: CannedTraining) -> None:
    # Given two due series and a poison message between their messages
    fleet.ingest("good-a")
    fleet.ingest("good-b")
    fleet.send(message_body("good-a", 1), '{"series_id": "../etc", "revision": 1}', message_body("good-b", 1))
    # When the poller takes one batch of 3 (the template's batch size)
    result = fleet.poller().poll_once()
    # Then both good messages were trained and deleted; only the poison one was reported failed
    assert result is not None and (result.received, result.succeeded, result.failed) == (3, 2, 1)
    assert canned_training.calls == 2
    assert all(fleet.versions(s) for s in ("good-a", "good-b"))
    assert fleet.queue_depth() == 1


def test_a_failing_training_is_retried_then_dead_lettered_after_max_receive_count(
    fleet: Fleet, failing_training: Callable[..., FailingFor]
) -> None:
    # Given a due series whose training always fails
    training = failing_training("flaky")
    fleet.ingest("flaky")
    fleet.plan()
    poller = fleet.poller()
    # When the poller keeps receiving it: each failure comes back with a higher receive count
    results = []
    while (result := poller.poll_once()) is not None or not poller.is_empty():
        if result is not None:
            results.append(result)
        else:  # the message is in flight until its retry: wait as the poller does, not in a busy loop
            time.sleep(IDLE_PAUSE_SECONDS)
    # Then it was delivered exactly maxReceiveCount times, each time failing, and then moved to the DLQ
    assert [(r.received, r.failed) for r in results] == [(1, 1)] * MAX_RECEIVE
    assert training.calls["flaky"] == MAX_RECEIVE
    assert [m["Body"] for m in fleet.dead_letters()] == [message_body("flaky", 1)]
    # and the series is still due, with the reason of its last failure (an error code, no AWS text)
    flaky = fleet.all_series()["flaky"]
    assert flaky["due"] is True
    assert flaky["last_failure"]["attempt"] == MAX_RECEIVE and flaky["last_failure"]["revision"] == 1


def test_a_failure_that_clears_is_retried_and_trained(
    fleet: Fleet, failing_training: Callable[..., FailingFor]
) -> None:
    # Given a series whose first training fails (an S3 outage, say) and whose second succeeds
    training = failing_training("recovers")
    fleet.ingest("recovers")
    fleet.plan()
    poller = fleet.poller()
    first = poller.poll_once()
    assert first is not None and first.failed == 1
    training.failing.clear()
    # When the message comes back
    poller.run(until_empty=True, timeout_seconds=60)
    # Then the series is trained, no longer due, its failure note cleared, nothing dead-lettered
    listed = fleet.all_series()["recovers"]
    assert listed["current_version"] == "1.0.0" and listed["due"] is False and listed["last_failure"] is None
    assert training.calls["recovers"] == 2
    assert fleet.dead_letters() == []


def test_duplicates_in_two_containers_at_once_train_once(
    fleet: Fleet, canned_training: CannedTraining, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two warm worker containers (two imports of the handler module, as Lambda runs them)
    fleet.ingest("raced")
    event = sqs_event(fleet, message_body("raced", 1))
    # When container B receives the same message while A trains it, and again once A is done
    answers = _while_a_trains(fleet, canned_training, monkeypatch, event, event)
    # Then A trained it, B first reported it failed (in progress), then succeeded with A's stored outcome
    message_id = event["Records"][0]["messageId"]
    assert answers["a"] == {"batchItemFailures": []}
    assert answers["b"] == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert answers["b_again"] == {"batchItemFailures": []}
    assert len(fleet.versions("raced")) == 1
    # and B's "in progress" was not noted on the series as a failure
    assert fleet.all_series()["raced"]["last_failure"] is None


def test_messages_of_two_plans_for_one_history_in_two_containers_at_once_train_it_once(
    fleet: Fleet, canned_training: CannedTraining, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a series queued at revision 1 by one plan, more history (revision 2), and a second plan
    # (a manual run beside the daily one) that queued it at revision 2: both messages train revision 2
    fleet.ingest("replanned")
    fleet.ingest("replanned", days=10)
    first = sqs_event(fleet, message_body("replanned", 1))
    second = sqs_event(fleet, message_body("replanned", 2))
    # When container B receives the revision-2 message while A trains the revision-1 one, and again
    # once A is done
    answers = _while_a_trains(fleet, canned_training, monkeypatch, first, second)
    # Then the history (revision 2) was trained once: B waited for A's outcome instead of training it too
    assert answers["a"] == {"batchItemFailures": []}
    assert answers["b"] == {"batchItemFailures": [{"itemIdentifier": second["Records"][0]["messageId"]}]}
    assert answers["b_again"] == {"batchItemFailures": []}
    assert len(fleet.versions("replanned")) == 1
    assert fleet.all_series()["replanned"]["due"] is False


def _while_a_trains(
    fleet: Fleet,
    canned_training: CannedTraining,
    monkeypatch: pytest.MonkeyPatch,
    event_a: dict[str, Any],
    event_b: dict[str, Any],
) -> dict[str, Any]:
    """Two warm worker containers: A's answer to event_a, whose training is held until container B has
    answered event_b ("b"); then B's answer to event_b once A is done ("b_again", SQS's re-delivery)."""
    import lead_ai.forecasting.training.train

    container_a, container_b = _container(fleet, "a"), _container(fleet, "b")
    answers: dict[str, Any] = {}
    started, release = threading.Event(), threading.Event()

    def slow_training(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=30)  # container A is mid-training while B gets its message
        return canned_training.result

    monkeypatch.setattr(lead_ai.forecasting.training.train, "train_forecaster", slow_training)
    with _worker_environment(fleet):
        thread = threading.Thread(target=lambda: answers.update(a=_invoke(container_a, event_a)))
        thread.start()
        assert started.wait(timeout=30)
        answers["b"] = _invoke(container_b, event_b)
        release.set()
        thread.join(timeout=60)
        answers["b_again"] = _invoke(container_b, event_b)
    return answers


def test_a_batch_the_worker_has_no_time_left_to_train_is_sent_again_and_reported_done(
    fleet: Fleet, canned_training: CannedTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    from lead_ai.storage.clients import client

    # Given three due series whose messages arrive as one batch, one of them with message attributes
    for name in ("late-a", "late-b", "late-c"):
        fleet.ingest(name)
    attributes = {
        "origin": {"DataType": "String", "StringValue": "daily"},
        "trace": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sqs = client("sqs")
    sqs.send_message(
        QueueUrl=fleet.queue_url, MessageBody=message_body("late-a", 1), MessageAttributes=attributes
    )
    fleet.send(message_body("late-b", 1), message_body("late-c", 1))
    batch = _receive_all(fleet)
    assert len(batch) == 3
    event = {
        "Records": [
            lambda_record(m, "arn:aws:sqs:us-east-1:123456789012:training", "us-east-1") for m in batch
        ]
    }
    # When a worker gets the batch with 60 s of its invocation left (LEAD_AI_TRAINING_MIN_SECONDS_LEFT: 90)
    container = _container(fleet, "late")
    capsys.readouterr()
    with _worker_environment(fleet):
        answer = container.lambda_handler(
            event, LocalLambdaContext(function_name="TrainWorkerFunction", timeout_seconds=60)
        )
    # Then none is trained and none is reported failed (Lambda deletes the three it received)
    assert answer == {"batchItemFailures": []}
    assert canned_training.calls == 0
    # and the three messages are on the queue again as they came, to be received at once
    again = _receive_all(fleet)
    assert sorted(m["Body"] for m in again) == sorted(m["Body"] for m in batch)
    resent = next(m for m in again if m["Body"] == message_body("late-a", 1))
    assert resent["MessageAttributes"] == attributes
    # and the worker said so: one QueuedTrainingDeferred per message, nothing failed or noted on the series
    printed = capsys.readouterr().out
    assert metric_values(printed, "QueuedTrainingDeferred") == [1.0, 1.0, 1.0]
    assert metric_values(printed, "QueuedTrainingFailed") == []
    listed = fleet.all_series()
    assert all(listed[n]["due"] and listed[n]["last_failure"] is None for n in ("late-a", "late-b", "late-c"))


def test_a_redelivered_scheduled_event_plans_once(
    fleet: Fleet, faults: FaultInjector, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a due series, and a first delivery of the daily event during a registry outage
    fleet.ingest("sched")
    faults.inject("dynamodb", "Query", "5xx")
    with pytest.raises(Exception, match="listing due series"):
        fleet.plan(event_id="daily-1")
    faults.clear()
    assert fleet.queue_depth() == 0
    # When EventBridge retries the same event (same id), twice
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty metrics flush only warns: here it fails
        first = fleet.plan(event_id="daily-1")
        again = fleet.plan(event_id="daily-1")
    # Then the series was queued once and the second retry got the stored answer
    assert first["queued"] == 1 and again == first
    assert fleet.queue_depth() == 1
    # and the metrics count both deliveries but one plan
    printed = capsys.readouterr().out
    assert metric_values(printed, "ScheduleDeliveries") == [1.0, 1.0]
    assert metric_values(printed, "TrainingsQueued") == [1.0]


def test_the_planner_leaves_series_too_short_for_their_own_model_due(
    fleet: Fleet, canned_training: CannedTraining
) -> None:
    # Given a series with 9 days and a brand-new one with 5 (120 points; the fast settings need 200)
    fleet.ingest("established")
    fleet.ingest("brand-new", days=5)
    # When the schedule runs and the queue is drained
    plan = fleet.plan()
    fleet.drain()
    # Then only the established series was queued and trained; the new one is reported and stays due
    assert plan["queued"] == 1 and plan["too_short"] == ["brand-new"]
    listed = fleet.all_series()
    assert listed["established"]["due"] is False and listed["brand-new"]["due"] is True
    assert canned_training.calls == 1


def test_a_series_resumed_after_a_long_outage_is_not_queued_again_until_new_data_arrive(
    fleet: Fleet, canned_training: CannedTraining
) -> None:
    # Given a series with 9 days, then silent for five weeks, that resumed with three hours: its 219
    # observations pass the planner's count (200), but training reads the three after the gap (a 422)
    stamps, values = lead_history(50, seed=3, end=HISTORY_END)
    old = stamps < stamps[0] + 9 * 86400
    assert fleet.api.ingest("resumed", stamps[old], values[old])[0] == 200
    assert fleet.api.ingest("resumed", stamps[-3:], values[-3:])[0] == 200
    # When the schedule runs and the queue is drained
    assert fleet.plan()["queued"] == 1
    totals = fleet.drain()
    # Then its training is skipped, and the revision it read is recorded: no longer due
    assert totals.failed == 0 and canned_training.calls == 0
    assert fleet.all_series()["resumed"]["due"] is False
    # and the next day's plan does not send it again for the same history
    assert fleet.plan()["queued"] == 0
    # until new observations arrive; with no model of its own its group's pool is what serves it, so
    # the plan queues that pool beside it (as for a series whose own model lost to the pool)
    assert fleet.api.ingest("resumed", stamps[-4:-3], values[-4:-3])[0] == 200
    plan = fleet.plan()
    assert plan["queued"] == 1 and plan["pool_served"] == ["resumed"], plan
    assert plan["pools"] == [PoolKey(3600, "UTC", "none").pool_id]


def test_the_sqs_event_in_events_is_what_the_worker_handles(
    fleet: Fleet, canned_training: CannedTraining
) -> None:
    # Given events/train-queue.json (the `sam local generate-event sqs receive-message` shape) for a due series
    event = json.loads((ROOT / "events" / "train-queue.json").read_text())
    series_id = json.loads(event["Records"][0]["body"])["series_id"]
    fleet.ingest(series_id)
    # When it is invoked like `lead-ai invoke TrainWorkerFunction -e events/train-queue.json`
    response = fleet.api.invoke("TrainWorkerFunction", event)
    # Then no message failed and the series was trained
    assert response == {"batchItemFailures": []}
    assert canned_training.calls == 1


def test_records_built_by_the_poller_have_the_shape_of_a_lambdasqs_event() -> None:
    # Given the record of events/train-queue.json and one built from a ReceiveMessage answer
    sample = json.loads((ROOT / "events" / "train-queue.json").read_text())["Records"][0]
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "MessageAttributes": {"team": {"DataType": "String", "StringValue": "emea"}},
    }
    record = lambda_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    # Then both have the same keys, and the values come from the real receive
    assert set(record) == set(sample)
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")
    assert record["messageAttributes"] == {
        "team": {"stringValue": "emea", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }


# ------------------------------------------------------------------------------------------ helpers


def _registry_records(fleet: Fleet, series_id: str) -> set[str]:
    """The sort keys of the registry items of `series_id` (SERIES, CURRENT, VERSION#…)."""
    from lead_ai.storage.clients import client

    items = client("dynamodb").query(
        TableName=fleet.api.stack.names["RegistryTable"],
        KeyConditionExpression="series_id = :id",
        ExpressionAttributeValues={":id": {"S": series_id}},
        ConsistentRead=True,
    )["Items"]
    return {item["record"]["S"] for item in items}


def _receive_all(fleet: Fleet) -> list[dict[str, Any]]:
    """Every visible message of the training queue, with its attributes (now in flight: not deleted)."""
    from lead_ai.storage.clients import client

    received: list[dict[str, Any]] = []
    while (
        messages := client("sqs")
        .receive_message(
            QueueUrl=fleet.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    ):
        received.extend(messages)
    return received


def _model_objects(fleet: Fleet, series_id: str) -> int:
    """Object versions and delete markers under the series' model prefix."""
    from lead_ai.storage.clients import client

    listing = client("s3").list_object_versions(
        Bucket=fleet.api.stack.names["ArtifactBucket"], Prefix=f"models/{series_id}/"
    )
    return len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))


def _container(fleet: Fleet, name: str) -> Any:
    """An import of the worker's handler module: its own processor, idempotency config and settings."""
    from lead_ai.config import get_settings

    function = fleet.api.template.function("TrainWorkerFunction")
    with _worker_environment(fleet):
        get_settings.cache_clear()  # a cold start reads the environment
        spec = importlib.util.spec_from_file_location(
            f"train_worker_container_{name}", function.code_uri / "app.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def _worker_environment(fleet: Fleet) -> Any:
    from lead_ai_dev.local.invoke import resolve_environment

    template = fleet.api.template
    env = resolve_environment(template, template.function("TrainWorkerFunction")) | fleet.api.overrides
    return patched_environ(env)


def _invoke(module: Any, event: dict[str, Any]) -> Any:
    return module.lambda_handler(event, LocalLambdaContext(function_name="TrainWorkerFunction"))
