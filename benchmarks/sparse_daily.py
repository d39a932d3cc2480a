"""Daily totals of sparse series: what is served (the sum of a day's hours moved by the median daily error
per unit of the day's usual volume, its interval per root of that volume) beside what was served before
(the sum alone; then the moved sum with an interval as wide on every full day) and a rejected candidate
(the daily table's median per step), on VALIDATION windows only.

Run:  OMP_NUM_THREADS=1 python benchmarks/sparse_daily.py          (make bench-sparse-daily)

Why: a model blended with the absolute loss forecasts each hour's median. On a series of a few leads a
day most hours' median is 0, so the sum of a day's hours falls far below the day's total. "candidate"
(`median_candidate`) adds the daily table's median residual (row k for the k-th local day) times the
window's level times the day's steps: every day the same correction per hour, which misplaces it where
days differ in volume. "served" (TrainingSettings.daily_per_usual, calibration.daily_totals) adds the
backtest's median daily error per unit of usual volume times the day's usual volume
(forecasting.usual_volume): a quiet day gets a quiet day's share. Its interval is the daily table's
offsets times the root of the day's usual volume (TrainingSettings.daily_per_root_usual); "per_step" is
the same value with the interval of before, the offsets times the day's count of steps. Each series is
trained twice, with and without the root ("steps", "candidate" and "per_step" read the second model);
the hourly forecasts are the same (docs/accuracy.md, "Daily totals of sparse series").

Protocol: bike (cnt) and NYC taxi, hourly, each file's wall-clock hours read as the local clock (zone
UTC, the US calendar), as benchmarks/interval_shape.py reads them. Sparse series are the real ones
thinned by binomial sampling (each lead kept with one probability per series, seed fixed) to
LEADS_PER_DAY leads a day on average; the unthinned series are the dense control. Each series' test
window of benchmarks/accuracy.py (its last 28 days) is never read. Real lead counts have quiet weekends,
which bike and taxi do not, so two series of the synthetic generator (lead_ai_dev.synthetic, fixed seed
and dates: weekends at 25-35 % of a weekday) are scored too, sparse (~4.6 leads a weekday) and dense. One
model per series, production settings (TrainingSettings, the US calendar), is trained on everything
before the validation period (its backtest lies inside that history). It then forecasts 168 hours from
an origin at 07:00 on each of the next ORIGINS days (the history up to the origin as the window, the
model unchanged: production would retrain daily), and each forecast's local days are scored against the
actual totals: bias (sum of forecast days / sum of actual days - 1), MAE (also over the mean actual day),
coverage of the 80 % daily interval, its mean width and its interval score (width + 10 x the miss,
Winkler's at 80 %), both over the mean actual day; over all days, and apart for full weekdays, full
weekend days, the partial first day (08:00 to midnight) and the partial last one (midnight to 07:00).
Output: benchmarks/results/sparse_daily_validation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy import DATA, _read_hourly  # noqa: E402

from lead_ai.forecasting.calibration import Calibration, daily_totals  # noqa: E402
from lead_ai.forecasting.inference import OnnxForecaster  # noqa: E402
from lead_ai.forecasting.usual_volume import usual_volume  # noqa: E402

LEVEL = 0.8
HORIZON = 168
ORIGINS = 28  # daily origins after the training cut
ORIGIN_HOUR = 7  # the last observation of each origin, local: a forecast asked in the morning
TEST_HOURS = 672  # the test window of benchmarks/accuracy.py: never read here
LEADS_PER_DAY = (2.0, 5.0, 10.0)
SEED = 20261203
SYNTHETIC_START = datetime(2025, 6, 2, tzinfo=UTC)  # a Monday
SYNTHETIC_HISTORY_DAYS = 120
SYNTHETIC_RATES = {"sparse": 0.25, "dense": 12.0}  # lead_counts' base_rate: leads an hour at the peak
RESULTS = ROOT / "benchmarks" / "results" / "sparse_daily_validation.json"
DATASETS = {
    "bike": (DATA / "bike_sharing" / "bike_hourly_regular.csv.gz", "cnt"),
    "taxi": (DATA / "nyc_taxi" / "nyc_taxi_hourly.csv.gz", "y"),
}
# "steps": what was served before 2026-12-03 (the sum of the hours); "candidate": the daily table's median
# added per step (rejected: docs/accuracy.md); "per_step": the sum moved by the median error per unit of the
# day's usual volume (TrainingSettings.daily_per_usual), its interval as wide on every full day (served
# until the second session of 2026-12-03); "served": the same value, its interval per root of the day's
# usual volume (TrainingSettings.daily_per_root_usual), what GET /forecast answers now.
VARIANTS = ("steps", "candidate", "per_step", "served")
KINDS = ("weekday", "weekend", "first", "last")  # full weekdays, full weekend days, the partial first / last


def thinned(values: np.ndarray, per_day: float, seed: int) -> np.ndarray:
    """Binomial thinning of hourly counts to `per_day` leads a day on average: each lead is kept with
    one probability, so the series keeps its real shape and burstiness at a fraction of its volume."""
    p = per_day / (float(values.mean()) * 24.0)
    rng = np.random.default_rng(seed)
    return rng.binomial(np.round(values).astype(np.int64), p).astype(np.float64)


def real_series(name: str, per_day: float | None) -> tuple[np.ndarray, int, int]:
    """(values, first epoch second, training cut) of a data set, thinned to `per_day` (None: dense)."""
    path, column = DATASETS[name]
    raw, start = _read_hourly(path, column)
    values = raw if per_day is None else thinned(raw, per_day, SEED + int(per_day * 10))
    stop = values.size - TEST_HOURS - HORIZON  # the last origin whose week ends before the test window
    stop -= (start // 3600 + stop - 1 - ORIGIN_HOUR) % 24
    return values, start, stop - 24 * (ORIGINS - 1)


def synthetic_series(kind: str) -> tuple[np.ndarray, int, int]:
    """The generator's hourly leads (quiet weekends): SYNTHETIC_HISTORY_DAYS of history, then the
    validation days, the first origin at ORIGIN_HOUR."""
    from lead_ai_dev.synthetic import lead_counts

    cut = SYNTHETIC_HISTORY_DAYS * 24 + ORIGIN_HOUR + 1
    stamps, values = lead_counts(
        SYNTHETIC_START, cut + 24 * ORIGINS + HORIZON, seed=SEED, base_rate=SYNTHETIC_RATES[kind]
    )
    return values, int(stamps[0]), cut


def train_model(
    name: str, values: np.ndarray, start: int, daily_per_root_usual: bool = True
) -> tuple[OnnxForecaster, dict[str, float]]:
    """A model with production settings on `values` (the history before the validation period)."""
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster

    settings = TrainingSettings(holidays="US", daily_per_root_usual=daily_per_root_usual)
    result = train_forecaster([SeriesData(name, values, start)], settings)
    return OnnxForecaster.from_bytes(result.onnx_bytes), result.metrics


def median_candidate(
    sums: np.ndarray, counts: np.ndarray, scale: float, daily: Calibration
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate fix: each day's value the sum of its steps plus the daily table's median residual x
    level x steps, its bounds the same table's (so the value lies inside them)."""
    rows = daily.quantiles.shape[0]
    k = np.minimum(np.arange(sums.size), rows - 1)
    width = scale * counts
    median = daily.medians()
    lo, hi = daily.offsets(rows, LEVEL)
    value = np.maximum(sums + median[k] * width, 0.0)
    lower = np.minimum(np.maximum(sums + lo[k] * width, 0.0), value)
    return value, lower, np.maximum(sums + hi[k] * width, value)


def scored_days(
    model: OnnxForecaster, before: OnnxForecaster, values: np.ndarray, start: int, origin: int
) -> dict[str, np.ndarray]:
    """One forecast from `origin` (values[:origin] observed): per local day, the actual total, the kind
    of day, and each variant's value and bounds (`before`: the same model with a daily table per step)."""
    last = start + 3600 * (origin - 1)
    rows = model.origin_rows(values[:origin], last, HORIZON)
    value = model.predict_rows(rows, HORIZON, LEVEL).value
    wall = model.spec.wall_clock(last + 3600 * np.arange(1, HORIZON + 1, dtype=np.int64))[0]
    days = wall // 86400
    starts = np.concatenate([[0], np.flatnonzero(days[1:] != days[:-1]) + 1])
    counts = np.diff(np.concatenate([starts, [HORIZON]]))
    weekend = (days[starts] + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    out: dict[str, np.ndarray] = {
        "actual": np.add.reduceat(values[origin : origin + HORIZON], starts),
        "kind": day_kinds(counts, weekend),
    }
    daily = before.calibration.daily
    assert daily is not None, "every model trained on this much history has a daily table"
    usual = usual_volume(rows.X[:HORIZON], model.spec)
    variants = {
        "served": (model.calibration, usual),  # what GET /forecast answers
        "per_step": (before.calibration, usual),
        "steps": (before.calibration, None),
    }
    for variant, (calibration, volume) in variants.items():
        totals = daily_totals(value, days, rows.scale, calibration, LEVEL, volume)
        for key in ("value", "lower", "upper"):
            out[f"{variant}_{key}"] = np.array([d[key] for d in totals], dtype=np.float64)
    candidate = median_candidate(np.add.reduceat(value, starts), counts, rows.scale, daily)
    out["candidate_value"], out["candidate_lower"], out["candidate_upper"] = candidate
    return out


def day_kinds(counts: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Each local day of a forecast: "first" / "last" when partial (the origin's day from 08:00, the last
    day's night to 07:00), else "weekday" or "weekend"."""
    full = np.where(weekend, "weekend", "weekday")
    partial = np.where(np.arange(counts.size) == 0, "first", "last")
    return np.where(counts != 24, partial, full)


def summary(days: dict[str, np.ndarray], variant: str, mask: np.ndarray) -> dict[str, float]:
    """Bias, MAE (and over the mean actual day), 80 % coverage, and the interval's width and score over
    the mean actual day, of one variant's days in `mask`."""
    actual, value = days["actual"][mask], days[f"{variant}_value"][mask]
    lower, upper = days[f"{variant}_lower"][mask], days[f"{variant}_upper"][mask]
    mae = float(np.mean(np.abs(value - actual)))
    mean_day = float(actual.mean())
    miss = np.maximum(lower - actual, 0.0) + np.maximum(actual - upper, 0.0)
    score = (upper - lower) + 2.0 / (1.0 - LEVEL) * miss
    return {
        "bias": round(float(value.sum() / actual.sum() - 1.0), 4),
        "mae": round(mae, 3),
        "relative_mae": round(mae / mean_day, 4),
        "coverage": round(float(np.mean((actual >= lower) & (actual <= upper))), 4),
        "relative_width": round(float(np.mean(upper - lower)) / mean_day, 4),
        "relative_interval_score": round(float(np.mean(score)) / mean_day, 4),
    }


def case(name: str, values: np.ndarray, start: int, cut: int) -> dict[str, Any]:
    """Train on values[:cut], forecast from ORIGINS daily origins after it, score every variant."""
    began = time.perf_counter()
    model, metrics = train_model(name, values[:cut], start)
    trained_s = time.perf_counter() - began
    before, _ = train_model(name, values[:cut], start, daily_per_root_usual=False)
    per_origin = [scored_days(model, before, values, start, cut + 24 * j) for j in range(ORIGINS)]
    days = {k: np.concatenate([d[k] for d in per_origin]) for k in per_origin[0]}
    span = values[cut : cut + 24 * (ORIGINS - 1) + HORIZON]
    groups = {"all": np.ones(days["actual"].size, dtype=bool)}
    groups |= {kind: days["kind"] == kind for kind in KINDS}
    return {
        "leads_per_day": round(float(span.sum() / (span.size / 24)), 2),
        "hours_with_no_lead": round(float(np.mean(span == 0)), 3),
        "training": {
            "from": _iso(start),
            "to": _iso(start + 3600 * (cut - 1)),
            "seconds": round(trained_s, 1),
        },
        "origins": ORIGINS,
        "weight_squared_error": metrics.get("weight_squared_error"),
        "weight_naive": metrics.get("weight_naive"),
        "daily_coverage_backtest": round(metrics["daily_coverage"], 4),
        **{
            group: {"days": int(mask.sum()), **{v: summary(days, v, mask) for v in VARIANTS}}
            for group, mask in groups.items()
        },
    }


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cases(only: list[str] | None) -> list[tuple[str, tuple[np.ndarray, int, int]]]:
    """Every series to score, by key (data set, leads a day or dense)."""
    out = []
    for name in only or [*sorted(DATASETS), "synthetic"]:
        if name == "synthetic":
            out += [(f"synthetic_{kind}", synthetic_series(kind)) for kind in SYNTHETIC_RATES]
            continue
        out += [(f"{name}_{p:g}_per_day", real_series(name, p)) for p in LEADS_PER_DAY]
        out.append((f"{name}_dense", real_series(name, None)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=[*sorted(DATASETS), "synthetic"], action="append")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "OMP_NUM_THREADS=1 python benchmarks/sparse_daily.py " + " ".join(argv or sys.argv[1:]),
        "protocol": __doc__,
    }
    began = time.perf_counter()
    for key, (values, start, cut) in cases(args.only):
        report[key] = row = case(key, values, start, cut)
        print(f"{key}: {row['leads_per_day']}/day", flush=True)
        for group in ("all", *KINDS):
            print(
                f"   {group:8s} " + "  ".join(f"{v} {row[group][v]}" for v in VARIANTS),
                flush=True,
            )
    report["seconds"] = round(time.perf_counter() - began, 1)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.output} in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
