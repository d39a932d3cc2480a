"""Issue 14's "done when", through real HTTP: `lead-ai serve` in one process; in another, the printed key
ingests a CSV of 60 days, trains, gets a forecast (and the CLI verbs do the same over --api); without
the key, 403. A busy port is a one-line error."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from lead_ai_dev.local.stack import free_port
from tests.conftest import ROOT
from tests.e2e.conftest import API_KEY, LEAD_AI, SERIES, Served, clean_environment


def test_the_printed_key_ingests_trains_and_forecasts_over_http(trained: Served) -> None:
    # Given `lead-ai serve`, which printed its base URL and key
    assert any(trained.base_url in line for line in trained.banner)
    assert any(f"API key: {API_KEY}" in line for line in trained.banner)
    # When 60 days of hourly CSV (with an Excel byte-order mark) were posted with the key, and trained on
    status, ingested = trained.answers["ingest"]
    assert status == 200, ingested
    assert ingested["accepted"] == 60 * 24 and ingested["interval"] == "1h"
    status, version = trained.answers["train"]
    assert status == 201, version
    assert version["version"] == "1.0.0" and version["current"] is True
    # Then a forecast answers from that version, 24 hourly rows after the last observation
    status, forecast = trained.json("GET", f"/series/{SERIES}/forecast?horizon=24")
    assert status == 200, forecast
    assert forecast["model_version"] == "1.0.0"
    assert forecast["origin"] == ingested["span"]["last"]
    assert len(forecast["forecast"]) == 24
    assert all(row["lower"] <= row["value"] <= row["upper"] for row in forecast["forecast"])


def test_a_query_parameter_given_twice_is_a_400_naming_it(trained: Served) -> None:
    # Given a trained series behind `lead-ai serve`
    # When a forecast is asked for with two horizons
    status, answer = trained.json("GET", f"/series/{SERIES}/forecast?horizon=24&horizon=48")
    # Then the caller is told which parameter is ambiguous (API Gateway's single-value map keeps the last)
    assert status == 400, answer
    assert answer["field"] == "horizon" and "more than once" in answer["message"]


def test_without_the_key_every_route_answers_403(served: Served) -> None:
    # Given the server, and requests without the key or with a wrong one
    for key in (None, "not-the-key"):
        # When a route is called
        status, _, body = served.call("GET", f"/series/{SERIES}/models", key=key)
        # Then API Gateway's own 403 answers, and no function ran
        assert status == 403
        assert json.loads(body) == {"message": "Forbidden"}
    status, headers, _ = served.call("POST", f"/series/{SERIES}/train", key=None)
    assert status == 403 and headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_an_unknown_route_answers_as_api_gateway_does(served: Served) -> None:
    # Given a path no function serves, and a known path with a method it does not take
    for method, path in (
        ("GET", "/nope"),
        ("DELETE", f"/series/{SERIES}/forecast"),
        ("GET", "/series//models"),
    ):
        # When it is called with the key
        status, _, body = served.call(method, path)
        # Then it is API Gateway's 403 "Missing Authentication Token", not a 404 from a function
        assert status == 403, (method, path)
        assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_the_cli_verbs_call_the_served_api_and_fail_on_an_error_status(trained: Served) -> None:
    # Given the CLI pointed at the server by --api / --api-key
    env = clean_environment()
    api = ["--api", trained.base_url, "--api-key", API_KEY]

    def lead_ai(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*LEAD_AI, *args, *api], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    # When the models are listed and a forecast asked for
    models = lead_ai("models", SERIES)
    forecast = lead_ai("forecast-series", SERIES, "--horizon", "6")
    # Then they print the API's JSON and exit 0
    assert models.returncode == 0, models.stderr
    assert json.loads(models.stdout)["current_version"] == "1.0.0"
    assert forecast.returncode == 0, forecast.stderr
    assert len(json.loads(forecast.stdout)["forecast"]) == 6
    # and an error status is a non-zero exit with the API's error on stderr
    missing = lead_ai("promote", SERIES, "9.9.9")
    assert missing.returncode == 1 and missing.stdout == ""
    assert "HTTP 404 model_not_found" in missing.stderr and "field version" in missing.stderr
    too_far = lead_ai("forecast-series", SERIES, "--horizon", "999")
    assert too_far.returncode == 1 and "field horizon" in too_far.stderr


def test_a_busy_port_is_a_one_line_error_at_once() -> None:
    # Given a port something already listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in (["serve", "--port", port], ["stack", "--port", port]):
            # When `lead-ai serve` or `lead-ai stack` is started on it
            started = time.monotonic()
            result = subprocess.run(
                [*LEAD_AI, *command],
                cwd=ROOT,
                env=clean_environment(),
                capture_output=True,
                text=True,
                timeout=30,
            )
            elapsed = time.monotonic() - started
            # Then it exits 1 with one line naming the port (it used to wait forever), well before the timeout
            assert result.returncode == 1, command
            assert result.stderr.strip().count("\n") == 0, result.stderr
            assert f"port {port}" in result.stderr and "in use" in result.stderr
            assert elapsed < 30
