"""Shared fixtures: one moto server for the session (reset between tests), handlers invoked in-process.

The server is started and AWS_ENDPOINT_URL set before any test module builds a boto3 client, so no
client can escape the stand-in.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LeadAI")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("LEAD_AI_AWS_READ_TIMEOUT_SECONDS", "10")  # see SLOW_STAND_IN below

from lead_ai.config import Settings  # noqa: E402
from lead_ai.storage.clients import reset_clients  # noqa: E402
from lead_ai_dev.local import invoke as local_invoke  # noqa: E402
from lead_ai_dev.local.events import api_event, load_event  # noqa: E402
from lead_ai_dev.local.invoke import resolve_environment  # noqa: E402
from lead_ai_dev.local.stack import LocalStack  # noqa: E402
from lead_ai_dev.local.template import Template  # noqa: E402
from lead_ai_dev.synthetic import recent_lead_counts  # noqa: E402

# Test data never follow the wall clock: a history "ending now" crossed Thanksgiving on 2026-12-01 and
# turned the suite red. Every generated history ends at this fixed hour (a Monday noon, no holiday in the
# 60 days before it), far enough in the past for any machine date the suite may run on.
HISTORY_END = datetime(2026, 11, 9, 12, tzinfo=UTC)


def lead_history(days: int, *, seed: int = 7, end: datetime = HISTORY_END) -> tuple[Any, Any]:
    """`days` of hourly synthetic lead counts ending at `end` (HISTORY_END unless a test picks a date)."""
    return recent_lead_counts(days, seed=seed, now=end)


# Test runs want fresh reads on every request (the TTL only saves reads in production) and quiet logs.
# moto alone answers a transaction by deep-copying each table it touches once per item (the stand-in copies
# only the touched items: lead_ai_dev/local/moto_patches.py); on a loaded 2-core machine a big batch could
# take longer than the template's 4 s read timeout, which DynamoDB never does.
# Tests read with 10 s (the clients are shared by the functions and the fixtures: both get it).
SLOW_STAND_IN = {"LEAD_AI_AWS_READ_TIMEOUT_SECONDS": "10"}
TEST_OVERRIDES = {
    "LEAD_AI_REGISTRY_TTL_SECONDS": "0",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "LeadAI",
    **SLOW_STAND_IN,
}


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` (make test): xdist's, with the slowest files first and the files that share a
    costly session fixture on one worker (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.scheduling import FileScheduling

    return FileScheduling(config, log)


@pytest.fixture(scope="session")
def template() -> Template:
    return Template(ROOT / "template.yaml")


@pytest.fixture(scope="session")
def moto_server(template: Template) -> Iterator[LocalStack]:
    stack = LocalStack(template).start()
    os.environ.update(stack.environment())
    reset_clients()
    yield stack
    stack.stop()


@dataclass
class Api:
    """Calls the functions of template.yaml with real-format events, as `sam local invoke` would."""

    template: Template
    stack: LocalStack
    overrides: dict[str, str]

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = local_invoke.invoke(self.template, function, event, self.overrides)
        return response

    def call(
        self,
        function: str,
        event_file: str,
        *,
        series_id: str | None = None,
        pool_id: str | None = None,
        version: str | None = None,
        query: dict[str, str] | None = None,
        body: str | None = None,
        content_type: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        event = api_event(
            load_event(ROOT / "events", event_file),
            series_id=series_id,
            pool_id=pool_id,
            version=version,
            query=query,
            body=body,
            content_type=content_type,
        )
        response = self.invoke(function, event)
        body_text = response.get("body")
        return (
            response["statusCode"],
            json.loads(body_text) if body_text else None,
            response.get("headers") or {},
        )

    def page(self, series_id: str) -> tuple[int, str]:
        """GET /series/{id}/dashboard: its status and HTML."""
        event = api_event(load_event(ROOT / "events", "series.json"), series_id=series_id)
        event |= {"resource": "/series/{series_id}/dashboard", "path": f"/series/{series_id}/dashboard"}
        response = self.invoke("PredictFunction", event)
        return response["statusCode"], str(response["body"])

    def ingest(self, series_id: str, stamps: Any, values: Any) -> tuple[int, Any]:
        from lead_ai_dev.local.demo import _iso

        body = json.dumps(
            {
                "observations": [
                    {"timestamp": _iso(t), "value": float(v)} for t, v in zip(stamps, values, strict=True)
                ]
            }
        )
        status, payload, _ = self.call(
            "IngestFunction", "ingest-observations.json", series_id=series_id, body=body
        )
        return status, payload

    def ingest_and_train(self, series_id: str, stamps: Any, values: Any) -> dict[str, Any]:
        """A trained series; fails the test if either step does not succeed."""
        status, payload = self.ingest(series_id, stamps, values)
        assert status == 200, payload
        status, version = self.train(series_id)
        assert status == 201, version
        return dict(version)

    def train(self, series_id: str) -> tuple[int, Any]:
        status, payload, _ = self.call("TrainFunction", "train.json", series_id=series_id)
        return status, payload

    def forecast(self, series_id: str, horizon: int | str) -> tuple[int, Any]:
        status, payload, _ = self.call(
            "PredictFunction", "forecast.json", series_id=series_id, query={"horizon": str(horizon)}
        )
        return status, payload


def settings_for(api: Api, function: str = "TrainFunction") -> Settings:
    """The settings a fresh Lambda container of `function` would read (template env + overrides)."""
    env = resolve_environment(api.template, api.template.function(function)) | api.overrides
    return Settings.from_env(env)


@pytest.fixture
def stack(moto_server: LocalStack) -> Iterator[LocalStack]:
    """An empty stack with the template's bucket and tables, and cold handlers."""
    moto_server.reset()
    moto_server.create_resources()
    local_invoke.forget_loaded_handlers()
    yield moto_server
    local_invoke.forget_loaded_handlers()


@pytest.fixture
def api(template: Template, stack: LocalStack) -> Api:
    return Api(template, stack, dict(TEST_OVERRIDES))


@pytest.fixture
def aws(stack: LocalStack) -> Callable[[str], Any]:
    """Direct boto3 clients on the stand-in, for asserting what is stored."""
    from lead_ai.storage.clients import client

    return client


# Each distinct training input's real result, for the session (see replayed_training)
_TRAINED: dict[str, Any] = {}
_TRAINING_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_LOCK = threading.Lock()


@pytest.fixture
def replayed_training() -> Iterator[dict[str, Any]]:
    """Real trainings, each distinct input fitted once a session (replaying_trainings), for a test."""
    with replaying_trainings():
        yield _TRAINED


@contextmanager
def replaying_trainings() -> Iterator[None]:
    """Real trainings, each distinct input fitted once a session (per pytest-xdist worker): a training
    given the same series (values, first timestamp, interval) and settings, with no champion, gets the
    result the first one got; so does a pooled model's (members, held-out series by name, settings).

    For tests whose subject is not the fit: several set up the same trained series or the same group's
    pool on each fresh stack, and fitting the same histories again costs seconds a time and produces the
    same model (a fit is deterministic). Everything around the fit (the handlers, the worker, the
    registry, S3, the promotion, serving through onnxruntime) runs as it does without it. A training with
    a champion is always real (what it is scored against differs). Concurrent trainings of one input wait
    for the one real fit. A context manager, so that module- and session-scoped fixtures can use it."""
    import lead_ai.forecasting.training.pool as pool
    import lead_ai.forecasting.training.train as train

    real_series, real_pool = train.train_forecaster, pool.train_pool_forecaster

    def series_model(series: Sequence[Any], settings: Any = None, champion: Any = None) -> Any:
        if champion is not None:
            return real_series(series, settings, champion)
        key = _training_key("series", settings, series, named=False)
        return _replayed(key, lambda: real_series(series, settings))

    def pooled_model(
        members: Sequence[Any],
        held_out: Sequence[Any],
        settings: Any,
        *,
        new_min_points: int,
        history_days: float = 56.0,
        champion: Any = None,
    ) -> Any:
        def fit(champion: Any = None) -> Any:
            return real_pool(
                members,
                held_out,
                settings,
                new_min_points=new_min_points,
                history_days=history_days,
                champion=champion,
            )

        if champion is not None:
            return fit(champion)
        key = _training_key(f"pool|{new_min_points}|{history_days}", settings, members, held_out)
        return _replayed(key, fit)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train, "train_forecaster", series_model)
        patch.setattr(pool, "train_pool_forecaster", pooled_model)
        yield


def _replayed(key: str, fit: Callable[[], Any]) -> Any:
    """The stored result of `key`, fitted (once, whatever the threads asking) when there is none; a copy,
    so that nothing a test does to it reaches the next one."""
    with _LOCKS_LOCK:
        lock = _TRAINING_LOCKS.setdefault(key, threading.RLock())  # re-entrant: see trained_result
    with lock:
        if key not in _TRAINED:
            _TRAINED[key] = fit()
    return copy.deepcopy(_TRAINED[key])


def _training_key(kind: str, settings: Any, *groups: Sequence[Any], named: bool = True) -> str:
    """What a fit reads of its input: the settings and each series' grid and values, and its name when
    `named` (a pool's members and held-out series; a single series' model does not depend on its name:
    two series of the same values train to the same bytes)."""
    digest = hashlib.sha256(f"{kind}|{settings!r}".encode())
    for group in groups:
        digest.update(b"/")
        for s in group:
            name = s.series_id if named else ""
            digest.update(f"{name}|{s.first_timestamp}|{s.interval_seconds}|{s.values.dtype}|".encode())
            digest.update(s.values.tobytes())
    return digest.hexdigest()
