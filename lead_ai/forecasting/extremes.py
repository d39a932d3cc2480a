"""Isolated extremes in a window of observations (a typo, a bot burst), replaced before any feature is
computed, per window, the same way in training and serving.

A value whose |y| is more than EXTREME_FACTOR times the k-th largest |y| of its window (k = 2 + one per
hundred observations, never past the non-zero values) becomes the median of the same slot of the day over
the window's other days (`extreme_limits`, `clean_windows`). One such point can then neither rescale the
window nor pose as the latest hour, while a shift sustained for more than k slots raises the reference
itself and is followed.

numpy only: features.build_rows cleans every window it reads, so serving cleans as training does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lead_ai.forecasting.row_stats import nanmedian_rows

if TYPE_CHECKING:
    from lead_ai.forecasting.feature_spec import FeatureSpec

__all__ = ["EXTREME_FACTOR", "clean_windows", "extreme_limits"]

# A value more than this many times its window's reference magnitude (see extreme_limits) is an isolated
# extreme. 10x the ~99th percentile: the busiest real hour of a lead series sits well inside it, a typo
# or a bot burst (1,000x the median) far outside.
EXTREME_FACTOR = 10.0


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
    medians = nanmedian_rows(by_slot).reshape(n, season_day)
    return np.tile(medians, days)[:, days * season_day - width :]
