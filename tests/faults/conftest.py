"""Fixtures for the fault, race and hostile-input tests (`make test-faults`)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.conftest import Api, lead_history, replaying_trainings
from tests.faults.support import FaultInjector

SERIES = "acme-faults"
# 20 days of hourly history and a 24-step horizon: a real training takes ~2 s instead of ~10 s.
FAST = {"LEAD_AI_MIN_TRAINING_POINTS": "200", "LEAD_AI_MAX_HORIZON": "24"}


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


class _QuickBackoff:
    """botocore.endpoint's `time`, with the SDK's retry backoff shortened 20-fold (the retries stay)."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds / 20)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint, "time", _QuickBackoff)
    injector = FaultInjector()
    with injector.active():
        yield injector


@pytest.fixture(scope="session")
def small_history() -> tuple[np.ndarray, np.ndarray]:
    return lead_history(20, seed=3)


@pytest.fixture
def fast_api(api: Api) -> Api:
    api.overrides.update(FAST)
    return api


@pytest.fixture(scope="session")
def trained_result(small_history: tuple[np.ndarray, np.ndarray]) -> Any:
    """One real training (scikit-learn -> ONNX, parity-checked) of the small history: the one the training
    handler makes of it under FAST, so that tests replaying trainings (replaying_trainings) share it."""
    import lead_ai.forecasting.training.train as train

    stamps, values = small_history
    with replaying_trainings():
        return train.train_forecaster(
            [train.SeriesData(SERIES, values.astype(float), int(stamps[0]), 3600)],
            train.TrainingSettings(max_horizon=24, min_points=200),
        )


class CannedTraining:
    """Stands in for `train_forecaster` with the real result above; each call may get its own MASE.

    The fault tests are about what happens around the model (upload, verify, register, promote);
    re-fitting the same model for each of them would only cost time.
    """

    def __init__(self, result: Any) -> None:
        self.result = result
        self.mase: list[float] = []
        self.calls = 0

    def __call__(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        if not self.mase:
            return self.result
        metrics = dict(self.result.metrics) | {"mase": self.mase.pop(0)}
        return dataclasses.replace(self.result, metrics=metrics)


@pytest.fixture
def canned_training(monkeypatch: pytest.MonkeyPatch, trained_result: Any) -> CannedTraining:
    import lead_ai.forecasting.training.train

    canned = CannedTraining(trained_result)
    monkeypatch.setattr(lead_ai.forecasting.training.train, "train_forecaster", canned)
    return canned


def call(api: Api, function: str, event_file: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """Like `Api.call`, with the response headers from `headers` and `multiValueHeaders` merged."""
    import json

    from lead_ai_dev.local.events import api_event, load_event
    from tests.conftest import ROOT

    response = api.invoke(function, api_event(load_event(ROOT / "events", event_file), **kwargs))
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, ",".join(values))
    body = response.get("body")
    return response["statusCode"], json.loads(body) if body else None, headers


def add_hour(api: Api, history: tuple[np.ndarray, np.ndarray], k: int = 1) -> None:
    """Ingest the k-th hour after the history: its revision moves, so the next training really trains
    (on unchanged history it answers the current version instead)."""
    stamps, values = history
    status, payload = api.ingest(SERIES, [int(stamps[-1]) + 3600 * k], [float(values[-168 + k])])
    assert status == 200, payload
