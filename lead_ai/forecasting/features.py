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
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date as _date
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "CALIBRATION_KEY",
    "FEATURE_SPEC_KEY",
    "FORMAT_KEY",
    "FORMAT_VALUE",
    "Calibration",
    "FeatureSpec",
    "build_rows",
    "default_spec",
    "level_of",
    "parse_interval",
    "parse_metadata",
    "prepare_window",
]

_INTERVAL_RE = re.compile(
    r"^\s*(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)\s*$"
)
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip

DAY_SECONDS = 86400
# Epoch day 0 (1970-01-01) was a Thursday; with this offset Monday is 0.
_EPOCH_WEEKDAY_OFFSET = 3
_LEVEL_FLOOR = 1e-9


def parse_interval(text: str) -> int:
    """Parse an interval such as "1h", "30min", "15min", "1d" or "3600s" into seconds.

    The interval must divide a day (so that a day and a week are whole numbers of intervals)."""
    if not isinstance(text, str):
        raise ValueError(f"interval must be a string such as '1h', '30min' or '1d', got {text!r}")
    match = _INTERVAL_RE.match(text.lower())
    if match is None:
        raise ValueError(
            f"cannot parse interval {text!r}: expected a number and a unit, e.g. '1h', '30min', '15min', '1d'"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"interval {text!r} must be positive")
    if DAY_SECONDS % seconds != 0:
        raise ValueError(f"interval {text!r} ({seconds} s) must divide a day (86400 s) evenly")
    return seconds


@dataclass(frozen=True)
class FeatureSpec:
    """JSON-serialisable description of the features; stored in the ONNX metadata."""

    interval_seconds: int = 3600
    max_horizon: int = 168
    season_day: int = 24
    season_week: int = 168
    n_recent_lags: int = 24
    n_day_lags: int = 7
    n_week_lags: int = 4
    rolling_windows: tuple[int, ...] = (6, 24, 168)
    change_seasons: tuple[str, ...] = ("day", "week")  # compare the latest hours with a day / week before
    week_ratio: bool = True  # last day / same day a week before, and the weekly lag scaled by it
    level_window: int = 0  # observations averaged for the level; 0 = season_week
    day_of_year: bool = False  # day of the year of the target (on from ~1 year of history)
    holidays: str = "none"  # the market's holiday calendar: "US" or "none" (see holiday_kind)
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("interval_seconds", "max_horizon", "season_day", "season_week"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"FeatureSpec.{name} must be > 0, got {getattr(self, name)}")
        for name in ("n_recent_lags", "n_day_lags", "n_week_lags"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"FeatureSpec.{name} must be >= 1, got {getattr(self, name)}")
        if any(int(w) <= 0 for w in self.rolling_windows):
            raise ValueError(f"FeatureSpec.rolling_windows must be positive, got {self.rolling_windows}")
        object.__setattr__(self, "rolling_windows", tuple(int(w) for w in self.rolling_windows))
        object.__setattr__(self, "change_seasons", tuple(str(p) for p in self.change_seasons))
        if set(self.change_seasons) - {"day", "week"}:
            raise ValueError(f"FeatureSpec.change_seasons: only 'day' and 'week', got {self.change_seasons}")
        if self.holidays not in HOLIDAY_CALENDARS:
            raise ValueError(
                f"FeatureSpec.holidays must be one of {HOLIDAY_CALENDARS}, got {self.holidays!r}"
            )

    @property
    def window(self) -> int:
        """How many most-recent observations a prediction needs (older ones are ignored)."""
        # The k-th same-slot value before the target is at most season * k - 1 slots before the origin,
        # whatever the step, so the window does not depend on max_horizon.
        need_week = self.season_week * self.n_week_lags
        need_day = self.season_day * self.n_day_lags
        return max(need_week, need_day, self.n_recent_lags, self.season_week, *self.rolling_windows)

    @property
    def feature_names(self) -> list[str]:
        names = ["step", "slot_of_day", "day_of_week"]
        names += [f"lag_{j}" for j in range(self.n_recent_lags)]
        names += [f"same_slot_day_{k}" for k in range(1, self.n_day_lags + 1)]
        names += [f"same_slot_week_{k}" for k in range(1, self.n_week_lags + 1)]
        names += ["same_slot_day_mean", "same_slot_day_median"]
        names += ["same_slot_week_mean"] + (["same_slot_week_adjusted"] if self.week_ratio else [])
        names += [f"mean_{w}" for w in self.rolling_windows]
        names += [f"change_{p}_{r}" for p in self.change_seasons for r in self._change_windows]
        names += ["ratio_week"] if self.week_ratio else []
        names += ["std_week", "observed_share", "log1p_level"]
        names += ["day_of_year"] if self.day_of_year else []
        names += ["holiday_target"] if self.holidays != "none" else []
        return names

    @property
    def _change_windows(self) -> tuple[int, ...]:
        return tuple(sorted({max(1, self.season_day // 4), self.season_day}))

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rolling_windows"] = list(self.rolling_windows)
        data["change_seasons"] = list(self.change_seasons)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown FeatureSpec fields: {sorted(unknown)}")
        kwargs = dict(data)
        if "rolling_windows" in kwargs:
            kwargs["rolling_windows"] = tuple(int(w) for w in kwargs["rolling_windows"])
        if "change_seasons" in kwargs:
            kwargs["change_seasons"] = tuple(kwargs["change_seasons"])
        if "extra" in kwargs:
            kwargs["extra"] = dict(kwargs["extra"])
        return cls(**kwargs)


def default_spec(interval_seconds: int = 3600, max_horizon: int | None = None) -> FeatureSpec:
    """The default features for an interval: seasons are a day and a week of intervals."""
    if interval_seconds <= 0 or DAY_SECONDS % interval_seconds != 0:
        raise ValueError(f"interval_seconds must be positive and divide a day, got {interval_seconds}")
    season_day = DAY_SECONDS // interval_seconds
    season_week = 7 * season_day
    horizon = season_week if max_horizon is None else int(max_horizon)
    if horizon <= 0:
        raise ValueError(f"max_horizon must be > 0, got {max_horizon}")
    windows = tuple(sorted({max(1, season_day // 4), season_day, season_week}))
    return FeatureSpec(
        interval_seconds=interval_seconds,
        max_horizon=horizon,
        season_day=season_day,
        season_week=season_week,
        n_recent_lags=min(24, season_day) if season_day > 1 else 7,
        n_day_lags=7,
        n_week_lags=4,  # the window is four weeks of data
        level_window=4 * season_week,  # a four-week level: one holiday week does not rescale everything
        rolling_windows=windows,
    )


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


def _nanmean_rows(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row means ignoring NaN (NaN where a row has none), and the observed counts; no warnings."""
    mask = ~np.isnan(block)
    count = mask.sum(axis=1)
    total = np.where(mask, block, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def level_of(windows: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Per-window scale: mean |y| of the last level_window observed values, else of the whole window,
    else 1. Never zero, never NaN."""
    w = np.atleast_2d(windows)
    recent, _ = _nanmean_rows(np.abs(w[:, -(spec.level_window or spec.season_week) :]))
    whole, _ = _nanmean_rows(np.abs(w))
    level = np.where(np.isfinite(recent) & (recent > _LEVEL_FLOOR), recent, whole)
    return np.where(np.isfinite(level) & (level > _LEVEL_FLOOR), level, 1.0)


def build_rows(
    windows: np.ndarray,
    last_timestamps: np.ndarray,
    window_index: np.ndarray,
    steps: np.ndarray,
    spec: FeatureSpec,
) -> tuple[np.ndarray, np.ndarray]:
    """Model rows for (window, step) pairs.

    windows: (n_windows, spec.window) float64, oldest first, NaN for missing slots.
    last_timestamps: (n_windows,) epoch seconds of each window's last slot.
    window_index, steps: (n_rows,) which window and which step 1..spec.max_horizon each row is for.
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
        mean, _ = _nanmean_rows((usual if r >= spec.season_week else w)[:, -r:])
        per_window.append((mean * inv)[:, None])
    # How the latest observations compare with the same hours a day / a week earlier.
    D, Wk = spec.season_day, spec.season_week
    for back in [{"day": D, "week": Wk}[p] for p in spec.change_seasons]:
        for r in spec._change_windows:
            now, _ = _nanmean_rows(w[:, -r:])
            before, _ = _nanmean_rows(usual[:, width - back - r : width - back])
            per_window.append(((now - before) * inv)[:, None])
    last_day, _ = _nanmean_rows(usual[:, -D:])
    week_before, _ = _nanmean_rows(usual[:, width - Wk - D : width - Wk])
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
    mean_w, count_w = _nanmean_rows(week)
    dev = np.where(np.isnan(week), 0.0, week - mean_w[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        std_w = np.where(count_w > 1, np.sqrt((dev * dev).sum(axis=1) / np.maximum(count_w - 1, 1)), np.nan)
    per_window.append((std_w * inv)[:, None])
    per_window.append((np.count_nonzero(~np.isnan(w), axis=1) / width)[:, None])
    per_window.append(np.log1p(level)[:, None])
    win_feats = np.concatenate(per_window, axis=1)

    # Per-row features relative to the target time.
    target_ts = ts[idx] + h * spec.interval_seconds
    slot = (target_ts // spec.interval_seconds) % spec.season_day
    dow = (target_ts // DAY_SECONDS + _EPOCH_WEEKDAY_OFFSET) % 7
    last = width - 1
    row_inv = inv[idx]

    def same_slot(season: int, count: int) -> np.ndarray:
        # k-th most recent slot at the same phase as the target that is at or before the origin.
        first_back = season * ((h + season - 1) // season)  # smallest multiple of season >= h
        k = np.arange(count, dtype=np.int64)
        pos = last + h[:, None] - first_back[:, None] - season * k[None, :]
        return usual[idx[:, None], pos] * row_inv[:, None]

    day_vals = same_slot(spec.season_day, spec.n_day_lags)
    week_vals = same_slot(spec.season_week, spec.n_week_lags)
    day_mean, _ = _nanmean_rows(day_vals)
    week_mean, _ = _nanmean_rows(week_vals)
    day_median = _nanmedian_rows(day_vals)

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
        X[:, c] = _day_of_year(target_ts)
        c += 1
    if spec.holidays != "none":
        X[:, c] = holiday_kind(target_ts, spec.holidays)
    return X, level[idx]


# ------------------------------------------------------------------ holiday calendar (numpy + stdlib only)

HOLIDAY_CALENDARS = ("none", "US")
HOLIDAY, QUIET_DAY = 1, 2  # holiday kinds (0 = an ordinary day)
_EPOCH_ORDINAL = _date(1970, 1, 1).toordinal()


def holiday_kind(timestamps: np.ndarray, calendar: str) -> np.ndarray:
    """Holiday kind of the calendar day (UTC clock, as the weekday feature) of each epoch-second timestamp:
    HOLIDAY, QUIET_DAY (a working day most people take off) or 0; same shape as the input."""
    t = np.asarray(timestamps, dtype=np.int64)
    if calendar == "none" or t.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    day = t // DAY_SECONDS
    days, kinds = _us_calendar(_year_of(int(day.min())), _year_of(int(day.max())))
    pos = np.minimum(np.searchsorted(days, day), days.size - 1)
    return np.where(days[pos] == day, kinds[pos], 0)


def _without_holidays(windows: np.ndarray, last_timestamps: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The windows with the slots of the calendar's days missing (NaN); the windows themselves without a
    calendar."""
    if spec.holidays == "none":
        return windows
    back = np.arange(windows.shape[1] - 1, -1, -1, dtype=np.int64) * spec.interval_seconds
    slots = last_timestamps[:, None] - back[None, :]
    return np.where(holiday_kind(slots, spec.holidays) > 0, np.nan, windows)


@lru_cache(maxsize=64)
def _us_calendar(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted epoch days and kinds of the US calendar over the years (and their neighbours: a New Year
    on a Saturday is observed on December 31 of the year before)."""
    merged: dict[int, int] = {}
    for year in range(first_year - 1, last_year + 2):
        for day, kind in _us_year(year).items():
            merged[day] = min(kind, merged.get(day, kind))
    days = np.array(sorted(merged), dtype=np.int64)
    return days, np.array([merged[d] for d in days], dtype=np.int64)


def _us_year(year: int) -> dict[int, int]:
    """One year's major US holidays (a Saturday one observed on the Friday, a Sunday one on the Monday)
    and its quiet days: the Friday after Thanksgiving, December 24 and 26..31."""
    days: dict[int, int] = {}
    for month, day in _US_FIXED:
        d = _epoch_day(year, month, day)
        days[d] = HOLIDAY
        weekday = (d + _EPOCH_WEEKDAY_OFFSET) % 7
        observed = {5: d - 1, 6: d + 1}.get(weekday)
        if observed is not None:
            days[observed] = HOLIDAY
    for month, weekday, n in _US_FLOATING:
        days[_nth_weekday(year, month, weekday, n)] = HOLIDAY
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    days[thanksgiving] = HOLIDAY
    days.setdefault(thanksgiving + 1, QUIET_DAY)
    for day in (24, *range(26, 32)):
        days.setdefault(_epoch_day(year, 12, day), QUIET_DAY)
    return days


# The six holidays nearly every US employer gives (New Year, Memorial Day, Independence Day, Labor Day,
# Thanksgiving, Christmas). The other federal ones (MLK, Presidents', Columbus, Veterans, Juneteenth) are
# working days for most businesses: on the validation split, treating them as holidays made bike
# MASE h=24/168 0.754/0.873 instead of 0.706/0.753, and taxi 0.502/0.666 instead of 0.426/0.650.
_US_FIXED = ((1, 1), (7, 4), (12, 25))  # (month, day)
_US_FLOATING = ((5, 0, -1), (9, 0, 1))  # (month, weekday with Monday = 0, n-th; -1 = last)


def _year_of(epoch_day: int) -> int:
    return _date.fromordinal(epoch_day + _EPOCH_ORDINAL).year


def _epoch_day(year: int, month: int, day: int) -> int:
    return _date(year, month, day).toordinal() - _EPOCH_ORDINAL


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> int:
    """Epoch day of the n-th (1-based; -1 = last) given weekday (Monday = 0) of a month."""
    if n > 0:
        first = _date(year, month, 1)
        return first.toordinal() - _EPOCH_ORDINAL + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    last = _date(year + month // 12, month % 12 + 1, 1).toordinal() - 1
    return last - _EPOCH_ORDINAL - (_date.fromordinal(last).weekday() - weekday) % 7


def _day_of_year(timestamps: np.ndarray) -> np.ndarray:
    """Day of the year (0..365, UTC) of epoch-second timestamps."""
    moments = timestamps.astype("datetime64[s]")
    return np.asarray((moments.astype("datetime64[D]") - moments.astype("datetime64[Y]")).astype(np.int64))


def _nanmedian_rows(block: np.ndarray) -> np.ndarray:
    """Row medians ignoring NaN (NaN for an all-NaN row), without warnings."""
    if block.shape[1] == 0:
        return np.full(block.shape[0], np.nan)
    srt = np.sort(block, axis=1)  # NaN sorts last
    count = np.count_nonzero(~np.isnan(block), axis=1)
    rows = np.arange(block.shape[0])
    lo = np.maximum((count - 1) // 2, 0)
    hi = np.maximum(count // 2, 0)
    hi = np.minimum(hi, block.shape[1] - 1)
    med = 0.5 * (srt[rows, lo] + srt[rows, hi])
    return np.where(count > 0, med, np.nan)


# ------------------------------------------------------------------ model metadata (shared, numpy only)

FORMAT_KEY = "lead_ai.format"
FORMAT_VALUE = "lead_ai.direct_multi_horizon/1"
FEATURE_SPEC_KEY = "lead_ai.feature_spec"
CALIBRATION_KEY = "lead_ai.calibration"


class Calibration(NamedTuple):
    """Quantiles of scaled backtest residuals (y - forecast) / level, per horizon step.

    quantiles[h - 1, j] is the quantile at quantile_levels[j] for step h."""

    quantile_levels: np.ndarray  # (n_q,), increasing, within (0, 1)
    quantiles: np.ndarray  # (max_horizon, n_q), non-decreasing along axis 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantile_levels": [float(q) for q in self.quantile_levels],
            "quantiles": [[float(v) for v in row] for row in self.quantiles],
        }

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
        return cls(levels, np.maximum.accumulate(quantiles, axis=1))

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


def _interp_columns(table: np.ndarray, levels: np.ndarray, q: float) -> np.ndarray:
    j = int(np.clip(np.searchsorted(levels, q, side="right") - 1, 0, levels.size - 2))
    frac = (q - levels[j]) / (levels[j + 1] - levels[j])
    frac = min(max(frac, 0.0), 1.0)
    return np.asarray(table[:, j] * (1.0 - frac) + table[:, j + 1] * frac, dtype=np.float64)


def parse_metadata(meta: Mapping[str, str]) -> tuple[FeatureSpec, Calibration]:
    """FeatureSpec and Calibration from an ONNX model's metadata_props; ValueError if absent/invalid."""
    if meta.get(FORMAT_KEY) != FORMAT_VALUE:
        raise ValueError(f"not a lead_ai forecaster: metadata {FORMAT_KEY!r} is {meta.get(FORMAT_KEY)!r}")
    try:
        spec = FeatureSpec.from_dict(json.loads(meta[FEATURE_SPEC_KEY]))
        calibration = Calibration.from_dict(json.loads(meta[CALIBRATION_KEY]))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"lead_ai model metadata is missing or invalid: {exc}") from exc
    return spec, calibration
