"""lead_ai.forecasting.training.onnx_eval: the numpy TreeEnsemble the training Lambda scores champions with
(it has no onnxruntime), checked against onnxruntime and onnx's reference evaluator."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator
from sklearn.ensemble import HistGradientBoostingRegressor

from lead_ai.forecasting.training.fit import final_model
from lead_ai.forecasting.training.onnx_eval import OnnxRows
from lead_ai.forecasting.training.onnx_trees import as_tree_ensembles
from lead_ai.forecasting.training.rows import Rows
from tests.unit.test_onnx_trees import (
    GRID,
    SMALL,
    every_mode_and_missing_side,
    legacy_model,
    rows_with_nans,
    run_ort,
    target_of,
    to_onnx,
)


def _reference(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    outputs: list[Any] = list(ReferenceEvaluator(model).run(None, {"X": X}))
    return np.asarray(outputs[0], dtype=np.float64).reshape(-1)


def test_every_branch_mode_and_missing_side_matches_onnxruntime_and_the_reference_exactly() -> None:
    # Given one stump per (branch mode, side NaN goes), leaf weights distinct powers of two
    model = as_tree_ensembles(legacy_model(*every_mode_and_missing_side()))
    # When the numpy evaluator runs a grid of values on and around the splits, NaN included
    got = OnnxRows(model.SerializeToString())(GRID)
    # Then every tree chose the leaf onnxruntime and the reference choose (the sums are exact)
    np.testing.assert_array_equal(got, run_ort(model, GRID).reshape(-1))
    np.testing.assert_array_equal(got, _reference(model, GRID))


@pytest.mark.parametrize("blend", [False, True])
def test_fitted_models_with_missing_values_match_onnxruntime(blend: bool) -> None:
    # Given a fitted gradient-boosting model (or the project's two-loss blend) on rows with NaNs
    X = rows_with_nans(400, seed=0)
    y = target_of(X, 1)
    fitted = (
        final_model(Rows(X, y), SMALL, {"squared_error": 0.25, "absolute_error": 0.75})
        if blend
        else HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=15, random_state=0).fit(X, y)
    )
    model = as_tree_ensembles(to_onnx(fitted))
    fresh = rows_with_nans(700, seed=2)
    # When evaluated without onnxruntime / Then the outputs are onnxruntime's, to float32 rounding
    np.testing.assert_allclose(
        OnnxRows(model.SerializeToString())(fresh), run_ort(model, fresh).reshape(-1), rtol=1e-6, atol=1e-6
    )
