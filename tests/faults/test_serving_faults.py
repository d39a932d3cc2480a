"""Faults while serving: a registry, observations-table or S3 outage is answered from the warm cache
(TTL 0, so every request tries the refresh), and with a 503 + Retry-After when nothing is cached."""

from __future__ import annotations

from typing import Any

import pytest

from lead_ai_dev.local.invoke import forget_loaded_handlers
from tests.conftest import Api
from tests.faults.conftest import SERIES, CannedTraining, add_hour, call
from tests.faults.support import FaultInjector

pytestmark = pytest.mark.faults

OUTAGES = [
    pytest.param("dynamodb", "GetItem", "5xx", id="registry-5xx"),
    pytest.param("dynamodb", "GetItem", "timeout", id="registry-timeout"),
    pytest.param("dynamodb", "Query", "throttle", id="observations-throttled"),
]


def _forecast(api: Api) -> tuple[int, Any, dict[str, str]]:
    return call(api, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "6"})


@pytest.fixture
def served(fast_api: Api, small_history: Any, canned_training: CannedTraining) -> dict[str, Any]:
    """A trained series whose forecast was served once (the prediction container is warm)."""
    canned_training.mase = [0.7, 0.6]
    fast_api.ingest(SERIES, *small_history)
    assert call(fast_api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    status, payload, _ = _forecast(fast_api)
    assert status == 200, payload
    return dict(payload)


@pytest.mark.parametrize(("service", "operation", "kind"), OUTAGES)
def test_an_outage_is_answered_from_the_warm_cache(
    fast_api: Api,
    served: dict[str, Any],
    faults: FaultInjector,
    capsys: Any,
    caplog: Any,
    service: str,
    operation: str,
    kind: str,
) -> None:
    capsys.readouterr()
    # When the registry or the observations table fails while the cache is warm (and due a refresh)
    fault = faults.inject(service, operation, kind)
    status, payload, _ = _forecast(fast_api)
    # Then the refresh was tried, and the cached model answered the same forecast
    assert fault.hits >= 1
    assert status == 200, payload
    assert payload == served
    # And the outage is visible: a warning log naming the version served, and an EMF metric
    warnings = [r for r in caplog.records if r.getMessage().startswith("serving from the warm cache")]
    assert [getattr(r, "model_version", None) for r in warnings] == [served["model_version"]]
    assert '"ServedFromCacheOnOutage":[1.0]' in capsys.readouterr().out


def test_an_s3_outage_when_the_model_changed_keeps_serving_the_cached_version(
    fast_api: Api, served: dict[str, Any], faults: FaultInjector, small_history: Any
) -> None:
    # Given a better version, trained on a newer hour, promoted after the cache was filled
    add_hour(fast_api, small_history)
    status, v2, _ = call(fast_api, "TrainFunction", "train.json", series_id=SERIES)
    assert status == 201 and v2["current"] is True
    # When S3 is down as the prediction container notices the new version
    faults.inject("s3", "GetObject", "5xx")
    status, payload, _ = _forecast(fast_api)
    # Then it keeps serving the version it has
    assert status == 200 and payload["model_version"] == served["model_version"] != v2["version"]
    # And once S3 is back, the new version is served
    faults.clear()
    assert _forecast(fast_api)[1]["model_version"] == v2["version"]


@pytest.mark.parametrize(
    ("service", "operation", "kind"),
    [*OUTAGES, pytest.param("s3", "GetObject", "throttle", id="s3-throttled")],
)
def test_an_outage_with_nothing_cached_is_a_503_with_retry_after(
    fast_api: Api, served: dict[str, Any], faults: FaultInjector, service: str, operation: str, kind: str
) -> None:
    # Given a cold prediction container (nothing cached)
    forget_loaded_handlers()
    # When a dependency is down
    faults.inject(service, operation, kind)
    status, payload, headers = _forecast(fast_api)
    # Then a clear 503 JSON with Retry-After, no stack trace
    assert status == 503, payload
    assert payload["error"] == "service_unavailable"
    assert "retry" in payload["message"].lower() or "unavailable" in payload["message"].lower()
    assert int(headers["Retry-After"]) > 0
    assert "Traceback" not in str(payload)


@pytest.mark.parametrize(
    ("function", "event_file", "service", "operation"),
    [
        ("PredictFunction", "models.json", "dynamodb", "GetItem"),
        ("IngestFunction", "ingest-observations.json", "dynamodb", "TransactWriteItems"),
        ("TrainFunction", "promote.json", "dynamodb", "GetItem"),
    ],
)
def test_other_routes_answer_503_with_retry_after_on_an_outage(
    fast_api: Api, faults: FaultInjector, function: str, event_file: str, service: str, operation: str
) -> None:
    faults.inject(service, operation, "5xx")
    status, payload, headers = call(fast_api, function, event_file, series_id=SERIES, version="1.0.0")
    assert status == 503, payload
    assert payload["error"] == "service_unavailable"
    assert int(headers["Retry-After"]) > 0
