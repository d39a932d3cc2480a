"""Row-wise NaN-aware statistics of 2-D blocks (numpy only), without numpy's all-NaN warnings: the
features and the extreme-value cleaning read them on every row they build."""

from __future__ import annotations

import numpy as np

__all__ = ["nanmean_rows", "nanmedian_rows"]


def nanmean_rows(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row means ignoring NaN (NaN where a row has none), and the observed counts; no warnings."""
    mask = ~np.isnan(block)
    count = mask.sum(axis=1)
    total = np.where(mask, block, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def nanmedian_rows(block: np.ndarray) -> np.ndarray:
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
