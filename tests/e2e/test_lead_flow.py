"""End to end on the local stack: ingest -> train -> forecast -> re-ingest -> the forecast moves; the demo."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lead_ai.domain.pools import PoolKey
from tests.conftest import HISTORY_END, ROOT, Api, lead_history

POOL_ID = PoolKey(3600, "UTC", "none").pool_id  # the template's default interval, zone and calendar


def test_new_observations_move_the_forecast_without_retraining(api: Api) -> None:
    # Given 60 days of hourly history, minus the last 3 hours, ingested and trained on
    stamps, values = lead_history(60, seed=5)
    assert api.ingest("e2e", stamps[:-3], values[:-3])[0] == 200
    status, version = api.train("e2e")
    assert status == 201 and version["current"]
    status, before = api.forecast("e2e", 24)
    assert status == 200

    # When the last 3 hours arrive (with a burst of leads in the last one)
    late_values = values[-3:].copy()
    late_values[-1] += 80
    assert api.ingest("e2e", stamps[-3:], late_values)[0] == 200
    status, after = api.forecast("e2e", 24)

    # Then the same model version forecasts from the new origin, and its numbers changed
    assert status == 200
    assert after["model_version"] == before["model_version"] == version["version"]
    assert after["origin"] > before["origin"]
    assert after["forecast"][0]["timestamp"] > before["forecast"][0]["timestamp"]
    overlap = {row["timestamp"]: row["value"] for row in before["forecast"]}
    moved = [
        abs(row["value"] - overlap[row["timestamp"]])
        for row in after["forecast"]
        if row["timestamp"] in overlap
    ]
    assert len(moved) == 21 and max(moved) > 0.01


@pytest.mark.slow
def test_demo_forecasts_the_new_team_from_the_pool_beside_a_team_with_its_own_model(
    capsys: Any, stack: Any
) -> None:
    # Given the demo's own entry point (it starts its own embedded stack)
    from lead_ai_dev.local.demo import run_demo
    from lead_ai_dev.local.invoke import forget_loaded_handlers

    forget_loaded_handlers()
    # When it runs on fixed generated history (60 days for its main team)
    assert run_demo(ROOT, days=60, end=HISTORY_END) == 0
    out = capsys.readouterr().out
    # Then day 1 trained a first version of each of its four established teams
    assert re.search(r"trained 4 models in [\d.]+ s \(4 message\(s\) done, 0 failed\)", out), out
    assert len(re.findall(r"^  demo-leads\S* +1\.0\.0 verified, current:", out, re.MULTILINE)) == 4
    # and day 2's plan queued the pool of the new team's group, not the new team itself
    assert (
        f"schedule -> planner: 0 training(s), pooled model(s): {POOL_ID}; "
        "too short for a model of their own: demo-leads-new-team"
    ) in out
    # and the main team is answered by its own model, the new team by the pool
    assert re.search(r"^  demo-leads +model_scope series, model 1\.0\.0,", out, re.MULTILINE), out
    assert re.search(
        rf"^  demo-leads-new-team +model_scope pool \({re.escape(POOL_ID)}\), model 1\.0\.0,",
        out,
        re.MULTILINE,
    ), out
    # side by side, 24 hourly rows of (value, lower, upper) each, every value within its bounds
    rows = [line.split() for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", line)]
    assert len(rows) == 24 and all(len(row) == 7 for row in rows)
    for row in rows:
        numbers = [float(x) for x in row[1:]]
        assert numbers[1] <= numbers[0] <= numbers[2] and numbers[4] <= numbers[3] <= numbers[5], row
