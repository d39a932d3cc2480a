"""The rolling-origin backtest: choose the blend, score it beside seasonal naive (and the champion),
calibrate intervals.

A model fitted only on data before the first backtest origin of each series forecasts steps 1..H from
`backtest_origins` origins, `backtest_stride` apart, ending at the last observation. The blend served is
chosen on these origins among the two losses' models, their mixtures, and their mixtures with the
seasonal-naive forecast read from the same feature rows (naive.py), up to the naive alone. The naive
alone is one of the candidates, so what is chosen is never worse on the backtest than the baseline.

Candidates are compared by MASE, or by the mean absolute error when MASE is undefined (a dead or
constant history: the in-sample seasonal-naive error is 0); both are measured on the same windows for
every candidate. Actuals that are isolated extremes for their origin's window (features.extreme_limits)
are not scored, and do not enter the MASE scale. The chosen blend's scaled residuals (y - forecast) /
level calibrate the intervals."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from lead_ai.forecasting.calibration import Calibration, calibrate, interval_bounds
from lead_ai.forecasting.extremes import extreme_limits
from lead_ai.forecasting.feature_spec import FeatureSpec, slots_of_week
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.scoring import coverage as coverage_of
from lead_ai.forecasting.scoring import seasonal_naive_scale, smape
from lead_ai.forecasting.seasonal_naive import blend_rows
from lead_ai.forecasting.training.fit import fit_each, predict_sklearn
from lead_ai.forecasting.training.rows import training_rows
from lead_ai.forecasting.training.settings import BLEND_WEIGHTS, SeriesData, TrainingSettings
from lead_ai.forecasting.usual_volume import usual_volume


class Champion(NamedTuple):
    """The model being served, to be scored on the candidate's backtest windows (with its own features).

    trained_until: the last observation it was fitted on (epoch seconds). Its forecasts of steps up to it
    recall what it learnt, so only the steps after it are scored; None: it never saw this series (a
    pooled model), and every step is."""

    spec: FeatureSpec
    run: Callable[[np.ndarray], np.ndarray]  # float32 feature rows -> scaled forecast, one per row
    trained_until: int | None = None


# Fewer unseen steps than a week's are too few to judge a champion on (a day's would all be of the
# backtest's last window, at its longest steps): the candidate is then promoted (service.promotion).
MIN_UNSEEN_DAYS = 7


@dataclass
class Backtest:
    metrics: dict[str, float]
    residuals: np.ndarray  # (n_cases, H) scaled residuals, NaN where the actual is missing
    calibration: Calibration
    weights: dict[str, float] = field(default_factory=dict)  # loss -> weight within the model (those > 0)
    weight_naive: float = 0.0  # share of the seasonal naive in what is served
    origins: np.ndarray | None = None  # (n_cases,) epoch seconds of each case's origin
    usual: np.ndarray | None = None  # (n_cases, H) each step's scaled usual volume (forecasting.usual_volume)


class _Cases(NamedTuple):
    """The backtest's forecast origins: one window each, the actuals after it and its MASE scale."""

    series_index: np.ndarray  # (n,) which series
    origin: np.ndarray  # (n,) index of the origin in its series
    windows: np.ndarray  # (n, spec.window)
    limits: np.ndarray  # (n,) features.extreme_limits of each window
    stamps: np.ndarray  # (n,) epoch seconds of each origin
    actual: np.ndarray  # (n, H), NaN where missing or an isolated extreme
    scale: np.ndarray  # (n,) in-sample seasonal-naive MAE (NaN when 0 or undefined)


def backtest_stride(spec: FeatureSpec, settings: TrainingSettings) -> int:
    """Steps between backtest origins: a day, or half the horizon when that is longer (so the origins of
    a week-ahead model span about four weeks and the calibration sees more than one week's regime)."""
    if settings.backtest_stride:
        return int(settings.backtest_stride)
    return max(spec.season_day, spec.max_horizon // 2)


def backtest_plan(series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings) -> list[int]:
    """Number of backtest origins per series (0 when a series is too short to hold any out)."""
    return [origins_for(s.values.shape[0], spec, settings) for s in series]


def origins_for(n_slots: int, spec: FeatureSpec, settings: TrainingSettings) -> int:
    """How many backtest origins a history of n_slots holds (each needs a day and a horizon to train on)."""
    H = spec.max_horizon
    stride = backtest_stride(spec, settings)
    min_train = spec.season_day + H
    k = settings.backtest_origins
    while k > 0 and n_slots - ((k - 1) * stride + H) - 1 < min_train:
        k -= 1
    return k


def run_backtest(
    series: Sequence[SeriesData],
    spec: FeatureSpec,
    settings: TrainingSettings,
    plan: Sequence[int],
    champion: Champion | None = None,
) -> Backtest:
    """Fit on data before each series' first backtest origin, forecast from every origin, choose, score.

    With a champion, it is scored on the same origins (and the steps it answers): the metrics then hold
    champion_* and challenger_* (the candidate on exactly those steps)."""
    H = spec.max_horizon
    stride = backtest_stride(spec, settings)
    first_origin = [
        s.values.shape[0] - 1 - ((k - 1) * stride + H) if k else s.values.shape[0] - 1
        for s, k in zip(series, plan, strict=True)
    ]
    # A share of the row budget: the backtest models only choose the blend and calibrate.
    share = settings.backtest_row_share
    rows = training_rows(
        series,
        first_origin,
        spec,
        max(int(settings.max_rows * share), 1),
        settings.seed + 1,
        max(int(settings.max_rows_per_series * share), 1),
    )
    cases = backtest_cases(series, plan, first_origin, stride, spec)
    losses = settings.losses
    return evaluate(fit_each(rows, settings, losses), series, cases, spec, settings, champion)


def evaluate(
    fitted: dict[str, Any],
    series: Sequence[SeriesData],
    cases: _Cases,
    spec: FeatureSpec,
    settings: TrainingSettings,
    champion: Champion | None = None,
) -> Backtest:
    """Forecast every case with the fitted models (one per loss), choose the blend served, score it beside
    the seasonal naive (and the champion), calibrate on its residuals. The pooled model calls this with
    cases from series it was not fitted on (training.pool)."""
    H = spec.max_horizon
    n = cases.origin.size
    idx = np.repeat(np.arange(n), H)
    steps = np.tile(np.arange(1, H + 1), n)
    X, level = build_rows(cases.windows, cases.stamps, idx, steps, spec, cases.limits)

    losses = tuple(fitted)
    raw = {loss: predict_sklearn(model, X, settings.n_threads) for loss, model in fitted.items()}
    model_blends = (
        [{"squared_error": w, "absolute_error": 1.0 - w} for w in BLEND_WEIGHTS]
        if len(raw) > 1
        else [{losses[0]: 1.0}]
    )

    def point_of(weights: dict[str, float], weight_naive: float) -> np.ndarray:
        mix = sum(w * raw[loss] for loss, w in weights.items())
        return np.maximum(blend_rows(np.asarray(mix), X, spec, weight_naive) * level, 0.0).reshape(n, H)

    def candidate_key(weights: dict[str, float], weight_naive: float) -> tuple[float, float, float]:
        mase, mae = _accuracy(point_of(weights, weight_naive), cases.actual, cases.scale)
        return (mase if math.isfinite(mase) else mae), mase, mae

    # Every candidate on the same windows; the naive weights ascend, so a tie keeps the least naive.
    best: tuple[float, dict[str, float], float] | None = None
    model_only: dict[float, tuple[float, float]] = {}
    for weight_naive in sorted({0.0, 1.0, *settings.naive_weights}):
        for weights in model_blends:
            key, mase, mae = candidate_key(weights, weight_naive)
            if weight_naive == 0.0:
                model_only[weights.get("squared_error", 0.0)] = (mase, mae)
            if best is None or key < best[0]:
                best = (key, weights, weight_naive)
    assert best is not None
    _, weights, weight_naive = best
    if len(weights) > 1 and settings.blend_margin > 0:
        weights = _single_loss_if_close(weights, weight_naive, best[0], settings.blend_margin, candidate_key)
    best_model = min(model_only.values(), key=lambda m: m[0] if math.isfinite(m[0]) else m[1])
    point = point_of(weights, weight_naive)
    scale = level.reshape(n, H)
    slots = slots_of_week(X, spec.season_day).reshape(n, H)  # each target's local slot of the week
    result = _score(point, point_of(weights, 1.0), cases, scale, slots, spec, settings)
    result.weights = {loss: w for loss, w in weights.items() if w > 0}
    result.weight_naive = weight_naive
    result.origins = np.asarray(cases.stamps, dtype=np.int64)
    result.usual = usual_volume(X, spec).reshape(n, H)
    if len(raw) > 1:
        result.metrics["backtest_mase_squared_error"] = model_only[1.0][0]
        result.metrics["backtest_mase_absolute_error"] = model_only[0.0][0]
    # The best the learned model did alone, to say why the naive took weight
    result.metrics["backtest_mase_model"], result.metrics["backtest_mae_model"] = best_model
    result.metrics["weight_squared_error"] = weights.get("squared_error", 0.0)
    result.metrics["weight_naive"] = weight_naive
    if champion is not None:
        result.metrics.update(_against_champion(champion, series, cases, point, spec))
    return result


def _single_loss_if_close(
    weights: dict[str, float],
    weight_naive: float,
    best_key: float,
    margin: float,
    key_of: Callable[[dict[str, float], float], tuple[float, float, float]],
) -> dict[str, float]:
    """The better single loss when the two-loss blend beats it by less than `margin` (relative): the
    final model then fits one model instead of two (half its cost) for a difference within noise."""
    singles = [{loss: 1.0} for loss in weights]
    scored = [(key_of(w, weight_naive)[0], w) for w in singles]
    key, single = min(scored, key=lambda s: s[0] if math.isfinite(s[0]) else math.inf)
    if math.isfinite(key) and math.isfinite(best_key) and key <= best_key * (1.0 + margin):
        return single
    return weights


def backtest_cases(
    series: Sequence[SeriesData],
    plan: Sequence[int],
    first_origin: Sequence[int],
    stride: int,
    spec: FeatureSpec,
) -> _Cases:
    """The cases of `plan[i]` origins per series, `stride` apart from `first_origin[i]`."""
    H = spec.max_horizon
    which, origins, windows, stamps, actuals, insamples = [], [], [], [], [], []
    for i, (s, k, o0) in enumerate(zip(series, plan, first_origin, strict=True)):
        for j in range(k):
            o = o0 + j * stride
            which.append(i)
            origins.append(o)
            windows.append(prepare_window(s.values[: o + 1], spec))
            stamps.append(s.first_timestamp + o * s.interval_seconds)
            actuals.append(s.values[o + 1 : o + 1 + H])
            insamples.append(s.values[: o + 1])
    W = np.stack(windows)
    limit = extreme_limits(W)
    actual = np.stack(actuals)
    actual = np.where(np.abs(actual) > limit[:, None], np.nan, actual)
    scale = np.array(
        [
            seasonal_naive_scale(np.where(np.abs(x) > lim, np.nan, x), spec.season_day)
            for x, lim in zip(insamples, limit, strict=True)
        ]
    )
    return _Cases(
        np.asarray(which), np.asarray(origins), W, limit, np.asarray(stamps, dtype=np.int64), actual, scale
    )


def _accuracy(point: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    """(MASE, MAE) over the windows: MASE the mean of each window's MAE / its scale (windows with a
    scale), MAE over every observed actual (NaN only when nothing was observed)."""
    err = np.abs(actual - point)
    observed = ~np.isnan(err)
    count = observed.sum(axis=1)
    total = np.where(observed, err, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_window = np.where(count > 0, total / np.maximum(count, 1), np.nan) / scale
    finite = per_window[np.isfinite(per_window)]
    mase = float(finite.mean()) if finite.size else float("nan")
    mae = float(total.sum() / count.sum()) if count.sum() else float("nan")
    return mase, mae


def _against_champion(
    champion: Champion, series: Sequence[SeriesData], cases: _Cases, point: np.ndarray, spec: FeatureSpec
) -> dict[str, float]:
    """The champion's and the candidate's MASE and MAE on the same origins and the steps both answer,
    after the data the champion was fitted on; only the count of those steps when they are too few."""
    cspec = champion.spec
    steps = min(cspec.max_horizon, point.shape[1])
    actual = cases.actual[:, :steps]
    if champion.trained_until is not None:
        targets = cases.stamps[:, None] + spec.interval_seconds * np.arange(1, steps + 1, dtype=np.int64)
        actual = np.where(targets > champion.trained_until, actual, np.nan)
    unseen = int(np.count_nonzero(~np.isnan(actual)))
    counts = {"champion_steps": float(steps), "champion_unseen_steps": float(unseen)}
    if unseen < MIN_UNSEEN_DAYS * spec.season_day:
        return counts
    n = cases.origin.size
    windows = np.stack(
        [
            prepare_window(series[i].values[: o + 1], cspec)
            for i, o in zip(cases.series_index, cases.origin, strict=True)
        ]
    )
    Xc, level = build_rows(
        windows, cases.stamps, np.repeat(np.arange(n), steps), np.tile(np.arange(1, steps + 1), n), cspec
    )
    theirs = np.maximum(champion.run(Xc) * level, 0.0).reshape(n, steps)
    champion_mase, champion_mae = _accuracy(theirs, actual, cases.scale)
    challenger_mase, challenger_mae = _accuracy(point[:, :steps], actual, cases.scale)
    return counts | {
        "champion_mase": champion_mase,
        "champion_mae": champion_mae,
        "challenger_mase": challenger_mase,
        "challenger_mae": challenger_mae,
    }


def _score(
    point: np.ndarray,
    baseline: np.ndarray,
    cases: _Cases,
    scale: np.ndarray,
    slots: np.ndarray,
    spec: FeatureSpec,
    settings: TrainingSettings,
) -> Backtest:
    H = spec.max_horizon
    actual = cases.actual
    residuals = (actual - point) / scale
    if settings.slot_intervals and np.unique(cases.series_index).size == 1:
        calibration = calibrate(
            residuals,
            slots=slots,
            season_day=spec.season_day,
            week_shrink=settings.week_shrink,
            cross_fit=settings.slot_cross_fit,
        )
    else:
        calibration = calibrate(residuals)
    lo_off, hi_off = calibration.offsets(H, settings.level)
    width = calibration.spread(slots) * scale  # each step's offsets in the data's units
    _, lower, upper = interval_bounds(point, lo_off * width, hi_off * width)  # as serving makes them
    mase, mae = _accuracy(point, actual, cases.scale)
    baseline_mase, baseline_mae = _accuracy(baseline, actual, cases.scale)
    metrics = {
        "mase": mase,
        "mae": mae,
        "smape": _mean([smape(a, p) for a, p in zip(actual, point, strict=True)]),
        "wape": _wape(point, actual),
        "coverage": coverage_of(actual.reshape(-1), lower.reshape(-1), upper.reshape(-1)),
        "baseline_mase": baseline_mase,
        "baseline_mae": baseline_mae,
        "baseline_smape": _mean([smape(a, b) for a, b in zip(actual, baseline, strict=True)]),
        "baseline_wape": _wape(baseline, actual),
        "backtest_cases": float(point.shape[0]),
    }
    return Backtest(metrics=metrics, residuals=residuals, calibration=calibration)


def _wape(point: np.ndarray, actual: np.ndarray) -> float:
    ok = ~np.isnan(actual)
    total = float(np.abs(actual[ok]).sum())
    return 100.0 * float(np.abs(actual[ok] - point[ok]).sum()) / total if total > 0 else float("nan")


def _mean(values: list[float]) -> float:
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    return float(arr.mean()) if arr.size else float("nan")
