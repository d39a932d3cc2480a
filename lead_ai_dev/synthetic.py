"""Realistic synthetic lead arrivals, reproducible by seed: the demo's and the tests' data.

Counts per interval follow a business-hours daily shape, a weekly shape (quiet weekends), a yearly
trend, public holidays at weekend level, and over-dispersed noise (a gamma-Poisson mixture, as real
lead counts are burstier than Poisson).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

# Relative arrival rate by local hour: inbound leads follow the working day, with a lunch dip.
_HOURLY_SHAPE = np.array(
    [
        0.15,
        0.1,
        0.08,
        0.08,
        0.1,
        0.2,
        0.45,
        0.9,
        1.5,
        1.9,
        2.0,
        1.8,
        1.4,
        1.7,
        1.9,
        1.8,
        1.5,
        1.1,
        0.8,
        0.6,
        0.5,
        0.4,
        0.3,
        0.2,
    ]
)
_WEEKDAY_SHAPE = np.array([1.1, 1.15, 1.1, 1.05, 0.95, 0.35, 0.25])  # Monday first


def _holidays(years: range) -> set[date]:
    days: set[date] = set()
    for year in years:
        days |= {
            date(year, 1, 1),
            date(year, 7, 4),
            date(year, 12, 24),
            date(year, 12, 25),
            date(year, 12, 31),
        }
        november_first = date(year, 11, 1)
        thursday = 1 + (3 - november_first.weekday()) % 7
        days.add(date(year, 11, thursday + 21))  # Thanksgiving: fourth Thursday of November
    return days


def lead_counts(
    start: datetime,
    periods: int,
    *,
    seed: int = 7,
    interval_seconds: int = 3600,
    base_rate: float = 12.0,
    yearly_growth: float = 0.25,
    dispersion: float = 8.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(epoch-second timestamps, counts) for `periods` intervals from `start` (UTC)."""
    rng = np.random.default_rng(seed)
    first = int(start.replace(tzinfo=start.tzinfo or UTC).timestamp())
    first -= first % interval_seconds
    stamps = first + interval_seconds * np.arange(periods, dtype=np.int64)
    moments = stamps.astype("datetime64[s]")
    hours = (moments.astype("datetime64[h]").astype(np.int64) % 24).astype(int)
    days = moments.astype("datetime64[D]")
    weekday = ((days.astype(np.int64) + 3) % 7).astype(int)  # 1970-01-01 was a Thursday
    years = range(int(str(days[0])[:4]), int(str(days[-1])[:4]) + 1)
    holiday = np.isin(days, np.array(sorted(_holidays(years)), dtype="datetime64[D]"))
    elapsed_years = (stamps - stamps[0]) / (365.25 * 86_400)
    rate = (
        base_rate
        * _HOURLY_SHAPE[hours]
        * np.where(holiday, _WEEKDAY_SHAPE[6], _WEEKDAY_SHAPE[weekday])
        * (1 + yearly_growth) ** elapsed_years
        * interval_seconds
        / 3600
    )
    # Gamma-Poisson: mean `rate`, variance rate + rate^2 / dispersion.
    counts = rng.poisson(rng.gamma(dispersion, rate / dispersion))
    return stamps, counts.astype(np.float64)


def recent_lead_counts(
    days: int, *, seed: int = 7, now: datetime | None = None, base_rate: float = 12.0
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly counts for the `days` days that end at the last full hour before `now`."""
    now = now or datetime.now(UTC)
    end = int(now.timestamp()) // 3600 * 3600
    periods = days * 24
    start = datetime.fromtimestamp(end - periods * 3600, UTC)
    return lead_counts(start, periods, seed=seed, base_rate=base_rate)
