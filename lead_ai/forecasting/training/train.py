"""Training side: fit the direct multi-horizon model, backtest it, calibrate intervals, export to ONNX.

Model: a HistGradientBoostingRegressor (squared error, float32 features) on rows (origin, step h) built
by lead_ai.forecasting.features.build_rows -- the same function serving uses. Target: y[origin + h] / level. One global
model for all the series given.

Training, in order:
  1. Rolling-origin backtest: a model fitted only on data before the first backtest origin of each
     series forecasts steps 1..H from `backtest_origins` origins, `backtest_stride` apart, ending at the
     last observation. Its errors give the metrics (MASE, sMAPE, WAPE, coverage) beside the seasonal
     naive on the same origins, and its scaled residuals (y - forecast) / level calibrate the intervals
     (split-conformal quantiles per step, pooled over neighbouring steps).
  2. The final model is fitted on all the data and exported with skl2onnx (float32 trees, pinned opset),
     whose legacy TreeEnsembleRegressor nodes are then rewritten as TreeEnsemble (ai.onnx.ml opset 5,
     onnx_trees: less than half the bytes, a faster session, the same outputs bit for bit), with
     the FeatureSpec and the calibration in the ONNX metadata_props.
  3. Parity: ONNX output == scikit-learn output on a validation batch (onnxruntime when importable,
     otherwise onnx.reference.ReferenceEvaluator, as in the training Lambda), else ExportParityError.
No pickle anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lead_ai.domain.isotime import iso_utc
from lead_ai.domain.localtime import UTC_ZONE
from lead_ai.errors import InsufficientHistoryError
from lead_ai.forecasting.artifact_format import parse_metadata
from lead_ai.forecasting.contiguous import recent_contiguous
from lead_ai.forecasting.feature_spec import FeatureSpec, default_spec
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.training.backtest import (
    Backtest,
    Champion,
    backtest_plan,
    origins_for,
    run_backtest,
)
from lead_ai.forecasting.training.calendars import holiday_table, local_clock
from lead_ai.forecasting.training.daily import daily_table
from lead_ai.forecasting.training.export import ExportParityError, check_parity, export_onnx, library_versions
from lead_ai.forecasting.training.fit import final_model
from lead_ai.forecasting.training.rows import final_rows
from lead_ai.forecasting.training.settings import SeriesData, TrainingResult, TrainingSettings

__all__ = [
    "Champion",
    "ExportParityError",
    "InsufficientHistoryError",
    "SeriesData",
    "TrainingResult",
    "TrainingSettings",
    "load_champion",
    "train_forecaster",
]

# The fewest backtest actuals a model is judged and calibrated on (or half the backtest's slots, for a
# short daily series): calibration.calibrate pools steps until each has 60 residuals.
MIN_BACKTEST_ACTUALS = 60


def train_forecaster(
    series: Sequence[SeriesData],
    settings: TrainingSettings | None = None,
    champion: Champion | None = None,
) -> TrainingResult:
    """Fit one (global) model on the series, backtest it, export it to ONNX and verify parity.

    Each series is first cut to its recent contiguous part (contiguous.recent_contiguous). With a
    champion (load_champion: the model being served), it is scored on the same backtest origins."""
    settings = settings or TrainingSettings()
    if not series:
        raise ValueError("no series to train on")
    interval = series[0].interval_seconds
    if any(s.interval_seconds != interval for s in series):
        raise ValueError("all series must share one interval")
    series = [recent_part(s, settings) for s in series]
    for s in series:
        if s.n_observed < settings.min_points:
            raise InsufficientHistoryError(
                f"series {s.series_id!r} has {s.n_observed} observed points; training needs at least "
                f"{settings.min_points} (min_points)"
            )
    spec = with_calendar(feature_spec_for(series, interval, settings), series)

    plan = backtest_plan(series, spec, settings)
    if not any(plan):
        raise InsufficientHistoryError(
            f"no series is long enough for a backtest of horizon 1: need at least {spec.season_day + 3} slots"
        )
    if champion is not None and champion.spec.interval_seconds != interval:
        champion = None  # another grid: nothing to compare on (the caller sees no champion_* metrics)
    backtest = run_backtest(series, spec, settings, plan, champion)
    assert backtest.origins is not None
    require_scored_backtest(backtest, spec)
    daily_coverage, calibration = daily_table(backtest, spec, settings)

    rows = final_rows(series, spec, settings)
    model = final_model(rows, settings, backtest.weights)
    onnx_bytes = export_onnx(model, spec, calibration, settings, backtest.weight_naive)

    parity = verify_parity(model, onnx_bytes, series, rows.X, spec, settings, backtest.weight_naive)

    metrics = dict(backtest.metrics)
    metrics["daily_coverage"] = daily_coverage
    metrics["parity_max_abs_error"] = parity
    metrics["training_rows"] = float(rows.X.shape[0])
    return training_result(onnx_bytes, spec, metrics, series)


def require_scored_backtest(backtest: Backtest, spec: FeatureSpec) -> None:
    """InsufficientHistoryError when the backtest's windows hold too few actuals to judge or calibrate a
    model (weeks missing just before the newest observations, shorter than the gap training cuts at):
    its MASE and coverage would describe an hour or two, and its intervals be one residual wide."""
    assert backtest.origins is not None
    scored = int(np.count_nonzero(~np.isnan(backtest.residuals)))
    needed = min(MIN_BACKTEST_ACTUALS, backtest.residuals.size // 2)
    if scored >= needed:
        return
    step = spec.interval_seconds
    first, last = int(backtest.origins.min()) + step, int(backtest.origins.max()) + spec.max_horizon * step
    raise InsufficientHistoryError(
        f"the backtest windows ({iso_utc(first)} to {iso_utc(last)}) hold {scored} "
        f"observation{'' if scored == 1 else 's'}; training needs at least {needed} there to score and "
        "calibrate a model (most of the recent history is missing: train again once more has arrived)",
        field="observations",
    )


def training_result(
    onnx_bytes: bytes, spec: FeatureSpec, metrics: dict[str, float], fitted_on: Sequence[SeriesData]
) -> TrainingResult:
    """What a training returns: the artifact, its spec and metrics, and the history it was fitted on."""
    return TrainingResult(
        onnx_bytes=onnx_bytes,
        feature_spec=spec.to_dict(),
        metrics=metrics,
        library_versions=library_versions(onnx_bytes),
        n_points=int(sum(s.n_observed for s in fitted_on)),
        training_start=int(min(s.first_timestamp for s in fitted_on)),
        training_end=int(max(s.last_timestamp for s in fitted_on)),
        note=naive_note(metrics),
    )


def verify_parity(
    model: Any,
    onnx_bytes: bytes,
    series: Sequence[SeriesData],
    training_X: np.ndarray,
    spec: FeatureSpec,
    settings: TrainingSettings,
    weight_naive: float,
) -> float:
    """The exported graph against scikit-learn on the rows production will see first (each series' last
    origin, up to 4 series) plus training rows: the largest difference, else ExportParityError."""
    rng = np.random.default_rng(settings.seed + 2)
    pick = rng.choice(len(series), size=min(len(series), 4), replace=False)
    W = np.stack([prepare_window(series[i].values, spec) for i in pick])
    stamps = np.array([series[i].last_timestamp for i in pick], dtype=np.int64)
    per = max(1, settings.parity_rows // (2 * len(pick)))
    steps = np.tile(np.linspace(1, spec.max_horizon, per).round().astype(np.int64), len(pick))
    Xv, _ = build_rows(W, stamps, np.repeat(np.arange(len(pick)), per), steps, spec)
    extra = training_X[
        rng.choice(
            training_X.shape[0], size=min(training_X.shape[0], settings.parity_rows // 2), replace=False
        )
    ]
    return check_parity(
        model,
        onnx_bytes,
        np.concatenate([Xv, extra]),
        settings.parity_rtol,
        settings.n_threads,
        naive=(spec, weight_naive),
    )


def with_calendar(spec: FeatureSpec, series: Sequence[SeriesData]) -> FeatureSpec:
    """The spec with the local calendar (clock changes, holidays) from the oldest slot a window reads to
    years past the data: the same tables serve every training row and, through the artifact, every
    forecast."""
    interval = spec.interval_seconds
    first_ts = min(s.first_timestamp for s in series) - spec.window * interval
    last_ts = max(s.last_timestamp for s in series)
    return spec.with_calendar(
        local_clock(spec.timezone, first_ts, last_ts), holiday_table(spec.holidays, first_ts, last_ts)
    )


def recent_part(s: SeriesData, settings: TrainingSettings) -> SeriesData:
    """The series from the first observation after its last gap longer than settings.max_gap_days."""
    recent = recent_contiguous(s.values, s.first_timestamp, s.interval_seconds, settings.max_gap_days * 86400)
    if recent.values.shape[0] == s.values.shape[0]:
        return s
    return SeriesData(s.series_id, recent.values, recent.first_timestamp, s.interval_seconds)


def load_champion(onnx_bytes: bytes, trained_until: int | None = None) -> Champion:
    """The served model, to be scored on a candidate's backtest windows without onnxruntime (the
    training Lambda has none), after `trained_until` (Champion): ValueError when the bytes are not a
    lead_ai forecaster."""
    import onnx

    from lead_ai.forecasting.training.onnx_eval import OnnxRows

    try:
        model = onnx.load_from_string(bytes(onnx_bytes))
        spec, _ = parse_metadata({p.key: p.value for p in model.metadata_props})
        run = OnnxRows(bytes(onnx_bytes))
    except ValueError:
        raise
    except Exception as exc:  # protobuf's DecodeError, the reference evaluator's own errors
        raise ValueError(f"not a loadable lead_ai model: {type(exc).__name__}") from exc
    return Champion(spec, run, trained_until)


def feature_spec_for(series: Sequence[SeriesData], interval: int, settings: TrainingSettings) -> FeatureSpec:
    longest = max(s.values.shape[0] for s in series)
    spec = default_spec(interval, _trainable_horizon(longest, interval, settings))
    if longest * interval / 86400 >= settings.yearly_min_days:
        # Enough history to have seen each time of the year once: the day of the year can say what
        # last December looked like (holidays), which no four-week window can.
        spec = FeatureSpec.from_dict({**spec.to_dict(), "day_of_year": True})
    if settings.holidays != "none":
        spec = FeatureSpec.from_dict({**spec.to_dict(), "holidays": settings.holidays})
    if settings.timezone != UTC_ZONE:
        spec = FeatureSpec.from_dict({**spec.to_dict(), "timezone": settings.timezone})
    if settings.spec_overrides:
        spec = FeatureSpec.from_dict({**spec.to_dict(), **settings.spec_overrides})
    return spec


def _trainable_horizon(n_slots: int, interval: int, settings: TrainingSettings) -> int:
    """settings.max_horizon, or for a history too short to backtest it, the longest horizon that leaves
    min_backtest_origins origins (else one): a daily series of six weeks trains, for fewer days ahead."""
    want = min(settings.min_backtest_origins, settings.backtest_origins)
    fallback = 1
    for horizon in range(settings.max_horizon, 0, -1):
        origins = origins_for(n_slots, default_spec(interval, horizon), settings)
        if origins >= want:
            return horizon
        if origins and fallback == 1:
            fallback = horizon
    return fallback


def naive_note(metrics: dict[str, float]) -> str | None:
    """Why the seasonal naive is served, when it took all the weight."""
    if metrics.get("weight_naive", 0.0) < 1.0:
        return None
    measure = "mase" if math.isfinite(metrics.get("baseline_mase", math.nan)) else "mae"
    model, naive = metrics[f"backtest_{measure}_model"], metrics[f"baseline_{measure}"]
    return (
        f"seasonal naive served: the learned model's backtest {measure.upper()} {model:.4f} does not beat "
        f"the seasonal naive's {naive:.4f}"
    )
