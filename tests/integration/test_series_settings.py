"""PUT / GET /series/{id}: a series' interval, time zone and holiday calendar, through the real handlers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TEST_OVERRIDES, Api

SERIES = "berlin-inbound"


def _put(api: Api, body: Any, series_id: str = SERIES) -> tuple[int, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    status, payload, _ = api.call("IngestFunction", "put-series.json", series_id=series_id, body=text)
    return status, payload


def _get(api: Api, series_id: str = SERIES) -> tuple[int, Any]:
    status, payload, _ = api.call("PredictFunction", "series.json", series_id=series_id)
    return status, payload


def _ingest(api: Api, observations: list[dict[str, Any]], series_id: str = SERIES) -> tuple[int, Any]:
    status, payload, _ = api.call(
        "IngestFunction",
        "ingest-observations.json",
        series_id=series_id,
        body=json.dumps({"observations": observations}),
    )
    return status, payload


def test_a_new_series_gets_its_settings_and_get_shows_them(api: Api) -> None:
    # When a series is created with its settings, in lower case where a code allows it
    status, saved = _put(api, {"interval": "15min", "timezone": "Europe/Berlin", "holidays": "de-by"})
    # Then they are stored, canonical, and GET shows them with no history, no model and nothing due
    assert status == 200, saved
    assert (saved["interval"], saved["timezone"], saved["holidays"]) == ("15min", "Europe/Berlin", "DE-BY")
    status, shown = _get(api)
    assert status == 200
    assert shown == saved
    assert shown["span"] is None and shown["current_model"] is None and shown["training_due"] is False


def test_a_zone_with_a_half_hour_offset_takes_a_half_hour_grid(api: Api) -> None:
    status, saved = _put(api, {"interval": "30min", "timezone": "Asia/Kolkata", "holidays": "IN"})
    assert status == 200 and saved["timezone"] == "Asia/Kolkata"


def test_fields_left_out_keep_their_value(api: Api) -> None:
    # Given a series with all three settings
    _put(api, {"interval": "30min", "timezone": "Europe/London", "holidays": "GB"})
    # When only the calendar is sent
    status, saved = _put(api, {"holidays": "GB-SCT"})
    # Then the others are unchanged
    assert status == 200
    assert (saved["interval"], saved["timezone"], saved["holidays"]) == ("30min", "Europe/London", "GB-SCT")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Europe/Berlinn"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),  # the host's zone: a file of the database, no place's zone
        ({"timezone": "right/UTC"}, "timezone"),
        ({"timezone": "Factory"}, "timezone"),
        ({"timezone": 5}, "timezone"),
        ({"holidays": "XX"}, "holidays"),
        ({"holidays": "DE-ZZ"}, "holidays"),
        ({"holidays": "Bavaria"}, "holidays"),
        ({"interval": "2h"}, "interval"),
        ({"interval": "1h", "timezone": "Asia/Kolkata"}, "timezone"),  # +05:30: local hours start at :30
        ({"interval": "1h", "colour": "blue"}, "colour"),
        ({"open_hours": "18:00-08:00"}, "open_hours"),
        ({"open_hours": 8}, "open_hours"),
        ({"interval": "1h", "open_hours": "08:30-18:00"}, "open_hours"),  # off the hourly grid
        ({"open_days": "weekdays"}, "open_days"),
        ({"open_days": ["mon"]}, "open_days"),
        ('{"timezone": "UTC", "timezone": "Europe/Berlin"}', "timezone"),  # a key twice: which one?
        ({}, "body"),
        ("[1, 2]", "body"),
        ("{not json", "body"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field_and_nothing_is_stored(
    api: Api, body: Any, field: str
) -> None:
    # When a PUT breaks a rule
    status, error = _put(api, body)
    # Then it is a 400 naming the field, and the series was not created
    assert (status, error["field"]) == (400, field), error
    assert _get(api)[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"timezone": "UTC", "pad": "x" * 5000}),
        json.dumps({"timezone": "é" * 2100}, ensure_ascii=False),
    ],
    ids=["5000 characters", "4200 bytes in 2100 characters"],
)
def test_a_settings_body_over_its_limit_is_413_as_an_ingest_body_is(api: Api, body: str) -> None:
    # When a PUT body is over the 4096-byte limit (counted in bytes: 2100 'é' are 4200 of them)
    status, error = _put(api, body)
    # Then it is the 413 an ingest body over its limit gets (it was a 400, and counted characters)
    assert (status, error["error"], error["field"]) == (413, "payload_too_large", "body"), error
    assert _get(api)[0] == 404


@pytest.mark.parametrize(
    ("interval", "zone", "advice"),
    [
        ("1h", "Asia/Kolkata", "use a 30min or a 15min interval"),  # +05:30
        ("30min", "Asia/Kathmandu", "use a 15min interval"),  # +05:45
        ("1h", "Asia/Kathmandu", "use a 15min interval"),
    ],
)
def test_a_zone_off_the_intervals_grid_is_told_which_interval_fits(
    api: Api, interval: str, zone: str, advice: str
) -> None:
    # When a zone whose local intervals do not start on UTC's is set with that interval
    status, error = _put(api, {"interval": interval, "timezone": zone})
    # Then the 400 names the zone's offset and an interval that fits it, never the one asked for
    assert (status, error["field"]) == (400, "timezone"), error
    assert advice in error["message"] and f"use a {interval} " not in error["message"], error


def test_naive_timestamps_are_read_in_the_series_time_zone(api: Api) -> None:
    # Given a series in New York
    _put(api, {"timezone": "America/New_York"})
    # When 09:00 local (no offset) and 09:00 with an explicit offset are ingested
    status, ingested = _ingest(
        api,
        [
            {"timestamp": "2026-07-01T09:00:00", "value": 3},
            {"timestamp": "2026-01-05T09:00:00-05:00", "value": 4},
        ],
    )
    # Then the naive one is 13:00 UTC (EDT, -4 h in July) and the explicit one 14:00 UTC
    assert status == 200, ingested
    assert ingested["span"] == {
        "first": "2026-01-05T14:00:00Z",
        "last": "2026-07-01T13:00:00Z",
        "observations": 2,
    }


def test_the_interval_of_a_series_with_history_cannot_change(api: Api) -> None:
    # Given an hourly series with history
    _put(api, {"interval": "1h"})
    assert _ingest(api, [{"timestamp": "2026-11-02T09:00:00Z", "value": 1}])[0] == 200
    # When its interval is changed
    status, error = _put(api, {"interval": "15min"})
    # Then it is a 409 naming the interval, and the series keeps its grid
    assert (status, error["field"], error["error"]) == (409, "interval", "interval_mismatch")
    assert _get(api)[1]["interval"] == "1h"
    # and an ingest that names another interval is a 409 in the API's own words for intervals
    body = json.dumps(
        {"interval": "15min", "observations": [{"timestamp": "2026-11-02T10:00:00Z", "value": 1}]}
    )
    status, error, _ = api.call("IngestFunction", "ingest-observations.json", series_id=SERIES, body=body)
    assert (status, error["error"]) == (409, "interval_mismatch"), error
    assert "an interval of 1h, not 15min" in error["message"], error
    # But a series without history may still change it
    _put(api, {"interval": "1h"}, series_id="empty")
    assert _put(api, {"interval": "15min"}, series_id="empty")[1]["interval"] == "15min"


def test_a_new_time_zone_or_calendar_makes_a_trained_series_due(api: Api) -> None:
    # Given a series with history whose revision was trained (recorded as the schedule does)
    assert _ingest(api, [{"timestamp": "2026-11-02T09:00:00Z", "value": 1}])[0] == 200
    from lead_ai.config import Settings
    from lead_ai.storage.catalogue import SeriesCatalogue
    from lead_ai.storage.clients import client
    from tests.conftest import settings_for

    settings: Settings = settings_for(api)
    catalogue = SeriesCatalogue(client("dynamodb"), settings.registry_table)
    catalogue.record_training_attempt(SERIES, 1)
    assert _get(api)[1]["training_due"] is False
    # When the same settings are sent again, Then nothing becomes due
    shown = _get(api)[1]
    assert (
        _put(api, {"timezone": shown["timezone"], "holidays": shown["holidays"]})[1]["training_due"] is False
    )
    # When the time zone changes, Then the series is due (its model's local day moved)
    status, saved = _put(api, {"timezone": "Europe/Berlin"})
    assert status == 200 and saved["training_due"] is True and saved["revision"] == 2
    # And the scheduled run would pick it
    assert [s.series_id for s in catalogue.due_series()] == [SERIES]


def test_opening_hours_are_stored_as_the_plan_writes_them_and_change_nothing_due(api: Api) -> None:
    # Given a series with history whose revision was trained (recorded as the schedule does)
    assert _ingest(api, [{"timestamp": "2026-11-02T09:00:00Z", "value": 1}])[0] == 200
    from lead_ai.storage.catalogue import SeriesCatalogue
    from lead_ai.storage.clients import client
    from tests.conftest import settings_for

    SeriesCatalogue(client("dynamodb"), settings_for(api).registry_table).record_training_attempt(SERIES, 1)
    # When its opening hours are set (days as a range)
    status, saved = _put(api, {"open_hours": "08:00-18:00", "open_days": "mon-fri"})
    # Then they are stored as the staffing plan writes them, GET shows them, and nothing became due (they
    # change the plans, not the model)
    assert status == 200, saved
    assert (saved["open_hours"], saved["open_days"]) == ("08:00-18:00", "mon,tue,wed,thu,fri")
    assert _get(api)[1] == saved
    assert saved["training_due"] is False and saved["revision"] == 1
    # And a series that never set them is open all the time
    assert _put(api, {"timezone": "UTC"}, series_id="other")[1]["open_hours"] == "00:00-24:00"


def test_a_new_series_takes_the_deployment_defaults_and_keeps_them(api: Api) -> None:
    # Given the functions deployed with a default time zone and calendar
    api.overrides = {
        **TEST_OVERRIDES,
        "LEAD_AI_DEFAULT_TIMEZONE": "Europe/Berlin",
        "LEAD_AI_DEFAULT_HOLIDAYS": "DE-BY",
    }
    from lead_ai_dev.local import invoke as local_invoke

    local_invoke.forget_loaded_handlers()
    # When a series is created by its first ingest, with a naive local time
    status, ingested = _ingest(api, [{"timestamp": "2026-11-02T09:00:00", "value": 1}])
    # Then it was read in Berlin (08:00 UTC in November) and the series holds the defaults
    assert status == 200 and ingested["span"]["first"] == "2026-11-02T08:00:00Z"
    # When the deployment's defaults change later
    api.overrides = dict(TEST_OVERRIDES)
    local_invoke.forget_loaded_handlers()
    # Then the series keeps the zone its timestamps were read in
    shown = _get(api)[1]
    assert (shown["timezone"], shown["holidays"]) == ("Europe/Berlin", "DE-BY")


def test_get_of_an_unknown_series_is_a_404(api: Api) -> None:
    status, error = _get(api, "nobody")
    assert (status, error["field"]) == (404, "series_id")
