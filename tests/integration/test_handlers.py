"""Every handler driven with the SAM-format events in events/, against the moto stand-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import ROOT, Api, lead_history

SERIES = "acme-inbound"


def _objects(aws: Any, bucket: str) -> list[dict[str, Any]]:
    return list(aws("s3").list_object_versions(Bucket=bucket).get("Versions", []))


def _registry_items(aws: Any, table: str) -> list[dict[str, Any]]:
    return list(aws("dynamodb").scan(TableName=table).get("Items", []))


@pytest.fixture(scope="module")
def history() -> tuple[Any, Any]:
    return lead_history(60, seed=11)


@pytest.fixture
def trained(api: Api, history: tuple[Any, Any], replayed_training: dict[str, Any]) -> dict[str, Any]:
    """The series trained (fitted once a session: test_trained_series.py trains the same history)."""
    return api.ingest_and_train(SERIES, *history)


def test_ingest_answers_count_and_span_and_resending_does_not_double_count(api: Api, history: Any) -> None:
    # Given 60 days of hourly lead counts
    stamps, values = history
    # When they are ingested twice (a client retry)
    first_status, first = api.ingest(SERIES, stamps, values)
    second_status, second = api.ingest(SERIES, stamps, values)
    # Then both succeed and the stored series holds each slot once
    assert (first_status, second_status) == (200, 200)
    assert first["accepted"] == len(stamps) == second["accepted"]
    assert second["span"]["observations"] == len(stamps)
    assert second["span"]["first"] == datetime.fromtimestamp(int(stamps[0]), UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert second["interval"] == "1h"


def test_csv_ingest_replaces_a_slot(api: Api) -> None:
    # Given a slot ingested as JSON
    body = json.dumps({"observations": [{"timestamp": "2026-11-24T12:00:00Z", "value": 3}]})
    api.call("IngestFunction", "ingest-observations.json", series_id=SERIES, body=body)
    # When the CSV event sends the same slot with another value, plus a new one
    status, payload, _ = api.call("IngestFunction", "ingest-observations-csv.json", series_id=SERIES)
    # Then the slot is replaced, not added
    assert status == 200
    assert payload["accepted"] == 2
    assert payload["span"]["observations"] == 2


def test_training_unchanged_history_answers_the_current_version_and_versions_can_be_promoted(
    api: Api, trained: dict[str, Any], history: Any
) -> None:
    # When the unchanged series is trained again (twice)
    answers = [api.train(SERIES) for _ in range(2)]
    # Then each answers 200 with the current version, untrained, and no version is added
    for status, payload in answers:
        assert status == 200, payload
        assert (payload["version"], payload["current"], payload["trained"]) == ("1.0.0", True, False)
        assert payload["training"]["history_revision"] == trained["training"]["history_revision"]
    _, models, _ = api.call("PredictFunction", "models.json", series_id=SERIES)
    assert [v["version"] for v in models["versions"]] == ["1.0.0"]
    assert trained["trained"] is True
    # When the history changes (one more hour), Then a real training makes a new version (201)
    stamps, values = history
    assert api.ingest(SERIES, [int(stamps[-1]) + 3600], [float(values[-168])])[0] == 200
    status, second = api.train(SERIES)
    assert (status, second["version"], second["trained"]) == (201, "1.1.0", True)
    # When 1.0.0 is promoted explicitly (a rollback), Then it is current and forecasts come from it
    status, promoted, _ = api.call("TrainFunction", "promote.json", series_id=SERIES, version="1.0.0")
    assert status == 200 and promoted["current"] is True
    assert api.forecast(SERIES, 3)[1]["model_version"] == "1.0.0"
    # And promoting 1.1.0 (verified or rejected) works the same way
    status, _, _ = api.call("TrainFunction", "promote.json", series_id=SERIES, version="1.1.0")
    assert status == 200
    assert api.forecast(SERIES, 3)[1]["model_version"] == "1.1.0"


def test_training_with_too_few_points_is_422_and_writes_nothing(api: Api, aws: Any) -> None:
    # Given 20 days (480 points) of history, below MIN_TRAINING_POINTS = 1000
    stamps, values = lead_history(20, seed=3)
    api.ingest(SERIES, stamps, values)
    registry_before = _registry_items(aws, api.stack.names["RegistryTable"])
    # When training is requested
    status, payload = api.train(SERIES)
    # Then a 422 names the rule, and no artifact or version record is created
    assert status == 422
    assert payload["error"] == "insufficient_history"
    assert "480" in payload["message"] and "1000" in payload["message"]
    assert _objects(aws, api.stack.names["ArtifactBucket"]) == []
    assert _registry_items(aws, api.stack.names["RegistryTable"]) == registry_before


def test_min_training_points_is_configurable(api: Api) -> None:
    # Given MIN_TRAINING_POINTS lowered to 400 through the environment
    api.overrides["LEAD_AI_MIN_TRAINING_POINTS"] = "400"
    stamps, values = lead_history(20, seed=3)
    api.ingest(SERIES, stamps, values)
    # When training 480 points
    status, payload = api.train(SERIES)
    # Then it trains
    assert status == 201, payload


def test_malformed_json_is_400_and_stores_nothing(api: Api, aws: Any) -> None:
    status, payload, _ = api.call(
        "IngestFunction", "ingest-observations.json", series_id=SERIES, body="{not json"
    )
    assert status == 400
    assert payload["field"] == "body"
    assert aws("dynamodb").scan(TableName=api.stack.names["ObservationsTable"])["Count"] == 0


def test_forecast_for_an_untrained_series_is_404(api: Api, history: Any) -> None:
    api.ingest(SERIES, *history)
    status, payload = api.forecast(SERIES, 24)
    assert status == 404
    assert payload["error"] == "model_not_found"


def test_training_a_series_that_does_not_exist_is_404_saying_so(api: Api) -> None:
    # Given no series 'ghost'
    # When it is trained
    status, payload, _ = api.call("TrainFunction", "train.json", series_id="ghost")
    # Then the answer is the 404 every route gives for it
    assert (status, payload["error"], payload["field"]) == (404, "series_not_found", "series_id")
    assert payload["message"] == "series 'ghost' does not exist"


def test_schedule_queues_changed_series_once_per_event_and_the_worker_trains_them(
    api: Api, history: Any, replayed_training: dict[str, Any]
) -> None:
    from lead_ai_dev.local.worker import LocalPoller, queue_trigger

    # Given two series with history, one of them already trained on all of it (the planner and the worker
    # are the subject: each history is fitted once a session, replayed_training)
    api.ingest(SERIES, *history)
    api.ingest("other-series", *history)
    api.train("other-series")
    schedule = json.loads((ROOT / "events" / "schedule.json").read_text())
    # When the daily scheduled event reaches the planner
    first = api.invoke("PlannerFunction", schedule)
    # Then only the series whose history changed is queued
    assert first["queued"] == 1
    # And when EventBridge delivers the same event again, nothing is queued twice
    again = api.invoke("PlannerFunction", schedule)
    assert again == first
    # And the local poller hands the message to the training worker, which trains the series once
    poller = LocalPoller(api.template, queue_trigger(api.template), overrides=api.overrides, wait_seconds=0)
    totals = poller.run(until_empty=True, timeout_seconds=300)
    assert (totals.received, totals.succeeded) == (1, 1)
    _, models, _ = api.call("PredictFunction", "models.json", series_id=SERIES)
    assert len(models["versions"]) == 1 and models["current_version"] == "1.0.0"


def test_a_series_keeps_the_interval_of_its_first_ingest(api: Api) -> None:
    # Given a 15-minute series created by its first ingest
    first = {"interval": "15min", "observations": [{"timestamp": "2026-11-24T12:15:00Z", "value": 2}]}
    status, _, _ = api.call(
        "IngestFunction", "ingest-observations.json", series_id="quarter", body=json.dumps(first)
    )
    assert status == 200
    # When a later batch names no interval
    later = {"observations": [{"timestamp": "2026-11-24T12:30:00Z", "value": 4}]}
    status, payload, _ = api.call(
        "IngestFunction", "ingest-observations.json", series_id="quarter", body=json.dumps(later)
    )
    # Then it is read on the series' 15-minute grid, not the 1h default
    assert status == 200, payload
    assert payload["interval"] == "15min" and payload["span"]["observations"] == 2
    # And a batch that names another interval is refused with a 409 naming the field
    other = {"interval": "1h", "observations": [{"timestamp": "2026-11-24T13:00:00Z", "value": 1}]}
    status, payload, _ = api.call(
        "IngestFunction", "ingest-observations.json", series_id="quarter", body=json.dumps(other)
    )
    assert status == 409 and payload["field"] == "interval"
