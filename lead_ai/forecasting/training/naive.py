"""The ONNX graph that serves a model blended with the seasonal naive read from its own feature rows.

The exported graph computes

    (1 - weight_naive) * model(X) + weight_naive * naive(X)

with naive(X) as forecasting.seasonal_naive defines it (`same_slot_day_1`, else the same slot's median
over the last days, else the model's own output). `seasonal_naive.blend_rows` is the numpy twin the
backtest scores and the parity check compares with.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.seasonal_naive import NAIVE_FALLBACK_FEATURE, NAIVE_FEATURE


def with_naive_blend(model: onnx.ModelProto, spec: FeatureSpec, weight_naive: float) -> onnx.ModelProto:
    """The graph with its output replaced by the blend above; unchanged when weight_naive is 0."""
    if weight_naive <= 0.0:
        return model
    if not 0.0 < weight_naive <= 1.0:
        raise ValueError(f"weight_naive must be within [0, 1], got {weight_naive}")
    graph = model.graph
    (x_input,) = graph.input
    (output,) = graph.output
    shape = [d.dim_value if d.HasField("dim_value") else None for d in output.type.tensor_type.shape.dim]
    if len(shape) != 2 or shape[1] != 1 or output.type.tensor_type.elem_type != TensorProto.FLOAT:
        raise ValueError(f"expected a float32 (N, 1) model output to blend, got {shape}")
    model_out = f"{output.name}_model"
    inits, nodes = _blend_nodes(x_input.name, model_out, output.name, spec, weight_naive)
    taken = {n for node in graph.node for n in (*node.input, *node.output)} | {
        i.name for i in graph.initializer
    }
    clash = ({i.name for i in inits} | {n for node in nodes for n in node.output} | {model_out}) & taken
    clash.discard(output.name)
    if clash:
        raise ValueError(f"the model graph already uses the names {sorted(clash)}")
    for node in graph.node:
        node.output[:] = [model_out if name == output.name else name for name in node.output]
    graph.initializer.extend(inits)
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def _blend_nodes(
    x: str, model_out: str, output: str, spec: FeatureSpec, weight_naive: float
) -> tuple[list[onnx.TensorProto], list[onnx.NodeProto]]:
    names = spec.feature_names
    columns = {"first": names.index(NAIVE_FEATURE), "median": names.index(NAIVE_FALLBACK_FEATURE)}
    inits = [
        numpy_helper.from_array(np.array([columns["first"]], dtype=np.int64), "naive_first_start"),
        numpy_helper.from_array(np.array([columns["first"] + 1], dtype=np.int64), "naive_first_end"),
        numpy_helper.from_array(np.array([columns["median"]], dtype=np.int64), "naive_median_start"),
        numpy_helper.from_array(np.array([columns["median"] + 1], dtype=np.int64), "naive_median_end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "naive_axis"),
        numpy_helper.from_array(np.array(1.0 - weight_naive, dtype=np.float32), "weight_model"),
        numpy_helper.from_array(np.array(weight_naive, dtype=np.float32), "weight_naive"),
    ]
    nodes = [
        helper.make_node(
            "Slice", [x, "naive_first_start", "naive_first_end", "naive_axis"], ["naive_first"], "naive_first"
        ),
        helper.make_node(
            "Slice",
            [x, "naive_median_start", "naive_median_end", "naive_axis"],
            ["naive_median"],
            "naive_median",
        ),
        helper.make_node("IsNaN", ["naive_first"], ["naive_first_missing"], "naive_first_missing"),
        helper.make_node(
            "Where", ["naive_first_missing", "naive_median", "naive_first"], ["naive_day"], "naive_day"
        ),
        helper.make_node("IsNaN", ["naive_day"], ["naive_day_missing"], "naive_day_missing"),
        helper.make_node("Where", ["naive_day_missing", model_out, "naive_day"], ["naive"], "naive"),
        helper.make_node("Mul", [model_out, "weight_model"], ["blend_model"], "blend_model"),
        helper.make_node("Mul", ["naive", "weight_naive"], ["blend_naive"], "blend_naive"),
        helper.make_node("Add", ["blend_model", "blend_naive"], [output], "blend"),
    ]
    return inits, nodes
