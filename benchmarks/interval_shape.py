"""How a team's own model's 80 % interval covers each hour of the week, on the VALIDATION period only.

Run:  OMP_NUM_THREADS=1 python benchmarks/interval_shape.py          (make bench-interval-shape)
      python benchmarks/interval_shape.py --settings '{"slot_intervals": false}'   (a variant, same windows)

Why: overall coverage (benchmarks/accuracy.py) hides where an interval misses, and its validation split
has 7 origins. A staffing plan at quantile 0.9 is read hour by hour, weekday and weekend alike, so this
benchmark scores many more windows and reports coverage per (weekday or weekend, local hour).

Protocol: bike (cnt) and NYC taxi, hourly, each file's wall-clock hours read as the local clock (zone UTC,
so an hour of the file is an hour of the day; the US calendar on those dates). The 8 weeks before each
data set's test window (its last 28 days, which are never read): a model with production settings (or
--settings) is trained at the start of each of those weeks on everything before it, and forecasts 168
hours from every midnight of its week whose 168 hours end before the test window. Production retrains
daily; weekly retraining keeps the run to ~16 trainings. Scored: coverage of the 80 % interval per cell
(weekday / weekend x hour of the day), overall, their mean distance from 80 % (48 cells, and the 24 hours
alone), and MSIS (forecasting.scoring.msis, m = 24). Then the same data summed per day (a team that
counts per day): 8 validation weeks of daily origins, 7 days ahead, retrained weekly; coverage per day of
the week and MSIS (m = 7), keys `<name>_daily`.
Output: benchmarks/results/interval_shape_validation.json (or --output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy import DATA, _read_hourly  # noqa: E402

from lead_ai.forecasting import scoring  # noqa: E402

LEVEL = 0.8
HORIZON = 168
WEEKS = 8
TEST_HOURS = 672  # the test window of benchmarks/accuracy.py: never read here
RESULTS = ROOT / "benchmarks" / "results" / "interval_shape_validation.json"
DATASETS = {
    "bike": (DATA / "bike_sharing" / "bike_hourly_regular.csv.gz", "cnt"),
    "taxi": (DATA / "nyc_taxi" / "nyc_taxi_hourly.csv.gz", "y"),
}


def shape_of(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Coverage per (weekday/weekend, hour) of one data set's validation weeks."""
    path, column = DATASETS[name]
    values, start = _read_hourly(path, column)
    stop = values.size - TEST_HOURS - HORIZON  # the last origin whose week ends before the test window
    first = values.size - TEST_HOURS - WEEKS * 168
    first -= (start // 3600 + first) % 24  # a midnight
    cells = np.zeros((2, 24, 2))  # (weekday 0 / weekend 1, hour): inside, scored
    scores: list[float] = []
    hourly = Grid(3600, HORIZON, 24, {"holidays": "US", "timezone": "UTC"})
    for origin, stamps, out in _weekly_forecasts(name, values, start, hourly, first, stop, settings):
        actual = values[origin : origin + HORIZON]
        hour = (stamps // 3600) % 24
        weekend = ((stamps // 86400 + 3) % 7 >= 5).astype(np.int64)  # 1970-01-01 was a Thursday
        inside = (actual >= out.lower) & (actual <= out.upper)
        cell = weekend * 24 + hour
        cells[..., 0] += np.bincount(cell, weights=inside.astype(float), minlength=48).reshape(2, 24)
        cells[..., 1] += np.bincount(cell, minlength=48).reshape(2, 24)
        scores.append(scoring.msis(actual, out.lower, out.upper, values[:origin], LEVEL, 24))
    by_cell = cells[..., 0] / cells[..., 1]
    by_hour = cells.sum(axis=0)[:, 0] / cells.sum(axis=0)[:, 1]
    return {
        "windows": len(scores),
        "coverage": round(float(cells[..., 0].sum() / cells[..., 1].sum()), 4),
        "coverage_weekday": round(float(cells[0, :, 0].sum() / cells[0, :, 1].sum()), 4),
        "coverage_weekend": round(float(cells[1, :, 0].sum() / cells[1, :, 1].sum()), 4),
        "msis": round(float(np.mean(scores)), 4),
        "cell_deviation": round(float(np.mean(np.abs(by_cell - LEVEL))), 4),
        "hour_deviation": round(float(np.mean(np.abs(by_hour - LEVEL))), 4),
        "coverage_by_hour": {
            "weekday": [round(float(c), 3) for c in by_cell[0]],
            "weekend": [round(float(c), 3) for c in by_cell[1]],
        },
    }


def daily_shape_of(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The same for the data set summed per day (a team that counts its leads per day): coverage per day
    of the week over the 8 validation weeks (56 origins, 7 days ahead, retrained weekly)."""
    path, column = DATASETS[name]
    hourly, start = _read_hourly(path, column)  # both files start at a midnight
    values = hourly[: hourly.size // 24 * 24].reshape(-1, 24).sum(axis=1)
    days_ahead, test_days = 7, TEST_HOURS // 24
    stop = values.size - test_days - days_ahead
    first = values.size - test_days - WEEKS * 7
    daily = Grid(86400, days_ahead, 1, {"holidays": "US", "max_horizon": days_ahead, "min_points": 42})
    inside_by_day, scored_by_day = np.zeros(7), np.zeros(7)
    scores: list[float] = []
    for origin, stamps, out in _weekly_forecasts(name, values, start, daily, first, stop, settings):
        actual = values[origin : origin + days_ahead]
        day = (stamps // 86400 + 3) % 7  # 0 = Monday
        inside = (actual >= out.lower) & (actual <= out.upper)
        inside_by_day += np.bincount(day, weights=inside.astype(float), minlength=7)
        scored_by_day += np.bincount(day, minlength=7)
        scores.append(scoring.msis(actual, out.lower, out.upper, values[:origin], LEVEL, 7))
    by_day = inside_by_day / scored_by_day
    return {
        "windows": len(scores),
        "coverage": round(float(inside_by_day.sum() / scored_by_day.sum()), 4),
        "coverage_weekday": round(float(inside_by_day[:5].sum() / scored_by_day[:5].sum()), 4),
        "coverage_weekend": round(float(inside_by_day[5:].sum() / scored_by_day[5:].sum()), 4),
        "msis": round(float(np.mean(scores)), 4),
        "day_deviation": round(float(np.mean(np.abs(by_day - LEVEL))), 4),
        "coverage_by_day_of_week": [round(float(c), 3) for c in by_day],
    }


class Grid(NamedTuple):
    """A data set's slots: their length, the forecast horizon, slots a day, and the training defaults."""

    seconds: int
    horizon: int
    per_day: int
    defaults: dict[str, Any]


def _weekly_forecasts(
    name: str,
    values: np.ndarray,
    start: int,
    grid: Grid,
    first: int,
    stop: int,
    settings: dict[str, Any],
) -> Iterator[tuple[int, np.ndarray, Any]]:
    """A model trained at the start of each of the WEEKS weeks from `first` on everything before it, and
    its forecast from every midnight of its week up to `stop`: (origin, the forecast slots' stamps,
    forecast)."""
    from lead_ai.forecasting.inference import OnnxForecaster
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster

    week_slots = 7 * grid.per_day
    for week in range(WEEKS):
        trained_at = first + week_slots * week
        result = train_forecaster(
            [SeriesData(name, values[:trained_at], start, grid.seconds)],
            TrainingSettings(**(grid.defaults | settings)),
        )
        model = OnnxForecaster.from_bytes(result.onnx_bytes)
        for origin in range(trained_at, min(trained_at + week_slots, stop + 1), grid.per_day):
            last = start + grid.seconds * (origin - 1)
            stamps = last + grid.seconds * np.arange(1, grid.horizon + 1)
            yield origin, stamps, model.predict(values[:origin], last, grid.horizon, LEVEL)
        if grid.per_day > 1:
            print(f"   {name}: week {week + 1}/{WEEKS}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(DATASETS), action="append")
    parser.add_argument("--settings", type=json.loads, default={}, help="TrainingSettings fields, as JSON")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "OMP_NUM_THREADS=1 python benchmarks/interval_shape.py " + " ".join(argv or sys.argv[1:]),
        "settings_overrides": args.settings,
        "protocol": __doc__,
    }
    for name in args.only or sorted(DATASETS):
        report[name] = shape_of(name, args.settings)
        row = {k: v for k, v in report[name].items() if k != "coverage_by_hour"}
        print(f"{name}: {row}", flush=True)
        report[f"{name}_daily"] = daily_shape_of(name, args.settings)
        print(f"{name} per day: {report[f'{name}_daily']}", flush=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
