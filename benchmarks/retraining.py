"""The daily retraining, as served: which model does a team get each day, and how good is it?

    python benchmarks/retraining.py [--days 28]        (make bench-retraining)

For bike and taxi (../shared/data, read by path), on the validation split only (the days before the test
windows of benchmarks/accuracy.py, which are never scored here): a first model is trained on the history
up to day 0, then every day one more day of observations arrives and a candidate is trained on it, with
production settings (train_forecaster, horizon 168, 1,000 points). Three policies decide what is served
from that day's origin, and each served model's forecast of the next 24 and 168 hours is scored (MASE
against the in-sample seasonal naive, as benchmarks/accuracy.py):

- `in_sample_champion` (the rule before 2026-12-02): the candidate must beat the served model scored on
  the candidate's backtest windows, steps the served model was fitted on included;
- `unseen_steps` (served now): the served model is scored only on steps after its own training data, and
  with fewer than a week of them the candidate is served (with a daily cadence: always);
- `first_model`: never retrained, what the first rule amounted to when every candidate lost.

Both retraining policies share each day's candidate (the champion is only scored, never fitted on), so one
training a day per series serves both. Output: benchmarks/results/retraining.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Run as a script: its own folder is first on sys.path (as pooled.py and interval_shape.py do).
from accuracy import DATA, _read_hourly, rolling_origins  # noqa: E402

from lead_ai.forecasting import scoring  # noqa: E402
from lead_ai.forecasting.inference import OnnxForecaster  # noqa: E402
from lead_ai.forecasting.training.backtest import Champion  # noqa: E402
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, load_champion, train_forecaster  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "retraining.json"
HOUR = 3600
HORIZONS = (24, 168)
POLICIES = ("unseen_steps", "in_sample_champion", "first_model")
SOURCES = {
    "bike": (DATA / "bike_sharing" / "bike_hourly_regular.csv.gz", "cnt"),
    "taxi": (DATA / "nyc_taxi" / "nyc_taxi_hourly.csv.gz", "y"),
}


def first_origin(n: int, days: int) -> int:
    """Day 0: the last scored forecast (day `days`, 168 h) ends where accuracy.py's validation origins
    begin: no hour of its validation or test windows is scored here."""
    return rolling_origins(n, validation=True)[0] - days * 24 - max(HORIZONS)


class Trained:
    """A trained model as both consumers need it: served by onnxruntime, scored as a champion."""

    def __init__(self, onnx: bytes, trained_until: int) -> None:
        self.onnx = onnx
        self.trained_until = trained_until
        self.served = OnnxForecaster.from_bytes(onnx)

    def champion(self) -> Champion:
        # In-sample, as the rule before 2026-12-02 scored it: no `trained_until`
        return load_champion(self.onnx)

    def forecast(self, history: np.ndarray, last_timestamp: int, horizon: int) -> np.ndarray:
        rows = self.served.origin_rows(history[-self.served.spec.window :], last_timestamp)
        return np.asarray(self.served.predict_rows(rows, horizon).value, dtype=np.float64)


def train(values: np.ndarray, start: int, champion: Champion | None) -> tuple[Trained, dict[str, float]]:
    series = SeriesData("s", values, start, HOUR)
    result = train_forecaster([series], TrainingSettings(), champion)
    return Trained(result.onnx_bytes, start + HOUR * (values.size - 1)), dict(result.metrics)


def simulate(name: str, values: np.ndarray, start: int, days: int) -> dict[str, Any]:
    o0 = first_origin(values.size, days)
    first, _ = train(values[:o0], start, None)
    served = {"unseen_steps": first, "in_sample_champion": first, "first_model": first}
    scores: dict[str, dict[int, list[float]]] = {
        p: {h: [] for h in HORIZONS} for p in (*POLICIES, "seasonal_naive")
    }
    promotions = {"in_sample_champion": 0, "unseen_steps": 0}
    contests: list[dict[str, float]] = []
    seconds: list[float] = []
    for day in range(1, days + 1):
        origin = o0 + 24 * day
        history = values[:origin]
        started = time.perf_counter()
        candidate, metrics = train(history, start, served["in_sample_champion"].champion())
        seconds.append(time.perf_counter() - started)
        contests.append({k: metrics[k] for k in ("challenger_mase", "champion_mase") if k in metrics})
        if metrics.get("challenger_mase", np.inf) < metrics.get("champion_mase", -np.inf):
            served["in_sample_champion"] = candidate
            promotions["in_sample_champion"] += 1
        served["unseen_steps"] = candidate  # 24 unseen steps a day: fewer than a week's, the newer model wins
        promotions["unseen_steps"] += 1
        last = start + HOUR * (origin - 1)
        for h in HORIZONS:
            actual = values[origin : origin + h]
            for policy in POLICIES:
                point = served[policy].forecast(history, last, h)
                scores[policy][h].append(scoring.mase(actual, point, history, 24))
            naive = scoring.seasonal_naive_forecast(history, h, 24)
            scores["seasonal_naive"][h].append(scoring.mase(actual, naive, history, 24))
        print(f"  {name} day {day}/{days}: trained in {seconds[-1]:.1f} s", flush=True)
    return {
        "origins": [datetime.fromtimestamp(start + HOUR * (o0 + 24 * d), UTC).isoformat() for d in (1, days)],
        "days": days,
        **{f"h{h}": {p: round(float(np.mean(scores[p][h])), 4) for p in scores} for h in HORIZONS},
        "per_day_h24": {p: [round(v, 4) for v in scores[p][24]] for p in scores},
        "promoted": promotions,
        "in_sample_contests": contests,
        "training_seconds_median": round(float(np.median(seconds)), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "split": "validation: the days before benchmarks/accuracy.py's validation and test windows"
    }
    for name, (path, column) in SOURCES.items():
        values, start = _read_hourly(path, column)
        results[name] = simulate(name, values, start, args.days)
    results["machine"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    for name in SOURCES:
        for h in HORIZONS:
            row = results[name][f"h{h}"]
            print(f"{name} h={h}: " + ", ".join(f"{p} {row[p]:.3f}" for p in row))
        print(f"{name} promoted: {results[name]['promoted']}")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
