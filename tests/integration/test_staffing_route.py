"""GET /series/{id}/staffing: the served forecast turned into agents, through the real handler."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from tests.conftest import HISTORY_END, Api, lead_history

SERIES = "staffed"


@pytest.fixture(scope="module")
def history() -> tuple[Any, Any]:
    return lead_history(60, seed=21)


@pytest.fixture
def trained(api: Api, history: tuple[Any, Any], replayed_training: dict[str, Any]) -> dict[str, Any]:
    """The series trained on each test's fresh stack (fitted once a session: replayed_training)."""
    return api.ingest_and_train(SERIES, *history)


def _staffing(api: Api, query: dict[str, str], series_id: str = SERIES) -> tuple[int, Any]:
    status, payload, _ = api.call("PredictFunction", "staffing.json", series_id=series_id, query=query)
    return status, payload


def test_a_plan_for_a_trained_series(api: Api, trained: dict[str, Any]) -> None:
    # When the plan for the next 48 hours is asked with the documented defaults
    status, body = _staffing(api, {"horizon": "48"})
    # Then it names the model, the series' grid and zone, and the assumptions it made
    assert status == 200, body
    assert (body["series_id"], body["model_version"], body["interval"], body["timezone"]) == (
        SERIES, trained["version"], "1h", "UTC",
    )  # fmt: skip
    assert body["assumptions"] == {
        "handle_seconds": 300.0, "answer_within_seconds": 300.0, "service_level": 0.8,
        "shrinkage": 0.3, "max_occupancy": 0.85, "quantile": 0.5,
        "open_hours": "00:00-24:00", "open_days": "mon,tue,wed,thu,fri,sat,sun",
    }  # fmt: skip
    assert body["leads_after_closing"] == 0.0
    plan = body["plan"]
    # And one row per hour, planned on the point forecast (quantile 0.5), the same as GET /forecast
    assert len(plan) == 48
    _, forecast = api.forecast(SERIES, 48)
    assert [row["timestamp"] for row in plan] == [row["timestamp"] for row in forecast["forecast"]]
    assert [row["leads"] for row in plan] == [row["value"] for row in forecast["forecast"]]
    assert all(row["leads_planned"] == row["leads"] for row in plan)
    # And every staffed hour meets the target within the occupancy cap; an hour without leads has no one
    for row in plan:
        assert isinstance(row["agents"], int) and row["agents"] >= 0
        if row["leads_planned"] > 0:
            assert (
                row["agents"] >= 1 and row["service_level"] >= 0.8 - 5e-4 and row["occupancy"] <= 0.85 + 5e-4
            )
        else:
            assert row["agents"] == 0
    # And the days add the hours up
    for day in body["daily"]:
        rows = [row for row in plan if row["timestamp"].startswith(day["date"])]
        assert day["agent_hours"] == pytest.approx(sum(row["agents"] for row in rows))
        assert day["leads"] == pytest.approx(sum(row["leads"] for row in rows), abs=0.01)


def test_planning_for_a_busy_hour_never_plans_fewer_agents(api: Api, trained: dict[str, Any]) -> None:
    # When the same hours are planned at the median and at the 90th percentile of the forecast
    _, median = _staffing(api, {"horizon": "24", "quantile": "0.5"})
    status, busy = _staffing(api, {"horizon": "24", "quantile": "0.9"})
    assert status == 200
    # Then the busy plan expects at least as many leads and staffs at least as many agents, every hour
    for low, high in zip(median["plan"], busy["plan"], strict=True):
        assert high["leads"] == low["leads"]
        assert high["leads_planned"] >= low["leads_planned"]
        assert high["agents"] >= low["agents"]
    assert sum(h["agents"] for h in busy["plan"]) > sum(m["agents"] for m in median["plan"])
    # And the 90th percentile is the 80 % interval's upper bound of the forecast
    _, forecast, _ = api.call(
        "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "24", "level": "0.8"}
    )
    assert [row["leads_planned"] for row in busy["plan"]] == [row["upper"] for row in forecast["forecast"]]


def test_the_horizon_defaults_to_a_week_and_may_not_pass_it(api: Api, trained: dict[str, Any]) -> None:
    # When no horizon is given, Then the plan covers the seven days the model may forecast
    status, body = _staffing(api, {})
    assert status == 200 and len(body["plan"]) == 168
    # When one hour more is asked, Then it is a 400 naming the horizon and its limit in this series' hours
    status, error = _staffing(api, {"horizon": "169"})
    assert (status, error["field"]) == (400, "horizon") and "1 to 168" in error["message"]
    status, error = api.forecast(SERIES, 169)
    assert (status, error["field"]) == (400, "horizon")
    # When the horizon is no whole number, or below 1, Then the 400 states that rule and no limit that
    # is not this series' (it named the 15-minute limit, 672, before the series was read)
    for raw in ("0", "abc", "-5"):
        for route in ("forecast.json", "staffing.json"):
            status, error, _ = api.call("PredictFunction", route, series_id=SERIES, query={"horizon": raw})
            assert (status, error["field"]) == (400, "horizon"), error
            assert "at least 1" in error["message"] and "672" not in error["message"], error


def test_opening_hours_staff_the_open_intervals_and_carry_the_closed_ones_leads_into_the_next(
    api: Api, trained: dict[str, Any]
) -> None:
    # When a week is planned for a team that answers leads 08:00-18:00 on weekdays (its clock: UTC)
    status, body = _staffing(api, {"open_hours": "08:00-18:00", "open_days": "mon-fri"})
    assert status == 200, body
    plan = body["plan"]
    # Then exactly the weekday hours from 08:00 to 17:00 are open, and only they are staffed
    for row in plan:
        local = datetime.fromisoformat(row["timestamp"])
        assert row["open"] == (local.weekday() < 5 and 8 <= local.hour < 18), row
        if not row["open"]:
            assert (row["agents"], row["leads_carried_in"]) == (0, 0.0), row
    # And each open hour after closed ones plans their expected leads on top of its own; none is lost
    waiting = 0.0
    for row in plan:
        if row["open"]:
            assert row["leads_carried_in"] == pytest.approx(waiting, abs=0.01), row
            waiting = 0.0
        else:
            waiting += row["leads"]
    assert body["leads_after_closing"] == pytest.approx(waiting, abs=0.01)
    # And an opening hour that plans the night's leads staffs at least as many as planning its own would
    _, always = _staffing(api, {})
    for own, shut in zip(always["plan"], plan, strict=True):
        if shut["open"]:
            assert shut["agents"] >= own["agents"], (own, shut)
    # And the plan says what it assumed
    assert (body["assumptions"]["open_hours"], body["assumptions"]["open_days"]) == (
        "08:00-18:00", "mon,tue,wed,thu,fri",
    )  # fmt: skip


def test_a_plan_follows_the_series_own_opening_hours_and_a_request_may_override_them(
    api: Api, trained: dict[str, Any]
) -> None:
    # Given the team's opening hours stored with its settings: 09:00-17:00, Monday to Friday
    status, _, _ = api.call(
        "IngestFunction",
        "put-series.json",
        series_id=SERIES,
        body=json.dumps({"open_hours": "09:00-17:00", "open_days": "mon-fri"}),
    )
    assert status == 200
    # When a plan is asked without opening hours, and with the days overridden to every day
    _, own = _staffing(api, {"horizon": "168"})
    _, every_day = _staffing(api, {"horizon": "168", "open_days": "mon-sun"})
    # Then the first follows the stored hours and days, the second the stored hours on every day
    for mine, daily in zip(own["plan"], every_day["plan"], strict=True):
        local = datetime.fromisoformat(mine["timestamp"])
        assert mine["open"] == (local.weekday() < 5 and 9 <= local.hour < 17), mine
        assert daily["open"] == (9 <= local.hour < 17), daily
    assert (own["assumptions"]["open_hours"], own["assumptions"]["open_days"]) == (
        "09:00-17:00", "mon,tue,wed,thu,fri",
    )  # fmt: skip
    assert every_day["assumptions"]["open_days"] == "mon,tue,wed,thu,fri,sat,sun"
    # And the series' page plans with them too, and says so
    status, page = api.page(SERIES)
    assert status == 200 and "reps answer leads 09:00-17:00, mon,tue,wed,thu,fri" in page


def test_opening_hours_off_the_series_grid_are_a_400_naming_them(api: Api, trained: dict[str, Any]) -> None:
    # When an hourly team's opening hours start on the half hour
    status, error = _staffing(api, {"open_hours": "08:30-18:00"})
    # Then it is a 400 naming open_hours and the series' grid
    assert (status, error["field"]) == (400, "open_hours"), error
    assert "1h" in error["message"], error


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("handle_seconds", "0"), ("handle_seconds", "-5"), ("handle_seconds", "86401"), ("handle_seconds", "abc"),
        ("handle_seconds", "nan"), ("answer_within_seconds", "-1"), ("answer_within_seconds", "86401"),
        ("answer_within_seconds", "inf"), ("service_level", "0"), ("service_level", "1"),
        ("service_level", "1.5"), ("shrinkage", "-0.1"), ("shrinkage", "0.96"), ("max_occupancy", "0"),
        ("max_occupancy", "1.01"), ("max_occupancy", "0.05"), ("max_occupancy", "1e-300"),
        ("quantile", "0.01"), ("quantile", "0.99"), ("quantile", "median"),
        ("horizon", "0"), ("horizon", "-3"), ("horizon", "abc"), ("horizon", "100000"), ("colour", "blue"),
        ("open_hours", "18:00-08:00"), ("open_hours", "8-18"), ("open_hours", "08:00-24:30"),
        ("open_hours", "08:60-18:00"), ("open_days", "mon-funday"), ("open_days", "weekdays"),
        ("open_days", "mon-tue-wed"),
    ],
)  # fmt: skip
def test_every_parameter_out_of_range_is_a_400_naming_it(api: Api, name: str, value: str) -> None:
    # When one parameter breaks its rule (the others at their defaults)
    status, error = _staffing(api, {name: value})
    # Then it is a 400 naming that parameter, before any model is looked up
    assert (status, error["error"], error["field"]) == (400, "invalid_request", name), error


def test_a_forecast_refuses_a_query_parameter_it_does_not_take(api: Api, trained: dict[str, Any]) -> None:
    # When a forecast is asked with a misspelt parameter (the level would silently be the default 0.8)
    status, error, _ = api.call(
        "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "24", "levle": "0.95"}
    )
    # Then it is a 400 naming it and what the route takes, as the staffing plan's is
    assert (status, error["field"]) == (400, "levle"), error
    assert "GET /series/{series_id}/forecast takes horizon, level" in error["message"]
    status, _, _ = api.call(
        "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "24", "level": "0.95"}
    )
    assert status == 200


def test_a_series_without_a_model_has_no_plan(api: Api) -> None:
    status, error = _staffing(api, {"horizon": "24"}, series_id="untrained")
    assert status == 404, error


def test_a_daily_series_has_no_staffing_plan_and_the_refusal_names_its_interval(api: Api) -> None:
    # Given a trained daily series (one value per date: Erlang C would spread each day's leads evenly
    # over 24 hours, night included, and under-staff the office hours)
    api.overrides["LEAD_AI_MIN_TRAINING_POINTS"] = "1000"
    status, _, _ = api.call(
        "IngestFunction", "put-series.json", series_id="daily", body=json.dumps({"interval": "1d"})
    )
    assert status == 200
    days = [HISTORY_END.date() - timedelta(days=i) for i in range(149, -1, -1)]
    counts = np.random.default_rng(5).poisson([200 if day.weekday() < 5 else 60 for day in days])
    observations = [
        {"timestamp": day.isoformat(), "value": float(n)} for day, n in zip(days, counts, strict=True)
    ]
    status, payload, _ = api.call(
        "IngestFunction",
        "ingest-observations.json",
        series_id="daily",
        body=json.dumps({"observations": observations}),
    )
    assert status == 200, payload
    status, trained = api.train("daily")
    assert status == 201, trained
    # When its staffing plan is asked, with or without a horizon
    for query in ({}, {"horizon": "7"}):
        status, error = _staffing(api, query, series_id="daily")
        # Then it is a 400 naming the series' interval and the rule, and where its forecast is
        assert (status, error["error"], error["field"]) == (400, "invalid_request", "interval"), error
        assert "at most 1h" in error["message"] and "1d" in error["message"], error
        assert "/forecast" in error["message"], error
    # And its forecast is served as before
    status, forecast = api.forecast("daily", 7)
    assert status == 200 and len(forecast["forecast"]) == 7, forecast
