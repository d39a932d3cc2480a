"""The seasonal-naive forecast read from the feature rows (numpy only: serving reads it too).

`same_slot_day_1` is the value at the target's slot of the day on the most recent day at or before the
origin, divided by the level: exactly the seasonal-naive forecast (period one day) in the model's scaled
units (a unit test checks it against scoring.seasonal_naive_forecast). Where that slot is missing (or a
holiday, with a calendar) the median of the same slot over the last `n_day_lags` days stands in, and where
those are all missing too, the model's own output.

Three readers, one definition: the backtest scores blends with it (training.backtest), the exported graph
computes the same blend in ONNX (training.naive, checked against `blend_rows` by the parity test), and
serving blends a pooled model with it for one young series (forecasting.local_fit).
"""

from __future__ import annotations

import numpy as np

from lead_ai.forecasting.feature_spec import FeatureSpec

NAIVE_FEATURE = "same_slot_day_1"
NAIVE_FALLBACK_FEATURE = "same_slot_day_median"


def naive_rows(X: np.ndarray, spec: FeatureSpec, fallback: np.ndarray) -> np.ndarray:
    """The seasonal-naive forecast (scaled, float64) of each feature row; `fallback` (the model's output)
    where the row holds no same-slot value at all."""
    names = spec.feature_names
    first = np.asarray(X[:, names.index(NAIVE_FEATURE)], dtype=np.float64)
    median = np.asarray(X[:, names.index(NAIVE_FALLBACK_FEATURE)], dtype=np.float64)
    value = np.where(np.isnan(first), median, first)
    return np.where(np.isnan(value), np.asarray(fallback, dtype=np.float64), value)


def blend_rows(
    model: np.ndarray, X: np.ndarray, spec: FeatureSpec, weight_naive: float | np.ndarray
) -> np.ndarray:
    """(1 - weight_naive) * model + weight_naive * naive for rows X, given the model's output on them;
    one weight for every row, or one per row."""
    model = np.asarray(model, dtype=np.float64).reshape(-1)
    weight = np.asarray(weight_naive, dtype=np.float64)
    if not np.any(weight > 0.0):
        return model
    return (1.0 - weight) * model + weight * naive_rows(X, spec, model)
