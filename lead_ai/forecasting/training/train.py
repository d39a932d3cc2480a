"""Training side: fit the direct multi-horizon model, backtest it, calibrate intervals, export to ONNX.

Model: a HistGradientBoostingRegressor (squared error, float32 features) on rows (origin, step h) built
by lead_ai.features.build_rows -- the same function serving uses. Target: y[origin + h] / level. One global
model for all the series given.

Training, in order:
  1. Rolling-origin backtest: a model fitted only on data before the first backtest origin of each
     series forecasts steps 1..H from `backtest_origins` origins, `backtest_stride` apart, ending at the
     last observation. Its errors give the metrics (MASE, sMAPE, WAPE, coverage) beside the seasonal
     naive on the same origins, and its scaled residuals (y - forecast) / level calibrate the intervals
     (split-conformal quantiles per step, pooled over neighbouring steps).
  2. The final model is fitted on all the data and exported with skl2onnx (float32 trees, pinned opset),
     whose legacy TreeEnsembleRegressor nodes are then rewritten as TreeEnsemble (ai.onnx.ml opset 5,
     lead_ai.onnx_trees: less than half the bytes, a faster session, the same outputs bit for bit), with
     the FeatureSpec and the calibration in the ONNX metadata_props.
  3. Parity: ONNX output == scikit-learn output on a validation batch (onnxruntime when importable,
     otherwise onnx.reference.ReferenceEvaluator, as in the training Lambda), else ExportParityError.
No pickle anywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lead_ai import errors
from lead_ai.features import (
    CALIBRATION_KEY,
    FEATURE_SPEC_KEY,
    FORMAT_KEY,
    FORMAT_VALUE,
    HOLIDAY_CALENDARS,
    Calibration,
    FeatureSpec,
    build_rows,
    default_spec,
    prepare_window,
)
from lead_ai.scoring import coverage as coverage_of
from lead_ai.scoring import mae, seasonal_naive_forecast, seasonal_naive_scale, smape

__all__ = [
    "ExportParityError",
    "InsufficientHistoryError",
    "SeriesData",
    "TrainingResult",
    "TrainingSettings",
    "train_forecaster",
]

QUANTILE_LEVELS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995,
)  # fmt: skip
LOSSES = ("squared_error", "absolute_error")
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # weight of the squared-error model tried by loss="auto"
_TARGET_CLIP = 1e3  # scaled targets beyond this are clipped (a burst after a dead week)


class InsufficientHistoryError(errors.InsufficientHistoryError, ValueError):
    """A series has fewer observed points than the training rule requires."""


class ExportParityError(RuntimeError):
    """The exported ONNX model does not reproduce the scikit-learn model."""


@dataclass(frozen=True)
class SeriesData:
    """A series on a regular grid: values[i] is at first_timestamp + i * interval_seconds (NaN = missing)."""

    series_id: str
    values: np.ndarray
    first_timestamp: int
    interval_seconds: int = 3600

    def __post_init__(self) -> None:
        arr = np.asarray(self.values, dtype=np.float64).reshape(-1)
        object.__setattr__(self, "values", arr)
        if self.interval_seconds <= 0:
            raise ValueError(f"series {self.series_id!r}: interval_seconds must be > 0")
        if np.isinf(arr).any():
            raise ValueError(f"series {self.series_id!r}: values must be finite or NaN")

    @property
    def last_timestamp(self) -> int:
        return int(self.first_timestamp + (self.values.shape[0] - 1) * self.interval_seconds)

    @property
    def n_observed(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))


@dataclass(frozen=True)
class TrainingSettings:
    max_horizon: int = 168
    min_points: int = 1000
    backtest_origins: int = 14  # more origins, more regimes in the calibration residuals
    backtest_stride: int | None = None  # default: max(a day, max_horizon // 2)
    level: float = 0.8
    seed: int = 0
    max_rows: int = 200_000  # training rows (origin, step) sampled over all series
    max_iter: int = 250
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    # "auto": backtest both losses and their blends, keep the best; poisson/gamma are mis-converted
    loss: str = "auto"
    target_opset: int = 17
    ml_opset: int = 3  # what skl2onnx converts to; the export then declares 5 (TreeEnsemble, see _export)
    parity_rows: int = 64
    parity_rtol: float = 1e-4
    n_threads: int = 1  # OpenMP threads per fit (1: see FINDINGS, busy-waiting on a shared machine)
    # Independent fits (one per loss) run side by side on this many Python threads: scikit-learn's
    # histogram GBM releases the GIL in its Cython loops, so two fits on two cores took 9.7 s instead of
    # 18.1 s for identical models, with no OpenMP team to busy-wait (TrainFunction has ~1.7 vCPUs).
    parallel_fits: int = 2
    yearly_min_days: float = 400.0  # history (days) from which the day of the year becomes a feature
    holidays: str = "none"  # the user's holiday calendar (FeatureSpec.holidays): "none" or "US"
    spec_overrides: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.max_horizon < 1:
            raise ValueError("max_horizon must be >= 1")
        if self.min_points < 1:
            raise ValueError("min_points must be >= 1")
        if self.backtest_origins < 1:
            raise ValueError("backtest_origins must be >= 1")
        if self.parallel_fits < 1:
            raise ValueError("parallel_fits must be >= 1")
        if not 0.0 < self.level < 1.0:
            raise ValueError("level must be within (0, 1)")
        if self.holidays not in HOLIDAY_CALENDARS:
            raise ValueError(f"holidays must be one of {HOLIDAY_CALENDARS}, got {self.holidays!r}")
        if self.loss not in ("auto", *LOSSES):
            raise ValueError(
                f"loss {self.loss!r} is not supported (ONNX conversion is only exact for "
                "squared_error and absolute_error)"
            )


@dataclass(frozen=True)
class TrainingResult:
    onnx_bytes: bytes
    feature_spec: dict[str, Any]
    metrics: dict[str, float]
    library_versions: dict[str, str]
    n_points: int
    training_start: int
    training_end: int


# ---------------------------------------------------------------------------------------------- rows


@dataclass
class _Rows:
    X: np.ndarray
    y: np.ndarray


def sample_pairs(
    values: np.ndarray, spec: FeatureSpec, last_target: int, n_rows: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Up to n_rows random (origin t, step h) pairs with t + h <= last_target and an observed target;
    steps are uniform over 1..max_horizon, origins uniform over those with at least a day of history."""
    H = spec.max_horizon
    t_min = min(spec.season_day, max(last_target - 1, 0))
    empty = np.zeros(0, dtype=np.int64)
    if last_target - 1 < t_min:
        return empty, empty
    h = rng.integers(1, H + 1, size=n_rows)
    hi = last_target - h  # largest origin for that step
    ok = hi >= t_min
    h, hi = h[ok], hi[ok]
    t = t_min + np.floor(rng.random(h.size) * (hi - t_min + 1)).astype(np.int64)
    keep = ~np.isnan(values[t + h])
    return t[keep], h[keep]


def rows_for_pairs(
    values: np.ndarray, first_timestamp: int, spec: FeatureSpec, t: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, scaled targets and levels for (origin t, step h) pairs of one series.

    Each origin's window is values[: t + 1] through the same NaN-padding as serving (prepare_window),
    taken as a strided view so no per-origin copy of the history is made."""
    origins, inverse = np.unique(t, return_inverse=True)
    padded = np.concatenate([np.full(spec.window - 1, np.nan), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, spec.window)
    X = np.empty((t.size, spec.n_features), dtype=np.float32)
    level = np.empty(t.size)
    chunk = 2048  # bounds the memory of the gathered windows
    for start in range(0, origins.size, chunk):
        sel = np.flatnonzero((inverse >= start) & (inverse < start + chunk))
        o = origins[start : start + chunk]
        stamps = first_timestamp + o * spec.interval_seconds
        X[sel], level[sel] = build_rows(view[o], stamps, inverse[sel] - start, h[sel], spec)
    target = np.clip(values[t + h] / level, -_TARGET_CLIP, _TARGET_CLIP)
    return X, target, level


def _series_rows(
    values: np.ndarray,
    first_timestamp: int,
    spec: FeatureSpec,
    last_target: int,
    n_rows: int,
    rng: np.random.Generator,
) -> _Rows | None:
    t, h = sample_pairs(values, spec, last_target, n_rows, rng)
    if not t.size:
        return None
    X, y, _ = rows_for_pairs(values, first_timestamp, spec, t, h)
    return _Rows(X, y)


def _training_rows(
    series: Sequence[SeriesData], ends: Sequence[int], spec: FeatureSpec, max_rows: int, seed: int
) -> _Rows:
    """Rows from every series, targets at indices <= ends[i]; the row budget is shared evenly."""
    rng = np.random.default_rng(seed)
    per_series = max(spec.max_horizon, max_rows // max(len(series), 1))
    parts = []
    for s, end in zip(series, ends, strict=True):
        possible = max(end - spec.season_day, 0) * spec.max_horizon
        rows = _series_rows(s.values, s.first_timestamp, spec, end, min(per_series, max(possible, 1)), rng)
        if rows is not None:
            parts.append(rows)
    if not parts:
        raise InsufficientHistoryError("no training rows could be built from the series given")
    return _Rows(np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts]))


# ---------------------------------------------------------------------------------------------- model


def _fit(rows: _Rows, settings: TrainingSettings, loss: str) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingRegressor(
        loss=loss,
        learning_rate=settings.learning_rate,
        max_iter=settings.max_iter,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        l2_regularization=settings.l2_regularization,
        early_stopping=False,
        random_state=settings.seed,
    )
    X = rows.X
    empty = np.isnan(X).all(axis=0)
    if empty.any():
        # scikit-learn cannot bin a feature with no value at all (e.g. the 4th weekly lag when every series
        # is younger than four weeks); a constant column trains identically and never gets a split.
        X = X.copy()
        X[:, empty] = 0.0
    with threadpool_limits(limits=settings.n_threads):
        model.fit(X, rows.y)
    return model


def _fit_each(rows: _Rows, settings: TrainingSettings, losses: Sequence[str]) -> dict[str, Any]:
    """One model per loss on the same rows, `settings.parallel_fits` at a time (same models either way)."""
    workers = min(settings.parallel_fits, len(losses))
    if workers <= 1:
        return {loss: _fit(rows, settings, loss) for loss in losses}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lead-ai-fit") as pool:
        return dict(zip(losses, pool.map(lambda loss: _fit(rows, settings, loss), losses), strict=True))


def _final_model(rows: _Rows, settings: TrainingSettings, weights: dict[str, float]) -> Any:
    """One model per loss in the blend; two are combined in a VotingRegressor (exported as one graph:
    both tree ensembles, weighted sum)."""
    models = list(_fit_each(rows, settings, list(weights)).items())
    if len(models) == 1:
        return models[0][1]
    from sklearn.ensemble import VotingRegressor
    from sklearn.utils import Bunch

    w = np.array([weights[loss] for loss, _ in models])
    blend = VotingRegressor(models, weights=w)  # skl2onnx needs the weights as an array
    blend.estimators_ = [m for _, m in models]  # prefit: no refit of the members
    blend.named_estimators_ = Bunch(**dict(models))
    return blend


def _predict_sklearn(model: Any, X: np.ndarray, n_threads: int) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        return np.asarray(model.predict(X), dtype=np.float64)


# ---------------------------------------------------------------------------------------------- backtest


@dataclass
class _Backtest:
    metrics: dict[str, float]
    residuals: np.ndarray  # (n_cases, H) scaled residuals, NaN where the actual is missing
    calibration: Calibration
    weights: dict[str, float] = field(default_factory=dict)  # loss -> blend weight (those > 0)


def _stride(spec: FeatureSpec, settings: TrainingSettings) -> int:
    """Steps between backtest origins: a day, or half the horizon when that is longer (so the origins of
    a week-ahead model span about four weeks and the calibration sees more than one week's regime)."""
    if settings.backtest_stride:
        return int(settings.backtest_stride)
    return max(spec.season_day, spec.max_horizon // 2)


def _backtest_plan(series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings) -> list[int]:
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


def _backtest(
    series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings, plan: Sequence[int]
) -> _Backtest:
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
    rows = _training_rows(series, first_origin, spec, max(settings.max_rows // 2, 1), settings.seed + 1)

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
    baseline = [seasonal_naive_forecast(_ffill(x), H, spec.season_day) for x in insamples]

    losses = LOSSES if settings.loss == "auto" else (settings.loss,)
    fitted = _fit_each(rows, settings, losses)
    raw = {loss: _predict_sklearn(model, X, settings.n_threads) for loss, model in fitted.items()}
    # Candidate blends: weight of the squared-error model (auto), else the one loss asked for.
    blends = (
        [{"squared_error": w, "absolute_error": 1.0 - w} for w in BLEND_WEIGHTS]
        if len(raw) > 1
        else [{losses[0]: 1.0}]
    )
    best: _Backtest | None = None
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
) -> _Backtest:
    H, m = spec.max_horizon, spec.season_day
    residuals = (actual - point) / scale
    calibration = _calibrate(residuals)
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
    return _Backtest(metrics=metrics, residuals=residuals, calibration=calibration)


def _mean(values: list[float]) -> float:
    arr = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    return float(arr.mean()) if arr.size else float("nan")


def _ffill(values: np.ndarray) -> np.ndarray:
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


def _calibrate(residuals: np.ndarray, min_count: int = 60) -> Calibration:
    """Per-step quantiles of scaled residuals, pooling neighbouring steps until min_count are available."""
    H = residuals.shape[1]
    levels = np.asarray(QUANTILE_LEVELS)
    table = np.zeros((H, levels.size))
    finite = [r[~np.isnan(r)] for r in residuals.T]
    for h in range(H):
        half = max(1, h // 6)
        while True:
            lo, hi = max(0, h - half), min(H, h + half + 1)
            pool = np.concatenate(finite[lo:hi])
            if pool.size >= min_count or (lo == 0 and hi == H):
                break
            half *= 2
        table[h] = np.quantile(pool, levels) if pool.size else 0.0
    return Calibration(levels, np.maximum.accumulate(table, axis=1))


# ---------------------------------------------------------------------------------------------- export


def _export(model: Any, spec: FeatureSpec, calibration: Calibration, settings: TrainingSettings) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from lead_ai.onnx_trees import as_tree_ensembles

    converted = convert_sklearn(
        model,
        initial_types=[("X", FloatTensorType([None, spec.n_features]))],
        target_opset={"": settings.target_opset, "ai.onnx.ml": settings.ml_opset},
    )
    onx = as_tree_ensembles(converted)  # the trees as TreeEnsemble (ai.onnx.ml 5): see lead_ai.onnx_trees
    meta = {
        FORMAT_KEY: FORMAT_VALUE,
        FEATURE_SPEC_KEY: json.dumps(spec.to_dict(), sort_keys=True),
        CALIBRATION_KEY: json.dumps(calibration.to_dict()),
        "lead_ai.target": "y / level (mean |y| of the last season_week observations)",
    }
    del onx.metadata_props[:]
    for key, value in meta.items():
        entry = onx.metadata_props.add()
        entry.key = key
        entry.value = value
    onx.producer_name = "lead_ai"
    onx.graph.name = "lead_ai_forecaster"  # skl2onnx puts a random uuid here; keep the bytes reproducible
    return bytes(onx.SerializeToString())


def run_onnx_rows(onnx_bytes: bytes, X: np.ndarray) -> tuple[np.ndarray, str]:
    """Run the exported graph on rows X: onnxruntime when importable, else onnx's ReferenceEvaluator.
    Returns the output and the name of the engine used."""
    X32 = np.asarray(X, dtype=np.float32)
    try:
        import onnxruntime as ort
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(onnx_bytes)
        outputs: list[Any] = list(ref.run(None, {"X": X32}))
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1), "onnx.reference"
    from lead_ai.inference import session_options

    sess = ort.InferenceSession(
        onnx_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    out = sess.run(None, {sess.get_inputs()[0].name: X32})[0]
    return np.asarray(out, dtype=np.float64).reshape(-1), "onnxruntime"


def check_parity(model: Any, onnx_bytes: bytes, X: np.ndarray, rtol: float, n_threads: int = 1) -> float:
    """Max |sklearn - onnx| on X; ExportParityError if any row is off by more than rtol * max(1, |y|)."""
    expected = _predict_sklearn(model, np.asarray(X, dtype=np.float32), n_threads)
    got, engine = run_onnx_rows(onnx_bytes, X)
    err = np.abs(expected - got)
    bound = rtol * np.maximum(1.0, np.abs(expected))
    if got.shape != expected.shape or not np.all(err <= bound):
        worst = float(np.max(err)) if err.size else float("nan")
        raise ExportParityError(
            f"ONNX ({engine}) differs from scikit-learn by up to {worst:.3g} (tolerance rtol={rtol})"
        )
    return float(err.max()) if err.size else 0.0


def _library_versions(onnx_bytes: bytes) -> dict[str, str]:
    """Versions that produced the model; the opsets are those the exported graph declares (skl2onnx
    uses the lowest opset, up to the pinned target_opset, that holds every operator it emits; ai.onnx.ml
    is 5, the TreeEnsemble the export rewrites the trees into)."""
    import onnx
    import skl2onnx
    import sklearn

    opsets = {o.domain: o.version for o in onnx.load_from_string(onnx_bytes).opset_import}
    return {
        "sklearn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnx_opset": str(opsets.get("", opsets.get("ai.onnx", ""))),
        "onnx_ml_opset": str(opsets.get("ai.onnx.ml", "")),
        "numpy": np.__version__,
    }


# ---------------------------------------------------------------------------------------------- train


def train_forecaster(
    series: Sequence[SeriesData], settings: TrainingSettings | None = None
) -> TrainingResult:
    """Fit one (global) model on the series, backtest it, export it to ONNX and verify parity."""
    settings = settings or TrainingSettings()
    if not series:
        raise ValueError("no series to train on")
    interval = series[0].interval_seconds
    if any(s.interval_seconds != interval for s in series):
        raise ValueError("all series must share one interval")
    for s in series:
        if s.n_observed < settings.min_points:
            raise InsufficientHistoryError(
                f"series {s.series_id!r} has {s.n_observed} observed points; training needs at least "
                f"{settings.min_points} (min_points)"
            )
    spec = default_spec(interval, settings.max_horizon)
    span_days = max(s.values.shape[0] for s in series) * interval / 86400
    if span_days >= settings.yearly_min_days:
        # Enough history to have seen each time of the year once: the day of the year can say what
        # last December looked like (holidays), which no four-week window can.
        spec = FeatureSpec.from_dict({**spec.to_dict(), "day_of_year": True})
    if settings.holidays != "none":
        spec = FeatureSpec.from_dict({**spec.to_dict(), "holidays": settings.holidays})
    if settings.spec_overrides:
        spec = FeatureSpec.from_dict({**spec.to_dict(), **settings.spec_overrides})

    plan = _backtest_plan(series, spec, settings)
    if not any(plan):
        raise InsufficientHistoryError(
            f"no series is long enough for a backtest of horizon {spec.max_horizon}: need at least "
            f"{spec.season_day + 2 * spec.max_horizon + 1} slots"
        )
    backtest = _backtest(series, spec, settings, plan)
    calibration = backtest.calibration

    rows = _training_rows(
        series, [s.values.shape[0] - 1 for s in series], spec, settings.max_rows, settings.seed
    )
    model = _final_model(rows, settings, backtest.weights)
    onnx_bytes = _export(model, spec, calibration, settings)

    # Validation batch: the rows production will see first (each series' last origin), plus training rows.
    rng = np.random.default_rng(settings.seed + 2)
    pick = rng.choice(len(series), size=min(len(series), 4), replace=False)
    W = np.stack([prepare_window(series[i].values, spec) for i in pick])
    stamps = np.array([series[i].last_timestamp for i in pick], dtype=np.int64)
    per = max(1, settings.parity_rows // (2 * len(pick)))
    steps = np.tile(np.linspace(1, spec.max_horizon, per).round().astype(np.int64), len(pick))
    Xv, _ = build_rows(W, stamps, np.repeat(np.arange(len(pick)), per), steps, spec)
    extra = rows.X[
        rng.choice(rows.X.shape[0], size=min(rows.X.shape[0], settings.parity_rows // 2), replace=False)
    ]
    parity = check_parity(
        model, onnx_bytes, np.concatenate([Xv, extra]), settings.parity_rtol, settings.n_threads
    )

    metrics = dict(backtest.metrics)
    metrics["parity_max_abs_error"] = parity
    metrics["training_rows"] = float(rows.X.shape[0])
    return TrainingResult(
        onnx_bytes=onnx_bytes,
        feature_spec=spec.to_dict(),
        metrics=metrics,
        library_versions=_library_versions(onnx_bytes),
        n_points=int(sum(s.n_observed for s in series)),
        training_start=int(min(s.first_timestamp for s in series)),
        training_end=int(max(s.last_timestamp for s in series)),
    )
