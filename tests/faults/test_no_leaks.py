"""An AWS error never reaches a caller in its own words. Issue #10: "an AWS error (AccessDenied, timeout)
during a request: its text, with role ARN, account id, table ARN or endpoint URL, comes back in the 503
body and in GET /models `reason`".

Every route is called with every AWS call of a service failing with an AccessDenied whose text carries a
role ARN, the account id and a table or bucket ARN, or with a read timeout whose text carries the
endpoint URL; no response body may hold any of it, nor the stack's real resource names. The log keeps
the detail, with the request's correlation id.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

from lead_ai.monitoring.logger import logger
from tests.conftest import Api
from tests.faults.conftest import SERIES, CannedTraining, call
from tests.faults.support import ROLE_ARN, SECRETS, FaultInjector

pytestmark = pytest.mark.faults

ROUTES = [
    pytest.param("IngestFunction", "ingest-observations.json", {}, id="POST observations"),
    pytest.param("TrainFunction", "train.json", {}, id="POST train"),
    pytest.param("TrainFunction", "promote.json", {}, id="POST promote"),
    pytest.param("PredictFunction", "forecast.json", {"horizon": "6"}, id="GET forecast"),
    pytest.param("PredictFunction", "models.json", {}, id="GET models"),
    pytest.param("DeleteFunction", "delete-observations.json", None, id="DELETE observations"),
    pytest.param("DeleteFunction", "delete-series.json", {}, id="DELETE series"),
]
FAULTS = [
    pytest.param("dynamodb", "denied", id="dynamodb-AccessDenied"),
    pytest.param("s3", "denied", id="s3-AccessDenied"),
    pytest.param("dynamodb", "timeout", id="dynamodb-timeout"),
    pytest.param("s3", "timeout", id="s3-timeout"),
]


@pytest.fixture
def json_logs() -> Iterator[list[dict[str, Any]]]:
    """The service's log lines of WARNING and above, as Powertools writes them (JSON, correlation id)."""
    lines: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Collect(level=logging.WARNING)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lines
    logging.getLogger(logger.service).removeHandler(handler)  # Powertools' Logger has no removeHandler


@pytest.fixture
def trained(fast_api: Api, small_history: Any, canned_training: CannedTraining) -> Api:
    """A trained series (1.0.0) with a new hour since (so training runs again), in cold containers."""
    canned_training.mase = [0.7, 0.6]
    stamps, values = small_history
    assert fast_api.ingest(SERIES, stamps, values)[0] == 200
    assert call(fast_api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    assert fast_api.ingest(SERIES, [int(stamps[-1]) + 3600], [float(values[-24])])[0] == 200
    return fast_api


def _leaks(text: str, api: Api) -> list[str]:
    forbidden = [
        *SECRETS,
        *api.stack.names.values(),
        os.environ["AWS_ENDPOINT_URL"],
        "127.0.0.1",
        "Read timeout",
    ]
    return [needle for needle in forbidden if needle.lower() in text.lower()]


@pytest.mark.parametrize(("service", "kind"), FAULTS)
@pytest.mark.parametrize(("function", "event_file", "query"), ROUTES)
def test_no_response_carries_aws_error_text(
    trained: Api,
    faults: FaultInjector,
    json_logs: list[dict[str, Any]],
    function: str,
    event_file: str,
    query: dict[str, str] | None,
    service: str,
    kind: str,
) -> None:
    # Given every call of one service failing with text that names the role, account, table or endpoint
    fault = faults.inject(service, "*", kind)
    # When the route is called
    status, payload, headers = call(
        trained, function, event_file, series_id=SERIES, version="1.0.0", query=query
    )
    # Then its answer names none of it (a failure is a generic 503 saying what failed)
    assert _leaks(json.dumps(payload), trained) == [], payload
    assert _leaks(json.dumps(headers), trained) == []
    if status >= 500:
        assert status == 503, payload
        assert payload["error"] == "service_unavailable" and "retry" in payload["message"], payload
        assert int(headers["Retry-After"]) > 0
    # And when the route reached the failing service, the log has the detail with the correlation id
    if fault.hits:
        failures = [r for r in json_logs if r.get("error")]  # "AWS call failed", "...cannot be read"
        assert failures, [r.get("message") for r in json_logs]
        assert all(r.get("correlation_id") for r in failures)
        if kind == "denied":
            assert any(ROLE_ARN in str(r.get("error")) for r in failures)


@pytest.mark.parametrize(("operation", "kind"), [("PutObject", "denied"), ("GetObject", "timeout")])
def test_a_failed_version_records_a_reason_without_aws_text(
    trained: Api, faults: FaultInjector, operation: str, kind: str
) -> None:
    # Given an upload (or its read-back) that fails with AWS text naming the role, account and bucket
    faults.inject("s3", operation, kind)
    # When the series is trained
    status, payload, _ = call(trained, "TrainFunction", "train.json", series_id=SERIES)
    assert status == 503, payload
    faults.clear()
    # Then the failed version's reason, as GET /models returns it, says what failed in our words only
    status, models, _ = call(trained, "PredictFunction", "models.json", series_id=SERIES)
    assert status == 200, models
    failed = [v for v in models["versions"] if v["status"] == "failed"]
    assert len(failed) == 1, models
    assert failed[0]["reason"].startswith("registration failed: ")
    assert _leaks(json.dumps(models), trained) == [], failed[0]["reason"]
