"""New teams from day one: the pooled model, on the local stack (planner, queue, local poller, worker), with
real trainings (scikit-learn -> ONNX -> onnxruntime).

A series of 14 days is answered by the pooled model of its group (`model_scope: pool`); the planner
queues the pool with the daily run; the pool's intervals are calibrated on held-out series only; once a
series has enough history, its own model takes over when it beats the pool on the same windows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from lead_ai.domain.pools import PoolKey, split_pool
from lead_ai.service.pooling import plan_day
from tests.conftest import HISTORY_END, lead_history
from tests.fleet.conftest import Fleet, message_body, metric_values

# A model of its own from 500 hours (~21 days); the pool serves from 14 days; 24-step forecasts.
SETTINGS = {"LEAD_AI_MIN_TRAINING_POINTS": "500", "LEAD_AI_MAX_HORIZON": "24"}
POOL_ID = PoolKey(3600, "UTC", "none").pool_id  # the template's default zone and calendar
TEAMS = [f"team-{i}" for i in range(5)]

pytestmark = pytest.mark.slow


@pytest.fixture
def pooled(fleet: Fleet, replayed_training: dict[str, Any]) -> Fleet:
    """Five established series (30 days each) trained through the daily run (each history fitted once a
    session: replayed_training), then a new team of 14 days, ready for the daily run that trains the pool
    of their group."""
    _train_established_teams(fleet)
    fleet.ingest("new-team", days=14, seed=3)
    return fleet


def _train_established_teams(fleet: Fleet) -> None:
    fleet.api.overrides.update(SETTINGS)
    for i, team in enumerate(TEAMS):
        fleet.ingest(team, days=30, seed=10 + i)
    first = fleet.plan()
    assert first["queued"] == 5 and first["pools"] == []
    fleet.drain()


def _forecast(fleet: Fleet, series_id: str, horizon: int = 24) -> tuple[int, Any]:
    return fleet.api.forecast(series_id, horizon)


def test_a_series_with_14_days_is_forecast_by_the_pool_the_planner_queued(
    pooled: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given five trained series and a new team of 14 days: no forecast yet, no pool yet
    status, body = _forecast(pooled, "new-team")
    assert status == 404 and "no pooled model serves its group" in body["message"], body
    # When the daily run plans: the new team is too short for a model of its own, its group's pool is queued
    capsys.readouterr()
    plan = pooled.plan()
    assert plan["too_short"] == ["new-team"] and plan["pools"] == [POOL_ID] and plan["queued"] == 0
    # (and the planner's metrics count it apart from the series' trainings)
    assert metric_values(capsys.readouterr().out, "PoolTrainingsQueued") == [1.0]
    totals = pooled.drain()
    assert totals.failed == 0 and totals.succeeded == 1
    # Then the new team's forecast is answered by the pool, and says so
    status, body = _forecast(pooled, "new-team")
    assert status == 200, body
    assert body["model_scope"] == "pool" and body["pool_id"] == POOL_ID
    assert body["model_version"] == "1.0.0" and len(body["forecast"]) == 24
    assert all(r["lower"] <= r["value"] <= r["upper"] for r in body["forecast"])
    # and how the pool is served to it, judged on its own last week: never worse there than the naive
    fit = body["pool_fit"]
    assert fit["origins"] == 7, fit  # 14 days: daily origins with a week before them
    assert fit["backtest_mae"]["served"] <= fit["backtest_mae"]["seasonal_naive"], fit
    assert set(fit["weight_naive"]) == set(fit["interval_scale"]) == {"first_day", "later"}
    # and so does its staffing plan
    status, staffing, _ = pooled.api.call(
        "PredictFunction", "staffing.json", series_id="new-team", query={"horizon": "24"}
    )
    assert status == 200 and staffing["model_scope"] == "pool", staffing
    assert staffing["pool_fit"] == fit
    # and the series resource names the pool as the model that answers it
    status, shown, _ = pooled.api.call("PredictFunction", "series.json", series_id="new-team")
    assert status == 200 and shown["current_model"]["model_scope"] == "pool", shown
    assert shown["current_model"]["pool_id"] == POOL_ID and shown["current_model"]["version"] == "1.0.0"
    # while an established series is still answered by its own model
    status, own = _forecast(pooled, "team-0")
    assert status == 200 and own["model_scope"] == "series" and "pool_id" not in own
    assert "pool_fit" not in own
    status, shown, _ = pooled.api.call("PredictFunction", "series.json", series_id="team-0")
    assert status == 200 and shown["current_model"]["model_scope"] == "series", shown
    # and the list of series says the same of both, reading the pool's pointer once for the page
    status, page = pooled.series_list()
    listed = {s["series_id"]: s for s in page["series"]}
    assert status == 200 and listed["new-team"]["model_scope"] == "pool", listed["new-team"]
    assert listed["new-team"]["pool_id"] == POOL_ID and listed["new-team"]["current_version"] == "1.0.0"
    assert listed["team-0"]["model_scope"] == "series" and "pool_id" not in listed["team-0"]
    # and the new team stays due: the next plan queues the pool again (once a day), not the series
    again = pooled.plan()
    assert again["too_short"] == ["new-team"] and again["pools"] == [POOL_ID]


def test_the_pools_calibration_series_are_not_its_members(pooled: Fleet) -> None:
    # When the pool is trained
    pooled.plan()
    pooled.drain()
    # Then its members and held-out series are disjoint, and its record counts both
    members, held_out = split_pool(POOL_ID, TEAMS)
    assert members and held_out and not set(members) & set(held_out)
    assert set(members) | set(held_out) == set(TEAMS)
    metrics = _pool_version(pooled)["metrics"]
    assert metrics["pool_members"] == len(members) and metrics["pool_held_out"] == len(held_out)
    # and the pool beat the seasonal naive on the held-out series' young windows
    assert metrics["mase"] <= metrics["baseline_mase"]


def test_a_pools_versions_are_listed_under_its_id(pooled: Fleet) -> None:
    # Given no pool trained yet: its list is a 404 naming the group
    status, body = _pool_models(pooled, POOL_ID)
    assert status == 404 and body["field"] == "pool_id" and "1h, UTC, holidays none" in body["message"], body
    # When the daily run trains the pool
    pooled.plan()
    pooled.drain()
    # Then its versions are listed with their held-out metrics, the current one marked
    status, body = _pool_models(pooled, POOL_ID)
    assert status == 200 and body["pool_id"] == POOL_ID and body["current_version"] == "1.0.0", body
    (version,) = body["versions"]
    assert version["version"] == "1.0.0" and version["current"] and version["metrics"]["pool_members"] >= 3
    assert body["next_token"] is None
    # and an id that is not a pool's is a 400 naming the field and the rule
    for bad in ("team-0", "pool:7x:UTC:none", "pool:1h:Europe/Berlin:DE"):
        status, body = _pool_models(pooled, bad)
        assert status == 400 and body["field"] == "pool_id" and "pool:<interval>" in body["message"], body


def test_a_pool_is_rolled_back_to_an_earlier_version(pooled: Fleet) -> None:
    # Given a pool trained on two days: two versions, one of them current
    pooled.plan()
    pooled.drain()
    (first,) = _pool_models(pooled, POOL_ID)[1]["versions"]
    pooled.send(json.dumps({"series_id": POOL_ID, "revision": first["training"]["history_revision"] + 1}))
    assert pooled.drain().failed == 0
    status, listed = _pool_models(pooled, POOL_ID)
    assert status == 200 and [v["version"] for v in listed["versions"]] == ["1.1.0", "1.0.0"], listed
    other = next(v["version"] for v in listed["versions"] if v["version"] != listed["current_version"])
    # When the version that is not current is promoted
    status, body = _promote_pool(pooled, POOL_ID, other)
    # Then it is current, for the list and for the young series it answers
    assert status == 200 and body["version"] == other and body["current"], body
    assert _pool_models(pooled, POOL_ID)[1]["current_version"] == other
    status, forecast = _forecast(pooled, "new-team")
    assert status == 200 and forecast["model_scope"] == "pool" and forecast["model_version"] == other
    # and a version it never had is a 404, a malformed pool id a 400, each naming its field
    status, body = _promote_pool(pooled, POOL_ID, "9.9.9")
    assert status == 404 and body["field"] == "version" and "pooled model" in body["message"], body
    status, body = _promote_pool(pooled, "team-0", "1.0.0")
    assert status == 400 and body["field"] == "pool_id", body


def _promote_pool(fleet: Fleet, pool_id: str, version: str) -> tuple[int, Any]:
    status, body, _ = fleet.api.call("TrainFunction", "promote-pool.json", pool_id=pool_id, version=version)
    return status, body


def _pool_models(fleet: Fleet, pool_id: str) -> tuple[int, Any]:
    status, body, _ = fleet.api.call("PredictFunction", "pool-models.json", pool_id=pool_id)
    return status, body


def test_a_series_under_14_days_gets_a_404_naming_the_rule(pooled: Fleet) -> None:
    pooled.plan()
    pooled.drain()
    pooled.ingest("newer-team", days=10, seed=4)
    status, body = _forecast(pooled, "newer-team")
    assert status == 404 and "forecasts start at 14 days of history" in body["message"], body
    # and the list says nothing answers it yet, while the pool answers the 14-day team
    listed = pooled.all_series()
    assert listed["newer-team"]["current_version"] is None and listed["newer-team"]["model_scope"] is None
    assert listed["new-team"]["model_scope"] == "pool"


def test_a_young_series_resuming_after_a_long_gap_is_not_fitted_on_a_few_hours(pooled: Fleet) -> None:
    # Given the group's pool, and a young team that sent 14 days, then nothing for five weeks
    pooled.plan()
    pooled.drain()
    stamps, values = lead_history(49, seed=6, end=HISTORY_END)
    old = stamps < stamps[0] + 14 * 86400
    assert pooled.api.ingest("resumed-team", stamps[old], values[old])[0] == 200
    # When it resumes with three hours (its 339 observations are old enough for the pool)
    assert pooled.api.ingest("resumed-team", stamps[-3:], values[-3:])[0] == 200
    # Then the pool is not served from a window holding three hours (the fit would have no origin and
    # serve the pool as exported): a 404 naming the rule, as for a team younger than 14 days
    status, body = _forecast(pooled, "resumed-team")
    assert (status, body.get("field")) == (404, "series_id"), body
    assert "3 observations since" in body["message"] and "14 days" in body["message"], body
    # And with 14 days since the gap the pool serves it, fitted on its own days
    recent = stamps > stamps[-1] - 14 * 86400
    assert pooled.api.ingest("resumed-team", stamps[recent], values[recent])[0] == 200
    status, body = _forecast(pooled, "resumed-team")
    assert status == 200 and body["model_scope"] == "pool" and body["pool_fit"]["origins"] == 7, body


def test_once_it_has_enough_history_its_own_model_takes_over_when_it_beats_the_pool(pooled: Fleet) -> None:
    # Given the new team served by the pool
    pooled.plan()
    pooled.drain()
    # When it has 30 days of history and the daily run trains its own model
    stamps, values = lead_history(30, seed=3)
    status, payload = pooled.api.ingest("new-team", stamps[: 16 * 24], values[: 16 * 24])
    assert status == 200, payload
    plan = pooled.plan()
    assert plan["queued"] == 1 and plan["too_short"] == []
    pooled.drain()
    # Then its own model was compared with the pool on the same windows
    version = pooled.versions("new-team")[0]
    metrics = version["metrics"]
    assert {"champion_mase", "challenger_mase"} <= set(metrics), metrics
    status, body = _forecast(pooled, "new-team")
    assert status == 200
    if metrics["challenger_mase"] < metrics["champion_mase"]:
        # and it took over: the forecast is its own
        assert version["current"] and body["model_scope"] == "series"
        assert version["reason"].startswith(f"takes over from the pooled model {POOL_ID} 1.0.0")
    else:
        # or it lost, and the pool keeps serving it
        assert version["status"] == "rejected" and body["model_scope"] == "pool"
        assert f"does not beat the pooled model {POOL_ID} 1.0.0" in version["reason"]


def test_a_pool_that_serves_a_grown_series_is_retrained_when_that_series_gets_new_data(
    fleet: Fleet, replayed_training: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the group's pool trained for a team of 14 days (its history ends a day before the last one)
    _train_established_teams(fleet)
    stamps, values = lead_history(31, seed=3)
    young, earlier, last_day = slice(-15 * 24, -24), slice(None, -15 * 24), slice(-24, None)
    assert fleet.api.ingest("new-team", stamps[young], values[young])[0] == 200
    assert fleet.plan()["pools"] == [POOL_ID] and fleet.drain().failed == 0
    # and the team grown to 30 days, whose own model then loses to the pool (the contest's outcome is
    # fixed here: whether a model of its own can win is the takeover test's subject)
    _own_models_lose_to_the_pool(monkeypatch)
    assert fleet.api.ingest("new-team", stamps[earlier], values[earlier])[0] == 200
    grown = fleet.plan()
    assert grown["queued"] == 1 and grown["too_short"] == [] and grown["pools"] == []
    assert fleet.drain().failed == 0
    assert fleet.versions("new-team")[0]["status"] == "rejected"
    assert _forecast(fleet, "new-team")[1]["model_scope"] == "pool"
    # When its next day of observations arrives and the next day's plan runs: no young series is left
    assert fleet.api.ingest("new-team", stamps[last_day], values[last_day])[0] == 200
    today = plan_day()
    monkeypatch.setattr("lead_ai.service.schedule.plan_day", lambda: today + 1)
    plan = fleet.plan()
    # Then the plan queues the pool for the series it serves, beside the series' own training
    assert plan["too_short"] == [] and plan["pool_served"] == ["new-team"], plan
    assert plan["pools"] == [POOL_ID] and plan["queued"] == 1
    assert fleet.drain().failed == 0
    # and the worker trains the pool again: a new version
    status, models = _pool_models(fleet, POOL_ID)
    assert status == 200 and [v["version"] for v in models["versions"]] == ["1.1.0", "1.0.0"], models
    # And once that day is trained, the next plan queues nothing for it: no new data, no new pool
    monkeypatch.setattr("lead_ai.service.schedule.plan_day", lambda: today + 2)
    quiet = fleet.plan()
    assert quiet["pool_served"] == [] and quiet["pools"] == [] and quiet["queued"] == 0, quiet


def _own_models_lose_to_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every training scored against a champion reports its model a tenth worse on the same windows."""
    import dataclasses

    import lead_ai.forecasting.training.train as train

    trained = train.train_forecaster

    def losing(series: Any, settings: Any = None, champion: Any = None) -> Any:
        result = trained(series, settings, champion)
        if champion is None or "champion_mase" not in result.metrics:
            return result
        worse = result.metrics["champion_mase"] * 1.1
        return dataclasses.replace(result, metrics=result.metrics | {"challenger_mase": worse})

    monkeypatch.setattr(train, "train_forecaster", losing)


def test_a_pool_its_series_cannot_calibrate_is_skipped_not_dead_lettered(fleet: Fleet) -> None:
    # Given a minimum of 340 hours for a model of one's own, five series of 348 hours (models of their
    # own, but no held-out window: a young window starts at 14 days, 336 hours, and needs 24 hours of
    # actuals after it) and a new team of 14 days
    fleet.api.overrides.update({**SETTINGS, "LEAD_AI_MIN_TRAINING_POINTS": "340"})
    for i, team in enumerate(TEAMS):
        stamps, values = lead_history(15, seed=10 + i)
        status, payload = fleet.api.ingest(team, stamps[-348:], values[-348:])
        assert status == 200, payload
    assert fleet.plan()["queued"] == len(TEAMS)
    assert fleet.drain().failed == 0
    fleet.ingest("new-team", days=14, seed=3)
    # When the daily run queues the group's pool
    assert fleet.plan()["pools"] == [POOL_ID]
    totals = fleet.drain()
    # Then the worker answers it as skipped (its message deleted): no retry, nothing in the dead letters
    assert totals.failed == 0 and totals.succeeded == 1
    assert fleet.dead_letters() == []
    status, body = _forecast(fleet, "new-team")
    assert status == 404 and "no pooled model serves its group" in body["message"], body


def test_a_held_out_series_that_resumed_after_an_outage_does_not_stop_its_groups_pool(
    fleet: Fleet, replayed_training: dict[str, Any]
) -> None:
    # Given a group of four series with models of their own, the one the split holds out (the only one,
    # of four) trained on 25 days that ended five weeks ago, and resumed with three hours
    fleet.api.overrides.update(SETTINGS)
    teams = TEAMS[:2] + TEAMS[3:4]  # with team-2 no paused-N would come first in the split's order
    paused = next(
        sid for i in range(50) if split_pool(POOL_ID, [*teams, sid := f"paused-{i}"]).held_out == [sid]
    )
    for team in teams:
        fleet.ingest(team, days=30, seed=10 + TEAMS.index(team))
    stamps, values = lead_history(25, seed=20, end=HISTORY_END - timedelta(days=36))
    assert fleet.api.ingest(paused, stamps, values)[0] == 200
    assert fleet.plan()["queued"] == 4 and fleet.drain().failed == 0
    stamps, values = lead_history(1, seed=21)
    assert fleet.api.ingest(paused, stamps[-3:], values[-3:])[0] == 200
    fleet.ingest("new-team", days=14, seed=3)
    # When the daily run trains the group's pool (its held-out windows need 14 days and a day of actuals)
    assert fleet.plan()["pools"] == [POOL_ID]
    assert fleet.drain().failed == 0
    # Then the paused series is not the pool's only calibration series: the next one by the split's order
    # is held out in its place, the pool is trained and serves the new team
    status, models = _pool_models(fleet, POOL_ID)
    assert status == 200 and [v["version"] for v in models["versions"]] == ["1.0.0"], models
    assert models["versions"][0]["metrics"]["pool_held_out"] == 1
    status, body = _forecast(fleet, "new-team")
    assert status == 200 and body["model_scope"] == "pool", body


def test_a_new_groups_pool_waits_for_its_first_models_and_serves_the_new_team_the_same_day(
    fleet: Fleet, replayed_training: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a new group on its first day: five teams with history enough for models of their own and a
    # new team of 14 days, nothing trained yet, and the pool's message received before the teams' (the
    # first run's messages spread over several workers)
    fleet.api.overrides.update({**SETTINGS, "LEAD_AI_POOL_RECHECK_SECONDS": "1"})
    for i, team in enumerate(TEAMS):
        fleet.ingest(team, days=30, seed=10 + i)
    fleet.ingest("new-team", days=14, seed=3)
    fleet.send(message_body(POOL_ID, plan_day()))
    # When the daily run queues the teams and the pool, and the worker drains the queue
    plan = fleet.plan()
    assert plan["queued"] == len(TEAMS) and plan["pools"] == [POOL_ID]
    capsys.readouterr()
    totals = fleet.drain()
    # Then the pool's early message waited (sent again a second later, nothing recorded; once more each
    # time it came back before the teams were trained), the pool was trained once, on the teams' new
    # models, and it serves the new team today
    assert totals.failed == 0
    assert sum(metric_values(capsys.readouterr().out, "PoolRecheckQueued")) >= 1
    status, models = _pool_models(fleet, POOL_ID)
    assert status == 200 and [v["version"] for v in models["versions"]] == ["1.0.0"], models
    status, body = _forecast(fleet, "new-team")
    assert status == 200 and body["model_scope"] == "pool", body
    assert fleet.dead_letters() == []


def test_a_pool_waits_for_first_models_only_on_its_own_day_and_only_if_they_can_make_it(fleet: Fleet) -> None:
    # Given a group of three series due for their first models, none trained (a pool needs four)
    fleet.api.overrides.update({**SETTINGS, "LEAD_AI_POOL_RECHECK_SECONDS": "1"})
    for i, team in enumerate(TEAMS[:3]):
        fleet.ingest(team, days=30, seed=10 + i)
    # When today's pool message is handled before any of them trained
    fleet.send(message_body(POOL_ID, plan_day()))
    totals = fleet.drain()
    # Then three can never make a pool: the message is answered as skipped, not sent again
    assert totals.succeeded == 1 and totals.failed == 0 and fleet.queue_depth() == 0
    # And given a fourth, when yesterday's message arrives late
    fleet.ingest(TEAMS[3], days=30, seed=13)
    fleet.send(message_body(POOL_ID, plan_day() - 1))
    totals = fleet.drain()
    # Then it does not wait either (today's plan queues today's pool): skipped, nothing trained
    assert totals.succeeded == 1 and totals.failed == 0
    assert _pool_models(fleet, POOL_ID)[0] == 404


def _pool_version(fleet: Fleet) -> dict[str, Any]:
    from lead_ai.storage.clients import client
    from lead_ai.storage.registry import ModelTracker

    tracker = ModelTracker(client("dynamodb"), fleet.api.stack.names["RegistryTable"], _Quiet())
    current = tracker.current(POOL_ID)
    assert current is not None
    return tracker.get_version(POOL_ID, current.version)._asdict()


class _Quiet:
    def track(self, event: str, series_id: str, values: Any = None) -> None:
        pass
