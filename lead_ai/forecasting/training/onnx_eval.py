"""Running a lead_ai ONNX model where onnxruntime is absent (the training Lambda): onnx's
ReferenceEvaluator, with its TreeEnsemble replaced by a vectorised numpy one.

The reference TreeEnsemble walks every row through every tree in Python: 7.1 s for a 2 x 250-tree
champion on 2,352 rows (14 backtest origins x 168 steps) on this machine. `FastTreeEnsemble` walks all
(row, tree) pairs at once, one tree level per numpy step, and answers the same rows in well under a
second (tests/unit/test_onnx_eval.py checks it against onnxruntime and the reference, and
benchmarks the champion-sized case). Every other operator of the graph stays the reference's.
This module imports onnx: the prediction path must never import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun

__all__ = ["FastTreeEnsemble", "OnnxRows"]

_SUM, _AVERAGE = 1, 0


class FastTreeEnsemble(OpRun):
    """ai.onnx.ml TreeEnsemble (opset 5) for numeric branches, no post-transform, SUM or AVERAGE."""

    op_domain = "ai.onnx.ml"

    def _run(
        self,
        X: np.ndarray,
        nodes_splits: Any = None,
        nodes_featureids: Sequence[int] = (),
        nodes_modes: Any = None,
        nodes_truenodeids: Sequence[int] = (),
        nodes_falsenodeids: Sequence[int] = (),
        nodes_trueleafs: Sequence[int] = (),
        nodes_falseleafs: Sequence[int] = (),
        leaf_targetids: Sequence[int] = (),
        leaf_weights: Any = None,
        tree_roots: Sequence[int] = (),
        post_transform: int = 0,
        aggregate_function: int = _SUM,
        nodes_hitrates: Any = None,
        nodes_missing_value_tracks_true: Sequence[int] | None = None,
        membership_values: Any = None,
        n_targets: int | None = None,
    ) -> tuple[np.ndarray]:
        modes = np.asarray(nodes_modes, dtype=np.int64)
        if post_transform or aggregate_function not in (_SUM, _AVERAGE) or (modes > 5).any():
            raise NotImplementedError("FastTreeEnsemble: only numeric branches, SUM/AVERAGE, no transform")
        X = np.asarray(X)
        splits = np.asarray(nodes_splits, dtype=X.dtype)
        features = np.asarray(nodes_featureids, dtype=np.int64)
        true_ids = np.asarray(nodes_truenodeids, dtype=np.int64)
        false_ids = np.asarray(nodes_falsenodeids, dtype=np.int64)
        true_leaf = np.asarray(nodes_trueleafs, dtype=bool)
        false_leaf = np.asarray(nodes_falseleafs, dtype=bool)
        missing_true = (
            np.asarray(nodes_missing_value_tracks_true, dtype=bool)
            if nodes_missing_value_tracks_true is not None and len(nodes_missing_value_tracks_true)
            else np.zeros(features.size, dtype=bool)
        )
        roots = np.asarray(tree_roots, dtype=np.int64)
        n_rows, n_trees = X.shape[0], roots.size
        # Every (row, tree) pair starts at its tree's root; each step moves the pairs still on a branch
        # one level down; a pair that reaches a leaf records it.
        pair_row = np.repeat(np.arange(n_rows, dtype=np.int64), n_trees)
        node = np.tile(roots, n_rows)
        pair = np.arange(node.size, dtype=np.int64)
        leaf_of = np.empty(node.size, dtype=np.int64)
        same_mode = bool(modes.size) and bool((modes == modes[0]).all())
        while pair.size:
            x = X[pair_row[pair], features[node]]
            split = splits[node]
            go_true = _compare(x, split, int(modes[0])) if same_mode else _compare_each(x, split, modes[node])
            go_true |= np.isnan(x) & missing_true[node]
            nxt = np.where(go_true, true_ids[node], false_ids[node])
            done = np.where(go_true, true_leaf[node], false_leaf[node])
            leaf_of[pair[done]] = nxt[done]
            pair, node = pair[~done], nxt[~done]
        weights = np.asarray(leaf_weights, dtype=np.float64)[leaf_of].reshape(n_rows, n_trees)
        targets = np.asarray(leaf_targetids, dtype=np.int64)[leaf_of].reshape(n_rows, n_trees)
        width = int(n_targets) if n_targets else int(targets.max(initial=0)) + 1
        out = np.zeros((n_rows, width))
        for target in range(width):
            out[:, target] = np.where(targets == target, weights, 0.0).sum(axis=1)
        if aggregate_function == _AVERAGE and n_trees:
            out /= n_trees
        return (out.astype(X.dtype),)


def _compare(x: np.ndarray, split: np.ndarray, mode: int) -> np.ndarray:
    # BRANCH_LEQ, LT, GTE, GT, EQ, NEQ: NaN compares as numpy (and the reference) compare it
    with np.errstate(invalid="ignore"):
        if mode == 0:
            return x <= split
        if mode == 1:
            return x < split
        if mode == 2:
            return x >= split
        if mode == 3:
            return x > split
        if mode == 4:
            return x == split
        return x != split  # True for NaN, as in the reference


def _compare_each(x: np.ndarray, split: np.ndarray, modes: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape, dtype=bool)
    for mode in np.unique(modes):
        sel = modes == mode
        out[sel] = _compare(x[sel], split[sel], int(mode))
    return out


class OnnxRows:
    """A model's output (float64, one value per row) for float32 feature rows, without onnxruntime."""

    def __init__(self, onnx_bytes: bytes) -> None:
        self._evaluator = ReferenceEvaluator(onnx_bytes, new_ops=[_named_tree_ensemble()])
        self._input = str(next(iter(self._evaluator.input_names)))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out: list[Any] = list(self._evaluator.run(None, {self._input: np.asarray(X, dtype=np.float32)}))
        return np.asarray(out[0], dtype=np.float64).reshape(-1)


def _named_tree_ensemble() -> type[OpRun]:
    # ReferenceEvaluator picks a replacement operator by its class name.
    return type("TreeEnsemble", (FastTreeEnsemble,), {})
