"""Shared fixtures: one moto server for the session (reset between tests), handlers invoked in-process.

The server is started and AWS_ENDPOINT_URL set before any test module builds a boto3 client, so no
client can escape the stand-in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
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
