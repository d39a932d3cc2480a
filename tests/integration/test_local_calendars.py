"""Local time and calendars end to end, through the real handlers: a series' settings -> ingest of naive
local times -> training -> the artifact's metadata -> served forecasts, across clock changes, for
America/New_York (US), Europe/Berlin (DE-BY) and Europe/London (GB)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import onnxruntime as ort
import pytest

from lead_ai_dev.local import invoke as local_invoke
from lead_ai_dev.local.stack import LocalStack
from lead_ai_dev.local.template import Template
from tests.conftest import TEST_OVERRIDES, Api, lead_history

FAST = {"LEAD_AI_MIN_TRAINING_POINTS": "200", "LEAD_AI_MAX_HORIZON": "48h"}


class Market(NamedTuple):
    zone: str
    calendar: str
    history_end: datetime  # UTC; the forecast's 48 hours hold the clock change
    change_day: str  # the local day the clocks change on
    hours: int  # how many hourly slots that day has
    offsets: tuple[str, str]  # the offset before and after the change
    holidays: tuple[str, ...]  # dates the artifact's calendar must hold


MARKETS = {
    "new-york": Market(
        "America/New_York", "US", datetime(2026, 10, 31, 16, tzinfo=UTC), "2026-11-01", 25,
        ("-04:00", "-05:00"), ("2026-11-26", "2026-12-25", "2027-07-05"),
    ),
    "munich": Market(
        "Europe/Berlin", "DE-BY", datetime(2026, 3, 28, 11, tzinfo=UTC), "2026-03-29", 23,
        ("+01:00", "+02:00"), ("2026-01-06", "2026-04-03", "2026-06-04", "2026-12-26"),
    ),
    "london": Market(
        "Europe/London", "GB", datetime(2026, 10, 24, 11, tzinfo=UTC), "2026-10-25", 25,
        ("+01:00", "Z"), ("2026-12-25", "2026-12-28", "2027-05-31"),
    ),
}  # fmt: skip


@pytest.fixture
def api(template: Template, moto_server: LocalStack) -> Iterator[Api]:
    moto_server.reset()
    moto_server.create_resources()
    local_invoke.forget_loaded_handlers()
    yield Api(template, moto_server, {**TEST_OVERRIDES, **FAST})
    local_invoke.forget_loaded_handlers()


def _call(api: Api, function: str, event: str, series_id: str, **kwargs: Any) -> tuple[int, Any]:
    status, payload, _ = api.call(function, event, series_id=series_id, **kwargs)
    return status, payload


def _ingest_naive_local(api: Api, series_id: str, zone: str, stamps: Any, values: Any) -> tuple[int, Any]:
    """The history as a client in the zone sends it: naive local wall times."""
    tz = ZoneInfo(zone)
    observations = [
        {"timestamp": datetime.fromtimestamp(int(t), tz).strftime("%Y-%m-%dT%H:%M:%S"), "value": float(v)}
        for t, v in zip(stamps, values, strict=True)
    ]
    return _call(
        api,
        "IngestFunction",
        "ingest-observations.json",
        series_id,
        body=json.dumps({"observations": observations}),
    )


@pytest.mark.parametrize("name", sorted(MARKETS))
def test_settings_to_training_to_artifact_to_a_forecast_across_a_clock_change(
    api: Api, aws: Any, name: str
) -> None:
    market = MARKETS[name]
    # Given a series set to the market's zone and calendar, and 40 days of its leads as naive local times
    status, _ = _call(
        api, "IngestFunction", "put-series.json", name,
        body=json.dumps({"timezone": market.zone, "holidays": market.calendar}),
    )  # fmt: skip
    assert status == 200
    stamps, values = lead_history(40, seed=5, end=market.history_end)
    status, ingested = _ingest_naive_local(api, name, market.zone, stamps, values)
    # Then the naive times were read in the zone: the span is the instants the client meant
    assert status == 200, ingested
    last = datetime.fromtimestamp(int(stamps[-1]), UTC)
    assert ingested["span"]["last"] == last.strftime("%Y-%m-%dT%H:%M:%SZ")
    # When it is trained
    status, version = _call(api, "TrainFunction", "train.json", name)
    assert status == 201, version
    # Then the version's features follow the zone and the calendar
    assert (version["feature_spec"]["timezone"], version["feature_spec"]["holidays"]) == (
        market.zone,
        market.calendar,
    )
    # And the artifact carries the zone's clock changes and the calendar's dates, years past the data
    body = aws("s3").get_object(Bucket=_bucket(api), Key=version["artifact"]["s3_key"])["Body"].read()
    meta = ort.InferenceSession(body, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    clock, calendar = json.loads(meta["lead_ai.local_clock"]), json.loads(meta["lead_ai.holidays"])
    assert clock["timezone"] == market.zone and len(clock["transitions"]) >= 2 * 5
    assert calendar["calendar"] == market.calendar and set(market.holidays) <= set(calendar["holidays"])
    # And GET /series shows the served model's zone and calendar
    status, series = _call(api, "PredictFunction", "series.json", name)
    assert status == 200
    assert (series["current_model"]["timezone"], series["current_model"]["holidays"]) == (
        market.zone,
        market.calendar,
    )
    # When the next 48 hours are forecast
    status, forecast = _call(api, "PredictFunction", "forecast.json", name, query={"horizon": "48"})
    assert status == 200, forecast
    times = [row["timestamp"] for row in forecast["forecast"]]
    # Then every timestamp carries the local offset, before and after the change
    assert times[0].endswith(market.offsets[0]) and times[-1].endswith(market.offsets[1])
    assert forecast["origin"].endswith(market.offsets[0])
    # And the day of the change has its 23 or 25 hourly rows, one per local hour the clocks show
    day = [t for t in times if t.startswith(market.change_day)]
    assert len(day) == market.hours
    hours = [t[11:13] for t in day]
    if market.hours == 25:
        assert len(set(hours)) == 24 and len(set(day)) == 25  # one hour twice, with two offsets
    else:
        assert len(set(hours)) == 23  # one hour skipped
    # And the daily totals are local days: the change day is its 23 or 25 hours' sum, moved by the
    # backtest's median daily error per unit of usual volume (a few % on this dense series; the
    # arithmetic and the local grouping are unit-tested in test_daily_totals), inside its own interval
    assert forecast["timezone"] == market.zone
    total = next(d for d in forecast["daily"] if d["date"] == market.change_day)
    values = [row["value"] for row in forecast["forecast"] if row["timestamp"].startswith(market.change_day)]
    assert total["value"] == pytest.approx(sum(values), rel=0.15)
    assert total["lower"] <= total["value"] <= total["upper"]
    assert 0.0 <= version["metrics"]["daily_coverage"] <= 1.0


def _bucket(api: Api) -> str:
    from tests.conftest import settings_for

    return settings_for(api).bucket


@pytest.mark.parametrize(
    ("zone", "naive"),
    [
        ("America/New_York", "2026-03-08T02:00:00"),
        ("America/New_York", "2026-11-01T01:00:00"),
        ("Europe/Berlin", "2026-03-29T02:00:00"),
        ("Europe/Berlin", "2026-10-25T02:00:00"),
    ],
)
def test_a_naive_local_time_the_clocks_skip_or_repeat_is_a_400_naming_it(
    api: Api, zone: str, naive: str
) -> None:
    # Given a series in the zone
    _call(api, "IngestFunction", "put-series.json", "local", body=json.dumps({"timezone": zone}))
    # When a batch holds an ordinary hour and one the clocks skip or show twice
    body = {
        "observations": [{"timestamp": "2026-06-01T09:00:00", "value": 1}, {"timestamp": naive, "value": 2}]
    }
    status, error = _call(api, "IngestFunction", "ingest-observations.json", "local", body=json.dumps(body))
    # Then it is a 400 naming the observation and the time, and nothing was stored
    assert (status, error["field"]) == (400, "observations[1].timestamp"), error
    assert naive in error["message"] and zone in error["message"]
    assert _call(api, "PredictFunction", "series.json", "local")[1]["span"] is None
    # When the same time is sent with its offset, Then it is accepted
    body["observations"][1]["timestamp"] = naive + ("-05:00" if zone.startswith("America") else "+01:00")
    assert _call(api, "IngestFunction", "ingest-observations.json", "local", body=json.dumps(body))[0] == 200
