"""lead_ai.forecasting.training.onnx_trees: skl2onnx's TreeEnsembleRegressor rewritten as TreeEnsemble (ai.onnx.ml 5).

Real skl2onnx conversions and real onnxruntime sessions; the rewritten graph must give the same floats,
bit for bit, as the graph skl2onnx wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingRegressor

from lead_ai.forecasting.inference import session_options
from lead_ai.forecasting.training.fit import final_model
from lead_ai.forecasting.training.onnx_trees import (
    ML_DOMAIN,
    TREE_ENSEMBLE_OPSET,
    UnsupportedTreeEnsembleError,
    as_tree_ensembles,
)
from lead_ai.forecasting.training.rows import Rows
from lead_ai.forecasting.training.settings import TrainingSettings

N_FEATURES = 5
SMALL = TrainingSettings(max_iter=30, max_leaf_nodes=15, min_samples_leaf=5)
MODES = ("BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ")


def rows_with_nans(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    X[rng.random(X.shape) < 0.2] = np.nan
    return X


def target_of(X: np.ndarray, seed: int) -> np.ndarray:
    """A target that depends on whether a feature is missing, so the trees learn where NaN goes."""
    noise = np.random.default_rng(seed).normal(0, 0.1, X.shape[0])
    return np.where(np.isnan(X[:, 0]), 3.0, np.nan_to_num(X[:, 0])) + np.nan_to_num(X[:, 1]) ** 2 + noise


def to_onnx(model: Any) -> onnx.ModelProto:
    return convert_sklearn(
        model,
        initial_types=[("X", FloatTensorType([None, N_FEATURES]))],
        target_opset={"": SMALL.target_opset, "ai.onnx.ml": SMALL.ml_opset},
    )


def run_ort(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(
        model.SerializeToString(), sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    return np.asarray(session.run(None, {"X": X})[0])


def run_reference(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    outputs: list[Any] = list(ReferenceEvaluator(model).run(None, {"X": X}))
    return np.asarray(outputs[0])


def op_types(model: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in model.graph.node]


def ml_opset(model: onnx.ModelProto) -> int:
    return {o.domain: o.version for o in model.opset_import}[ML_DOMAIN]


# ---------------------------------------------------------------------------------------------- a legacy graph by hand


@dataclass(frozen=True)
class Node:
    """One entry of a TreeEnsembleRegressor's nodes_* lists."""

    tree: int
    node: int
    mode: str = "LEAF"
    feature: int = 0
    value: float = 0.0
    true: int = 0
    false: int = 0
    missing_true: int = 0


def stump(tree: int, mode: str, feature: int, value: float, missing_true: int) -> list[Node]:
    return [
        Node(tree, 0, mode, feature, value, true=1, false=2, missing_true=missing_true),
        Node(tree, 1),
        Node(tree, 2),
    ]


def legacy_model(
    nodes: list[Node],
    votes: list[tuple[int, int, int, float]],  # (tree, node, target, weight)
    *,
    n_targets: int = 1,
    tensor_dtype: type[np.floating[Any]] | None = None,  # values and weights as *_as_tensor of this type
    input_type: int = onnx.TensorProto.FLOAT,
    **attrs: Any,
) -> onnx.ModelProto:
    values = [n.value for n in nodes]
    weights = [w for *_, w in votes]
    if tensor_dtype is not None:
        attrs["nodes_values_as_tensor"] = numpy_helper.from_array(np.asarray(values, dtype=tensor_dtype))
        attrs["target_weights_as_tensor"] = numpy_helper.from_array(np.asarray(weights, dtype=tensor_dtype))
    else:
        attrs |= {"nodes_values": values, "target_weights": weights}
    node = helper.make_node(
        "TreeEnsembleRegressor",
        ["X"],
        ["variable"],
        name="trees",
        domain=ML_DOMAIN,
        nodes_treeids=[n.tree for n in nodes],
        nodes_nodeids=[n.node for n in nodes],
        nodes_modes=[n.mode for n in nodes],
        nodes_featureids=[n.feature for n in nodes],
        nodes_truenodeids=[n.true for n in nodes],
        nodes_falsenodeids=[n.false for n in nodes],
        nodes_missing_value_tracks_true=[n.missing_true for n in nodes],
        nodes_hitrates=[1.0] * len(nodes),
        target_treeids=[v[0] for v in votes],
        target_nodeids=[v[1] for v in votes],
        target_ids=[v[2] for v in votes],
        n_targets=n_targets,
        **attrs,
    )
    graph = helper.make_graph(
        [node],
        "legacy",
        [helper.make_tensor_value_info("X", input_type, [None, 2])],
        [helper.make_tensor_value_info("variable", onnx.TensorProto.FLOAT, [None, n_targets])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(ML_DOMAIN, 3)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def every_mode_and_missing_side() -> tuple[list[Node], list[tuple[int, int, int, float]]]:
    """One stump per (mode, side NaN goes), on alternate features; leaf weights are distinct powers of
    two, so every sum is exact and says which leaf each tree chose."""
    nodes: list[Node] = []
    votes = []
    for tree, (mode, missing) in enumerate((m, s) for m in MODES for s in (0, 1)):
        nodes += stump(tree, mode, feature=tree % 2, value=0.5, missing_true=missing)
        votes += [(tree, 1, 0, 2.0 ** (2 * tree)), (tree, 2, 0, 2.0 ** (2 * tree + 1))]
    return nodes, votes


GRID = np.array([(a, b) for a in (0.0, 0.5, 1.0, np.nan) for b in (-1.0, 0.5, 2.0, np.nan)], dtype=np.float32)


# ---------------------------------------------------------------------------------------------- skl2onnx models


def test_a_gradient_boosting_model_with_missing_values_gives_identical_outputs_from_fewer_bytes() -> None:
    # Given a HistGradientBoostingRegressor fitted on rows with NaNs, converted by skl2onnx
    X = rows_with_nans(400, seed=0)
    legacy = to_onnx(
        HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=15, random_state=0).fit(X, target_of(X, 1))
    )
    assert op_types(legacy) == ["TreeEnsembleRegressor"]
    # When its trees are rewritten
    rewritten = as_tree_ensembles(legacy)
    # Then the graph is a valid ai.onnx.ml 5 TreeEnsemble plus the base value, and NaN keeps its side
    onnx.checker.check_model(rewritten, full_check=True)
    assert op_types(rewritten) == ["TreeEnsemble", "Add"] and ml_opset(rewritten) == TREE_ENSEMBLE_OPSET
    assert rewritten.graph.output[0].name == legacy.graph.output[0].name
    tracks = {a.name: a for a in rewritten.graph.node[0].attribute}["nodes_missing_value_tracks_true"]
    assert 1 in tracks.ints
    # and onnxruntime gives the same floats on fresh rows with NaNs, from a smaller model
    fresh = rows_with_nans(500, seed=2)
    np.testing.assert_array_equal(run_ort(rewritten, fresh), run_ort(legacy, fresh))
    assert len(rewritten.SerializeToString()) < 0.6 * len(legacy.SerializeToString())
    # and the input model is left as it was
    assert op_types(legacy) == ["TreeEnsembleRegressor"]


def test_every_ensemble_of_the_projects_two_loss_blend_is_rewritten_and_the_blend_is_unchanged() -> None:
    # Given the blend the project exports when both losses share the weight (a VotingRegressor)
    X = rows_with_nans(400, seed=3)
    blend = final_model(Rows(X, target_of(X, 4)), SMALL, {"squared_error": 0.25, "absolute_error": 0.75})
    legacy = to_onnx(blend)
    assert op_types(legacy).count("TreeEnsembleRegressor") == 2
    # When its trees are rewritten
    rewritten = as_tree_ensembles(legacy)
    # Then both ensembles are TreeEnsembles (each with its base value added), and the weighted sum
    # around them is the same nodes
    assert op_types(rewritten).count("TreeEnsemble") == 2
    assert "TreeEnsembleRegressor" not in op_types(rewritten)
    summed = {n.output[0] for n in rewritten.graph.node if n.op_type == "TreeEnsemble"}
    kept = [n for n in rewritten.graph.node if n.op_type != "TreeEnsemble" and n.input[0] not in summed]
    assert kept == [n for n in legacy.graph.node if n.op_type != "TreeEnsembleRegressor"]
    onnx.checker.check_model(rewritten, full_check=True)
    # and the outputs are identical
    fresh = rows_with_nans(300, seed=5)
    np.testing.assert_array_equal(run_ort(rewritten, fresh), run_ort(legacy, fresh))


def test_trees_that_are_a_single_leaf_become_a_branch_over_two_copies_of_the_leaf() -> None:
    # Given a constant target: every tree skl2onnx writes is one leaf
    X = rows_with_nans(100, seed=6)
    legacy = to_onnx(HistGradientBoostingRegressor(max_iter=5).fit(X, np.full(100, 2.5)))
    modes = {a.name: a for a in legacy.graph.node[0].attribute}["nodes_modes"].strings
    assert modes == [b"LEAF"] * 5
    # When rewritten / Then onnxruntime and onnx's reference evaluator both still answer 2.5
    rewritten = as_tree_ensembles(legacy)
    onnx.checker.check_model(rewritten, full_check=True)
    np.testing.assert_array_equal(run_ort(rewritten, X), run_ort(legacy, X))
    np.testing.assert_array_equal(run_reference(rewritten, X), np.full((100, 1), 2.5, dtype=np.float32))


def test_single_leaf_trees_among_others_keep_their_own_weights_in_both_runtimes() -> None:
    # Given a leaf-only tree between two stumps, every weight a distinct power of two
    nodes = [*stump(0, "BRANCH_LEQ", 0, 0.5, 0), Node(1, 0), *stump(2, "BRANCH_GT", 1, 0.5, 1)]
    votes = [(0, 1, 0, 1.0), (0, 2, 0, 2.0), (1, 0, 0, 4.0), (2, 1, 0, 8.0), (2, 2, 0, 16.0)]
    legacy = legacy_model(nodes, votes)
    # When rewritten
    rewritten = as_tree_ensembles(legacy)
    # Then onnxruntime gives the legacy outputs, and so does the reference evaluator (the training
    # Lambda's parity check), which misreads the spec's "both children are the same leaf" form
    expected = run_ort(legacy, GRID)
    np.testing.assert_array_equal(run_ort(rewritten, GRID), expected)
    np.testing.assert_array_equal(run_reference(rewritten, GRID), expected)


@pytest.mark.parametrize("aggregate", ["SUM", "AVERAGE", "MIN", "MAX"])
@pytest.mark.parametrize("tensor_dtype", [None, np.float32])
def test_every_branch_mode_and_missing_value_side_routes_as_the_legacy_operator(
    aggregate: str, tensor_dtype: type[np.floating[Any]] | None
) -> None:
    # Given a stump per comparison and per side NaN goes, aggregated by `aggregate`, with the values in
    # the float lists or in float32 tensors, and a base value
    nodes, votes = every_mode_and_missing_side()
    legacy = legacy_model(
        nodes, votes, tensor_dtype=tensor_dtype, aggregate_function=aggregate, base_values=[0.25]
    )
    # When rewritten
    rewritten = as_tree_ensembles(legacy)
    onnx.checker.check_model(rewritten, full_check=True)
    modes = numpy_helper.to_array({a.name: a for a in rewritten.graph.node[0].attribute}["nodes_modes"].t)
    assert modes.dtype == np.uint8 and sorted(set(modes.tolist())) == [0, 1, 2, 3, 4, 5]
    # Then below, on, above the split and NaN, every tree takes the same side in both operators
    expected = run_ort(legacy, GRID)
    np.testing.assert_array_equal(run_ort(rewritten, GRID), expected)
    np.testing.assert_array_equal(run_reference(rewritten, GRID), expected)


@pytest.mark.parametrize("aggregate", ["SUM", "MIN", "MAX"])
def test_trees_voting_for_several_targets_become_one_tree_per_target(aggregate: str) -> None:
    # Given two targets with their own base values: a tree for target 1 only, and a tree whose every leaf
    # votes for both targets
    nodes = [*stump(0, "BRANCH_LEQ", 0, 0.5, 1), *stump(1, "BRANCH_LT", 1, 0.5, 0)]
    votes = [(0, 1, 1, 1.0), (0, 2, 1, 2.0), (1, 1, 0, 4.0), (1, 1, 1, 8.0), (1, 2, 0, 16.0), (1, 2, 1, 32.0)]
    legacy = legacy_model(nodes, votes, n_targets=2, aggregate_function=aggregate, base_values=[0.5, -3.0])
    # When rewritten / Then each target's output is the legacy operator's
    rewritten = as_tree_ensembles(legacy)
    onnx.checker.check_model(rewritten, full_check=True)
    np.testing.assert_array_equal(run_ort(rewritten, GRID), run_ort(legacy, GRID))


def test_under_sum_a_leaf_that_does_not_vote_for_a_target_of_its_tree_adds_nothing_to_it() -> None:
    # Given a tree whose true leaf votes for target 0 and false leaf for target 1
    legacy = legacy_model(stump(0, "BRANCH_LEQ", 0, 0.5, 0), [(0, 1, 0, 1.0), (0, 2, 1, 2.0)], n_targets=2)
    # When rewritten / Then the outputs are the legacy operator's
    rewritten = as_tree_ensembles(legacy)
    np.testing.assert_array_equal(run_ort(rewritten, GRID), run_ort(legacy, GRID))


def test_several_votes_of_one_leaf_for_one_target_are_summed_as_the_spec_says() -> None:
    # Given a leaf with two votes for the same target
    legacy = legacy_model(stump(0, "BRANCH_LEQ", 0, 0.5, 0), [(0, 1, 0, 1.0), (0, 1, 0, 2.0), (0, 2, 0, 8.0)])
    # When rewritten / Then it weighs their sum, as onnx's reference evaluator reads the legacy operator
    # (onnxruntime 1.32 keeps only the first vote of a single-target leaf; skl2onnx never writes two)
    rewritten = as_tree_ensembles(legacy)
    expected = run_reference(legacy, GRID)
    assert set(expected.ravel().tolist()) == {3.0, 8.0}
    np.testing.assert_array_equal(run_ort(rewritten, GRID), expected)


def test_no_add_is_written_without_a_base_value_and_a_model_without_trees_comes_back_unchanged() -> None:
    # Given a legacy ensemble without base values
    nodes, votes = every_mode_and_missing_side()
    rewritten = as_tree_ensembles(legacy_model(nodes, votes))
    # Then the TreeEnsemble writes the output itself
    assert op_types(rewritten) == ["TreeEnsemble"] and rewritten.graph.node[0].output[0] == "variable"
    # And a model with no tree ensemble is returned as it came, with its opsets
    again = as_tree_ensembles(rewritten)
    assert again.SerializeToString() == rewritten.SerializeToString()


# ---------------------------------------------------------------------------------------------- refused


def _with_member_mode() -> onnx.ModelProto:
    nodes, votes = every_mode_and_missing_side()
    return legacy_model([*nodes[:-3], *stump(11, "BRANCH_MEMBER", 0, 1.0, 0)], votes)


REFUSED = {
    "post_transform": (
        lambda: legacy_model(
            stump(0, "BRANCH_LEQ", 0, 0.5, 0), [(0, 1, 0, 1.0), (0, 2, 0, 2.0)], post_transform="LOGISTIC"
        ),
        "post_transform 'LOGISTIC'",
    ),
    "set membership": (_with_member_mode, r"mode\(s\) \['BRANCH_MEMBER'\]"),
    "double input": (
        lambda: legacy_model(
            stump(0, "BRANCH_LEQ", 0, 0.5, 0),
            [(0, 1, 0, 1.0), (0, 2, 0, 2.0)],
            input_type=onnx.TensorProto.DOUBLE,
        ),
        "must be float32, is DOUBLE",
    ),
    "double thresholds": (
        lambda: legacy_model(
            stump(0, "BRANCH_LEQ", 0, 0.5, 0),
            [(0, 1, 0, 1.0), (0, 2, 0, 2.0)],
            tensor_dtype=np.float64,
        ),
        "nodes_values_as_tensor is float64",
    ),
    "average over two targets": (
        lambda: legacy_model(
            stump(0, "BRANCH_LEQ", 0, 0.5, 0),
            [(0, 1, 0, 1.0), (0, 2, 1, 2.0)],
            n_targets=2,
            aggregate_function="AVERAGE",
        ),
        "several targets under AVERAGE",
    ),
    "min over a leaf that skips a target": (
        lambda: legacy_model(
            stump(0, "BRANCH_LEQ", 0, 0.5, 0),
            [(0, 1, 0, 1.0), (0, 2, 1, 2.0)],
            n_targets=2,
            aggregate_function="MIN",
        ),
        "must vote for each of its targets",
    ),
    "leaf without a weight": (
        lambda: legacy_model(stump(0, "BRANCH_LEQ", 0, 0.5, 0), [(0, 1, 0, 1.0)]),
        "leaf 2 of tree 0 has no weight",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_a_tree_ensemble_cannot_reproduce_exactly_is_refused_with_a_reason(case: str) -> None:
    # Given a legacy ensemble using something the rewrite does not carry over exactly
    build, reason = REFUSED[case]
    # Then the rewrite refuses it, saying what
    with pytest.raises(UnsupportedTreeEnsembleError, match=reason):
        as_tree_ensembles(build())
