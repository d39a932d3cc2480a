"""Daily totals: what the backtest's daily sums say about a forecast's local days.

For each backtest case (an origin and its H steps) the steps are grouped by local date, as a served
forecast groups them. Two measures of a day's error (actual - forecast, summed):
- per root of usual volume: divided by the root of the day's usual volume (in units of the level; with
  `TrainingSettings.daily_per_root_usual`, else per step: divided by the day's count of steps). Its
  quantiles, by day of the horizon, are the daily interval's table, and serving scales them back with
  the same two numbers. The root, as a count's noise grows: a quiet weekend gets a narrower interval
  than a busy weekday, and a partial first day about as wide as the day's leads it holds. Coverage is
  measured on the same residuals the quantiles come from (as the hourly coverage is).
- per unit of usual volume: divided by the day's usual volume (forecasting.usual_volume, in units of
  the level). Its median, by day of the horizon, moves a served day's value from the sum of its steps:
  a day's total is not the sum of its hours' medians, which is 0 on a sparse series, and a quiet day
  (a weekend, a partial night) is moved in proportion to its own volume.
A day with a missing actual is left out of both.
"""

from __future__ import annotations

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS
from lead_ai.forecasting.calibration import Calibration, calibrate
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.training.backtest import Backtest
from lead_ai.forecasting.training.settings import TrainingSettings


def daily_residuals(
    residuals: np.ndarray,
    origins: np.ndarray,
    spec: FeatureSpec,
    usual: np.ndarray | None = None,
    root: bool = False,
) -> np.ndarray:
    """(n_cases, n_days) scaled residual of each case's k-th local day (NaN where a day is missing an
    actual): its total over its usual volume (`usual`, (n_cases, H), scaled; with `root`, over the root
    of it), or over its steps."""
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
        divisor = count if usual is None else np.where(member, usual, 0.0).sum(axis=1)
        if root:
            divisor = np.sqrt(divisor)
        out[complete, k] = total[complete] / divisor[complete]
    return out


def daily_calibration(
    residuals: np.ndarray,
    origins: np.ndarray,
    spec: FeatureSpec,
    level: float,
    usual: np.ndarray | None = None,
) -> tuple[Calibration, float]:
    """The daily table (per root of the days' `usual` volume, or per step without) and the share of
    backtest days inside its central `level` interval."""
    by_day = daily_residuals(residuals, origins, spec, usual, root=usual is not None)
    table = calibrate(by_day, min_count=30)
    lo, hi = table.offsets(by_day.shape[1], level)
    seen = ~np.isnan(by_day)
    inside = (by_day >= lo[None, :]) & (by_day <= hi[None, :])
    coverage = float(inside[seen].mean()) if seen.any() else float("nan")
    return table, coverage


def daily_table(
    backtest: Backtest, spec: FeatureSpec, settings: TrainingSettings
) -> tuple[float, Calibration]:
    """The daily totals' coverage on the backtest, and the backtest's calibration with its daily table
    (per root of usual volume with `settings.daily_per_root_usual`; and, with `settings.daily_per_usual`,
    each row's median error per unit of usual volume)."""
    assert backtest.origins is not None
    root = settings.daily_per_root_usual and backtest.usual is not None
    usual = backtest.usual if root else None
    daily, coverage = daily_calibration(backtest.residuals, backtest.origins, spec, settings.level, usual)
    median = None
    if settings.daily_per_usual and backtest.usual is not None:
        median = daily_medians(daily_residuals(backtest.residuals, backtest.origins, spec, backtest.usual))
    calibration = backtest.calibration._replace(daily=daily, daily_median=median, daily_per_root_usual=root)
    return coverage, calibration


def daily_medians(by_day: np.ndarray) -> np.ndarray:
    """Each day of the horizon's median residual, its rows pooled as the daily table pools them."""
    return calibrate(by_day, min_count=30).medians()
