"""Export: the fitted model to ONNX (skl2onnx, trees rewritten as TreeEnsemble), and the parity check.

Parity: ONNX output == scikit-learn output on a validation batch (onnxruntime when importable, otherwise
onnx.reference.ReferenceEvaluator, as in the training Lambda, which has no onnxruntime), else
ExportParityError. No pickle anywhere."""

from __future__ import annotations

from typing import Any

import numpy as np

from lead_ai.forecasting.artifact_format import metadata_props
from lead_ai.forecasting.calibration import Calibration
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.training.fit import predict_sklearn
from lead_ai.forecasting.training.settings import TrainingSettings


class ExportParityError(RuntimeError):
    """The exported ONNX model does not reproduce the scikit-learn model."""


def export_onnx(
    model: Any,
    spec: FeatureSpec,
    calibration: Calibration,
    settings: TrainingSettings,
    weight_naive: float = 0.0,
) -> bytes:
    """The model as one ONNX graph with the spec and calibration in its metadata; with weight_naive > 0
    the graph blends in the seasonal naive read from the feature rows (naive.with_naive_blend)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from lead_ai.forecasting.training.naive import with_naive_blend
    from lead_ai.forecasting.training.onnx_trees import as_tree_ensembles

    thresholds_for_float32(model)
    converted = convert_sklearn(
        model,
        initial_types=[("X", FloatTensorType([None, spec.n_features]))],
        target_opset={"": settings.target_opset, "ai.onnx.ml": settings.ml_opset},
    )
    onx = as_tree_ensembles(converted)  # the trees as TreeEnsemble (ai.onnx.ml 5): see onnx_trees
    onx = with_naive_blend(onx, spec, weight_naive)
    meta = metadata_props(spec, calibration)
    del onx.metadata_props[:]
    for key, value in meta.items():
        entry = onx.metadata_props.add()
        entry.key = key
        entry.value = value
    onx.producer_name = "lead_ai"
    onx.graph.name = "lead_ai_forecaster"  # skl2onnx puts a random uuid here; keep the bytes reproducible
    return bytes(onx.SerializeToString())


def thresholds_for_float32(model: Any) -> None:
    """Round each split threshold of the model's gradient-boosted trees down to a float32, in place.

    scikit-learn compares a row's value (a float32 here: every feature row is) with a float64 threshold,
    the midpoint of two training values; the graph compares it with that threshold as a float32, which
    rounds to the nearest and may land on the upper training value itself: rows holding it then take the
    other branch (a parity failure, hence a failed training). The largest float32 not above the
    threshold splits every float32 value exactly as the threshold does, so the scikit-learn model's
    outputs do not change. (skl2onnx makes this adjustment for decision trees, not for these.)"""
    members = getattr(model, "estimators_", None) or [model]  # a VotingRegressor blend, or one model
    for member in members:
        for predictors in getattr(member, "_predictors", []):
            for predictor in predictors:
                nodes = predictor.nodes
                split = nodes["num_threshold"]
                rounded = split.astype(np.float32)
                above = rounded.astype(np.float64) > split
                rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
                nodes["num_threshold"] = rounded.astype(np.float64)


def run_onnx_rows(onnx_bytes: bytes, X: np.ndarray) -> tuple[np.ndarray, str]:
    """Run the exported graph on rows X: onnxruntime when importable, else onnx's ReferenceEvaluator.
    Returns the output and the name of the engine used."""
    X32 = np.asarray(X, dtype=np.float32)
    try:
        import onnxruntime as ort
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(onnx_bytes)
        outputs: list[Any] = list(ref.run(None, {"X": X32}))
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1), "onnx.reference"
    from lead_ai.forecasting.inference import session_options

    sess = ort.InferenceSession(
        onnx_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    out = sess.run(None, {sess.get_inputs()[0].name: X32})[0]
    return np.asarray(out, dtype=np.float64).reshape(-1), "onnxruntime"


def check_parity(
    model: Any,
    onnx_bytes: bytes,
    X: np.ndarray,
    rtol: float,
    n_threads: int = 1,
    naive: tuple[FeatureSpec, float] | None = None,
) -> float:
    """Max |expected - onnx| on X; ExportParityError if any row is off by more than rtol * max(1, |y|).

    Expected is the scikit-learn output, blended with the seasonal naive of the rows as the backtest
    scored it when `naive` = (spec, weight_naive) gives it a weight."""
    from lead_ai.forecasting.seasonal_naive import blend_rows

    X32 = np.asarray(X, dtype=np.float32)
    expected = predict_sklearn(model, X32, n_threads)
    if naive is not None:
        expected = blend_rows(expected, X32, naive[0], naive[1])
    got, engine = run_onnx_rows(onnx_bytes, X)
    err = np.abs(expected - got)
    bound = rtol * np.maximum(1.0, np.abs(expected))
    if got.shape != expected.shape or not np.all(err <= bound):
        worst = float(np.max(err)) if err.size else float("nan")
        raise ExportParityError(
            f"ONNX ({engine}) differs from scikit-learn by up to {worst:.3g} (tolerance rtol={rtol})"
        )
    return float(err.max()) if err.size else 0.0


def library_versions(onnx_bytes: bytes) -> dict[str, str]:
    """Versions that produced the model; the opsets are those the exported graph declares (skl2onnx
    uses the lowest opset, up to the pinned target_opset, that holds every operator it emits; ai.onnx.ml
    is 5, the TreeEnsemble the export rewrites the trees into)."""
    import onnx
    import skl2onnx
    import sklearn

    opsets = {o.domain: o.version for o in onnx.load_from_string(onnx_bytes).opset_import}
    return {
        "sklearn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnx_opset": str(opsets.get("", opsets.get("ai.onnx", ""))),
        "onnx_ml_opset": str(opsets.get("ai.onnx.ml", "")),
        "numpy": np.__version__,
    }
