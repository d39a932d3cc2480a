"""A series' local time: its IANA time zone, the UTC offsets of many instants at once, naive local times read
in the zone, and timestamps written with their offset.

Storage is a UTC grid; only the edges (ingest, features, answers) see local time. The zone's clock changes
are a `ClockTable`: the UTC instants at which the offset changes and the offset from each on. Training builds
it from `zoneinfo` (stdlib) and carries it in the model artifact, so the prediction path finds every offset
with one `searchsorted` and never loads the time zone database (`zoneinfo` costs ~2 ms of a cold start).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

UTC_ZONE = "UTC"
DAY_SECONDS = 86_400
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,30}(/[A-Za-z0-9_+\-]{1,30}){0,2}")
_EARLY = np.iinfo(np.int64).min


class NonexistentLocalTimeError(ValueError):
    """A naive local time the clocks skip (spring forward): it never happened in the zone."""


class AmbiguousLocalTimeError(ValueError):
    """A naive local time the clocks show twice (fall back): it names two instants."""


class ClockTable(NamedTuple):
    """A zone's UTC offset over a span of years: offsets[i] (seconds east of UTC) holds from starts[i] on.

    starts[0] is the earliest int64 (the first offset holds before the span too); after `until` the last
    offset holds, so a zone whose rules change later is right only until the model is retrained."""

    zone: str
    starts: np.ndarray  # int64 UTC epoch seconds, increasing
    offsets: np.ndarray  # int64 seconds
    since: int  # the span the table was built for (UTC epoch seconds)
    until: int

    def offsets_at(self, timestamps: Any) -> np.ndarray:
        """UTC offset (seconds) at each UTC epoch-second timestamp; same shape as the input."""
        t = np.asarray(timestamps, dtype=np.int64)
        if self.offsets.size == 1:
            return np.full(t.shape, int(self.offsets[0]), dtype=np.int64)
        return np.asarray(self.offsets[np.searchsorted(self.starts, t, side="right") - 1], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.zone,
            "since": int(self.since),
            "until": int(self.until),
            "first_offset": int(self.offsets[0]),
            "transitions": [[int(s), int(o)] for s, o in zip(self.starts[1:], self.offsets[1:], strict=True)],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ClockTable:
        pairs = np.asarray(data.get("transitions") or np.zeros((0, 2)), dtype=np.int64).reshape(-1, 2)
        starts = np.concatenate([[_EARLY], pairs[:, 0]]).astype(np.int64)
        offsets = np.concatenate([[int(data["first_offset"])], pairs[:, 1]]).astype(np.int64)
        if np.any(np.diff(starts[1:]) <= 0) or np.any(np.abs(offsets) > DAY_SECONDS):
            raise ValueError("clock table transitions must increase and offsets lie within a day")
        return cls(str(data["timezone"]), starts, offsets, int(data["since"]), int(data["until"]))


UTC_CLOCK = ClockTable(UTC_ZONE, np.array([_EARLY], dtype=np.int64), np.zeros(1, dtype=np.int64), 0, 0)


# Files of the zone database that are no place's zone: the host's own (`localtime`), the fallback rules,
# and the `posix/` and `right/` (leap-second) copies; ZoneInfo opens them where the host has them.
_NOT_A_ZONE = re.compile(r"localtime|posixrules|Factory|(?:posix|right)/.*")


def parse_timezone(name: object) -> str:
    """An IANA time zone name the zone database knows (e.g. 'America/New_York'); ValueError otherwise."""
    if isinstance(name, str) and name == UTC_ZONE:
        return name
    if not isinstance(name, str) or not _ZONE_NAME.fullmatch(name) or _NOT_A_ZONE.fullmatch(name):
        raise ValueError(
            f"timezone must be an IANA time zone name such as 'America/New_York', got {name!r:.80}"
        )
    try:
        _zone(name)
    except (ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError: caught in _zone
        raise ValueError(
            f"timezone {name!r} is not in the IANA time zone database (e.g. 'America/New_York', 'Europe/Berlin')"
        ) from exc
    return name


@lru_cache(maxsize=64)
def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def clock_table(zone: str, since: int, until: int) -> ClockTable:
    """The zone's offsets from `since` to `until` (UTC epoch seconds), from the zone database."""
    if zone == UTC_ZONE:
        return UTC_CLOCK._replace(since=int(since), until=int(until))
    first_year = datetime.fromtimestamp(int(since), UTC).year
    last_year = datetime.fromtimestamp(int(until), UTC).year
    starts: list[int] = [int(_EARLY)]
    offsets: list[int] = [_offset(zone, _year_start(first_year))]
    for year in range(first_year, last_year + 1):
        for start, offset in _year_transitions(zone, year):
            if offset != offsets[-1]:
                starts.append(start)
                offsets.append(offset)
    return ClockTable(
        zone, np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64), int(since), int(until)
    )


def misaligned_offset(zone: str, interval_seconds: int, around: int) -> int | None:
    """An offset the zone has (within two years of `around`) that is not a whole number of intervals, or
    None: a 1h series cannot follow Asia/Kolkata (+05:30), whose local hours start at :30 UTC."""
    if zone == UTC_ZONE or interval_seconds >= DAY_SECONDS:
        return None
    clock = clock_table(zone, around - 2 * 366 * DAY_SECONDS, around + 2 * 366 * DAY_SECONDS)
    for offset in clock.offsets[-8:].tolist():
        if offset % interval_seconds:
            return int(offset)
    return None


def _year_start(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


def _offset(zone: str, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, _zone(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=512)
def _year_transitions(zone: str, year: int) -> tuple[tuple[int, int], ...]:
    """(UTC instant, offset from then on) of each change of the zone's offset within the year.

    The offset is probed at every UTC midnight, and a change between two probes is bisected to the second
    (~400 probes a year, ~0.3 ms). Two changes within one day would be missed: no zone has had one since
    the 1940s."""
    start, end = _year_start(year), _year_start(year + 1)
    found: list[tuple[int, int]] = []
    before, previous = start, _offset(zone, start)
    for probe in range(start + DAY_SECONDS, end + DAY_SECONDS, DAY_SECONDS):
        probe = min(probe, end)
        current = _offset(zone, probe)
        if current != previous:
            low, high = before, probe  # offset at low is `previous`, at high `current`
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset(zone, middle) == previous else (low, middle)
            found.append((high, current))
            previous = current
        before = probe
        if probe == end:
            break
    return tuple(found)


def local_to_utc(naive: datetime, zone: str) -> int:
    """UTC epoch seconds of a naive local time in the zone; NonexistentLocalTimeError for a time the clocks
    skip, AmbiguousLocalTimeError for one they show twice."""
    if zone == UTC_ZONE:
        return int(naive.replace(tzinfo=UTC).timestamp())
    tz = _zone(zone)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    earlier = int(first.timestamp())
    if datetime.fromtimestamp(earlier, tz).replace(tzinfo=None) != naive:
        raise NonexistentLocalTimeError(
            f"{naive.isoformat()} does not exist in {zone}: the clocks skip it (spring forward); "
            "send it with its UTC offset"
        )
    if int(second.timestamp()) != earlier:
        a, b = (first.isoformat(), second.isoformat())
        raise AmbiguousLocalTimeError(
            f"{naive.isoformat()} is ambiguous in {zone}: the clocks show it twice ({a} and {b}); "
            "send it with its UTC offset"
        )
    return earlier


def local_wall_time(ts: int, zone: str) -> datetime:
    """The naive local wall time of a UTC instant in the zone."""
    if zone == UTC_ZONE:
        return datetime.fromtimestamp(int(ts), UTC).replace(tzinfo=None)
    return datetime.fromtimestamp(int(ts), _zone(zone)).replace(tzinfo=None)


def offset_suffix(offset: int) -> str:
    """'Z' for 0, else '+HH:MM' / '-HH:MM' (ISO 8601)."""
    if offset == 0:
        return "Z"
    sign = "+" if offset > 0 else "-"
    minutes = abs(int(offset)) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def iso_local_array(wall: Any, offsets: Any) -> list[str]:
    """Local ISO 8601 times with their offset, e.g. `2026-11-01T01:00:00-04:00` (`...Z` where the offset is
    0), from wall-clock epoch seconds (UTC time + offset) and the offsets; numpy formats them at once."""
    w = np.asarray(wall, dtype=np.int64).reshape(-1)
    off = np.asarray(offsets, dtype=np.int64).reshape(-1)
    texts = np.datetime_as_string(w.astype("datetime64[s]"), unit="s")
    if off.size and off.min() == off.max():  # one offset (no clock change within): one string add
        return list(np.char.add(texts, offset_suffix(int(off[0]))).tolist())
    suffixes = {o: offset_suffix(o) for o in np.unique(off).tolist()}
    return [f"{text}{suffixes[o]}" for text, o in zip(texts.tolist(), off.tolist(), strict=True)]


def iso_dates(wall: Any) -> list[str]:
    """The calendar date (YYYY-MM-DD) of each wall-clock epoch-second time."""
    days = (np.asarray(wall, dtype=np.int64) // DAY_SECONDS).astype("datetime64[D]")
    return list(np.datetime_as_string(days, unit="D").tolist())
