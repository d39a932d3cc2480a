"""Each forecast step's usual volume, read from its feature row: what a day's total is measured against.

A day's total is not the sum of its hours' medians: on a series of a few leads a day most hours' median
is 0, and so would the day be (docs/accuracy.md, "Daily totals of sparse series"). The daily table is
therefore kept per unit of the day's usual volume: the sum, over the day's steps, of each target slot's
mean over the last weeks (`same_slot_week_mean`, scaled by the window's level like every feature; the
last days' mean where no week is known). A quiet Sunday or a partial night then gets a correction in
proportion to its own volume, not a weekday's. numpy only: training (training.daily) and serving
(calibration.daily_totals) read it from the same rows.
"""

from __future__ import annotations

import numpy as np

from lead_ai.forecasting.feature_spec import FeatureSpec

USUAL_FEATURE = "same_slot_week_mean"
USUAL_FALLBACK_FEATURE = "same_slot_day_mean"
# The least usual volume a step counts for, in units of the window's level: a day whose slots are
# usually empty still has a denominator, so one stray lead does not make its ratio unbounded.
MIN_USUAL_PER_STEP = 0.05


def usual_volume(X: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """(rows,) scaled usual volume of each row's target slot, at least MIN_USUAL_PER_STEP."""
    names = spec.feature_names
    week = np.asarray(X[:, names.index(USUAL_FEATURE)], dtype=np.float64)
    day = np.asarray(X[:, names.index(USUAL_FALLBACK_FEATURE)], dtype=np.float64)
    value = np.where(np.isnan(week), day, week)
    return np.maximum(np.nan_to_num(value, nan=0.0), MIN_USUAL_PER_STEP)
