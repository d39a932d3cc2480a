"""Logs never contain an ingest's raw body, nor the process's AWS credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from lead_ai.monitoring.logger import logger
from lead_ai.storage.clients import reset_clients
from tests.conftest import Api
from tests.faults.conftest import call

pytestmark = pytest.mark.faults

ACCESS_KEY = "AKIAFAULTMARKER7Q3Z"
SECRET_KEY = "fault-secret-marker-Zq81+wvY/credentials"
SESSION_TOKEN = "fault-session-token-marker-Kp02"
BODY_MARKER = 271828.1828  # a distinctive value inside the body


@pytest.fixture
def all_logs(monkeypatch: pytest.MonkeyPatch, api: Api) -> Iterator[list[str]]:
    """Every log line of every logger (botocore included) at DEBUG, with marker credentials in use."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    reset_clients()  # the clients now sign with the marker credentials
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record) + " " + json.dumps(record.__dict__, default=str))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    saved = (root.level, logger.log_level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logger.setLevel("DEBUG")
    logger.addHandler(handler)
    api.overrides["POWERTOOLS_LOGGER_LOG_EVENT"] = "true"  # even if someone turns event logging on
    api.overrides["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
    yield lines
    logging.getLogger(logger.service).removeHandler(handler)  # Powertools' Logger has no removeHandler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    logger.setLevel(saved[1])
    monkeypatch.undo()
    reset_clients()


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"observations": [{"timestamp": "2026-11-24T12:00:00Z", "value": BODY_MARKER}]}),
        json.dumps(
            {"observations": [{"timestamp": "2026-11-24T12:00:00Z", "value": -BODY_MARKER}]}
        ),  # rejected
    ],
    ids=["accepted", "rejected"],
)
def test_ingest_logs_neither_the_body_nor_credentials(
    api: Api, all_logs: list[str], capfd: Any, body: str
) -> None:
    # When an ingest with a distinctive value is processed, with DEBUG logging everywhere
    status, _, _ = call(api, "IngestFunction", "ingest-observations.json", series_id="s1", body=body)
    assert status in (200, 400)
    # Then logging happened (the capture works) ...
    if status == 400:
        assert any("request rejected" in line and "observations[0].value" in line for line in all_logs)
    out = capfd.readouterr().out + "\n".join(all_logs)
    assert out.strip()
    # ... but neither the raw body, nor the marker value, nor any credential appears anywhere
    for secret in (body, str(BODY_MARKER), ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        assert secret not in out, f"{secret[:20]!r} leaked into the logs"
