"""Daily totals' intervals: quantiles of the backtest's daily-sum residuals, by local day of the horizon.

For each backtest case (an origin and its H steps) the steps are grouped by local date, as a served
forecast groups them; the residual of a day is the mean of its steps' scaled residuals (actual - forecast)
/ level, i.e. the day's total error divided by level x its steps, so serving scales it back with the same
two numbers. A day with a missing actual is left out. Coverage is measured on the same residuals the
quantiles come from (as the hourly coverage is).
"""

from __future__ import annotations

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS
from lead_ai.forecasting.calibration import Calibration, calibrate
from lead_ai.forecasting.feature_spec import FeatureSpec


def daily_residuals(residuals: np.ndarray, origins: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """(n_cases, n_days) mean scaled residual of each case's k-th local day (NaN where a day is missing
    an actual)."""
    n, horizon = residuals.shape
    stamps = np.asarray(origins, dtype=np.int64)[:, None] + spec.interval_seconds * np.arange(1, horizon + 1)
    wall, _ = spec.wall_clock(stamps)
    day = wall // DAY_SECONDS
    index = day - day[:, :1]  # 0 for the origin's local day
    n_days = int(index.max()) + 1
    out = np.full((n, n_days), np.nan)
    for k in range(n_days):
        member = index == k
        count = member.sum(axis=1)
        total = np.where(member, residuals, 0.0).sum(axis=1)
        complete = count > 0
        complete &= ~np.any(member & np.isnan(residuals), axis=1)
        out[complete, k] = total[complete] / count[complete]
    return out


def daily_calibration(
    residuals: np.ndarray, origins: np.ndarray, spec: FeatureSpec, level: float
) -> tuple[Calibration, float]:
    """The daily table and the share of backtest days inside its central `level` interval."""
    by_day = daily_residuals(residuals, origins, spec)
    table = calibrate(by_day, min_count=30)
    lo, hi = table.offsets(by_day.shape[1], level)
    seen = ~np.isnan(by_day)
    inside = (by_day >= lo[None, :]) & (by_day <= hi[None, :])
    coverage = float(inside[seen].mean()) if seen.any() else float("nan")
    return table, coverage
