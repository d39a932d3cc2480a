"""The forecast page (GET /series/{id}/dashboard) tells time as the series does: a daily series' values
under their own local dates, whatever the zone's offset from UTC."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from lead_ai_dev.local import invoke as local_invoke
from lead_ai_dev.local.stack import LocalStack
from lead_ai_dev.local.template import Template
from tests.conftest import TEST_OVERRIDES, Api

SERIES = "daily-new-york"
LAST_DAY = date(2026, 11, 30)  # a Monday


@pytest.fixture
def api(template: Template, moto_server: LocalStack, replayed_training: dict[str, Any]) -> Iterator[Api]:
    """An empty stack; both tests train the same daily history (the page is their subject: it is fitted
    once a session, replayed_training)."""
    moto_server.reset()
    moto_server.create_resources()
    local_invoke.forget_loaded_handlers()
    yield Api(template, moto_server, {**TEST_OVERRIDES, "LEAD_AI_MIN_TRAINING_POINTS": "1000"})
    local_invoke.forget_loaded_handlers()


def _daily_history() -> dict[str, float]:
    """150 local dates ending LAST_DAY: busy weekdays, quiet weekends, so a shifted date shows."""
    rng = np.random.default_rng(3)
    days = [LAST_DAY - timedelta(days=i) for i in range(149, -1, -1)]
    return {d.isoformat(): float(rng.poisson(200 if d.weekday() < 5 else 60)) for d in days}


def _send(api: Api, function: str, event: str, body: dict[str, Any] | None = None) -> Any:
    text = json.dumps(body) if body is not None else None
    status, payload, _ = api.call(function, event, series_id=SERIES, body=text)
    assert status in (200, 201), payload
    return payload


def test_a_daily_series_page_shows_each_value_under_its_local_date(api: Api) -> None:
    # Given a New York series of one value per local date (stored at each date's midnight UTC), trained
    history = _daily_history()
    _send(api, "IngestFunction", "put-series.json", {"interval": "1d", "timezone": "America/New_York"})
    observations = [{"timestamp": f"{day}T00:00:00", "value": v} for day, v in history.items()]
    _send(api, "IngestFunction", "ingest-observations.json", {"observations": observations})
    _send(api, "TrainFunction", "train.json")
    # When its page is opened
    status, page = api.page(SERIES)
    # Then the latest observation is Monday 30 November, as a date (a day has no hour)
    assert status == 200, page[:300]
    assert re.search(r"latest observation Mon 30 Nov\b(?! \d)", page), re.findall(
        r"latest observation [^<]*", page
    )
    # and every observed value is listed under its own date, none a day early
    rows = re.findall(r"<tr><td>(\w{3} \d\d \w{3})</td><td>([\d,.]+)</td></tr>", page)
    assert len(rows) >= 14  # the page shows the last two weeks
    shown = {label: float(value.replace(",", "")) for label, value in rows}
    expected = {date.fromisoformat(day).strftime("%a %d %b"): v for day, v in history.items()}
    assert all(shown[label] == expected[label] for label in shown), {
        label: (shown[label], expected[label]) for label in shown if shown[label] != expected[label]
    }
    # and the forecast starts on Tuesday 1 December
    assert "<tr><td>Tue 01 Dec</td>" in page


def test_a_daily_series_page_has_no_staffing_plan(api: Api) -> None:
    # Given a trained daily series (GET /series/{id}/staffing refuses one: a 400 naming its interval)
    _send(api, "IngestFunction", "put-series.json", {"interval": "1d", "timezone": "America/New_York"})
    observations = [{"timestamp": day, "value": v} for day, v in _daily_history().items()]
    _send(api, "IngestFunction", "ingest-observations.json", {"observations": observations})
    _send(api, "TrainFunction", "train.json")
    # When its page is opened
    status, page = api.page(SERIES)
    # Then it is served, with the forecast and without a staffing section or agents column
    assert status == 200, page[:300]
    assert "<tr><td>Tue 01 Dec</td>" in page
    assert "Staffing plan" not in page and "Agents" not in page and "agents" not in page
