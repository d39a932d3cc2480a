"""The rolling-origin backtest: choose the loss blend, score it beside seasonal naive, calibrate intervals.

A model fitted only on data before the first backtest origin of each series forecasts steps 1..H from
`backtest_origins` origins, `backtest_stride` apart, ending at the last observation. Its errors give the
metrics (MASE, sMAPE, WAPE, coverage) beside the seasonal naive on the same origins, and its scaled
residuals (y - forecast) / level calibrate the intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lead_ai.forecasting.calibration import Calibration, calibrate
from lead_ai.forecasting.features import FeatureSpec, build_rows, prepare_window
from lead_ai.forecasting.scoring import coverage as coverage_of
from lead_ai.forecasting.scoring import mae, seasonal_naive_forecast, seasonal_naive_scale, smape
from lead_ai.forecasting.training.fit import fit_each, predict_sklearn
from lead_ai.forecasting.training.rows import training_rows
from lead_ai.forecasting.training.settings import BLEND_WEIGHTS, LOSSES, SeriesData, TrainingSettings


@dataclass
class Backtest:
    metrics: dict[str, float]
    residuals: np.ndarray  # (n_cases, H) scaled residuals, NaN where the actual is missing
    calibration: Calibration
    weights: dict[str, float] = field(default_factory=dict)  # loss -> blend weight (those > 0)
    origins: np.ndarray | None = None  # (n_cases,) epoch seconds of each case's origin


def _stride(spec: FeatureSpec, settings: TrainingSettings) -> int:
    """Steps between backtest origins: a day, or half the horizon when that is longer (so the origins of
    a week-ahead model span about four weeks and the calibration sees more than one week's regime)."""
    if settings.backtest_stride:
        return int(settings.backtest_stride)
    return max(spec.season_day, spec.max_horizon // 2)


def backtest_plan(series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings) -> list[int]:
    """Number of backtest origins per series (0 when a series is too short to hold any out)."""
    H = spec.max_horizon
    stride = _stride(spec, settings)
    plan = []
    min_train = spec.season_day + H  # need a day of history and one full horizon to train on
    for s in series:
        n = s.values.shape[0]
        k = settings.backtest_origins
        while k > 0 and n - ((k - 1) * stride + H) - 1 < min_train:
            k -= 1
        plan.append(k)
    return plan


def run_backtest(
    series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings, plan: Sequence[int]
) -> Backtest:
    """Fit on data before each series' first backtest origin, forecast from every origin, score.

    With loss="auto" one model per candidate loss is backtested and the one with the lower backtest
    MASE (then WAPE) is kept: its loss is used for the final model and its residuals calibrate it."""
    H = spec.max_horizon
    stride = _stride(spec, settings)
    first_origin = [
        s.values.shape[0] - 1 - ((k - 1) * stride + H) if k else s.values.shape[0] - 1
        for s, k in zip(series, plan, strict=True)
    ]
    # Half the row budget: the backtest models only choose the loss and calibrate (keeps training fast).
    rows = training_rows(series, first_origin, spec, max(settings.max_rows // 2, 1), settings.seed + 1)

    windows, stamps, actuals, insamples = [], [], [], []
    for s, k, o0 in zip(series, plan, first_origin, strict=True):
        for j in range(k):
            o = o0 + j * stride
            windows.append(prepare_window(s.values[: o + 1], spec))
            stamps.append(s.first_timestamp + o * s.interval_seconds)
            actuals.append(s.values[o + 1 : o + 1 + H])
            insamples.append(s.values[: o + 1])
    n = len(windows)
    W = np.stack(windows)
    idx = np.repeat(np.arange(n), H)
    steps = np.tile(np.arange(1, H + 1), n)
    X, level = build_rows(W, np.asarray(stamps, dtype=np.int64), idx, steps, spec)
    scale = level.reshape(n, H)
    actual = np.stack(actuals)
    baseline = [seasonal_naive_forecast(ffill(x), H, spec.season_day) for x in insamples]

    losses = LOSSES if settings.loss == "auto" else (settings.loss,)
    fitted = fit_each(rows, settings, losses)
    raw = {loss: predict_sklearn(model, X, settings.n_threads) for loss, model in fitted.items()}
    # Candidate blends: weight of the squared-error model (auto), else the one loss asked for.
    blends = (
        [{"squared_error": w, "absolute_error": 1.0 - w} for w in BLEND_WEIGHTS]
        if len(raw) > 1
        else [{losses[0]: 1.0}]
    )
    best: Backtest | None = None
    by_weight: dict[float, float] = {}
    for weights in blends:
        mix = sum(w * raw[loss] for loss, w in weights.items())
        point = np.maximum(np.asarray(mix) * level, 0.0).reshape(n, H)
        result = _score(point, actual, scale, insamples, baseline, spec, settings)
        result.weights = {loss: w for loss, w in weights.items() if w > 0}
        by_weight[weights.get("squared_error", 0.0)] = result.metrics["mase"]
        if best is None or _better(result.metrics, best.metrics):
            best = result
    assert best is not None
    best.origins = np.asarray(stamps, dtype=np.int64)
    if len(raw) > 1:
        best.metrics["backtest_mase_squared_error"] = by_weight[1.0]
        best.metrics["backtest_mase_absolute_error"] = by_weight[0.0]
    best.metrics["weight_squared_error"] = best.weights.get("squared_error", 0.0)
    return best


def _better(a: dict[str, float], b: dict[str, float]) -> bool:
    key = "mase" if math.isfinite(a["mase"]) and math.isfinite(b["mase"]) else "wape"
    return bool(a[key] < b[key])


def _score(
    point: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    insamples: list[np.ndarray],
    baseline: list[np.ndarray],
    spec: FeatureSpec,
    settings: TrainingSettings,
) -> Backtest:
    H, m = spec.max_horizon, spec.season_day
    residuals = (actual - point) / scale
    calibration = calibrate(residuals)
    lo_off, hi_off = calibration.offsets(H, settings.level)
    lower = np.minimum(np.maximum(point + lo_off * scale, 0.0), point)
    upper = np.maximum(point + hi_off * scale, point)

    mases, smapes, b_mases, b_smapes = [], [], [], []
    abs_err = abs_base = abs_act = 0.0
    for i in range(point.shape[0]):
        a = actual[i]
        base = baseline[i]
        denom = seasonal_naive_scale(insamples[i], m)
        if math.isfinite(denom):
            mases.append(mae(a, point[i]) / denom)
            b_mases.append(mae(a, base) / denom)
        smapes.append(smape(a, point[i]))
        b_smapes.append(smape(a, base))
        ok = ~np.isnan(a)
        abs_err += float(np.abs(a[ok] - point[i][ok]).sum())
        abs_base += float(np.abs(a[ok] - base[ok]).sum())
        abs_act += float(np.abs(a[ok]).sum())
    metrics = {
        "mase": _mean(mases),
        "smape": _mean(smapes),
        "wape": 100.0 * abs_err / abs_act if abs_act > 0 else float("nan"),
        "coverage": coverage_of(actual.reshape(-1), lower.reshape(-1), upper.reshape(-1)),
        "baseline_mase": _mean(b_mases),
        "baseline_smape": _mean(b_smapes),
        "baseline_wape": 100.0 * abs_base / abs_act if abs_act > 0 else float("nan"),
        "backtest_cases": float(point.shape[0]),
    }
    return Backtest(metrics=metrics, residuals=residuals, calibration=calibration)


def _mean(values: list[float]) -> float:
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    return float(arr.mean()) if arr.size else float("nan")


def ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN (leading NaN become the first observation); for the seasonal-naive baseline."""
    x = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(x)
    if ok.all() or not ok.any():
        return np.nan_to_num(x)
    idx = np.where(ok, np.arange(x.size), 0)
    np.maximum.accumulate(idx, out=idx)
    out = x[idx]
    out[: int(np.argmax(ok))] = x[int(np.argmax(ok))]
    return out
