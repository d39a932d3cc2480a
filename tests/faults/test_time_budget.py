"""A dependency that hangs (accepts connections, never answers) gets the documented answer within the
request's time budget: a cached forecast, or a 503 JSON with Retry-After; never a Lambda or API Gateway
timeout. Issue #10: "an S3/DynamoDB endpoint that accepts connections and never answers: 40 s before
any answer (10 s read timeout x retries); API Gateway gives up at 29 s, the function at 30 s".

The budgets are shortened through the environment (as template.yaml sets them), and the SDK may make
ten attempts: attempts x timeouts (15 s) is far past the budget, so only the budget keeps the answer in time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from lead_ai.storage.clients import reset_clients
from lead_ai_dev.local.invoke import forget_loaded_handlers
from tests.conftest import Api
from tests.faults.conftest import SERIES, CannedTraining, call
from tests.faults.hanging import HangingProxy, hanging_proxy

pytestmark = pytest.mark.faults

BUDGET = 4.0
READ_TIMEOUT = 1.0
CONNECT_TIMEOUT = 0.5
SLACK = 2.0  # the answer itself, and a loaded machine
SHORT_BUDGETS = {
    "LEAD_AI_API_TIME_BUDGET_SECONDS": str(BUDGET),
    "LEAD_AI_AWS_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
    "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
    "LEAD_AI_AWS_MAX_ATTEMPTS": "10",
}


@pytest.fixture
def proxied(fast_api: Api) -> Iterator[tuple[Api, HangingProxy]]:
    """Every function's AWS calls go through a proxy to the stand-in, with short budgets."""
    with hanging_proxy(fast_api.stack.port) as proxy:
        fast_api.overrides.update(SHORT_BUDGETS | {"AWS_ENDPOINT_URL": proxy.endpoint})
        reset_clients()  # clients are built once per container: the next ones go through the proxy
        forget_loaded_handlers()
        try:
            yield fast_api, proxy
        finally:
            reset_clients()
            forget_loaded_handlers()


@pytest.fixture
def served(proxied: tuple[Api, HangingProxy], small_history: Any, canned_training: CannedTraining) -> Any:
    """A trained series whose forecast was served once (the prediction container is warm)."""
    api, _ = proxied
    assert api.ingest(SERIES, *small_history)[0] == 200
    assert call(api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    status, payload, _ = _forecast(api)
    assert status == 200, payload
    return payload


def _forecast(api: Api) -> tuple[int, Any, dict[str, str]]:
    return call(api, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"})


def _timed(request: Any) -> tuple[float, tuple[int, Any, dict[str, str]]]:
    started = time.monotonic()
    answer = request()
    return time.monotonic() - started, answer


def _assert_503_in_time(elapsed: float, answer: tuple[int, Any, dict[str, str]], proxy: HangingProxy) -> None:
    status, payload, headers = answer
    assert status == 503, payload
    assert payload["error"] == "service_unavailable"
    assert "retry" in payload["message"]
    assert int(headers["Retry-After"]) > 0
    # within the budget (not attempts x timeouts), and only after the hang was really waited on
    assert READ_TIMEOUT <= elapsed <= BUDGET + SLACK, elapsed
    assert proxy.swallowed >= 1
    assert proxy.endpoint.split("//")[1] not in str(payload)


def test_a_warm_forecast_is_answered_from_the_cache_while_the_endpoint_hangs(
    proxied: tuple[Api, HangingProxy], served: Any
) -> None:
    api, proxy = proxied
    # When the endpoint starts hanging, with the cache due a refresh (TTL 0)
    proxy.hang()
    elapsed, (status, payload, _) = _timed(lambda: _forecast(api))
    # Then the cached model answers the same forecast, within the budget
    assert status == 200, payload
    assert payload == served
    assert elapsed <= BUDGET + SLACK, elapsed
    assert proxy.swallowed >= 1


def test_a_cold_forecast_is_a_503_with_retry_after_within_the_budget(
    proxied: tuple[Api, HangingProxy], served: Any
) -> None:
    api, proxy = proxied
    # Given a cold prediction container, When the endpoint hangs
    forget_loaded_handlers()
    proxy.hang()
    elapsed, answer = _timed(lambda: _forecast(api))
    # Then a 503 with Retry-After, within the budget
    _assert_503_in_time(elapsed, answer, proxy)


@pytest.mark.parametrize(
    ("function", "event_file"),
    [("IngestFunction", "ingest-observations.json"), ("TrainFunction", "train.json")],
)
def test_ingest_and_train_answer_503_within_the_budget(
    proxied: tuple[Api, HangingProxy], served: Any, function: str, event_file: str
) -> None:
    api, proxy = proxied
    # When the endpoint hangs
    proxy.hang()
    elapsed, answer = _timed(lambda: call(api, function, event_file, series_id=SERIES))
    # Then a 503 with Retry-After, within the budget
    _assert_503_in_time(elapsed, answer, proxy)
