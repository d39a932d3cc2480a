"""A pooled model fitted to the one young series it serves, on that series' own recent days.

A pool is fitted on other series and calibrated on yet others. On one new team it can lose to the
seasonal naive (a smooth, strongly daily series whose yesterday is already a near-perfect forecast), and
its intervals can be too wide or too narrow (a team much noisier, or much steadier, than the group's
held-out series). So before the pool serves a young series, serving backtests it on that series' own last
days, the way a training backtests a model, with what the series has:

  * origins one day apart, back from the latest observation, each with at least a week of history before
    it (`LOCAL_MIN_DAYS`), at most `LOCAL_MAX_ORIGINS` of them; every step whose actual is known, up to
    the model's horizon, is scored (isolated extremes are not, as in training);
  * the blend served is `(1 - w) * pool + w * seasonal naive` with the w of `LOCAL_WEIGHTS` whose mean
    absolute error on those windows is lowest, chosen apart for the first day of steps and for the rest
    (yesterday is a strong forecast of tomorrow and a weak one of next week); w = 1 is the naive alone,
    so what is served is never worse on the series' own backtest than the seasonal naive;
  * the intervals are shaped to the series' own hours: each local slot of the day gets a factor, how
    large its errors are against all slots' (calibration.slot_factors_of, shrunk as a team's own model's
    are); a pool is calibrated on other series, whose busy and quiet hours are not this team's;
  * the pool's intervals are then scaled by the factor that makes them hold `level` (+ a margin) of the
    served blend's errors on those windows (each error divided by the pool's interval half-width at its
    step and its slot's factor), again apart for the first day and the rest, within `SCALE_LIMITS`.

The constants were chosen on validation windows (M4 Hourly's last training days, the bike and taxi
validation origins), never on the benchmark's scored windows: docs/pooled-model-and-cost.md.

numpy + onnxruntime, one session.run of a few hundred to a few thousand rows: the prediction Lambda runs
it when its cache refreshes a pool-served series (forecasting.inference.OnnxForecaster.fitted_to), not
per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from lead_ai.forecasting.calibration import SLOT_SHRINK, Calibration, slot_factors_of
from lead_ai.forecasting.extremes import extreme_limits
from lead_ai.forecasting.feature_spec import slots_of_week
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.seasonal_naive import naive_rows

if TYPE_CHECKING:
    from lead_ai.forecasting.inference import OnnxForecaster

LOCAL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the seasonal naive's share in the blend served
LOCAL_MAX_ORIGINS = 14  # two weeks of daily origins: enough to judge, a few ms to run
LOCAL_MIN_DAYS = 7  # an origin needs a week of history, as the pool's weekly features do
# The interval factor's bounds: a steady series' own errors can be 1/20 of its group's (M4's smoothest
# hourly series), a noisy one's 3-4 times (bike rentals in a pool of M4 series)
SCALE_LIMITS = (0.05, 4.0)
LOCAL_INTERVAL_MARGIN = 0.02


class LocalFitSettings(NamedTuple):
    """How the serving fit judges a pool on one series. Serving uses the defaults; the validation
    benchmark (benchmarks/pooled.py --validation) scores the alternatives it was chosen against."""

    origin_every: int = 0  # slots between two origins; 0: one day (the model's season_day)
    max_origins: int = LOCAL_MAX_ORIGINS
    min_days: int = LOCAL_MIN_DAYS
    weights: tuple[float, ...] = LOCAL_WEIGHTS
    # The shrinkage of the intervals' slot-of-day factors (calibration.slot_factors_of) from the series'
    # own errors; None: one width at every slot of the day, the pool's
    slot_shrink: float | None = SLOT_SHRINK
    # The intervals cover level + margin of the series' own errors: factors fitted on those errors flatter
    # them (with 0, the validation windows were covered 77-80 % at 80 %)
    interval_margin: float = LOCAL_INTERVAL_MARGIN


SERVING = LocalFitSettings()


class LocalFit(NamedTuple):
    """How a pooled model is served to one series, and the evidence it was chosen on."""

    weight_naive: tuple[float, float]  # the seasonal naive's share in the served point: first day, later
    interval_scale: tuple[float, float]  # factor on the pool's interval offsets: first day, later
    origins: int  # own-history origins judged (0: too young to judge; the pool is served as it is)
    scored: int  # (origin, step) pairs scored
    mae_pool: float  # mean absolute errors on those pairs, in the data's units (NaN with no pair)
    mae_naive: float
    mae_served: float
    # Each local slot of the day's factor on the intervals, from the series' own errors (None: the pool's)
    slot_factors: np.ndarray | None = None

    @classmethod
    def unfitted(cls) -> LocalFit:
        return cls((0.0, 0.0), (1.0, 1.0), 0, 0, float("nan"), float("nan"), float("nan"))

    def weights(self, steps: np.ndarray, season_day: int) -> np.ndarray:
        """The naive's share for each step."""
        return np.where(np.asarray(steps) <= season_day, *self.weight_naive)

    def calibration(self, pooled: Calibration, season_day: int) -> Calibration:
        """The pool's calibration with each step's (and each forecast day's) quantiles scaled by its
        band's factor, and each slot of the day's offsets by the series' own factor."""
        steps = np.arange(1, pooled.quantiles.shape[0] + 1)
        served = pooled.scaled(np.where(steps <= season_day, *self.interval_scale))
        if self.slot_factors is None:
            return served
        # the series' factors were measured against the pool's own: per hour of the day for a small group's
        # pool (one held-out team's, training/pool.py), ones for the others
        own = pooled.spread(np.arange(self.slot_factors.size)) * self.slot_factors
        return served._replace(slot_factors=own)


def fit_locally(
    forecaster: OnnxForecaster,
    values: np.ndarray,
    last_timestamp: int,
    level: float = 0.8,
    settings: LocalFitSettings = SERVING,
) -> LocalFit:
    """Choose the blend and the interval factor for serving `forecaster` (a pooled model) to the series
    whose recent observations are `values` (oldest first, NaN for missing slots, the newest at
    `last_timestamp`)."""
    spec = forecaster.spec
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    origins = _local_origins(y, spec.season_day, settings)
    if not origins.size:
        return LocalFit.unfitted()
    n, H = y.shape[0], spec.max_horizon
    steps_of = np.minimum(H, n - 1 - origins)
    windows = np.stack([prepare_window(y[: o + 1], spec) for o in origins])
    stamps = int(last_timestamp) - (n - 1 - origins) * spec.interval_seconds
    limits = extreme_limits(windows)
    idx = np.repeat(np.arange(origins.size), steps_of)
    steps = np.concatenate([np.arange(1, k + 1) for k in steps_of])
    X, scale = build_rows(windows, stamps, idx, steps, spec, limits)
    model = forecaster.run_rows(X)
    naive = naive_rows(X, spec, model)
    actual = y[origins[idx] + steps]
    keep = np.isfinite(actual) & (np.abs(actual) <= limits[idx])
    if not keep.any():
        return LocalFit.unfitted()
    model, naive, actual, scale, steps = model[keep], naive[keep], actual[keep], scale[keep], steps[keep]
    slots = slots_of_week(X[keep], spec.season_day)

    day = steps <= spec.season_day
    bands = (day, ~day)
    weights, point, residual, half = _blend_by_band(
        forecaster.calibration, level, bands, steps, slots, model, naive, actual, scale, settings.weights
    )
    factors = _slot_factors(residual, half, slots, spec.season_day, level, settings.slot_shrink)
    if factors is not None:
        half = half * factors[slots.astype(np.int64) % spec.season_day]
    target = min(level + settings.interval_margin, 0.99)
    widths = [_interval_factor(residual[band], half[band], target) if band.any() else None for band in bands]
    if not day.any():  # a band without a pair takes the other's choice
        weights[0], widths[0] = weights[1], widths[1]
    if day.all():
        weights[1], widths[1] = weights[0], widths[0]
    first, later = widths
    assert first is not None and later is not None
    return LocalFit(
        (weights[0], weights[1]),
        (first, later),
        int(origins.size),
        int(actual.size),
        _mae(actual, _blend(0.0, model, naive, scale)),
        _mae(actual, _blend(1.0, model, naive, scale)),
        _mae(actual, point),
        factors,
    )


def _blend_by_band(
    calibration: Calibration,
    level: float,
    bands: tuple[np.ndarray, np.ndarray],
    steps: np.ndarray,
    slots: np.ndarray,
    model: np.ndarray,
    naive: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    candidates: tuple[float, ...],
) -> tuple[list[float], np.ndarray, np.ndarray, np.ndarray]:
    """Per band of steps, the naive's share of lowest error; and for every pair the served point, its
    error in scaled units and the pool's interval half-width at its step, on its side and at its slot."""
    lo, hi = calibration.offsets(calibration.quantiles.shape[0], level)
    point, residual, half = np.zeros_like(actual), np.zeros_like(actual), np.zeros_like(actual)
    weights = [0.0, 0.0]
    for k, band in enumerate(bands):
        if band.any():
            weights[k] = _best_weight(model[band], naive[band], actual[band], scale[band], candidates)
            point[band] = _blend(weights[k], model[band], naive[band], scale[band])
            residual[band] = (actual[band] - point[band]) / scale[band]
            on_side = np.where(residual[band] >= 0.0, hi[steps[band] - 1], -lo[steps[band] - 1])
            half[band] = on_side * calibration.spread(slots[band])
    return weights, point, residual, half


def _blend(weight: float, model: np.ndarray, naive: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The served point in the data's units: the blend of scaled model and naive, times the level."""
    return np.maximum(((1.0 - weight) * model + weight * naive) * scale, 0.0)


def _best_weight(
    model: np.ndarray, naive: np.ndarray, actual: np.ndarray, scale: np.ndarray, weights: tuple[float, ...]
) -> float:
    """The entry of `weights` with the lowest mean absolute error on these pairs (0 with no pair)."""
    if not actual.size:
        return 0.0
    errors = [_mae(actual, _blend(w, model, naive, scale)) for w in weights]
    return weights[int(np.argmin(errors))]


def _mae(actual: np.ndarray, point: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - point)))


def _local_origins(y: np.ndarray, season_day: int, settings: LocalFitSettings) -> np.ndarray:
    """Positions of the origins to judge from, newest first: one a day (or every `origin_every` slots)
    back from the latest observation, each with `min_days` of history since the first observation."""
    observed = np.flatnonzero(np.isfinite(y))
    if not observed.size:
        return np.zeros(0, dtype=np.int64)
    first, n = int(observed[0]), y.shape[0]
    every = settings.origin_every or season_day
    back = every * np.arange(1, settings.max_origins + 1, dtype=np.int64)
    origins = n - 1 - back
    return origins[origins - first + 1 >= settings.min_days * season_day]


def _slot_factors(
    residual: np.ndarray,
    half: np.ndarray,
    slots: np.ndarray,
    season_day: int,
    level: float,
    shrink: float | None,
) -> np.ndarray | None:
    """How wide each local slot of the day's intervals must be against the others' for the series' own
    errors (each error over the pool's half-width at its step and side); None without `shrink`."""
    if shrink is None:
        return None
    usable = half > 1e-12
    ratio = np.where(usable, residual / np.where(usable, half, 1.0), np.nan)
    return slot_factors_of(ratio, slots, season_day, level, shrink)


def _interval_factor(residual: np.ndarray, half: np.ndarray, level: float) -> float:
    """The factor on the pool's interval half-widths `half` (at each residual's step, on its side) that
    covers `level` of the residuals (scaled units), within SCALE_LIMITS."""
    usable = half > 1e-12
    if not usable.any():
        return 1.0
    needed = float(np.quantile(np.abs(residual[usable]) / half[usable], level))
    if not np.isfinite(needed):
        return 1.0
    return float(np.clip(needed, *SCALE_LIMITS))
