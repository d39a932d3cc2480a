"""Prediction intervals: conformal quantiles of scaled backtest residuals, per horizon step.

Training calibrates (`calibrate`) on the backtest's residuals (y - forecast) / level; the table travels in
the ONNX metadata; serving turns it into bounds at the level a request asks for (`offsets`,
`interval_bounds`). numpy only: the prediction Lambda imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

QUANTILE_LEVELS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995,
)  # fmt: skip


class Calibration(NamedTuple):
    """Quantiles of scaled backtest residuals (y - forecast) / level, per horizon step.

    quantiles[h - 1, j] is the quantile at quantile_levels[j] for step h."""

    quantile_levels: np.ndarray  # (n_q,), increasing, within (0, 1)
    quantiles: np.ndarray  # (max_horizon, n_q), non-decreasing along axis 1
    # Daily totals: row k holds the quantiles of the mean scaled residual over the k-th local day of a
    # forecast (day 0 is the origin's, often partial), from the backtest's daily sums. None on old models.
    daily: Calibration | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "quantile_levels": [float(q) for q in self.quantile_levels],
            "quantiles": [[float(v) for v in row] for row in self.quantiles],
        }
        if self.daily is not None:
            data["daily"] = self.daily.to_dict()
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
        return cls(levels, np.maximum.accumulate(quantiles, axis=1), daily)

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
        return Calibration(self.quantile_levels, self.quantiles * by_step[:, None], daily)

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


def calibrate(residuals: np.ndarray, min_count: int = 60) -> Calibration:
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


def interval_bounds(
    point: np.ndarray, lo_off: np.ndarray, hi_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast and bounds in the data's units: clipped at 0, lower <= value <= upper."""
    value = np.maximum(point, 0.0)
    lower = np.minimum(np.maximum(value + lo_off, 0.0), value)
    upper = np.maximum(value + hi_off, value)
    return value, lower, upper


def daily_totals(
    value: np.ndarray, days: np.ndarray, scale: float, daily: Calibration | None, level: float
) -> list[dict[str, Any]]:
    """Per local date of the forecast (`days`: each step's local date as days since 1970-01-01): the total
    of its steps and, with a daily calibration, its own interval (the backtest's daily residuals, not the
    sum of the steps' bounds, which would be far too wide: errors of neighbouring hours partly cancel).
    The first and the last date may be partial days."""
    day = np.asarray(days, dtype=np.int64)
    if day.size == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(day[1:] != day[:-1]) + 1])
    totals = np.add.reduceat(np.asarray(value, dtype=np.float64), starts)
    counts = np.diff(np.concatenate([starts, [day.size]]))
    dates = np.datetime_as_string(day[starts].astype("datetime64[D]"), unit="D").tolist()
    lower: list[float | None] = [None] * len(dates)
    upper: list[float | None] = [None] * len(dates)
    if daily is not None:
        lo, hi = daily.offsets(daily.quantiles.shape[0], level)
        k = np.minimum(np.arange(len(dates)), lo.size - 1)
        width = scale * counts
        lower = np.round(np.minimum(np.maximum(totals + lo[k] * width, 0.0), totals), 3).tolist()
        upper = np.round(np.maximum(totals + hi[k] * width, totals), 3).tolist()
    return [
        {"date": d, "value": v, "lower": lo_, "upper": hi_}
        for d, v, lo_, hi_ in zip(dates, np.round(totals, 3).tolist(), lower, upper, strict=True)
    ]
