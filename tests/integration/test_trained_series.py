"""Read-only routes on one trained series: trained once for the module (training is the slow part)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from lead_ai_dev.local import invoke as local_invoke
from lead_ai_dev.local.stack import LocalStack
from lead_ai_dev.local.template import Template
from tests.conftest import TEST_OVERRIDES, Api, lead_history, replaying_trainings, settings_for

SERIES = "acme-inbound"


@pytest.fixture(scope="module")
def history() -> tuple[Any, Any]:
    return lead_history(60, seed=11)


@pytest.fixture(scope="module")
def api(template: Template, moto_server: LocalStack) -> Iterator[Api]:
    moto_server.reset()
    moto_server.create_resources()
    local_invoke.forget_loaded_handlers()
    yield Api(template, moto_server, dict(TEST_OVERRIDES))
    local_invoke.forget_loaded_handlers()


@pytest.fixture(scope="module")
def trained(api: Api, history: tuple[Any, Any]) -> dict[str, Any]:
    with replaying_trainings():  # test_handlers.py trains the same history: fitted once a session
        return api.ingest_and_train(SERIES, *history)


@pytest.fixture
def aws(api: Api) -> Any:
    from lead_ai.storage.clients import client

    return client


def test_training_registers_a_verified_version_whose_sha256_matches_s3(
    api: Api, aws: Any, trained: dict[str, Any]
) -> None:
    # Given a trained series (fixture)
    # Then the first version is 1.0.0, current, with backtest metrics and library versions
    assert trained["version"] == "1.0.0"
    assert trained["status"] == "verified"
    assert trained["current"] is True
    assert {"mase", "smape", "wape", "coverage", "baseline_mase"} <= set(trained["metrics"])
    assert {"sklearn", "skl2onnx", "onnx_opset"} <= set(trained["library_versions"])
    assert trained["training"]["points"] == 60 * 24
    # And the S3 object at the recorded key and version id has the recorded sha256 and size
    artifact = trained["artifact"]
    obj = aws("s3").get_object(
        Bucket=api.stack.names["ArtifactBucket"], Key=artifact["s3_key"], VersionId=artifact["s3_version_id"]
    )
    data = obj["Body"].read()
    assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
    assert len(data) == artifact["size_bytes"]


def test_forecast_has_the_documented_shape(api: Api, trained: dict[str, Any], history: Any) -> None:
    # When the forecast event asks for 24 hours
    status, payload = api.forecast(SERIES, 24)
    # Then 24 consecutive hours follow the latest observation, each with 0 <= lower <= value <= upper
    assert status == 200
    assert set(payload) >= {"series_id", "model_version", "interval", "origin", "forecast"}
    assert payload["model_version"] == trained["version"]
    last = int(history[0][-1])
    assert payload["origin"] == datetime.fromtimestamp(last, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = payload["forecast"]
    assert len(rows) == 24
    for step, row in enumerate(rows, start=1):
        assert row["timestamp"] == datetime.fromtimestamp(last + 3600 * step, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert 0 <= row["lower"] <= row["value"] <= row["upper"]


def test_models_lists_versions_and_the_current_one(api: Api, trained: dict[str, Any]) -> None:
    status, payload, _ = api.call("PredictFunction", "models.json", series_id=SERIES)
    assert status == 200
    assert payload["current_version"] == "1.0.0"
    assert [v["version"] for v in payload["versions"]] == ["1.0.0"]
    assert payload["versions"][0]["current"] is True


def test_promoting_an_unknown_version_is_404(api: Api, trained: dict[str, Any]) -> None:
    status, payload, _ = api.call("TrainFunction", "promote.json", series_id=SERIES, version="9.9.9")
    assert status == 404
    assert payload["field"] == "version"


@pytest.mark.parametrize("horizon", ["0", "-1", "abc", "100000", "1.5", ""])
def test_bad_horizon_is_a_400_naming_the_field(api: Api, trained: dict[str, Any], horizon: str) -> None:
    status, payload = api.forecast(SERIES, horizon)
    assert status == 400
    assert payload["field"] == "horizon"
    assert "horizon" in payload["message"]


def _fresh_cache(api: Api) -> tuple[Any, Any]:
    """A cold PredictFunction container's dependencies."""
    from lead_ai.service.ml_service import build_dependencies

    deps = build_dependencies(settings_for(api, "PredictFunction"), serves_forecasts=True)
    return deps, deps.cache


def test_a_cold_load_reads_the_observations_while_it_fetches_the_model(
    api: Api, trained: dict[str, Any]
) -> None:
    # Given a cold container whose S3 read only finishes once the observations query has started
    deps, cache = _fresh_cache(api)
    window_requested = threading.Event()
    real_latest, real_get_model = deps.history.latest, deps.artifacts.get_model
    overlapped = []

    def latest(*args: Any) -> Any:
        window_requested.set()
        return real_latest(*args)

    def get_model(*args: Any) -> Any:
        overlapped.append(window_requested.wait(timeout=5))
        return real_get_model(*args)

    deps.history.latest, deps.artifacts.get_model = latest, get_model
    # When the first request loads the series
    state = cache.state(SERIES)
    # Then the query ran alongside the model fetch (sequentially, the wait would have timed out)
    assert overlapped == [True]
    # and the window is the one a plain read gives
    expected = real_latest(SERIES, state.forecaster.spec.window, 3600)
    np.testing.assert_array_equal(state.window.values, expected.values)
    assert state.window.last_timestamp == expected.last_timestamp


def test_a_pointer_without_a_window_still_serves(api: Api, aws: Any, trained: dict[str, Any]) -> None:
    # Given a CURRENT pointer written before it recorded the model's window
    aws("dynamodb").update_item(
        TableName=api.stack.names["RegistryTable"],
        Key={"series_id": {"S": SERIES}, "record": {"S": "CURRENT"}},
        UpdateExpression="REMOVE window_slots, interval_seconds",
    )
    deps, cache = _fresh_cache(api)
    try:
        assert deps.tracker.current(SERIES).window is None
        # When a cold container loads it
        state = cache.state(SERIES)
        # Then it reads the window after the model, and forecasts
        assert state.window.values.size == state.forecaster.spec.window
        assert state.rows.X.shape[0] == state.forecaster.spec.max_horizon
    finally:  # the module's other tests share this series: put the pointer back as training wrote it
        spec = state.forecaster.spec
        aws("dynamodb").update_item(
            TableName=api.stack.names["RegistryTable"],
            Key={"series_id": {"S": SERIES}, "record": {"S": "CURRENT"}},
            UpdateExpression="SET window_slots = :w, interval_seconds = :i",
            ExpressionAttributeValues={
                ":w": {"N": str(spec.window)},
                ":i": {"N": str(spec.interval_seconds)},
            },
        )
