"""Feature construction shared by training and serving (numpy only: imported by the prediction Lambda).

One code path, `build_rows`, turns windows of recent observations into model rows. Training calls it with
many windows (one per sampled forecast origin) and sampled horizon steps; serving calls it with one
window and the steps 1..horizon. There is no other feature code, so there is no train/serve skew.

The model is a *direct multi-horizon* regressor: one row per (origin, step h), with h as a feature. All
values are divided by the window's *level* (mean absolute value of the last `level_window`
observations, four weeks by default, guarded against zero) so one global model serves series of any
scale; the model predicts y[origin + h] / level and the caller multiplies back.

Features of a row (origin t, step h, target time T = t + h), all value features divided by the level:
  * step h, position of T in the day (0..season_day-1), day of week of T (0 = Monday, UTC clock);
  * the most recent `n_recent_lags` values y[t], y[t-1], ...;
  * the value at the same position of the day on the k-th most recent *observed* day before T,
    k = 1..n_day_lags (so only values known at the origin are used, whatever h is);
  * the same for the same position of the week, k = 1..n_week_lags;
  * mean and median of those daily same-slot values, mean of the weekly ones, and the last weekly one
    scaled by ratio_week (last day / the same day a week before);
  * means of the last `rolling_windows` observations; change of the latest quarter-day / day versus a
    day and a week before; std of the last season_week, share of the window observed, log1p(level);
  * optionally the target's day of the year (training enables it from ~400 days of history);
  * with a holiday calendar (`holidays="US"`, a user setting): the kind of the target's day (holiday,
    quiet day such as Dec 24 and 26..31, or ordinary), and the calendar's days are missing from every
    feature that stands for an ordinary day (level, same-slot values, weekly mean and std, the day and
    week before), so a holiday fortnight neither rescales nor poses as the usual January.
Missing slots are NaN everywhere (the gradient-boosting model routes NaN natively).

Isolated extremes are replaced in each window before any feature is computed, the same way in training
and serving (extremes.py). The spec that fixes all of this, and travels in the artifact: feature_spec.py.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lead_ai.domain.intervals import DAY_SECONDS
from lead_ai.domain.localtime import UTC_ZONE
from lead_ai.forecasting.calendar import EPOCH_WEEKDAY_OFFSET, day_of_year
from lead_ai.forecasting.extremes import clean_windows
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.row_stats import nanmean_rows, nanmedian_rows

__all__ = ["build_rows", "level_of", "prepare_window"]

_LEVEL_FLOOR = 1e-9


def prepare_window(values: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The last `spec.window` values as float64, left-padded with NaN when the history is shorter."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    n = spec.window
    if arr.shape[0] >= n:
        return arr[arr.shape[0] - n :]
    out = np.full(n, np.nan)
    if arr.shape[0]:
        out[n - arr.shape[0] :] = arr
    return out


def level_of(windows: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Per-window scale: mean |y| of the last level_window observed values, else of the whole window,
    else 1. Never zero, never NaN."""
    w = np.atleast_2d(windows)
    recent, _ = nanmean_rows(np.abs(w[:, -(spec.level_window or spec.season_week) :]))
    whole, _ = nanmean_rows(np.abs(w))
    level = np.where(np.isfinite(recent) & (recent > _LEVEL_FLOOR), recent, whole)
    return np.where(np.isfinite(level) & (level > _LEVEL_FLOOR), level, 1.0)


def build_rows(
    windows: np.ndarray,
    last_timestamps: np.ndarray,
    window_index: np.ndarray,
    steps: np.ndarray,
    spec: FeatureSpec,
    limits: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Model rows for (window, step) pairs.

    windows: (n_windows, spec.window) float64, oldest first, NaN for missing slots.
    last_timestamps: (n_windows,) epoch seconds of each window's last slot.
    window_index, steps: (n_rows,) which window and which step 1..spec.max_horizon each row is for.
    limits: extreme_limits(windows), when the caller has them already (training uses them for targets).
    Returns X (n_rows, spec.n_features) float32 and the level (n_rows,) float64 of each row; the model
    target is y / level.
    """
    w, ts, idx, h = _checked(windows, last_timestamps, window_index, steps, spec)
    w = clean_windows(w, spec, limits)
    # What stands for an ordinary day (the level, same-slot lags, weekly mean and std, the day and week
    # before) reads `usual`, the window without its holidays, so a Christmas week does not pose as the
    # norm; the latest hours (lags, short means, the "now" of the changes) are the state the forecast
    # starts from and stay as they are. Without a calendar both are the window.
    usual = _without_holidays(w, ts, spec)
    level = level_of(usual, spec)
    inv = 1.0 / level
    per_window = _window_features(w, usual, level, inv, spec)
    origins = ts[idx]
    target = _TargetClock.of(origins + h * spec.interval_seconds, spec)
    rows = _Rows(idx, h, origins, target.offset, inv[idx])
    day_vals = _same_slot_values(usual, rows, spec.season_day, spec.n_day_lags, spec)
    week_vals = _same_slot_values(usual, rows, spec.season_week, spec.n_week_lags, spec)
    return _assemble(per_window, target, rows, day_vals, week_vals, spec), level[idx]


def _checked(
    windows: np.ndarray,
    last_timestamps: np.ndarray,
    window_index: np.ndarray,
    steps: np.ndarray,
    spec: FeatureSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != spec.window:
        raise ValueError(f"windows must have shape (n, {spec.window}), got {w.shape}")
    h = np.asarray(steps, dtype=np.int64)
    if h.size and (h.min() < 1 or h.max() > spec.max_horizon):
        raise ValueError(f"steps must be within 1..{spec.max_horizon}")
    ts = np.asarray(last_timestamps, dtype=np.int64).reshape(w.shape[0])
    return w, ts, np.asarray(window_index, dtype=np.intp), h


class _WindowFeatures(NamedTuple):
    """What is computed once per window, then gathered per row (values divided by the level)."""

    lags: np.ndarray  # (n_windows, n_recent_lags): the latest values, newest first
    others: np.ndarray  # (n_windows, k): rolling means, changes, ratio_week, std, observed share, log level
    ratio_week: np.ndarray  # (n_windows,): the last day over the same day a week before


def _window_features(
    w: np.ndarray, usual: np.ndarray, level: np.ndarray, inv: np.ndarray, spec: FeatureSpec
) -> _WindowFeatures:
    width = w.shape[1]
    lags = w[:, ::-1][:, : spec.n_recent_lags] * inv[:, None]
    others = []
    for r in spec.rolling_windows:
        mean, _ = nanmean_rows((usual if r >= spec.season_week else w)[:, -r:])
        others.append(mean * inv)
    # How the latest observations compare with the same hours a day / a week earlier.
    D, Wk = spec.season_day, spec.season_week
    for back in [{"day": D, "week": Wk}[p] for p in spec.change_seasons]:
        for r in spec._change_windows:
            now, _ = nanmean_rows(w[:, -r:])
            before, _ = nanmean_rows(usual[:, width - back - r : width - back])
            others.append((now - before) * inv)
    ratio_week = _ratio_week(usual, spec)
    if spec.week_ratio:
        others.append(ratio_week)
    others.append(_std_week(usual, spec) * inv)
    others.append(np.count_nonzero(~np.isnan(w), axis=1) / width)
    others.append(np.log1p(level))
    return _WindowFeatures(lags, np.stack(others, axis=1), ratio_week)


def _ratio_week(usual: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The last day's mean over the same day's a week before, within 0..10 (10 when the week before was
    empty and the last day was not; NaN when either is unknown)."""
    D, Wk, width = spec.season_day, spec.season_week, usual.shape[1]
    last_day, _ = nanmean_rows(usual[:, -D:])
    week_before, _ = nanmean_rows(usual[:, width - Wk - D : width - Wk])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(
            week_before > _LEVEL_FLOOR,
            np.clip(last_day / week_before, 0.0, 10.0),
            np.where(last_day > _LEVEL_FLOOR, 10.0, 1.0),  # NaN stays NaN (comparisons are False)
        )
    ratio[np.isnan(last_day) | np.isnan(week_before)] = np.nan
    return ratio


def _std_week(usual: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    week = usual[:, -spec.season_week :]
    mean, count = nanmean_rows(week)
    dev = np.where(np.isnan(week), 0.0, week - mean[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 1, np.sqrt((dev * dev).sum(axis=1) / np.maximum(count - 1, 1)), np.nan)


class _TargetClock(NamedTuple):
    """Each row's target on the series' local clock, so the daily shape does not slide by an hour when
    the clocks change."""

    local: np.ndarray  # epoch seconds of the local wall time
    offset: np.ndarray  # seconds from UTC
    slot: np.ndarray  # position in the local day
    day_of_week: np.ndarray  # 0 = Monday

    @classmethod
    def of(cls, target_ts: np.ndarray, spec: FeatureSpec) -> _TargetClock:
        offset = spec.local_offsets(target_ts)
        local = target_ts + offset
        slot = (local // spec.interval_seconds) % spec.season_day
        return cls(local, offset, slot, (local // DAY_SECONDS + EPOCH_WEEKDAY_OFFSET) % 7)


class _Rows(NamedTuple):
    """Per row: its window, its step, its origin, its target's UTC offset, and 1 / its level."""

    window: np.ndarray
    step: np.ndarray
    origin: np.ndarray
    target_offset: np.ndarray
    inv: np.ndarray


def _same_slot_values(
    usual: np.ndarray, rows: _Rows, season: int, count: int, spec: FeatureSpec
) -> np.ndarray:
    """The `count` most recent values at the target's phase of the day (or week) that are at or before
    the origin, newest first, divided by the level."""
    last = usual.shape[1] - 1
    h = rows.step
    first_back = season * ((h + season - 1) // season)  # smallest multiple of season >= h
    k = np.arange(count, dtype=np.int64)
    pos = last + h[:, None] - first_back[:, None] - season * k[None, :]
    pos = _same_local_slot(pos, rows.origin, rows.target_offset, last, spec)
    return _gather(usual, rows.window, pos) * rows.inv[:, None]


def _assemble(
    per_window: _WindowFeatures,
    target: _TargetClock,
    rows: _Rows,
    day_vals: np.ndarray,
    week_vals: np.ndarray,
    spec: FeatureSpec,
) -> np.ndarray:
    """The columns in spec.feature_names' order, as float32."""
    idx = rows.window
    day_mean, _ = nanmean_rows(day_vals)
    week_mean, _ = nanmean_rows(week_vals)
    columns = [
        rows.step[:, None],
        target.slot[:, None],
        target.day_of_week[:, None],
        per_window.lags[idx],
        day_vals,
        week_vals,
        day_mean[:, None],
        nanmedian_rows(day_vals)[:, None],
        week_mean[:, None],
    ]
    if spec.week_ratio:
        columns.append((week_vals[:, 0] * per_window.ratio_week[idx])[:, None])
    columns.append(per_window.others[idx])
    if spec.day_of_year:
        columns.append(day_of_year(target.local)[:, None])
    if spec.holidays != "none":
        columns.append(spec.holiday_kinds(target.local)[:, None])
    X = np.empty((idx.shape[0], spec.n_features), dtype=np.float32)
    c = 0
    for block in columns:
        X[:, c : c + block.shape[1]] = block
        c += block.shape[1]
    assert c == spec.n_features, f"{c} columns built for {spec.n_features} feature names"  # none left unset
    return X


def _without_holidays(windows: np.ndarray, last_timestamps: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The windows with the slots of the calendar's days missing (NaN); the windows themselves without a
    calendar."""
    if spec.holidays == "none":
        return windows
    back = np.arange(windows.shape[1] - 1, -1, -1, dtype=np.int64) * spec.interval_seconds
    slots = last_timestamps[:, None] - back[None, :]
    local = slots + spec.local_offsets(slots)
    return np.where(spec.holiday_kinds(local) > 0, np.nan, windows)


def _same_local_slot(
    pos: np.ndarray, origins: np.ndarray, target_offset: np.ndarray, last: int, spec: FeatureSpec
) -> np.ndarray:
    """Window positions `pos` (the same slot k days or weeks before each row's target on the UTC grid)
    moved to the same *local* slot: across a clock change the UTC grid's "a day before" is an hour off.
    A position past the origin (not yet observed) becomes -1, which reads as missing."""
    if spec.timezone == UTC_ZONE or spec.interval_seconds >= DAY_SECONDS:
        return pos
    stamps = origins[:, None] - (last - pos) * spec.interval_seconds
    shift = (target_offset[:, None] - spec.local_offsets(stamps)) // spec.interval_seconds
    if not shift.any():
        return pos
    moved = pos + shift
    return np.where((moved >= 0) & (moved <= last), moved, -1)


def _gather(block: np.ndarray, idx: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """block[idx, pos] per row, NaN where pos is -1."""
    values = block[idx[:, None], np.maximum(pos, 0)]
    return np.where(pos >= 0, values, np.nan)
