"""Fleet benchmark, issue 12's last two rows: the pooled model on short histories, and the cost per training.

Run inside `make bench-fleet` (benchmarks/fleet.py, keys `pooled_model_accuracy` and `cpu_per_training`),
or alone:  OMP_NUM_THREADS=1 python benchmarks/pooled.py [--only pool|cpu] [--per-series-every 12]
The validation windows (where the serving fit's constants were chosen; `make bench-pooled-validation`):
           OMP_NUM_THREADS=1 python benchmarks/pooled.py --only pool --validation --output FILE

pooled_model_accuracy -- pooled vs per-series vs seasonal naive for series with 14 and 28 days of history,
on the real data sets in ../shared/data (read in place, see PROVENANCE.md):
  * M4 Hourly (414 series, horizon 48, the official test values): the series are split into 3 folds by a
    hash of their id; each fold's series are the new teams, and a pool is trained on the other folds'
    series exactly as the worker trains one (domain.pools.split_pool: 40 members, 12 held out for its
    blend and intervals; forecasting.training.pool with production settings, horizon 168). Each new
    team's history is the last 14 (28) days of its training series; its forecast of the 48 test hours is
    scored. Every series has its pool and seasonal-naive scores; "per series" (a model of its own trained
    on those 14/28 days, production settings, horizon 48) is trained for every `per_series_every`-th
    series and reported beside the pool and the naive on the same series.
  * Bike (cnt) and NYC taxi, hourly: at the 7 test origins of benchmarks/accuracy.py (the last 28 days,
    84 h apart), the new team's history is the 14 (28) days before the origin; the forecast of the next
    168 hours is scored at h=24 and h=168. Their pool is trained on M4 series (split_pool over all 414: a
    pool of *other* hourly series, as a new team's pool is), so bike and taxi are read as UTC series
    without a holiday calendar: the pool's group. A model of its own is trained at every origin; with 14
    days of history it cannot backtest a week ahead, so it answers fewer steps (its h=168 is then null).
  "pool" is what serving answers: the pooled model fitted to the new team's own last days
  (forecasting.local_fit: its blend with the seasonal naive and its interval widths, chosen on daily
  origins of the history it is given, nothing after it); "pool_unfitted" is the pool as exported.
  MASE: MAE / in-sample seasonal-naive (m=24) MAE of the history the model had; coverage of the 80 %
  interval over every scored step; MSIS (scoring.msis, the interval's width and misses, scaled as MASE);
  coverage per hour of the day (as the series is read) and its mean distance from 80 %.
  With --validation, beside the serving fit: the alternatives it was chosen against (FIT_ALTERNATIVES,
  "fit:<name>": origins every 12 or 6 hours, five days before an origin, weights in tenths, one interval
  width at every hour of the day, other margins and shrinkages of the hours' widths), and for bike
  and taxi `daily_origins`: every midnight before the test window as an origin (hundreds of windows,
  where the 7 of the protocol judge a choice poorly). Nothing here was tuned on these windows: the pool's settings
  (domain.pools) were fixed before this benchmark ran.

cpu_per_training -- one production training (1 year hourly, horizon 168) in a fresh process, with the
training settings of before the cut (`BEFORE`) and with today's defaults, one after the other in one run:
CPU seconds (user + system, every thread, resource.getrusage), wall, peak RSS, the backtest MASE; and one
pooled-model training at the production caps (40 members, 12 held out, 56 days each). Lambda's price:
duration x memory x $0.0000166667 per GB-second (x86, us-east-1, the first 6 billion GB-s a month) plus
$0.20 per million requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Run as a script (or imported by fleet.py, also a script): its own folder is first on sys.path.
from accuracy import DATA, M4_END, _read_hourly, _read_wide, rolling_origins  # noqa: E402

from lead_ai.forecasting import scoring  # noqa: E402
from lead_ai.forecasting.local_fit import SERVING, LocalFitSettings  # noqa: E402

DAYS = (14, 28)
M4_H = 48
FOLDS = 3
LEVEL = 0.8
# The serving fit (forecasting.local_fit) and the alternatives it was chosen against: scored side by side on
# the validation windows only ("fit:<name>"; "pool" is the serving one, the defaults)
_TENTHS = tuple(round(0.1 * i, 1) for i in range(11))
FIT_ALTERNATIVES = {
    "origins_12h": SERVING._replace(origin_every=12, max_origins=28),
    "origins_6h": SERVING._replace(origin_every=6, max_origins=56),
    "min_5_days": SERVING._replace(min_days=5),
    "origins_12h_min_5_days": SERVING._replace(origin_every=12, max_origins=28, min_days=5),
    "weights_tenths": SERVING._replace(weights=_TENTHS),
    "origins_12h_weights_tenths": SERVING._replace(origin_every=12, max_origins=28, weights=_TENTHS),
    "one_width_all_hours": SERVING._replace(slot_shrink=None, interval_margin=0.0),  # served until 12-02
    "one_width_margin_2": SERVING._replace(slot_shrink=None),
    "hours_no_margin": SERVING._replace(interval_margin=0.0),
    "hours_margin_1": SERVING._replace(interval_margin=0.01),
    "hours_margin_3": SERVING._replace(interval_margin=0.03),
    "hours_shrink_3": SERVING._replace(slot_shrink=3.0),
    "hours_shrink_30": SERVING._replace(slot_shrink=30.0),
}
# Lambda x86 price (us-east-1, first 6 billion GB-s a month) and the per-request charge
PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_REQUEST = 0.20 / 1_000_000
WORKER_MB = 3008  # template.yaml TrainWorkerFunction MemorySize
ONE_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB
# The training settings before the CPU cut (issue 12): every row, both losses' fits, no early stopping
BEFORE = {
    "max_rows_per_series": 200_000,
    "backtest_row_share": 0.5,
    "early_stopping": False,
    "blend_margin": 0.0,
}

_TRAINING_CHILD = """
import json, resource, sys, time
def peak_kib():  # this process's own peak (ru_maxrss keeps the forking parent's after exec)
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
from datetime import UTC, datetime
from lead_ai_dev.synthetic import recent_lead_counts
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
overrides = json.loads(sys.argv[1])
stamps, values = recent_lead_counts(365, seed=11, now=datetime(2026, 11, 9, 12, tzinfo=UTC))
# A worker trains many series per container: the libraries' import (a cold start's cost) is not counted.
import onnx, skl2onnx, sklearn.ensemble, threadpoolctl  # noqa: E401,F401
before = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter()
result = train_forecaster([SeriesData("sizing", values.astype(float), int(stamps[0]), 3600)],
                          TrainingSettings(**overrides))
wall = time.perf_counter() - wall
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
json.dump({"points": int(len(values)), "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
           "cpu_per_wall": round(cpu / wall, 2), "peak_rss_mib": round(peak_kib() / 1024, 1),
           "backtest_mase": round(result.metrics["mase"], 4), "coverage": round(result.metrics["coverage"], 3),
           "training_rows": int(result.metrics["training_rows"])}, sys.stdout)
"""

_POOL_CHILD = """
import json, resource, sys, time
def peak_kib():  # this process's own peak (ru_maxrss keeps the forking parent's after exec)
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
from datetime import UTC, datetime, timedelta
from lead_ai_dev.synthetic import lead_counts
from lead_ai.domain.pools import POOL_HISTORY_DAYS, POOL_MAX_HELD_OUT, POOL_MAX_MEMBERS, pool_min_points
from lead_ai.forecasting.training.pool import train_pool_forecaster
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings
end = datetime(2026, 11, 9, 12, tzinfo=UTC)
hours = POOL_HISTORY_DAYS * 24
def series(i):
    stamps, values = lead_counts(end - timedelta(hours=hours), hours, seed=100 + i, base_rate=4.0 + i % 9)
    return SeriesData(f"s{i}", values.astype(float), int(stamps[0]), 3600)
members = [series(i) for i in range(POOL_MAX_MEMBERS)]
held = [series(1000 + i) for i in range(POOL_MAX_HELD_OUT)]
import onnx, skl2onnx, sklearn.ensemble, threadpoolctl  # noqa: E401,F401  (not counted: see above)
before = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter()
result = train_pool_forecaster(members, held, TrainingSettings(), new_min_points=pool_min_points(3600),
                               history_days=POOL_HISTORY_DAYS)
wall = time.perf_counter() - wall
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
json.dump({"members": len(members), "held_out": len(held), "days": POOL_HISTORY_DAYS,
           "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
           "peak_rss_mib": round(peak_kib() / 1024, 1), "training_rows": int(result.metrics["training_rows"]),
           "held_out_mase": round(result.metrics["mase"], 4),
           "held_out_seasonal_naive_mase": round(result.metrics["baseline_mase"], 4),
           "held_out_coverage": round(result.metrics["coverage"], 3),
           "onnx_kib": round(len(result.onnx_bytes) / 1024, 1)},
          sys.stdout)
"""


# ------------------------------------------------------------------------------------------ accuracy


def pooled_model_accuracy(per_series_every: int = 12, validation: bool = False) -> dict[str, Any]:
    """The scored test windows, or with `validation` the windows before them that choices are made on:
    M4's last 48 training hours (each series' training data ends 48 h earlier), and the validation
    origins of benchmarks/accuracy.py for bike and taxi."""
    train = _read_wide(DATA / "m4_hourly" / "Hourly-train.csv.gz")
    test = _read_wide(DATA / "m4_hourly" / "Hourly-test.csv.gz")
    end = M4_END
    if validation:
        test = {sid: v[-M4_H:] for sid, v in train.items()}
        train = {sid: v[:-M4_H] for sid, v in train.items()}
        end = M4_END - 3600 * M4_H
    out: dict[str, Any] = {"split": "validation" if validation else "test"}
    alternatives = FIT_ALTERNATIVES if validation else {}
    out["m4_hourly"] = _m4(train, test, end, per_series_every, alternatives)
    pool = _pool_of(train, end, [sid for sid in sorted(train)], "bench-bike-taxi")
    bike = _read_hourly(DATA / "bike_sharing" / "bike_hourly_regular.csv.gz", "cnt")
    taxi = _read_hourly(DATA / "nyc_taxi" / "nyc_taxi_hourly.csv.gz", "y")
    for name, (values, start) in (("bike", bike), ("taxi", taxi)):
        out[name] = _rolling(name, values, start, pool, validation)
        if validation:
            out[name]["daily_origins"] = _daily(values, start, pool, alternatives)
    out["checks"] = {
        f"{name}_{days}d": {
            "pool_beats_seasonal_naive": all(
                row["pool"]["mase"] < row["seasonal_naive"]["mase"] for row in _rows(out[name][f"{days}d"])
            ),
            "pool_coverage_75_85": all(
                0.75 <= row["pool"]["coverage"] <= 0.85 for row in _rows(out[name][f"{days}d"])
            ),
        }
        for name in ("m4_hourly", "bike", "taxi")
        for days in DAYS
    }
    return out


def _rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry[k] for k in ("all", "h24", "h168") if k in entry]


def _m4(
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    end: int,
    every: int,
    alternatives: dict[str, LocalFitSettings],
) -> dict[str, Any]:
    ids = sorted(train)
    scores: dict[int, dict[str, list[Any]]] = {d: {} for d in DAYS}
    members_of: dict[int, int] = {}
    for fold in range(FOLDS):
        targets = [sid for sid in ids if _fold(sid) == fold]
        pool = _pool_of(train, end, [sid for sid in ids if _fold(sid) != fold], f"bench-m4-{fold}")
        members_of[fold] = int(pool["metrics"]["pool_members"])
        print(f"   M4 fold {fold}: pool of {members_of[fold]} members, {len(targets)} new teams", flush=True)
        for sid in targets:
            sampled = every > 0 and ids.index(sid) % every == 0
            for days in DAYS:
                history = train[sid][-days * 24 :]
                first = end - 3600 * history.size
                row = _score_all(
                    sid, history, first, test[sid], pool, sampled, M4_H, alternatives=alternatives
                )
                for method, scored in row.items():
                    scores[days].setdefault(method, []).append((sid, scored))
    result: dict[str, Any] = {
        "protocol": "3 folds; each fold's series are new teams, the pool is trained on the other folds",
        "horizon": M4_H,
        "pool_members_per_fold": members_of,
    }
    for days in DAYS:
        per = scores[days]
        sample = {sid for sid, _ in per.get("per_series", [])}
        result[f"{days}d"] = {
            "all": {m: _summary(v) for m, v in per.items() if m != "per_series"}
            | {"series": len(per["pool"])},
        }
        if sample:
            result[f"{days}d"]["sample"] = {
                m: _summary([r for r in v if r[0] in sample]) for m, v in per.items()
            } | {"series": len(sample)}
    return result


def _rolling(
    name: str, values: np.ndarray, start: int, pool: dict[str, Any], validation: bool
) -> dict[str, Any]:
    origins = rolling_origins(values.size, validation=validation)
    out: dict[str, Any] = {"origins": origins, "timezone": "UTC", "holidays": "none"}
    for days in DAYS:
        per: dict[int, dict[str, list[Any]]] = {24: {}, 168: {}}
        for o in origins:
            history = values[o - days * 24 : o]
            first = start + 3600 * (o - days * 24)  # the file's wall-clock hours, read as UTC
            row = _score_all(
                f"{name}-{o}",
                history,
                first,
                values[o : o + 168],
                pool,
                not validation,  # a model of its own is the test split's comparison only
                168,
                horizons=(24, 168),
            )
            for method, by_h in row.items():
                for h, scored in by_h.items():
                    per[h].setdefault(method, []).append((o, scored))
        out[f"{days}d"] = {f"h{h}": {m: _summary(v) for m, v in per[h].items()} for h in (24, 168)}
    return out


def _daily(
    values: np.ndarray, start: int, pool: dict[str, Any], alternatives: dict[str, LocalFitSettings]
) -> dict[str, Any]:
    """Validation on many windows: an origin every day at midnight from the first with `days` of history
    to the last whose 168 hours end before the test window (the last 28 days) begins. Seven origins judge
    a choice poorly; these are hundreds, none of them scored by the test split."""
    stop = values.size - 672 - 168
    out: dict[str, Any] = {}
    for days in DAYS:
        origins = range(days * 24, stop + 1, 24)
        per: dict[int, dict[str, list[Any]]] = {24: {}, 168: {}}
        for o in origins:
            history, first = values[o - days * 24 : o], start + 3600 * (o - days * 24)
            row = _score_all(
                "", history, first, values[o : o + 168], pool, False, 168, (24, 168), alternatives
            )
            for method, by_h in row.items():
                for h, scored in by_h.items():
                    per[h].setdefault(method, []).append((o, scored))
        out[f"{days}d"] = {"origins": len(origins)} | {
            f"h{h}": {m: _summary(v) for m, v in per[h].items()} for h in (24, 168)
        }
    return out


def _score_all(
    sid: str,
    history: np.ndarray,
    first_ts: int,
    actual: np.ndarray,
    pool: dict[str, Any],
    per_series: bool,
    horizon: int,
    horizons: tuple[int, ...] = (),
    alternatives: dict[str, LocalFitSettings] | None = None,
) -> dict[str, Any]:
    """Pool, seasonal naive and (if asked) a model of its own on one history; (MASE, coverage) per method,
    per scored horizon when `horizons` is given. Each of `alternatives` is the pool fitted another way."""
    last_ts = first_ts + 3600 * (history.size - 1)
    forecasts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    # What production serves a young series: the pool fitted to its own last days (forecasting.local_fit);
    # beside it, the pool as exported, unfitted (what was served before the fit existed).
    served = pool["forecaster"].fitted_to(history, last_ts).predict(history, last_ts, horizon, LEVEL)
    forecasts["pool"] = (served.value, served.lower, served.upper)
    p = pool["forecaster"].predict(history, last_ts, horizon, LEVEL)
    forecasts["pool_unfitted"] = (p.value, p.lower, p.upper)
    for name, settings in (alternatives or {}).items():
        other = (
            pool["forecaster"].fitted_to(history, last_ts, settings).predict(history, last_ts, horizon, LEVEL)
        )
        forecasts[f"fit:{name}"] = (other.value, other.lower, other.upper)
    naive = scoring.seasonal_naive_forecast(history, horizon, 24)
    forecasts["seasonal_naive"] = (naive, np.full(horizon, np.nan), np.full(horizon, np.nan))
    if per_series:
        own = _own_model(sid, history, first_ts, horizon)
        if own is not None:
            forecasts["per_series"] = own
    # each step's hour of the day, as the series is read (UTC; M4's invented clock)
    hour = ((last_ts // 3600 + np.arange(1, horizon + 1)) % 24).astype(np.int64)
    out: dict[str, Any] = {}
    for method, (value, lower, upper) in forecasts.items():
        if not horizons:
            out[method] = _scored(actual, value, lower, upper, history, hour[: actual.size])
            continue
        out[method] = {
            h: _scored(actual[:h], value[:h], lower[:h], upper[:h], history, hour[:h])
            if value.size >= h
            else Scored(None)
            for h in horizons
        }
    return out


class Scored(NamedTuple):
    """One forecast's scores; interval ones None for a method without intervals."""

    mase: float | None
    coverage: float | None = None
    msis: float | None = None
    hours: np.ndarray | None = None  # (24, 2): inside the interval, scored; per hour of the day


def _scored(
    actual: np.ndarray,
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    history: np.ndarray,
    hours: np.ndarray,
) -> Scored:
    mase = float(scoring.mase(actual, value, history, 24))
    if np.isnan(lower).all():
        return Scored(mase)
    scored = ~np.isnan(actual)
    inside = (actual >= lower) & (actual <= upper)
    by_hour = np.stack(
        [
            np.bincount(hours[scored], weights=inside[scored].astype(float), minlength=24),
            np.bincount(hours[scored], minlength=24).astype(float),
        ],
        axis=1,
    )
    return Scored(
        mase,
        float(scoring.coverage(actual, lower, upper)),
        float(scoring.msis(actual, lower, upper, history, LEVEL, 24)),
        by_hour,
    )


def _own_model(
    sid: str, history: np.ndarray, first_ts: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A model of its own on the short history (production settings; the minimum history waived): its
    forecast, as many steps as it could train for."""
    from lead_ai.forecasting.inference import OnnxForecaster
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster

    result = train_forecaster(
        [SeriesData(sid, history, first_ts, 3600)],
        TrainingSettings(max_horizon=horizon, min_points=int(np.count_nonzero(~np.isnan(history)))),
    )
    forecaster = OnnxForecaster.from_bytes(result.onnx_bytes)
    steps = forecaster.max_horizon
    f = forecaster.predict(history, first_ts + 3600 * (history.size - 1), steps, LEVEL)
    return f.value, f.lower, f.upper


def _summary(rows: list[tuple[Any, Scored]]) -> dict[str, Any]:
    """Means over the windows; for a method with intervals also its MSIS, and its coverage per hour of
    the day with their mean distance from the level (80 % overall can hide nights covered 100 % and
    peaks 50 %)."""
    mases = [r.mase for _, r in rows if r.mase is not None and np.isfinite(r.mase)]
    covers = [r.coverage for _, r in rows if r.coverage is not None]
    out: dict[str, Any] = {
        "mase": round(float(np.mean(mases)), 4) if mases else None,
        "coverage": round(float(np.mean(covers)), 4) if covers else None,
        "n": len(mases),
    }
    scores = [r.msis for _, r in rows if r.msis is not None and np.isfinite(r.msis)]
    if scores:
        out["msis"] = round(float(np.mean(scores)), 4)
    hours = [r.hours for _, r in rows if r.hours is not None]
    if hours:
        inside, scored = np.sum(hours, axis=0).T
        by_hour = inside / np.maximum(scored, 1.0)
        out["coverage_hour_deviation"] = round(float(np.mean(np.abs(by_hour - LEVEL))), 4)
        out["coverage_by_hour"] = [round(float(c), 3) for c in by_hour]
    return out


def _fold(series_id: str) -> int:
    return int(hashlib.sha256(series_id.encode()).hexdigest(), 16) % FOLDS


def _pool_of(train: dict[str, np.ndarray], end: int, eligible: list[str], name: str) -> dict[str, Any]:
    """A pool trained as the worker trains one: split_pool's members and held-out series, production
    settings (horizon 168; a model of its own from 1,000 hours), each series ending at M4_END."""
    from lead_ai.domain.pools import POOL_HISTORY_DAYS, pool_min_points, split_pool
    from lead_ai.forecasting.inference import OnnxForecaster
    from lead_ai.forecasting.training.pool import train_pool_forecaster
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings

    split = split_pool(f"pool:{name}", eligible)

    def data(sid: str) -> SeriesData:
        values = train[sid]
        return SeriesData(sid, values, end - 3600 * values.size, 3600)

    result = train_pool_forecaster(
        [data(s) for s in split.members],
        [data(s) for s in split.held_out],
        TrainingSettings(),
        new_min_points=pool_min_points(3600),
        history_days=POOL_HISTORY_DAYS,
    )
    return {"forecaster": OnnxForecaster.from_bytes(result.onnx_bytes), "metrics": result.metrics}


# ------------------------------------------------------------------------------------------ cost


def cpu_per_training(rounds: int = 3) -> dict[str, Any]:
    """Before and after, alternated `rounds` times (a shared machine drifts): the median run of each,
    and the median of the paired ratios."""
    pairs = [(_child(_TRAINING_CHILD, BEFORE), _child(_TRAINING_CHILD, {})) for _ in range(rounds)]
    ratios = sorted(a["cpu_seconds"] / b["cpu_seconds"] for b, a in pairs)
    before = sorted((b for b, _ in pairs), key=lambda r: float(r["cpu_seconds"]))[rounds // 2]
    after = sorted((a for _, a in pairs), key=lambda r: float(r["cpu_seconds"]))[rounds // 2]
    pool = _child(_POOL_CHILD, {})
    return {
        "protocol": "1 year hourly (synthetic leads, seed 11), horizon 168, train_forecaster in a fresh "
        f"process, before and after alternated {rounds} times (median run of each): CPU = user + system "
        "of every thread (resource.getrusage), the libraries' import excluded",
        "before_settings": BEFORE,
        "before": before | _cost(before),
        "after": after | _cost(after),
        "cpu_seconds_each_round": [{"before": b["cpu_seconds"], "after": a["cpu_seconds"]} for b, a in pairs],
        "cpu_ratio_after_to_before": round(ratios[rounds // 2], 3),
        "pool_training": pool | _cost(pool),
        "price": {
            "per_gb_second_usd": PRICE_PER_GB_SECOND,
            "per_request_usd": PRICE_PER_REQUEST,
            "note": "AWS Lambda x86, us-east-1, first 6 billion GB-s a month",
        },
    }


def _cost(run: dict[str, Any]) -> dict[str, Any]:
    """Lambda cost of one training a day (USD), at the worker's 3,008 MB and at 1,769 MB (one vCPU).

    Lambda bills wall time: with ~1.7 vCPU at 3,008 MB a training takes its CPU seconds divided by the
    parallelism it reaches (at most 1.7); at 1,769 MB, one vCPU, it takes its CPU seconds."""
    cpu = float(run["cpu_seconds"])
    parallel = min(1.7, max(1.0, cpu / float(run["wall_seconds"])))
    at_3008 = WORKER_MB / 1024 * cpu / parallel
    at_1769 = ONE_VCPU_MB / 1024 * cpu
    return {
        "lambda_gb_seconds_3008mb": round(at_3008, 1),
        "usd_per_series_day_3008mb": round(at_3008 * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST, 6),
        "lambda_gb_seconds_1769mb": round(at_1769, 1),
        "usd_per_series_day_1769mb": round(at_1769 * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST, 6),
    }


def _child(code: str, overrides: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(overrides)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["pool", "cpu"])
    parser.add_argument("--per-series-every", type=int, default=12)
    parser.add_argument(
        "--validation",
        action="store_true",
        help="score the validation windows before the test ones (where choices are made), pool only",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    if args.only in (None, "cpu"):
        report["cpu_per_training"] = cpu_per_training()
    if args.only in (None, "pool"):
        every = 0 if args.validation else args.per_series_every
        report["pooled_model_accuracy"] = pooled_model_accuracy(every, args.validation)
    text = json.dumps(report, indent=2)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
