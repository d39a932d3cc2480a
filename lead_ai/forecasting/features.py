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
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != spec.window:
        raise ValueError(f"windows must have shape (n, {spec.window}), got {w.shape}")
    idx = np.asarray(window_index, dtype=np.intp)
    h = np.asarray(steps, dtype=np.int64)
    if h.size and (h.min() < 1 or h.max() > spec.max_horizon):
        raise ValueError(f"steps must be within 1..{spec.max_horizon}")
    n_win, width = w.shape
    ts = np.asarray(last_timestamps, dtype=np.int64).reshape(n_win)
    w = clean_windows(w, spec, limits)
    # What stands for an ordinary day (the level, same-slot lags, weekly mean and std, the day and week
    # before) reads `usual`, the window without its holidays, so a Christmas week does not pose as the
    # norm; the latest hours (lags, short means, the "now" of the changes) are the state the forecast
    # starts from and stay as they are. Without a calendar both are the window.
    usual = _without_holidays(w, ts, spec)
    level = level_of(usual, spec)
    inv = 1.0 / level

    # Per-window features (computed once per window, then gathered per row).
    lags = w[:, ::-1][:, : spec.n_recent_lags] * inv[:, None]
    per_window = [lags]
    for r in spec.rolling_windows:
        mean, _ = nanmean_rows((usual if r >= spec.season_week else w)[:, -r:])
        per_window.append((mean * inv)[:, None])
    # How the latest observations compare with the same hours a day / a week earlier.
    D, Wk = spec.season_day, spec.season_week
    for back in [{"day": D, "week": Wk}[p] for p in spec.change_seasons]:
        for r in spec._change_windows:
            now, _ = nanmean_rows(w[:, -r:])
            before, _ = nanmean_rows(usual[:, width - back - r : width - back])
            per_window.append(((now - before) * inv)[:, None])
    last_day, _ = nanmean_rows(usual[:, -D:])
    week_before, _ = nanmean_rows(usual[:, width - Wk - D : width - Wk])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_week = np.where(
            week_before > _LEVEL_FLOOR,
            np.clip(last_day / week_before, 0.0, 10.0),
            np.where(last_day > _LEVEL_FLOOR, 10.0, 1.0),  # NaN stays NaN (comparisons are False)
        )
        ratio_week[np.isnan(last_day) | np.isnan(week_before)] = np.nan
    if spec.week_ratio:
        per_window.append(ratio_week[:, None])
    week = usual[:, -spec.season_week :]
    mean_w, count_w = nanmean_rows(week)
    dev = np.where(np.isnan(week), 0.0, week - mean_w[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        std_w = np.where(count_w > 1, np.sqrt((dev * dev).sum(axis=1) / np.maximum(count_w - 1, 1)), np.nan)
    per_window.append((std_w * inv)[:, None])
    per_window.append((np.count_nonzero(~np.isnan(w), axis=1) / width)[:, None])
    per_window.append(np.log1p(level)[:, None])
    win_feats = np.concatenate(per_window, axis=1)

    # Per-row features relative to the target time.
    target_ts = ts[idx] + h * spec.interval_seconds
    # The target's place in its local day and week (the series' zone), so the daily shape does not
    # slide by an hour when the clocks change.
    target_offset = spec.local_offsets(target_ts)
    local_ts = target_ts + target_offset
    slot = (local_ts // spec.interval_seconds) % spec.season_day
    dow = (local_ts // DAY_SECONDS + EPOCH_WEEKDAY_OFFSET) % 7
    last = width - 1
    row_inv = inv[idx]

    def same_slot(season: int, count: int) -> np.ndarray:
        # k-th most recent slot at the same phase as the target that is at or before the origin.
        first_back = season * ((h + season - 1) // season)  # smallest multiple of season >= h
        k = np.arange(count, dtype=np.int64)
        pos = last + h[:, None] - first_back[:, None] - season * k[None, :]
        pos = _same_local_slot(pos, ts[idx], target_offset, last, spec)
        return _gather(usual, idx, pos) * row_inv[:, None]

    day_vals = same_slot(spec.season_day, spec.n_day_lags)
    week_vals = same_slot(spec.season_week, spec.n_week_lags)
    day_mean, _ = nanmean_rows(day_vals)
    week_mean, _ = nanmean_rows(week_vals)
    day_median = nanmedian_rows(day_vals)

    X = np.empty((h.shape[0], spec.n_features), dtype=np.float32)
    X[:, 0] = h
    X[:, 1] = slot
    X[:, 2] = dow
    c = 3
    X[:, c : c + spec.n_recent_lags] = lags[idx]
    c += spec.n_recent_lags
    X[:, c : c + spec.n_day_lags] = day_vals
    c += spec.n_day_lags
    X[:, c : c + spec.n_week_lags] = week_vals
    c += spec.n_week_lags
    X[:, c] = day_mean
    X[:, c + 1] = day_median
    X[:, c + 2] = week_mean
    c += 3
    if spec.week_ratio:
        X[:, c] = week_vals[:, 0] * ratio_week[idx]
        c += 1
    rest = win_feats.shape[1] - spec.n_recent_lags
    X[:, c : c + rest] = win_feats[idx, spec.n_recent_lags :]
    c += rest
    if spec.day_of_year:
        X[:, c] = day_of_year(local_ts)
        c += 1
    if spec.holidays != "none":
        X[:, c] = spec.holiday_kinds(local_ts)
    return X, level[idx]


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
