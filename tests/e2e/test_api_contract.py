"""Schemathesis against `lead-ai serve`: requests generated from /openapi.json (examples, boundary
values, then random valid and invalid data) get no 5xx, and every answer conforms to the document
(status code, content type, headers, body schema).

Its own server, so that what the generated requests change (new series, retraining, promotions) never
reaches the other e2e tests; trained quickly (20 days, horizon 24, through --env-vars as for sam local),
since the examples phase retrains the example series.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lead_ai.api.openapi import OPERATIONS
from lead_ai_dev.local.stack import free_port
from tests.e2e.conftest import API_KEY, Served, clean_environment, history_csv, start_server

EXAMPLE_SERIES = (
    "acme-inbound"  # the example of the series_id parameter: the examples phase hits a real model
)
FAST = {"Parameters": {"LEAD_AI_MIN_TRAINING_POINTS": "200", "LEAD_AI_MAX_HORIZON": "24"}}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
MAX_EXAMPLES = 10  # per operation and phase; with the seed below, the run generates the same cases each time
SEED = 7


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env_vars = tmp_path_factory.mktemp("serve") / "env.json"
    env_vars.write_text(json.dumps(FAST))
    port = free_port()
    process, banner = start_server(
        port, clean_environment() | {"LEAD_AI_LOCAL_API_KEY": API_KEY}, ["--env-vars", str(env_vars)]
    )
    server = Served(f"http://127.0.0.1:{port}", API_KEY, process, banner)
    status, _ = server.json(
        "POST",
        f"/series/{EXAMPLE_SERIES}/observations",
        body=history_csv(20),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200
    status, version = server.json("POST", f"/series/{EXAMPLE_SERIES}/train")
    assert status == 201, version
    yield server
    process.terminate()
    process.wait(timeout=15)


def test_generated_requests_get_no_server_error_and_answers_conform(
    contract_server: Served, tmp_path: Path
) -> None:
    # Given the served document and the API key
    report = tmp_path / "schemathesis.json"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{contract_server.base_url}/openapi.json",
        "--url", contract_server.base_url,
        "--header", f"x-api-key: {contract_server.api_key}",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--request-timeout", "180",
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    # When schemathesis runs every operation
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    result = json.loads(report.read_text())
    print(
        f"schemathesis: {result['test_cases']['generated']} generated cases, {result['running_time']:.0f} s"
    )
    # Then it tested every operation but its own document, and found no failure and no error
    tested = set(result["valid_rates"])
    expected = {f"{o.method} {o.path}" for o in OPERATIONS if o.path != "/openapi.json"}
    assert tested == expected, run.stdout[-3000:]
    assert result["failures"] == [] and result["errors"] == [], run.stdout[-6000:]
    assert result["exit_code"] == 0 and result["test_cases"]["generated"] >= 100, run.stdout[-3000:]
    # and no handler raised (the gateway would have answered 502, logged with a traceback)
    assert not [line for line in contract_server.banner if "Traceback" in line]
