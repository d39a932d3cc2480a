"""Which part of a history training reads: the part after its last long gap (numpy only).

A point stamped years before the rest (a typo in a year, a stray test row) turns the history into a few
lone slots, years of missing ones and then the real series: the grid, the backtest's row budget and the
"a year of history" switch of the day-of-year feature all see years that hold nothing. Training therefore
starts after the last run of missing slots longer than `max_gap_seconds` (four weeks by default: the
feature window, so nothing before such a gap could ever be in the same window as what follows it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["RecentHistory", "recent_contiguous"]


class RecentHistory(NamedTuple):
    values: np.ndarray  # from the first observation after the last long gap to the last observation
    first_timestamp: int
    dropped_points: int  # observations before the cut


def recent_contiguous(
    values: np.ndarray, first_timestamp: int, interval_seconds: int, max_gap_seconds: float
) -> RecentHistory:
    """The history from its first observation after the last gap longer than max_gap_seconds (leading
    and trailing missing slots trimmed); all of it when there is no such gap."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    observed = np.flatnonzero(~np.isnan(x))
    if not observed.size:
        return RecentHistory(x[:0], int(first_timestamp), 0)
    missing_runs = np.diff(observed) - 1  # missing slots between consecutive observations
    long_gaps = np.flatnonzero(missing_runs * interval_seconds > max_gap_seconds)
    start = int(observed[long_gaps[-1] + 1]) if long_gaps.size else int(observed[0])
    end = int(observed[-1]) + 1
    dropped = int(np.count_nonzero(observed < start))
    return RecentHistory(x[start:end], int(first_timestamp + start * interval_seconds), dropped)
