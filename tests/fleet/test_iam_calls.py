"""Every AWS call a function really makes is one its role grants: the calls of each function's routes, the
planner and the worker, recorded on the container's clients while they run against the local stand-in,
checked against the table in tests/infrastructure/test_template.py (CALLS), which the template's roles must
grant exactly. moto enforces no IAM: without this a call on a path the table forgot would be an
AccessDenied in AWS only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import tests.conftest
from lead_ai.storage.clients import client
from lead_ai_dev.local import invoke as local_invoke
from lead_ai_dev.local.worker import LocalPoller, queue_trigger
from tests.faults.conftest import SERIES, CannedTraining, add_hour
from tests.fleet.conftest import Fleet
from tests.infrastructure.test_template import CALLS

_TRANSACTION_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class Recorder:
    """(function, operation, action, resource) of each call made while a function is invoked."""

    def __init__(self, names: dict[str, str]) -> None:
        self._logical = {physical: logical for logical, physical in names.items()}
        self.function: str | None = None
        self.calls: set[tuple[str, str, str, str]] = set()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.function is None:
            return  # the test's own set-up and checks, or the local poller's receive and delete
        for action, resource in self._needs(model.service_model.service_name, model.name, params):
            self.calls.add((self.function, model.name, action, resource))

    def _table(self, name: str, index: str | None = None) -> str:
        logical = self._logical[name]
        if index:
            return json.dumps({"Fn::Sub": f"${{{logical}.Arn}}/index/{index}"})
        return json.dumps({"Fn::GetAtt": f"{logical}.Arn"})

    def _needs(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        models = json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/models/*"})
        if service == "dynamodb":
            if operation == "TransactWriteItems":
                return [
                    (_TRANSACTION_ACTIONS[kind], self._table(body["TableName"]))
                    for item in params["TransactItems"]
                    for kind, body in item.items()
                ]
            if operation == "BatchGetItem":
                return [("dynamodb:BatchGetItem", self._table(name)) for name in params["RequestItems"]]
            return [(f"dynamodb:{operation}", self._table(params["TableName"], params.get("IndexName")))]
        if service == "s3":
            assert params["Bucket"] == next(p for p, lg in self._logical.items() if lg == "ArtifactBucket")
            if operation == "ListObjectVersions":
                assert params["Prefix"].startswith("models/")
                return [("s3:ListBucketVersions", json.dumps({"Fn::GetAtt": "ArtifactBucket.Arn"}))]
            if operation == "DeleteObjects":
                return [
                    ("s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject", models)
                    for o in params["Delete"]["Objects"]
                ]
            assert params["Key"].startswith("models/")
            versioned = {"GetObject": "s3:GetObjectVersion", "DeleteObject": "s3:DeleteObjectVersion"}
            if params.get("VersionId") and operation in versioned:
                return [(versioned[operation], models)]
            return [(f"s3:{operation}", models)]
        assert service == "sqs", service
        action = {"SendMessageBatch": "SendMessage"}.get(operation, operation)
        return [(f"sqs:{action}", json.dumps({"Fn::GetAtt": "TrainingQueue.Arn"}))]

    def invoker(self, real: Any) -> Any:
        def recorded(template: Any, logical_id: str, event: dict[str, Any], overrides: Any = None) -> Any:
            self.function = logical_id
            try:
                return real(template, logical_id, event, overrides)
            finally:
                self.function = None

        return recorded


@contextmanager
def recorded_calls(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder(fleet.api.stack.names)
    monkeypatch.setattr(tests.conftest.local_invoke, "invoke", recorder.invoker(local_invoke.invoke))
    clients = [client(service) for service in ("dynamodb", "s3", "sqs")]
    for aws_client in clients:
        aws_client.meta.events.register("provide-client-params", recorder)
    try:
        yield recorder
    finally:
        for aws_client in clients:
            aws_client.meta.events.unregister("provide-client-params", recorder)


def test_every_call_each_function_makes_is_one_its_role_grants(
    fleet: Fleet,
    canned_training: CannedTraining,
    small_history: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = fleet.api
    with recorded_calls(fleet, monkeypatch) as recorder:
        # When every route runs, with the daily run between (ingest, settings, train, retrain, serve, list,
        # roll back, plan, the queued training, a range delete, a series delete)
        assert api.call("IngestFunction", "put-series.json", series_id=SERIES)[0] == 200
        assert api.ingest(SERIES, *small_history)[0] == 200
        assert api.call("TrainFunction", "train.json", series_id=SERIES)[0] == 201
        add_hour(api, small_history)
        assert api.call("TrainFunction", "train.json", series_id=SERIES)[0] == 201
        for event_file, query in [
            ("forecast.json", {"horizon": "6"}),
            ("staffing.json", {"horizon": "6"}),
            ("models.json", {}),
            ("series.json", {}),
            ("series-list.json", {}),
        ]:
            status, payload, _ = api.call("PredictFunction", event_file, series_id=SERIES, query=query)
            assert status == 200, (event_file, payload)
        assert api.invoke("PredictFunction", _dashboard_event())["statusCode"] == 200
        assert api.call("PredictFunction", "pool-models.json")[0] == 404
        assert api.call("TrainFunction", "promote.json", series_id=SERIES, version="1.0.0")[0] == 200
        assert api.call("TrainFunction", "promote-pool.json")[0] == 404
        add_hour(api, small_history, 2)
        fleet.ingest("iam-second", days=12, seed=5)
        assert fleet.plan()["queued"] == 2
        poller = LocalPoller(
            api.template,
            queue_trigger(api.template),
            retry_after_seconds=1,
            wait_seconds=0,
            overrides=api.overrides,
            invoker=recorder.invoker(local_invoke.invoke),
        )
        totals = poller.run(until_empty=True, timeout_seconds=300)
        assert (totals.succeeded, totals.failed) == (2, 0)
        query = {"from": "2026-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"}
        assert (
            api.call("DeleteFunction", "delete-observations.json", series_id="iam-second", query=query)[0]
            == 200
        )
        assert api.call("DeleteFunction", "delete-series.json", series_id=SERIES)[0] == 200
    # Then every function made calls, and each one is in the function's table, which its role grants
    functions = {function for function, _, _, _ in recorder.calls}
    assert functions == set(CALLS), functions
    unlisted = sorted(
        (function, operation, action, resource)
        for function, operation, action, resource in recorder.calls
        if (operation, action, resource) not in CALLS[function]
    )
    assert unlisted == []


def _dashboard_event() -> dict[str, Any]:
    """GET /series/{id}/dashboard (events/ has no file for the page): the forecast's event, re-routed."""
    from lead_ai_dev.local.events import api_event, load_event
    from tests.conftest import ROOT

    event = api_event(load_event(ROOT / "events", "forecast.json"), series_id=SERIES, query={})
    event["resource"] = "/series/{series_id}/dashboard"
    event["path"] = f"/series/{SERIES}/dashboard"
    return event
