"""End to end on the local stack: ingest -> train -> forecast -> re-ingest -> the forecast moves."""

from __future__ import annotations

from typing import Any

from tests.conftest import HISTORY_END, Api, lead_history


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


def test_demo_prints_a_version_and_24_rows(capsys: Any, stack: Any) -> None:
    # Given the demo's own entry point (it starts its own embedded stack)
    from pathlib import Path

    from lead_ai_dev.local.demo import run_demo
    from lead_ai_dev.local.invoke import forget_loaded_handlers

    forget_loaded_handlers()
    # When it runs on 60 days of generated history
    assert run_demo(Path(__file__).resolve().parents[2], days=60, end=HISTORY_END) == 0
    out = capsys.readouterr().out
    # Then it reports version 1.0.0 and a table of 24 hourly rows
    assert "trained model version 1.0.0" in out
    rows = [line for line in out.splitlines() if line[:4].isdigit() and line[10] == "T"]
    assert len(rows) == 24
