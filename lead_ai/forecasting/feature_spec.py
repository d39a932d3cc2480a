"""What a model's features are: FeatureSpec, stored in the ONNX metadata with the dates its time zone and
holiday calendar need (numpy only: the prediction Lambda imports it).

features.build_rows turns windows into rows by a spec; a spec fixes the grid (interval, seasons), the
lags and windows read, the horizon, and the local clock and calendar the target's slot, weekday and
day kind follow.
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
from lead_ai.forecasting.calendar import HolidayTable, holiday_kind

__all__ = ["DAY_OF_WEEK_COLUMN", "SLOT_COLUMN", "STEP_COLUMN", "FeatureSpec", "default_spec", "slots_of_week"]

# The first columns of every feature row (feature_names): the step, then the target's local slot of the day
# and its local day of the week (0 = Monday)
STEP_COLUMN = 0
SLOT_COLUMN = 1
DAY_OF_WEEK_COLUMN = 2


def slots_of_week(X: np.ndarray, season_day: int) -> np.ndarray:
    """Each feature row's target's local slot of the week (day of the week x season_day + slot of the
    day); modulo season_day it is the slot of the day."""
    day = X[:, DAY_OF_WEEK_COLUMN].astype(np.int64)
    return np.asarray(day * season_day + X[:, SLOT_COLUMN].astype(np.int64), dtype=np.int64)


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

    def holiday_kinds(self, local_timestamps: np.ndarray) -> np.ndarray:
        """The kind of each local day (calendar.holiday_kind: holiday, quiet day or 0) in the spec's
        calendar; 0 everywhere without one."""
        t = np.asarray(local_timestamps, dtype=np.int64)
        if self.holidays == "none" or t.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        table = self.holiday_table
        if table is None:
            table = _holidays_for(self.holidays, int(t.min()), int(t.max()))
        return holiday_kind(t, table)

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


def _holidays_for(code: str, first: int, last: int) -> HolidayTable | None:
    """A calendar's table when none was attached (a spec built by hand, e.g. in a test): the training-side
    one, per year span (cached). Training attaches one; serving reads it from the artifact."""
    from lead_ai.forecasting.training.calendars import holiday_table  # not on the prediction path

    year = 365 * DAY_SECONDS
    return _cached_holidays(code, first // year, last // year, holiday_table)


@lru_cache(maxsize=16)
def _cached_holidays(code: str, first: int, last: int, build: Any) -> HolidayTable | None:
    year = 365 * DAY_SECONDS
    table: HolidayTable | None = build(code, first * year, last * year)
    return table


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
