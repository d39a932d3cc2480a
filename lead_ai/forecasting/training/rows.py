"""Training rows: (origin t, step h) pairs sampled from each series, built by the features serving uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lead_ai.errors import InsufficientHistoryError
from lead_ai.forecasting.extremes import extreme_limits
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.features import build_rows
from lead_ai.forecasting.training.settings import SeriesData, TrainingSettings

TARGET_CLIP = 1e3  # scaled targets beyond this are clipped (a burst after a dead week)


@dataclass
class Rows:
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
    taken as a strided view so no per-origin copy of the history is made. A target that is an isolated
    extreme for its origin's window (features.extreme_limits: a typo, a bot burst) is NaN: the features
    never show such a value, and the model must not learn to forecast one."""
    origins, inverse = np.unique(t, return_inverse=True)
    padded = np.concatenate([np.full(spec.window - 1, np.nan), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, spec.window)
    X = np.empty((t.size, spec.n_features), dtype=np.float32)
    level = np.empty(t.size)
    limit = np.empty(t.size)
    chunk = 2048  # bounds the memory of the gathered windows
    for start in range(0, origins.size, chunk):
        sel = np.flatnonzero((inverse >= start) & (inverse < start + chunk))
        o = origins[start : start + chunk]
        stamps = first_timestamp + o * spec.interval_seconds
        limits = extreme_limits(view[o])
        X[sel], level[sel] = build_rows(view[o], stamps, inverse[sel] - start, h[sel], spec, limits)
        limit[sel] = limits[inverse[sel] - start]
    actual = values[t + h]
    target = np.clip(np.where(np.abs(actual) > limit, np.nan, actual) / level, -TARGET_CLIP, TARGET_CLIP)
    return X, target, level


def _series_rows(
    values: np.ndarray,
    first_timestamp: int,
    spec: FeatureSpec,
    last_target: int,
    n_rows: int,
    rng: np.random.Generator,
) -> Rows | None:
    t, h = sample_pairs(values, spec, last_target, n_rows, rng)
    if not t.size:
        return None
    X, y, _ = rows_for_pairs(values, first_timestamp, spec, t, h)
    keep = ~np.isnan(y)  # extremes are dropped (see rows_for_pairs)
    if not keep.any():
        return None
    return Rows(X[keep], y[keep])


def training_rows(
    series: Sequence[SeriesData],
    ends: Sequence[int],
    spec: FeatureSpec,
    max_rows: int,
    seed: int,
    max_per_series: int | None = None,
) -> Rows:
    """Rows from every series, targets at indices <= ends[i]; the row budget is shared evenly, and no
    series gives more than max_per_series."""
    rng = np.random.default_rng(seed)
    per_series = max(spec.max_horizon, max_rows // max(len(series), 1))
    if max_per_series is not None:
        per_series = min(per_series, max(spec.max_horizon, max_per_series))
    parts = []
    for s, end in zip(series, ends, strict=True):
        possible = max(end - spec.season_day, 0) * spec.max_horizon
        rows = _series_rows(s.values, s.first_timestamp, spec, end, min(per_series, max(possible, 1)), rng)
        if rows is not None:
            parts.append(rows)
    if not parts:
        raise InsufficientHistoryError("no training rows could be built from the series given")
    return Rows(np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts]))


def final_rows(series: Sequence[SeriesData], spec: FeatureSpec, settings: TrainingSettings) -> Rows:
    """The served model's rows: targets up to each series' last slot, the whole row budget."""
    return training_rows(
        series,
        [s.values.shape[0] - 1 for s in series],
        spec,
        settings.max_rows,
        settings.seed,
        settings.max_rows_per_series,
    )
