"""`lead-ai staffing` on a forecast CSV: the same plan as the API's, from the file's quantiles."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lead_ai_dev.cli import main

FORECAST = [
    # series_id, timestamp (local, New York: the clocks go back at 02:00), value, lower, upper
    ("s", "2026-10-31T23:00:00-04:00", 4.0, 1.0, 8.0),
    ("s", "2026-11-01T00:00:00-04:00", 12.0, 6.0, 20.0),
    ("s", "2026-11-01T01:00:00-04:00", 30.0, 20.0, 45.0),
    ("s", "2026-11-01T01:00:00-05:00", 0.0, 0.0, 0.0),
    ("s", "2026-11-01T02:00:00-05:00", 55.0, 40.0, 70.0),
]


@pytest.fixture
def forecast_csv(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.csv"
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["series_id", "timestamp", "value", "lower", "upper"])
        writer.writerows(FORECAST)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_plan_per_interval_and_agent_hours_per_local_day(forecast_csv: Path, tmp_path: Path) -> None:
    # When the forecast is planned at the median and at the 90th percentile (the 80 % forecast's upper bound)
    out, daily = tmp_path / "plan.csv", tmp_path / "daily.csv"
    base = ["staffing", "--input", str(forecast_csv), "--daily", str(daily), "--interval", "1h"]
    assert main([*base, "--output", str(out)]) == 0
    median, days = _read(out), _read(daily)
    assert main([*base, "--output", str(out), "--quantile", "0.9"]) == 0
    busy = _read(out)
    # Then every interval has a row, planned on the value (0.5) or the upper bound (0.9)
    assert [r["timestamp"] for r in median] == [row[1] for row in FORECAST]
    assert [float(r["leads_planned"]) for r in median] == [row[2] for row in FORECAST]
    assert [float(r["leads_planned"]) for r in busy] == [row[4] for row in FORECAST]
    # And no leads means no agents, more leads never fewer agents, and the busy plan staffs at least as many
    assert [int(r["agents"]) for r in median][3] == 0
    agents = [int(r["agents"]) for r in median]
    assert agents[1] <= agents[2] <= agents[4]
    assert all(int(b["agents"]) >= int(m["agents"]) for m, b in zip(median, busy, strict=True))
    # And days are local dates: Oct 31 has one hour, Nov 1 the other four, each an hour of agents
    assert [d["date"] for d in days] == ["2026-10-31", "2026-11-01"]
    assert float(days[1]["agent_hours"]) == sum(agents[1:])


def test_opening_hours_follow_each_timestamps_own_clock_and_carry_closed_hours_leads(
    forecast_csv: Path, tmp_path: Path
) -> None:
    # When the forecast is planned for a team open 00:00-02:00 (its clock, across the clocks going back)
    out = tmp_path / "plan.csv"
    command = ["staffing", "--input", str(forecast_csv), "--output", str(out), "--open-hours", "00:00-02:00"]
    assert main(command) == 0
    rows = _read(out)
    # Then 23:00 is closed and its 4 leads are planned at midnight; both 01:00 (EDT, then EST) are open;
    # 02:00 is closed, and nothing comes after it
    assert [r["open"] for r in rows] == ["False", "True", "True", "True", "False"]
    assert [float(r["leads_carried_in"]) for r in rows] == [0.0, 4.0, 0.0, 0.0, 0.0]
    assert [int(r["agents"]) for r in rows][::4] == [0, 0]


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--quantile", "0.7", "--quantile"),
        ("--handle-seconds", "0", "handle_seconds"),
        ("--service-level", "1", "service_level"),
        ("--shrinkage", "0.99", "shrinkage"),
        ("--max-occupancy", "1.5", "max_occupancy"),
        ("--interval", "1d", "--interval"),  # as GET /series/{id}/staffing refuses a daily series
        ("--open-hours", "18:00-08:00", "open_hours"),
        ("--open-hours", "08:30-18:00", "open_hours"),  # off the hourly grid
        ("--open-days", "weekdays", "open_days"),
    ],
)
def test_a_bad_option_exits_2_naming_it_and_writes_nothing(
    forecast_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    named: str,
) -> None:
    out = tmp_path / "plan.csv"
    assert main(["staffing", "--input", str(forecast_csv), "--output", str(out), option, value]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()
