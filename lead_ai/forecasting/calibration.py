"""Prediction intervals: conformal quantiles of scaled backtest residuals, per horizon step.

Training calibrates (`calibrate`) on the backtest's residuals (y - forecast) / level; the table travels in
the ONNX metadata; serving turns it into bounds at the level a request asks for (`offsets`,
`interval_bounds`). numpy only: the prediction Lambda imports it.

A residual divided by the window's level alone gives an interval as wide, in leads, at 3 a.m. as at the
afternoon peak, while the errors grow with the hour's volume (docs/accuracy.md, "Intervals by hour of the
day"). With slot factors, each residual is also divided by its slot of the day's *spread* (how large that
slot's errors are against all slots', `slot_factors_of`) before the step quantiles are taken, and each
offset multiplied by it again: per step and per local hour of the day, as in Mondrian conformal
prediction, with the hours factored out of the steps so that each keeps enough residuals. A team's own
model goes one level further, to the slot of the *week*: a Saturday afternoon's errors are not a Tuesday
afternoon's. Each of its 7 x season_day factors is shrunk toward its hour's, since a backtest holds ~14
residuals per slot of the week (docs/accuracy.md, "A factor per slot of the week").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

QUANTILE_LEVELS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995,
)  # fmt: skip


# A slot's own spread ratio counts n / (n + SLOT_SHRINK) against 1, so a slot with few residuals stays
# near the others (a production backtest has ~100 a slot at 1h, ~25 at 15min). 10 was better than 50 on
# every bike and taxi validation row (docs/accuracy.md)
SLOT_SHRINK = 10.0
SLOT_LIMITS = (0.2, 5.0)


class Calibration(NamedTuple):
    """Quantiles of scaled backtest residuals (y - forecast) / level / spread, per horizon step.

    quantiles[h - 1, j] is the quantile at quantile_levels[j] for step h."""

    quantile_levels: np.ndarray  # (n_q,), increasing, within (0, 1)
    quantiles: np.ndarray  # (max_horizon, n_q), non-decreasing along axis 1
    # Daily totals: row k holds the quantiles of the mean scaled residual over the k-th local day of a
    # forecast (day 0 is the origin's, often partial), from the backtest's daily sums. None on old models.
    daily: Calibration | None = None
    # Each local slot's factor on its offsets (slot_factors_of): season_day of them (one per slot of the
    # day) or 7 x season_day (one per slot of the week); None: the same at every slot (older models,
    # pools, daily series)
    slot_factors: np.ndarray | None = None
    # Per row of the daily table, the median of the backtest days' total error per unit of the day's
    # usual volume (forecasting.usual_volume): what a day's value adds to the sum of its steps. None on
    # models trained before 2026-12-03: a day's value is the sum of its steps.
    daily_median: np.ndarray | None = None
    # The daily table's residuals are a day's total error over the root of its usual volume (its steps'
    # forecasting.usual_volume summed): a quiet weekend's interval narrower than a busy weekday's, and a
    # partial first day nearly as wide as the whole day whose leads it holds. False (models trained
    # before 2026-12-03's second session, and pools): over the day's count of steps, every full day alike.
    daily_per_root_usual: bool = False

    def spread(self, slots: np.ndarray) -> np.ndarray:
        """Each row's factor on its offsets, by the local slot of the week it forecasts
        (feature_spec.slots_of_week); ones without slot factors. Factors per slot of the day read the
        slot of the week modulo season_day, which is its slot of the day."""
        s = np.asarray(slots)
        if self.slot_factors is None:
            return np.ones(s.shape, dtype=np.float64)
        return np.asarray(self.slot_factors[np.asarray(s, dtype=np.int64) % self.slot_factors.size])

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "quantile_levels": [float(q) for q in self.quantile_levels],
            "quantiles": [[float(v) for v in row] for row in self.quantiles],
        }
        if self.slot_factors is not None:
            data["slot_factors"] = [float(f) for f in self.slot_factors]
        if self.daily is not None:
            data["daily"] = self.daily.to_dict()
        if self.daily_median is not None:
            data["daily_median_per_usual"] = [float(m) for m in self.daily_median]
        if self.daily_per_root_usual:
            data["daily_per_root_usual"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        levels = np.asarray(data["quantile_levels"], dtype=np.float64)
        quantiles = np.asarray(data["quantiles"], dtype=np.float64)
        if levels.ndim != 1 or levels.size < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError("calibration quantile_levels must be increasing")
        if levels[0] <= 0 or levels[-1] >= 1:
            raise ValueError("calibration quantile_levels must lie within (0, 1)")
        if quantiles.ndim != 2 or quantiles.shape[1] != levels.size or not np.all(np.isfinite(quantiles)):
            raise ValueError("calibration quantiles must be a finite (max_horizon, n_levels) table")
        daily = cls.from_dict(data["daily"]) if data.get("daily") is not None else None
        factors = None
        if data.get("slot_factors") is not None:
            factors = np.asarray(data["slot_factors"], dtype=np.float64)
            if factors.ndim != 1 or not factors.size or not np.all(np.isfinite(factors) & (factors > 0)):
                raise ValueError(
                    "calibration slot_factors must be positive and finite, one per slot of the day or week"
                )
        median = None
        if data.get("daily_median_per_usual") is not None:
            median = np.asarray(data["daily_median_per_usual"], dtype=np.float64)
            if median.ndim != 1 or not median.size or not np.all(np.isfinite(median)):
                raise ValueError(
                    "calibration daily_median_per_usual must be finite, one per day of the table"
                )
        per_root_usual = data.get("daily_per_root_usual", False)
        if not isinstance(per_root_usual, bool):
            raise ValueError("calibration daily_per_root_usual must be true or false")
        return cls(levels, np.maximum.accumulate(quantiles, axis=1), daily, factors, median, per_root_usual)

    def scaled(self, factor: float | np.ndarray) -> Calibration:
        """The quantiles times `factor` > 0 (one per step, or one for all): intervals that much wider or
        narrower. The daily table's first day takes the first step's factor, later days the last's."""
        by_step = np.broadcast_to(np.asarray(factor, dtype=np.float64), self.quantiles.shape[:1])
        if not np.all(by_step > 0.0):
            raise ValueError("interval factors must be > 0")
        daily = None
        if self.daily is not None:
            days = self.daily.quantiles.shape[0]
            daily = self.daily.scaled(np.where(np.arange(days) == 0, by_step[0], by_step[-1]))
        return self._replace(quantiles=self.quantiles * by_step[:, None], daily=daily)

    def offsets(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Scaled lower and upper offsets for steps 1..horizon at a central interval `level`."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be within (0, 1), got {level}")
        q_lo, q_hi = (1.0 - level) / 2.0, (1.0 + level) / 2.0
        levels = self.quantile_levels
        if q_lo < levels[0] - 1e-12 or q_hi > levels[-1] + 1e-12:
            top = levels[-1] - levels[0]
            raise ValueError(f"level {level} is outside the calibrated range (at most {top:.3f})")
        table = self.quantiles[:horizon]
        return _interp_columns(table, levels, q_lo), _interp_columns(table, levels, q_hi)

    def medians(self) -> np.ndarray:
        """Each row's median residual (interpolated in the table, as the offsets are)."""
        return _interp_columns(self.quantiles, self.quantile_levels, 0.5)

    def quantile_offsets(self, horizon: int, quantile: float) -> np.ndarray:
        """Scaled offsets of the forecast quantile `quantile` for steps 1..horizon; zeros for 0.5 (the
        point forecast is the plan's median, whatever the median residual was)."""
        levels = self.quantile_levels
        if not levels[0] - 1e-12 <= quantile <= levels[-1] + 1e-12:
            raise ValueError(f"quantile must be within {levels[0]}..{levels[-1]}, got {quantile}")
        if quantile == 0.5:
            return np.zeros(min(horizon, self.quantiles.shape[0]))
        return _interp_columns(self.quantiles[:horizon], levels, quantile)


def quantile_values(point: np.ndarray, offsets: np.ndarray, quantile: float) -> np.ndarray:
    """The forecast at `quantile` in the data's units, as the interval bounds are made: above the median it
    is never below the point forecast, below it never above it nor below 0 (so quantile q is the upper
    bound of the central interval at level 2q - 1, or the lower bound at level 1 - 2q)."""
    value = np.maximum(point, 0.0)
    if quantile > 0.5:
        return np.asarray(np.maximum(value + offsets, value), dtype=np.float64)
    if quantile < 0.5:
        return np.asarray(np.minimum(np.maximum(value + offsets, 0.0), value), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def _interp_columns(table: np.ndarray, levels: np.ndarray, q: float) -> np.ndarray:
    j = int(np.clip(np.searchsorted(levels, q, side="right") - 1, 0, levels.size - 2))
    frac = (q - levels[j]) / (levels[j + 1] - levels[j])
    frac = min(max(frac, 0.0), 1.0)
    return np.asarray(table[:, j] * (1.0 - frac) + table[:, j + 1] * frac, dtype=np.float64)


def slot_factors_of(
    residuals: np.ndarray,
    slots: np.ndarray,
    season_day: int,
    level: float = 0.8,
    shrink: float = SLOT_SHRINK,
    week_shrink: float | None = None,
) -> np.ndarray | None:
    """Per local slot of the day, how large its residuals are against every slot's: the `level` quantile
    of its |residual| over that of all, shrunk toward 1 by its count (n / (n + shrink)), within
    SLOT_LIMITS. `slots` are slots of the week (or of the day: only their slot of the day is read without
    `week_shrink`). With `week_shrink`, per slot of the week (7 x season_day factors), each shrunk toward
    its slot of the day's factor by n / (n + week_shrink). None for a daily series (one slot) or when no
    residual is non-zero."""
    r = np.abs(np.asarray(residuals, dtype=np.float64)).reshape(-1)
    s = np.asarray(slots, dtype=np.int64).reshape(-1)
    keep = np.isfinite(r)
    r, s = r[keep], s[keep]
    if season_day <= 1 or not r.size:
        return None
    overall = float(np.quantile(r, level))
    if overall <= 0.0:
        return None
    factors = _shrunk_ratios(r, s % season_day, season_day, overall, level, shrink, np.ones(season_day))
    if week_shrink is not None:
        week = 7 * season_day
        factors = _shrunk_ratios(r, s % week, week, overall, level, week_shrink, np.tile(factors, 7))
    return np.clip(factors, *SLOT_LIMITS)


def _shrunk_ratios(
    r: np.ndarray,
    group: np.ndarray,
    groups: int,
    overall: float,
    level: float,
    shrink: float,
    prior: np.ndarray,
) -> np.ndarray:
    """Each group's `level` quantile of `r` over `overall`, counted n / (n + shrink) against `prior`
    (a group without residuals: its prior)."""
    count = np.bincount(group, minlength=groups)
    ratio = _quantiles_by_group(r, group, count, level) / overall
    return np.asarray((count * ratio + shrink * prior) / (count + shrink), dtype=np.float64)


def _quantiles_by_group(values: np.ndarray, group: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """np.quantile(values[group == g], q) for every g (0 where a group is empty), in one sort: the
    serving fit takes 96 of them for a 15-minute series at each refresh of its cache entry."""
    ordered = values[np.lexsort((values, group))]
    start = np.cumsum(count) - count
    position = np.maximum(count - 1, 0) * q  # numpy's default ("linear") quantile
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    filled = count > 0
    low = np.where(filled, ordered[np.minimum(start + below, ordered.size - 1)], 0.0)
    high = np.where(filled, ordered[np.minimum(start + above, ordered.size - 1)], 0.0)
    return np.asarray(low + (position - below) * (high - low), dtype=np.float64)


def calibrate(
    residuals: np.ndarray,
    min_count: int = 60,
    slots: np.ndarray | None = None,
    season_day: int = 0,
    week_shrink: float | None = None,
    cross_fit: bool = False,
) -> Calibration:
    """Per-step quantiles of scaled residuals, pooling neighbouring steps until min_count are available;
    with `slots` (each residual's local slot of the week, the same shape) and `season_day`, of the
    residuals divided by their slot's factor (slot_factors_of, per slot of the week with
    `week_shrink`), which the calibration keeps. With `cross_fit`, the quantiles are then widened by how
    much factors taken without an origin (a row) miss on it (cross_fit_widening)."""
    factors = (
        None if slots is None else slot_factors_of(residuals, slots, season_day, week_shrink=week_shrink)
    )
    widening = 1.0
    if factors is not None and slots is not None:
        s = np.asarray(slots, dtype=np.int64)
        if cross_fit:
            widening = cross_fit_widening(residuals, s, season_day, week_shrink, factors)
        residuals = residuals / factors[s % factors.size]
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
    return Calibration(levels, np.maximum.accumulate(table, axis=1) * widening, None, factors)


def cross_fit_widening(
    residuals: np.ndarray,
    slots: np.ndarray,
    season_day: int,
    week_shrink: float | None,
    factors: np.ndarray,
    level: float = 0.8,
) -> float:
    """How much wider (>= 1) the intervals must be for factors the residuals did not shape: the `level`
    quantile of |residual| over the factors of the *other* rows (backtest origins), against the same over
    the factors of all. Factors taken from the residuals they divide flatter them, and the served ones
    will divide next week's errors. One number, so an hour whose residuals are all alike (a night of no
    leads) keeps its exact zero."""
    r = np.asarray(residuals, dtype=np.float64)
    rows = np.arange(r.shape[0])
    if rows.size < 2:
        return 1.0
    unseen = np.empty_like(r)
    for i in rows:
        others = rows != i
        own = slot_factors_of(r[others], slots[others], season_day, week_shrink=week_shrink)
        unseen[i] = r[i] / (factors if own is None else own)[slots[i] % factors.size]
    seen = np.abs(r / factors[slots % factors.size])
    ok = np.isfinite(seen)
    if not ok.any():
        return 1.0
    base = float(np.quantile(seen[ok], level))
    if base <= 0.0:
        return 1.0
    return max(1.0, float(np.quantile(np.abs(unseen[ok]), level)) / base)


def interval_bounds(
    point: np.ndarray, lo_off: np.ndarray, hi_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast and bounds in the data's units: clipped at 0, lower <= value <= upper. A lower bound
    within rounding of 0 is 0: an hour whose quantile is exactly "none at all" (a quiet night forecast a
    little above 0) must cover its zero, whatever the last bit of the subtraction says."""
    value = np.maximum(point, 0.0)
    low = value + lo_off
    lower = np.where(low <= 1e-9 * value, 0.0, np.minimum(low, value))
    upper = np.maximum(value + hi_off, value)
    return value, lower, upper


def daily_totals(
    value: np.ndarray,
    days: np.ndarray,
    scale: float,
    calibration: Calibration,
    level: float,
    usual: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Per local date of the forecast (`days`: each step's local date as days since 1970-01-01): its
    total and, with a daily table, its own interval (the backtest's daily residuals, not the sum of the
    steps' bounds, which would be far too wide: errors of neighbouring hours partly cancel).

    The total is the sum of the day's steps moved by the backtest's median daily error per unit of usual
    volume times the day's (`calibration.daily_median`; `usual`, each step's: forecasting.usual_volume):
    a day's median, which on a sparse series is not the sum of its hours' medians (0). The interval stays
    the daily table's around the sum, widened to hold the total; its offsets are scaled by the root of the
    day's usual volume when the table was calibrated so (`daily_per_root_usual`), else by its count of
    steps. The first and the last date may be partial."""
    day = np.asarray(days, dtype=np.int64)
    if day.size == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(day[1:] != day[:-1]) + 1])
    sums = np.add.reduceat(np.asarray(value, dtype=np.float64), starts)
    counts = np.diff(np.concatenate([starts, [day.size]]))
    dates = np.datetime_as_string(day[starts].astype("datetime64[D]"), unit="D").tolist()
    volume = (
        None if usual is None else np.add.reduceat(np.asarray(usual, dtype=np.float64)[: day.size], starts)
    )
    totals = sums
    if calibration.daily_median is not None and volume is not None:
        k = np.minimum(np.arange(len(dates)), calibration.daily_median.size - 1)
        totals = np.maximum(sums + calibration.daily_median[k] * volume * scale, 0.0)
    lower: list[float | None] = [None] * len(dates)
    upper: list[float | None] = [None] * len(dates)
    if calibration.daily is not None:
        lo, hi = calibration.daily.offsets(calibration.daily.quantiles.shape[0], level)
        k = np.minimum(np.arange(len(dates)), lo.size - 1)
        divisor = counts
        if calibration.daily_per_root_usual:
            if volume is None:
                raise ValueError(
                    "this daily table is per root of the usual volume: pass each step's usual volume"
                )
            divisor = np.sqrt(volume)
        width = scale * divisor
        lower = np.round(np.minimum(np.maximum(sums + lo[k] * width, 0.0), totals), 3).tolist()
        upper = np.round(np.maximum(sums + hi[k] * width, totals), 3).tolist()
    return [
        {"date": d, "value": v, "lower": lo_, "upper": hi_}
        for d, v, lo_, hi_ in zip(dates, np.round(totals, 3).tolist(), lower, upper, strict=True)
    ]
