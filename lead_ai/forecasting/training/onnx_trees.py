"""Training side: rewrite skl2onnx's tree ensembles as the ai.onnx.ml opset-5 TreeEnsemble operator.

skl2onnx writes a tree model as the legacy TreeEnsembleRegressor: a dozen parallel lists with one entry
per node, the comparison spelled out as a string per node, a hit rate of 1.0 per node, and the leaf
weights in a second set of lists keyed by (tree id, node id). TreeEnsemble (ai.onnx.ml 5) keeps branches
and leaves apart, the comparisons in one uint8 tensor and the splits and weights in tensors. For the
project's model (250 trees) that is less than half the bytes and a faster onnxruntime session, with
bit-identical outputs: onnxruntime turns a TreeEnsemble back into the same internal trees, in the same
order, and sums them in the same order.

TreeEnsemble has no base value: it becomes an Add after the trees, which is also where onnxruntime adds
it for the legacy operator (after summing the trees), so the rounding is the same.

What a rewrite cannot reproduce exactly raises UnsupportedTreeEnsembleError instead of being
approximated. This module imports onnx: the prediction path must never import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["ML_DOMAIN", "TREE_ENSEMBLE_OPSET", "UnsupportedTreeEnsembleError", "as_tree_ensembles"]

ML_DOMAIN = "ai.onnx.ml"
TREE_ENSEMBLE_OPSET = 5
# TreeEnsemble's uint8 nodes_modes codes. BRANCH_MEMBER (6) is left out: the legacy operator has no set
# membership to carry over (skl2onnx does not emit it for these models).
_MODE_CODES = {
    "BRANCH_LEQ": 0,
    "BRANCH_LT": 1,
    "BRANCH_GTE": 2,
    "BRANCH_GT": 3,
    "BRANCH_EQ": 4,
    "BRANCH_NEQ": 5,
}
_AGGREGATE_CODES = {"AVERAGE": 0, "SUM": 1, "MIN": 2, "MAX": 3}
_LEAF = "LEAF"
# Deprecated in ai.onnx.ml 5: none may be left behind once the model declares that opset.
_LEGACY_OPS = frozenset({"TreeEnsembleRegressor", "TreeEnsembleClassifier"})


class UnsupportedTreeEnsembleError(ValueError):
    """A tree ensemble uses something a TreeEnsemble (ai.onnx.ml 5) cannot reproduce exactly."""


@dataclass(frozen=True)
class _Legacy:
    """One TreeEnsembleRegressor's attributes: one entry per tree node, one per leaf vote."""

    name: str
    tree_ids: list[int]
    node_ids: list[int]
    feature_ids: list[int]
    modes: list[str]
    values: np.ndarray  # float32, one per node
    true_ids: list[int]
    false_ids: list[int]
    missing_tracks_true: list[int]  # empty when the attribute is absent (NaN goes false everywhere)
    vote_tree_ids: list[int]
    vote_node_ids: list[int]
    vote_target_ids: list[int]
    vote_weights: np.ndarray  # float32, one per vote
    base_values: np.ndarray  # float32, empty or one per target
    n_targets: int
    aggregate: str


@dataclass
class _Tree:
    """One legacy tree: its rows in the node lists and each leaf's weight per target (votes combined)."""

    tree_id: int
    rows: list[int] = field(default_factory=list)
    leaf_weights: dict[int, dict[int, np.float32]] = field(default_factory=dict)  # node id -> target -> w

    @property
    def targets(self) -> list[int]:
        return sorted({t for weights in self.leaf_weights.values() for t in weights})


@dataclass
class _Ensemble:
    """A TreeEnsemble's attributes under construction: branches (nodes_*) and leaves (leaf_*) apart."""

    roots: list[int] = field(default_factory=list)
    feature_ids: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    splits: list[np.float32] = field(default_factory=list)
    missing_tracks_true: list[int] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leafs: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leafs: list[int] = field(default_factory=list)
    leaf_targets: list[int] = field(default_factory=list)
    leaf_weights: list[np.float32] = field(default_factory=list)

    def add_branch(self, feature: int, mode: int, split: np.float32, missing_true: int) -> int:
        self.feature_ids.append(feature)
        self.modes.append(mode)
        self.splits.append(split)
        self.missing_tracks_true.append(missing_true)
        for ids in (self.true_ids, self.true_leafs, self.false_ids, self.false_leafs):
            ids.append(0)  # set by link()
        return len(self.modes) - 1

    def add_leaf(self, target: int, weight: np.float32) -> int:
        self.leaf_targets.append(target)
        self.leaf_weights.append(weight)
        return len(self.leaf_weights) - 1

    def link(self, branch: int, true_child: tuple[int, bool], false_child: tuple[int, bool]) -> None:
        self.true_ids[branch], self.true_leafs[branch] = true_child[0], int(true_child[1])
        self.false_ids[branch], self.false_leafs[branch] = false_child[0], int(false_child[1])


# ---------------------------------------------------------------------------------------------- public


def as_tree_ensembles(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` in which every TreeEnsembleRegressor of the main graph is a TreeEnsemble
    (ai.onnx.ml 5), followed by an Add of its base values when they are not all zero, writing the same
    output name: the rest of the graph is untouched. The model then declares ai.onnx.ml opset 5.

    A model without a TreeEnsembleRegressor comes back as an unchanged copy. Raises
    UnsupportedTreeEnsembleError for anything a TreeEnsemble would not reproduce exactly."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    if not any(_is_legacy_regressor(node) for node in model.graph.node):
        return out
    _refuse_legacy_trees_out_of_reach(model)
    taken = _names_in_use(model.graph)
    nodes: list[onnx.NodeProto] = []
    for node in model.graph.node:
        if not _is_legacy_regressor(node):
            nodes.append(node)
            continue
        _require_float32_input(model, node.input[0])
        new_nodes, base = _rewrite(_read_legacy(node), node, taken)
        nodes.extend(new_nodes)
        if base is not None:
            out.graph.initializer.append(base)
    out.graph.ClearField("node")
    out.graph.node.extend(nodes)
    _declare_ml_opset(out)
    return out


# ---------------------------------------------------------------------------------------------- reading


def _is_legacy_regressor(node: onnx.NodeProto) -> bool:
    return node.domain == ML_DOMAIN and node.op_type == "TreeEnsembleRegressor"


def _read_legacy(node: onnx.NodeProto) -> _Legacy:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    name = node.name or node.output[0]
    post_transform = _text(attrs.get("post_transform", b"NONE"))
    if post_transform != "NONE":
        raise UnsupportedTreeEnsembleError(
            f"{name}: post_transform {post_transform!r} is not supported (only NONE)"
        )
    aggregate = _text(attrs.get("aggregate_function", b"SUM"))
    if aggregate not in _AGGREGATE_CODES:
        raise UnsupportedTreeEnsembleError(f"{name}: unknown aggregate_function {aggregate!r}")
    legacy = _Legacy(
        name=name,
        tree_ids=list(attrs.get("nodes_treeids", [])),
        node_ids=list(attrs.get("nodes_nodeids", [])),
        feature_ids=list(attrs.get("nodes_featureids", [])),
        modes=[_text(m) for m in attrs.get("nodes_modes", [])],
        values=_float32s(attrs, "nodes_values", name),
        true_ids=list(attrs.get("nodes_truenodeids", [])),
        false_ids=list(attrs.get("nodes_falsenodeids", [])),
        missing_tracks_true=list(attrs.get("nodes_missing_value_tracks_true", [])),
        vote_tree_ids=list(attrs.get("target_treeids", [])),
        vote_node_ids=list(attrs.get("target_nodeids", [])),
        vote_target_ids=list(attrs.get("target_ids", [])),
        vote_weights=_float32s(attrs, "target_weights", name),
        base_values=_float32s(attrs, "base_values", name),
        n_targets=int(attrs.get("n_targets", 0)),
        aggregate=aggregate,
    )
    _check_shapes(legacy)
    return legacy


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _float32s(attrs: dict[str, Any], name: str, node: str) -> np.ndarray:
    """A float attribute given as a list (float32 by definition) or as `<name>_as_tensor`."""
    tensor = attrs.get(f"{name}_as_tensor")
    if name in attrs and tensor is not None:
        raise UnsupportedTreeEnsembleError(f"{node}: both {name} and {name}_as_tensor are given")
    if name in attrs:
        return np.asarray(attrs[name], dtype=np.float32)
    if tensor is None:
        return np.zeros(0, dtype=np.float32)
    values = numpy_helper.to_array(tensor).reshape(-1)
    if values.dtype != np.float32:
        # A float32 TreeEnsemble would round these thresholds/weights: not the same model any more.
        raise UnsupportedTreeEnsembleError(f"{node}: {name}_as_tensor is {values.dtype}, not float32")
    return values


def _check_shapes(legacy: _Legacy) -> None:
    n_nodes = len(legacy.tree_ids)
    per_node = {
        "nodes_nodeids": len(legacy.node_ids),
        "nodes_featureids": len(legacy.feature_ids),
        "nodes_modes": len(legacy.modes),
        "nodes_values": legacy.values.size,
        "nodes_truenodeids": len(legacy.true_ids),
        "nodes_falsenodeids": len(legacy.false_ids),
    }
    if legacy.missing_tracks_true:
        per_node["nodes_missing_value_tracks_true"] = len(legacy.missing_tracks_true)
    per_vote = {
        "target_nodeids": len(legacy.vote_node_ids),
        "target_ids": len(legacy.vote_target_ids),
        "target_weights": legacy.vote_weights.size,
    }
    n_votes = len(legacy.vote_tree_ids)
    wrong = [k for k, n in per_node.items() if n != n_nodes] + [
        k for k, n in per_vote.items() if n != n_votes
    ]
    if wrong or not n_nodes:
        raise UnsupportedTreeEnsembleError(f"{legacy.name}: malformed node or target lists ({wrong})")
    unknown = sorted({m for m in legacy.modes if m != _LEAF and m not in _MODE_CODES})
    if unknown:
        raise UnsupportedTreeEnsembleError(f"{legacy.name}: node mode(s) {unknown} are not supported")
    if legacy.n_targets < 1 or legacy.base_values.size not in (0, legacy.n_targets):
        raise UnsupportedTreeEnsembleError(
            f"{legacy.name}: n_targets={legacy.n_targets} with {legacy.base_values.size} base values"
        )
    if any(not 0 <= t < legacy.n_targets for t in legacy.vote_target_ids):
        raise UnsupportedTreeEnsembleError(f"{legacy.name}: a target id is outside [0, n_targets)")


# ---------------------------------------------------------------------------------------------- trees


def _trees(legacy: _Legacy) -> list[_Tree]:
    """The trees in the order of their first node (the order onnxruntime sums them in), with their
    votes combined per (leaf, target) and checked."""
    trees: dict[int, _Tree] = {}
    for row, tree_id in enumerate(legacy.tree_ids):
        trees.setdefault(tree_id, _Tree(tree_id)).rows.append(row)
    votes: dict[tuple[int, int, int], list[np.float32]] = {}
    for tree_id, node_id, target, weight in zip(
        legacy.vote_tree_ids, legacy.vote_node_ids, legacy.vote_target_ids, legacy.vote_weights, strict=True
    ):
        votes.setdefault((tree_id, node_id, target), []).append(weight)
    leaves = {(legacy.tree_ids[r], legacy.node_ids[r]) for r, m in enumerate(legacy.modes) if m == _LEAF}
    for (tree_id, node_id, target), weights in votes.items():
        if (tree_id, node_id) not in leaves:
            raise UnsupportedTreeEnsembleError(
                f"{legacy.name}: tree {tree_id} has a target weight on node {node_id}, which is not a leaf"
            )
        leaf = trees[tree_id].leaf_weights.setdefault(node_id, {})
        leaf[target] = _combine(weights, legacy.aggregate)
    voteless = sorted(leaves - {(tree_id, node_id) for tree_id, node_id, _ in votes})
    if voteless:
        tree_id, node_id = voteless[0]
        raise UnsupportedTreeEnsembleError(f"{legacy.name}: leaf {node_id} of tree {tree_id} has no weight")
    for tree in trees.values():
        _check_targets(tree, legacy)
    return list(trees.values())


def _combine(weights: list[np.float32], aggregate: str) -> np.float32:
    """Several votes of one leaf for one target as one weight: the operator's own aggregate of them."""
    if aggregate == "MIN":
        return np.float32(min(weights))
    if aggregate == "MAX":
        return np.float32(max(weights))
    total = np.float32(0.0)
    for w in weights:
        total = np.float32(total + w)  # float32, as the runtime accumulates
    return total


def _check_targets(tree: _Tree, legacy: _Legacy) -> None:
    """A TreeEnsemble leaf votes for one target, so a tree voting for several becomes one copy per
    target, where a leaf that does not vote for that target weighs 0. Exact for SUM; AVERAGE would
    divide by the number of copies, and MIN/MAX would see the zeros."""
    targets = tree.targets
    if len(targets) > 1 and legacy.aggregate == "AVERAGE":
        raise UnsupportedTreeEnsembleError(
            f"{legacy.name}: tree {tree.tree_id} votes for several targets under AVERAGE"
        )
    if legacy.aggregate in ("MIN", "MAX") and any(len(w) != len(targets) for w in tree.leaf_weights.values()):
        raise UnsupportedTreeEnsembleError(
            f"{legacy.name}: under {legacy.aggregate}, every leaf of tree {tree.tree_id} must vote for "
            f"each of its targets {targets}"
        )


def _add_tree(out: _Ensemble, legacy: _Legacy, tree: _Tree, target: int) -> None:
    """One copy of `tree` voting for `target`, with its root appended to out.roots."""
    where: dict[int, tuple[int, bool]] = {}  # node id -> (index into nodes_* or leaf_*, is a leaf)
    for row in tree.rows:
        node_id = legacy.node_ids[row]
        if node_id in where:
            raise UnsupportedTreeEnsembleError(f"{legacy.name}: tree {tree.tree_id} repeats node {node_id}")
        if legacy.modes[row] == _LEAF:
            weight = tree.leaf_weights[node_id].get(target, np.float32(0.0))
            where[node_id] = (out.add_leaf(target, weight), True)
        else:
            missing = legacy.missing_tracks_true[row] if legacy.missing_tracks_true else 0
            mode = _MODE_CODES[legacy.modes[row]]
            where[node_id] = (
                out.add_branch(legacy.feature_ids[row], mode, legacy.values[row], missing),
                False,
            )
    for row in tree.rows:
        if legacy.modes[row] != _LEAF:
            children = (legacy.true_ids[row], legacy.false_ids[row])
            true_child, false_child = (_child(where, c, legacy, tree) for c in children)
            out.link(where[legacy.node_ids[row]][0], true_child, false_child)
    root = _child(where, 0, legacy, tree)  # the legacy format numbers every tree's root 0
    out.roots.append(root[0] if not root[1] else _add_stump(out, root[0]))


def _child(
    where: dict[int, tuple[int, bool]], node_id: int, legacy: _Legacy, tree: _Tree
) -> tuple[int, bool]:
    if node_id not in where:
        raise UnsupportedTreeEnsembleError(f"{legacy.name}: tree {tree.tree_id} has no node {node_id}")
    return where[node_id]


def _add_stump(out: _Ensemble, leaf: int) -> int:
    """A branch standing for a tree that is a single leaf (TreeEnsemble's roots are branches).

    Its two children are two copies of the leaf, not the spec's one leaf twice: onnx 1.23's
    ReferenceEvaluator (the training Lambda's parity check) reads that form's leaf at the branch's index."""
    twin = out.add_leaf(out.leaf_targets[leaf], out.leaf_weights[leaf])
    branch = out.add_branch(feature=0, mode=_MODE_CODES["BRANCH_LEQ"], split=np.float32(0.0), missing_true=0)
    out.link(branch, (leaf, True), (twin, True))
    return branch


# ---------------------------------------------------------------------------------------------- graph


def _rewrite(
    legacy: _Legacy, node: onnx.NodeProto, taken: set[str]
) -> tuple[list[onnx.NodeProto], onnx.TensorProto | None]:
    """The nodes replacing `node` (same input, same output name) and the base-value initializer, if any."""
    ensemble = _Ensemble()
    for tree in _trees(legacy):
        for target in tree.targets:
            _add_tree(ensemble, legacy, tree, target)
    output = node.output[0]
    if not legacy.base_values.any():
        # No Add: the legacy operator adds a base of 0 (or none), which changes nothing but -0.0.
        return [_tree_ensemble_node(ensemble, legacy, node, output)], None
    summed = _fresh(taken, f"{output}_trees")
    base = numpy_helper.from_array(legacy.base_values, _fresh(taken, f"{output}_base_values"))
    add = helper.make_node("Add", [summed, base.name], [output], name=_fresh(taken, f"{legacy.name}_base"))
    return [_tree_ensemble_node(ensemble, legacy, node, summed), add], base


def _tree_ensemble_node(
    ensemble: _Ensemble, legacy: _Legacy, node: onnx.NodeProto, output: str
) -> onnx.NodeProto:
    attrs: dict[str, Any] = {
        "aggregate_function": _AGGREGATE_CODES[legacy.aggregate],
        "post_transform": 0,
        "n_targets": legacy.n_targets,
        "tree_roots": ensemble.roots,
        "nodes_featureids": ensemble.feature_ids,
        "nodes_modes": numpy_helper.from_array(np.asarray(ensemble.modes, dtype=np.uint8)),
        # The spec wants the splits and weights in the input's type, which the caller checked is float32.
        "nodes_splits": numpy_helper.from_array(np.asarray(ensemble.splits, dtype=np.float32)),
        "nodes_truenodeids": ensemble.true_ids,
        "nodes_trueleafs": ensemble.true_leafs,
        "nodes_falsenodeids": ensemble.false_ids,
        "nodes_falseleafs": ensemble.false_leafs,
        "leaf_targetids": ensemble.leaf_targets,
        "leaf_weights": numpy_helper.from_array(np.asarray(ensemble.leaf_weights, dtype=np.float32)),
    }
    if any(ensemble.missing_tracks_true):
        attrs["nodes_missing_value_tracks_true"] = ensemble.missing_tracks_true
    # nodes_hitrates is dropped: skl2onnx writes 1.0 everywhere and no runtime uses it to predict.
    return helper.make_node(
        "TreeEnsemble", [node.input[0]], [output], name=node.name, domain=ML_DOMAIN, **attrs
    )


def _require_float32_input(model: onnx.ModelProto, name: str) -> None:
    """The legacy operator outputs float32 whatever its input; a TreeEnsemble outputs its input's type
    and compares in it, so only a float32 input keeps the rest of the graph and the comparisons as they are."""
    elem_type = _element_type(model.graph, name)
    if elem_type is None:
        elem_type = _element_type(onnx.shape_inference.infer_shapes(model).graph, name)
    if elem_type != onnx.TensorProto.FLOAT:
        found = "unknown" if elem_type is None else onnx.TensorProto.DataType.Name(elem_type)
        raise UnsupportedTreeEnsembleError(f"tree ensemble input {name!r} must be float32, is {found}")


def _element_type(graph: onnx.GraphProto, name: str) -> int | None:
    for info in (*graph.input, *graph.value_info, *graph.output):
        if info.name == name and info.type.HasField("tensor_type"):
            return int(info.type.tensor_type.elem_type)
    for init in graph.initializer:
        if init.name == name:
            return int(init.data_type)
    return None


def _refuse_legacy_trees_out_of_reach(model: onnx.ModelProto) -> None:
    """Once the model declares ai.onnx.ml 5 no legacy tree operator may remain (they are deprecated
    there), and only the main graph's regressors are rewritten."""
    nested = [n for node in model.graph.node for n in _subgraph_nodes(node)]
    nested += [n for function in model.functions for n in _with_subgraph_nodes(function.node)]
    classifiers = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    left = [
        f"{n.op_type} {n.name!r}"
        for n in classifiers + nested
        if n.domain == ML_DOMAIN and n.op_type in _LEGACY_OPS
    ]
    if left:
        raise UnsupportedTreeEnsembleError(
            f"only the main graph's TreeEnsembleRegressors are rewritten, not {left}"
        )


def _subgraph_nodes(node: onnx.NodeProto) -> Iterator[onnx.NodeProto]:
    for attr in node.attribute:
        for graph in [attr.g] if attr.HasField("g") else list(attr.graphs):
            yield from _with_subgraph_nodes(graph.node)


def _with_subgraph_nodes(nodes: Iterable[onnx.NodeProto]) -> Iterator[onnx.NodeProto]:
    for node in nodes:
        yield node
        yield from _subgraph_nodes(node)


def _names_in_use(graph: onnx.GraphProto) -> set[str]:
    names = {v.name for v in (*graph.input, *graph.output, *graph.value_info, *graph.initializer)}
    for node in _with_subgraph_nodes(graph.node):
        names.update((*node.input, *node.output, node.name))
    return names


def _fresh(taken: set[str], stem: str) -> str:
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    taken.add(name)
    return name


def _declare_ml_opset(model: onnx.ModelProto) -> None:
    for opset in model.opset_import:
        if opset.domain == ML_DOMAIN:
            opset.version = max(opset.version, TREE_ENSEMBLE_OPSET)
            return
    model.opset_import.append(helper.make_opsetid(ML_DOMAIN, TREE_ENSEMBLE_OPSET))
