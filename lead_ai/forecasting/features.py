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

Isolated extremes (a typo, a bot burst) are replaced before any feature is computed, per window, the same
way in training and serving (`extreme_limits`, `clean_windows`): a value whose |y| is more than
EXTREME_FACTOR times the k-th largest |y| of its window (k = 2 + one per hundred observations, never past
the non-zero values) becomes the median of the same slot of the day over the window's other days. One
such point can then neither rescale the window nor pose as the latest hour, while a shift sustained for
more than k slots raises the reference itself and is followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

import numpy as np

from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.intervals import DAY_SECONDS
from lead_ai.domain.localtime import UTC_ZONE, ClockTable, clock_table
from lead_ai.forecasting.calendar import EPOCH_WEEKDAY_OFFSET, HolidayTable, day_of_year, holiday_kind

__all__ = [
    "EXTREME_FACTOR",
    "FeatureSpec",
    "build_rows",
    "clean_windows",
    "default_spec",
    "extreme_limits",
    "level_of",
    "prepare_window",
]

_LEVEL_FLOOR = 1e-9
# A value more than this many times its window's reference magnitude (see extreme_limits) is an isolated
# extreme. 10x the ~99th percentile: the busiest real hour of a lead series sits well inside it, a typo
# or a bot burst (1,000x the median) far outside.
EXTREME_FACTOR = 10.0


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
    holidays: str = "none"  # the market's holiday calendar: "none", "US", "DE-BY" (see holiday_kind)
    timezone: str = UTC_ZONE  # IANA zone of the local day the calendar features follow
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # The dates behind `timezone` and `holidays`, attached at training and read from the artifact at
    # serving; not part of the spec's JSON (a retraining extends them without changing the features).
    clock: ClockTable | None = field(default=None, compare=False, hash=False, repr=False)
    holiday_table: HolidayTable | None = field(default=None, compare=False, hash=False, repr=False)

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
        object.__setattr__(self, "holidays", parse_calendar(self.holidays))
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError(f"FeatureSpec.timezone must be an IANA zone name, got {self.timezone!r}")

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
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _ATTACHED}
        data["rolling_windows"] = list(self.rolling_windows)
        data["change_seasons"] = list(self.change_seasons)
        data["extra"] = dict(self.extra)
        return data

    def with_calendar(self, clock: ClockTable | None, holiday_table: HolidayTable | None) -> FeatureSpec:
        """This spec with the dates its zone and calendar need attached."""
        return replace(self, clock=clock, holiday_table=holiday_table)

    def local_offsets(self, timestamps: np.ndarray) -> np.ndarray:
        """Seconds to add to UTC timestamps for the local wall clock of `timezone` (0 for UTC, and for a
        daily series, whose slots are local dates already)."""
        t = np.asarray(timestamps, dtype=np.int64)
        if self.timezone == UTC_ZONE or self.interval_seconds >= DAY_SECONDS or t.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        clock = self.clock or _clock_for(self.timezone, int(t.min()), int(t.max()))
        return clock.offsets_at(t)

    def wall_clock(self, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What a local clock shows at each slot, as epoch seconds of the wall time, and the UTC offset to
        write beside it. A daily series' slot is a local date (stored at its midnight UTC): its wall time
        is that midnight, with the offset the zone has then."""
        t = np.asarray(timestamps, dtype=np.int64)
        if self.interval_seconds < DAY_SECONDS:
            offsets = self.local_offsets(t)
            return t + offsets, offsets
        if self.timezone == UTC_ZONE or t.size == 0:
            return t, np.zeros(t.shape, dtype=np.int64)
        clock = self.clock or _clock_for(self.timezone, int(t.min()), int(t.max()))
        return t, clock.offsets_at(t - clock.offsets_at(t))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        known = {f for f in cls.__dataclass_fields__} - _ATTACHED
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


_ATTACHED = frozenset({"clock", "holiday_table"})


def _clock_for(zone: str, first: int, last: int) -> ClockTable:
    """A zone's clock when no table was attached (a spec built by hand, e.g. in a test): from the zone
    database, per year span (cached). Training attaches one; serving reads it from the artifact."""
    year = 365 * DAY_SECONDS
    return _cached_clock(zone, first // year, last // year)


@lru_cache(maxsize=32)
def _cached_clock(zone: str, first_year_index: int, last_year_index: int) -> ClockTable:
    year = 365 * DAY_SECONDS
    return clock_table(zone, first_year_index * year - year, (last_year_index + 2) * year)


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
        X[:, c] = day_of_year(local_ts)
        c += 1
    if spec.holidays != "none":
        X[:, c] = holiday_kind(local_ts, _holidays_of(spec, local_ts))
    return X, level[idx]


def _without_holidays(windows: np.ndarray, last_timestamps: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The windows with the slots of the calendar's days missing (NaN); the windows themselves without a
    calendar."""
    if spec.holidays == "none":
        return windows
    back = np.arange(windows.shape[1] - 1, -1, -1, dtype=np.int64) * spec.interval_seconds
    slots = last_timestamps[:, None] - back[None, :]
    local = slots + spec.local_offsets(slots)
    return np.where(holiday_kind(local, _holidays_of(spec, local)) > 0, np.nan, windows)


def _holidays_of(spec: FeatureSpec, local_ts: np.ndarray) -> HolidayTable | None:
    """The spec's holiday table; for a spec built by hand (no table attached), the training-side one."""
    if spec.holidays == "none" or spec.holiday_table is not None:
        return spec.holiday_table
    from lead_ai.forecasting.training.calendars import holiday_table  # not on the prediction path

    year = 365 * DAY_SECONDS
    return _cached_holidays(
        spec.holidays, int(local_ts.min()) // year, int(local_ts.max()) // year, holiday_table
    )


@lru_cache(maxsize=16)
def _cached_holidays(code: str, first: int, last: int, build: Any) -> HolidayTable | None:
    year = 365 * DAY_SECONDS
    table: HolidayTable | None = build(code, first * year, last * year)
    return table


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


def extreme_limits(windows: np.ndarray) -> np.ndarray:
    """Per window, the |value| above which an observation counts as an isolated extreme.

    The reference is the k-th largest |y| of the window, k = 2 + n_observed // 100 (the 8th of four weeks
    of hours), but never past the last non-zero value, so a sparse series' few ones are their own
    reference and a dead window (all zero) flags nothing. Up to k - 1 extremes per window are caught;
    a shift sustained over more than k slots moves the reference and is kept. A few µs per window: one
    partial sort of the top ranks."""
    w = np.atleast_2d(windows)
    n_win, width = w.shape
    if width == 0:
        return np.full(n_win, np.inf)
    magnitude = np.where(np.isnan(w), -1.0, np.abs(w))  # missing slots sort below every observation
    observed = np.count_nonzero(magnitude >= 0, axis=1)
    nonzero = np.count_nonzero(magnitude > 0, axis=1)
    rank = np.maximum(np.minimum(2 + observed // 100, nonzero), 1)
    top = int(min(width, 2 + width // 100))
    part = np.partition(magnitude, np.arange(width - top, width), axis=1)
    reference = part[np.arange(n_win), width - np.minimum(rank, top)]
    return np.where(reference >= 0, EXTREME_FACTOR * reference, np.inf)  # -1: nothing observed


def clean_windows(windows: np.ndarray, spec: FeatureSpec, limits: np.ndarray | None = None) -> np.ndarray:
    """The windows with their isolated extremes (see extreme_limits) replaced by the median of the same
    slot of the day on the window's other days (NaN when there is none); the input itself when there are
    none, which is nearly always."""
    w = np.atleast_2d(windows)
    limit = extreme_limits(w) if limits is None else np.asarray(limits, dtype=np.float64)
    extreme = np.abs(w) > limit[:, None]  # NaN compares False
    rows = np.flatnonzero(extreme.any(axis=1))
    if not rows.size:
        return w
    out = w.copy()
    sub = np.where(extreme[rows], np.nan, w[rows])
    out[rows] = np.where(extreme[rows], _same_slot_medians(sub, spec.season_day), sub)
    return out


def _same_slot_medians(block: np.ndarray, season_day: int) -> np.ndarray:
    """For each slot of each row, the NaN-median of the row's values at the same position of the day."""
    n, width = block.shape
    days = -(-width // season_day)
    padded = np.full((n, days * season_day), np.nan)
    padded[:, days * season_day - width :] = block  # the window ends at its origin: align on the end
    by_slot = padded.reshape(n, days, season_day).transpose(0, 2, 1).reshape(n * season_day, days)
    medians = _nanmedian_rows(by_slot).reshape(n, season_day)
    return np.tile(medians, days)[:, days * season_day - width :]
