"""Forecast accuracy metrics (numpy only).

Definitions follow the M4 competition (Makridakis et al., 2020):
  * sMAPE = 200/h * sum |y - f| / (|y| + |f|)   (a 0/0 term counts as 0);
  * MASE  = mean |y - f| / mean |x_t - x_{t-m}| over the in-sample data x (data up to the origin);
  * OWA   = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2, the ratios taken between the averages
    over all series;
  * Naive2: naive forecast of the seasonally adjusted series (classical multiplicative decomposition),
    used only when the 90% autocorrelation seasonality test at lag m passes.
WAPE = 100 * sum |y - f| / sum |y|; coverage = share of actuals inside [lower, upper].
NaN actuals (missing slots) are ignored everywhere.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "coverage",
    "mae",
    "mase",
    "naive2_forecast",
    "owa",
    "seasonal_naive_forecast",
    "seasonal_naive_scale",
    "smape",
    "wape",
]


def _pair(actual: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=np.float64).reshape(-1)
    f = np.asarray(forecast, dtype=np.float64).reshape(-1)
    if a.shape != f.shape:
        raise ValueError(f"actual and forecast differ in length: {a.shape[0]} != {f.shape[0]}")
    keep = ~np.isnan(a)
    return a[keep], f[keep]


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f))) if a.size else float("nan")


def seasonal_naive_scale(insample: np.ndarray, m: int = 24) -> float:
    """In-sample MAE of the seasonal naive forecast with period m (the MASE denominator); NaN when the
    in-sample data are too short or constant at lag m."""
    x = np.asarray(insample, dtype=np.float64).reshape(-1)
    if m < 1 or x.shape[0] <= m:
        return float("nan")
    d = np.abs(x[m:] - x[:-m])
    d = d[~np.isnan(d)]
    if not d.size:
        return float("nan")
    scale = float(np.mean(d))
    return scale if scale > 0 else float("nan")


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, m: int = 24) -> float:
    """MAE of the forecast divided by the in-sample seasonal-naive (period m) MAE."""
    return mae(actual, forecast) / seasonal_naive_scale(insample, m)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200), M4 definition; a term with y = f = 0 counts as 0."""
    a, f = _pair(actual, forecast)
    if not a.size:
        return float("nan")
    denom = np.abs(a) + np.abs(f)
    num = np.abs(a - f)
    terms = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return float(200.0 * np.mean(terms))


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error in percent: 100 * sum|y - f| / sum|y|."""
    a, f = _pair(actual, forecast)
    total = float(np.sum(np.abs(a)))
    if total == 0.0:
        return float("nan")
    return float(100.0 * np.sum(np.abs(a - f)) / total)


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share (0..1) of observed actuals with lower <= y <= upper."""
    a = np.asarray(actual, dtype=np.float64).reshape(-1)
    lo = np.asarray(lower, dtype=np.float64).reshape(-1)
    hi = np.asarray(upper, dtype=np.float64).reshape(-1)
    if not (a.shape == lo.shape == hi.shape):
        raise ValueError("actual, lower and upper must have the same length")
    keep = ~np.isnan(a)
    if not keep.any():
        return float("nan")
    return float(np.mean((lo[keep] <= a[keep]) & (a[keep] <= hi[keep])))


def msis(
    actual: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    insample: np.ndarray,
    level: float = 0.8,
    m: int = 24,
) -> float:
    """Mean scaled interval score (the M4 competition's MSIS) of a central `level` interval: the mean of
    (upper - lower) + 2/alpha * (lower - y)+ + 2/alpha * (y - upper)+, alpha = 1 - level, divided by the
    in-sample seasonal-naive MAE, as MASE is. Lower is better: narrow, and wide enough where it matters."""
    a = np.asarray(actual, dtype=np.float64).reshape(-1)
    lo = np.asarray(lower, dtype=np.float64).reshape(-1)
    hi = np.asarray(upper, dtype=np.float64).reshape(-1)
    keep = ~np.isnan(a) & ~np.isnan(lo) & ~np.isnan(hi)
    if not keep.any():
        return float("nan")
    a, lo, hi = a[keep], lo[keep], hi[keep]
    alpha = 1.0 - level
    score = (hi - lo) + 2.0 / alpha * (np.maximum(lo - a, 0.0) + np.maximum(a - hi, 0.0))
    return float(np.mean(score) / seasonal_naive_scale(insample, m))


def seasonal_naive_forecast(insample: np.ndarray, horizon: int, m: int = 24) -> np.ndarray:
    """Repeat the last m observations (the last value when fewer than m are available)."""
    x = np.asarray(insample, dtype=np.float64).reshape(-1)
    if x.shape[0] == 0:
        raise ValueError("seasonal naive needs at least one observation")
    if x.shape[0] < m:
        return np.full(horizon, x[-1])
    last = x[-m:]
    return np.asarray(last[np.arange(horizon) % m], dtype=np.float64)


def _acf(x: np.ndarray, k: int) -> float:
    mean = x.mean()
    d = x - mean
    return float(np.sum(d[k:] * d[: x.shape[0] - k]) / np.sum(d * d))


def _seasonality_test(x: np.ndarray, m: int) -> bool:
    # As in the M4 organisers' code (including its first term, acf(1), entering unsquared).
    s = _acf(x, 1)
    for i in range(2, m):
        s += _acf(x, i) ** 2
    limit = 1.645 * np.sqrt((1 + 2 * s) / x.shape[0])
    return bool(abs(_acf(x, m)) > limit)


def _seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Classical multiplicative decomposition indices (centred moving average trend), mean 1."""
    n = x.shape[0]
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = weights.shape[0] // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(x, weights, mode="valid")
    ratio = x / trend
    idx = np.zeros(m)
    for p in range(m):
        vals = ratio[p::m]
        vals = vals[~np.isnan(vals)]
        idx[p] = vals.mean() if vals.size else 1.0
    return idx / idx.mean()


def naive2_forecast(insample: np.ndarray, horizon: int, m: int = 24) -> np.ndarray:
    """The M4 Naive2 benchmark: naive forecast of the seasonally adjusted series, re-seasonalised."""
    x = np.asarray(insample, dtype=np.float64).reshape(-1)
    x = x[~np.isnan(x)]
    if x.shape[0] == 0:
        raise ValueError("Naive2 needs at least one observation")
    n = x.shape[0]
    si = _seasonal_indices(x, m) if m > 1 and n >= 3 * m and _seasonality_test(x, m) else np.ones(max(m, 1))
    period = si.shape[0]
    last_adjusted = x[-1] / si[(n - 1) % period]
    future = si[(n + np.arange(horizon)) % period]
    return np.asarray(last_adjusted * future, dtype=np.float64)


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average relative to Naive2 (M4): mean of the two ratios."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)
