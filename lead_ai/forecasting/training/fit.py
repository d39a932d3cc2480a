"""Fitting: one HistGradientBoostingRegressor per loss, side by side on threads, blended for export."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lead_ai.forecasting.training.rows import Rows
from lead_ai.forecasting.training.settings import TrainingSettings


def _fit(rows: Rows, settings: TrainingSettings, loss: str) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingRegressor(
        loss=loss,
        learning_rate=settings.learning_rate,
        max_iter=settings.max_iter,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        l2_regularization=settings.l2_regularization,
        early_stopping=settings.early_stopping,
        validation_fraction=settings.validation_fraction,
        n_iter_no_change=settings.n_iter_no_change,
        random_state=settings.seed,
    )
    X = rows.X
    empty = np.isnan(X).all(axis=0)
    if empty.any():
        # scikit-learn cannot bin a feature with no value at all (e.g. the 4th weekly lag when every series
        # is younger than four weeks); a constant column trains identically and never gets a split.
        X = X.copy()
        X[:, empty] = 0.0
    with threadpool_limits(limits=settings.n_threads):
        model.fit(X, rows.y)
    return model


def fit_each(rows: Rows, settings: TrainingSettings, losses: Sequence[str]) -> dict[str, Any]:
    """One model per loss on the same rows, `settings.parallel_fits` at a time (same models either way)."""
    workers = min(settings.parallel_fits, len(losses))
    if workers <= 1:
        return {loss: _fit(rows, settings, loss) for loss in losses}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lead-ai-fit") as pool:
        return dict(zip(losses, pool.map(lambda loss: _fit(rows, settings, loss), losses), strict=True))


def final_model(rows: Rows, settings: TrainingSettings, weights: dict[str, float]) -> Any:
    """One model per loss in the blend, fitted on `rows` and blended (blend_of)."""
    return blend_of(fit_each(rows, settings, list(weights)), weights)


def blend_of(fitted: dict[str, Any], weights: dict[str, float]) -> Any:
    """The fitted models of the blend's losses; two are combined in a VotingRegressor (exported as one
    graph: both tree ensembles, weighted sum)."""
    models = [(loss, fitted[loss]) for loss in weights]
    if len(models) == 1:
        return models[0][1]
    from sklearn.ensemble import VotingRegressor
    from sklearn.utils import Bunch

    w = np.array([weights[loss] for loss, _ in models])
    blend = VotingRegressor(models, weights=w)  # skl2onnx needs the weights as an array
    blend.estimators_ = [m for _, m in models]  # prefit: no refit of the members
    blend.named_estimators_ = Bunch(**dict(models))
    return blend


def predict_sklearn(model: Any, X: np.ndarray, n_threads: int) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        return np.asarray(model.predict(X), dtype=np.float64)
