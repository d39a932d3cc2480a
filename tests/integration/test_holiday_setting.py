"""LEAD_AI_DEFAULT_HOLIDAYS: the default calendar of a new series reaches the trained model and the forecasts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lead_ai_dev.local import invoke as local_invoke
from lead_ai_dev.local.stack import LocalStack
from lead_ai_dev.local.template import Template
from tests.conftest import TEST_OVERRIDES, Api, lead_history


@pytest.fixture
def api(template: Template, moto_server: LocalStack) -> Iterator[Api]:
    moto_server.reset()
    moto_server.create_resources()
    local_invoke.forget_loaded_handlers()
    yield Api(template, moto_server, {**TEST_OVERRIDES, "LEAD_AI_DEFAULT_HOLIDAYS": "US"})
    local_invoke.forget_loaded_handlers()


def test_the_configured_calendar_is_in_the_version_record_and_the_served_model(api: Api) -> None:
    # Given the functions configured with LEAD_AI_DEFAULT_HOLIDAYS=US and 60 days of leads
    # When the series is trained and forecast
    version = api.ingest_and_train("us-leads", *lead_history(60, seed=5))
    status, forecast = api.forecast("us-leads", 48)
    # Then the version's feature spec (what serving rebuilds the features from) names the calendar
    assert version["feature_spec"]["holidays"] == "US"
    assert status == 200 and len(forecast["forecast"]) == 48
    assert forecast["model_version"] == version["version"]
