"""What a week-ahead model costs when the horizon is a duration: a 15-minute series' 672-step model beside
an hourly series' 168-step one (issue 13). Training (train + backtest + export + parity) in a fresh process
each, then serving through OnnxForecaster as the prediction cache does: the rows of every step built once
per refresh (`origin_rows`), then `predict_rows` per request.

Run:  OMP_NUM_THREADS=1 python benchmarks/horizon_cost.py      (writes benchmarks/results/horizon_cost.json)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "horizon_cost.json"

_RUN = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai_dev.synthetic import recent_lead_counts
from datetime import datetime, UTC
interval, days = {interval}, {days}
stamps, hourly = recent_lead_counts(days, seed=7, now=datetime(2026, 11, 9, 12, tzinfo=UTC))
per_hour = 3600 // interval
rng = np.random.default_rng(1)
values = np.repeat(np.asarray(hourly, dtype=float) / per_hour, per_hour)
values = rng.poisson(np.maximum(values, 0)).astype(float)  # counts per interval
horizon = 7 * 86400 // interval
t0 = time.perf_counter()
result = train_forecaster([SeriesData("s", values, int(stamps[0]), interval)], TrainingSettings(max_horizon=horizon))
train_s = time.perf_counter() - t0
model = OnnxForecaster.from_bytes(result.onnx_bytes)
last = int(stamps[0]) + interval * (values.size - 1)
def best(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return float(np.median(out)) * 1000
rows = model.origin_rows(values, last)
print(json.dumps({{
    "interval_seconds": interval, "history_days": days, "points": int(values.size), "max_horizon": horizon,
    "train_s": train_s, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "model_bytes": len(result.onnx_bytes), "backtest_mase": result.metrics["mase"],
    "coverage": result.metrics["coverage"], "daily_coverage": result.metrics["daily_coverage"],
    "rows_per_refresh_ms": best(lambda: model.origin_rows(values, last), 20),
    "predict_full_horizon_ms": best(lambda: model.predict_rows(rows, horizon), 200),
    "predict_one_day_ms": best(lambda: model.predict_rows(rows, 86400 // interval), 200),
}}))
"""


def measure(interval: int, days: int) -> dict[str, Any]:
    code = _RUN.format(root=str(ROOT), interval=interval, days=days)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    results = {"hourly_168": measure(3600, 365), "quarter_hour_672": measure(900, 365)}
    doc = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "OMP_NUM_THREADS=1 python benchmarks/horizon_cost.py",
        "note": "shared 2-core machine; timings are noisy. One year of synthetic leads per series.",
        "results": results,
    }
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
