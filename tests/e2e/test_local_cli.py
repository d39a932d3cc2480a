"""The local workflow a user types: `lead-ai stack` in one shell, `lead-ai invoke … -e events/…` in another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lead_ai_dev.local.stack import free_port
from tests.conftest import ROOT

LEAD_AI = [sys.executable, "-m", "lead_ai_dev.cli"]


def _run(args: list[str], env: dict[str, str], exit_code: int = 0) -> dict[str, object]:
    result = subprocess.run(LEAD_AI + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == exit_code, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def stack_process() -> Iterator[dict[str, str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [*LEAD_AI, "stack", "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    exports: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip().startswith("export "):
            key, value = line.strip()[len("export ") :].split("=", 1)
            exports[key] = value
        if "Ctrl-C" in line:
            break
    assert "AWS_ENDPOINT_URL" in exports, "lead-ai stack did not print its endpoint"
    yield env | exports | {"POWERTOOLS_LOG_LEVEL": "WARNING"}
    proc.terminate()
    proc.wait(timeout=10)


def test_invoke_against_a_running_local_stack_keeps_state(stack_process: dict[str, str]) -> None:
    # Given `lead-ai stack` running, and its exports in this shell
    env = stack_process
    # When the ingest event is invoked, then the models event
    ingested = _run(["invoke", "IngestFunction", "-e", "events/ingest-observations.json"], env)
    models = _run(["invoke", "PredictFunction", "-e", "events/models.json"], env)
    # Then the ingest was stored in the stack, and the second process sees the series (no model yet)
    assert ingested["statusCode"] == 200
    assert json.loads(str(ingested["body"]))["accepted"] == 3
    assert models["statusCode"] == 200
    assert json.loads(str(models["body"]))["versions"] == []


def test_invoke_without_a_stack_starts_an_embedded_one(tmp_path: Path) -> None:
    # Given no AWS endpoint in the environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "POWERTOOLS_LOG_LEVEL": "WARNING"
    }
    # When the forecast event is invoked
    response = _run(["invoke", "PredictFunction", "-e", "events/forecast.json"], env, exit_code=1)
    # Then the handler answers from an empty embedded stack: a clean 404, not a crash, and the
    # command fails as `curl --fail` would
    assert response["statusCode"] == 404
    assert json.loads(str(response["body"]))["error"] in {"model_not_found", "series_not_found"}
