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


def test_worker_drains_the_local_queue_and_redrive_moves_a_poison_message_to_the_dlq(
    stack_process: dict[str, str],
) -> None:
    import boto3

    # Given `lead-ai stack` running, a series too short to train, and the daily schedule invoked
    env = stack_process
    assert (
        _run(["invoke", "IngestFunction", "-e", "events/ingest-observations.json"], env)["statusCode"] == 200
    )
    planned = _run(["invoke", "PlannerFunction", "-e", "events/schedule.json"], env)
    assert planned["queued"] == 0 and planned["too_short"] == ["demo-leads"]
    # and a poison message in the training queue
    sqs = boto3.client(
        "sqs",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    queue = sqs.get_queue_url(QueueName="lead-ai-local-TrainingQueue")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="lead-ai-local-TrainingDeadLetterQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="not a training message")
    # When `lead-ai worker --until-empty` runs (failed messages back after 1 s instead of 30 min)
    result = subprocess.run(
        [*LEAD_AI, "worker", "--until-empty", "--retry-after", "1", "--wait", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then it polled with the template's batch size, failed the message on each of its 3 deliveries,
    # and stopped once SQS's redrive had moved it to the dead-letter queue
    assert result.returncode == 0, result.stderr
    assert "batch size 3, ReportBatchItemFailures on" in result.stdout
    assert result.stdout.count("batch of 1: 0 done, 1 failed") == 3, result.stdout
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"]).get("Messages", [])
    assert [m["Body"] for m in moved] == ["not a training message"]


def test_worker_in_a_shell_without_powertools_settings_takes_them_from_the_template(
    stack_process: dict[str, str],
) -> None:
    import boto3

    # Given a shell with only `lead-ai stack`'s exports (no POWERTOOLS_METRICS_NAMESPACE: the template
    # declares it, Lambda sets it) and one well-formed message for a series that does not exist
    env = {k: v for k, v in stack_process.items() if not k.startswith("POWERTOOLS_")}
    sqs = boto3.client(
        "sqs",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    queue = sqs.get_queue_url(QueueName="lead-ai-local-TrainingQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"series_id": "nobody", "revision": 1}))
    # When `lead-ai worker --until-empty` runs
    result = subprocess.run(
        [*LEAD_AI, "worker", "--until-empty", "--retry-after", "1", "--wait", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then the message is answered (skipped: no such series) and deleted, its metrics published with
    # the template's namespace; it failed on every delivery before ("Must contain a metric namespace")
    assert result.returncode == 0, result.stderr
    assert "batch of 1: 1 done, 0 failed" in result.stdout, result.stdout + result.stderr
    assert "namespace" not in result.stdout + result.stderr
