"""The seasonal naive served through the model's own ONNX graph (lead_ai.forecasting.training.naive) and
the backtest's choice among the model, the naive and their blends (training.backtest)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import onnx
import pytest

from lead_ai.forecasting.feature_spec import default_spec
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.scoring import seasonal_naive_forecast
from lead_ai.forecasting.seasonal_naive import NAIVE_FEATURE, blend_rows, naive_rows
from lead_ai.forecasting.training.export import check_parity, export_onnx, run_onnx_rows
from lead_ai.forecasting.training.fit import final_model
from lead_ai.forecasting.training.naive import with_naive_blend
from lead_ai.forecasting.training.rows import training_rows
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from lead_ai_dev.synthetic import _HOURLY_SHAPE

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
FAST = TrainingSettings(max_horizon=24, min_points=200, max_rows=6000, max_iter=40)


def daily_random_walk(days: int, seed: int) -> np.ndarray:
    """Lead counts whose daily level jumps by ~35 % a day (a random walk), in a fixed daily shape: repeating
    yesterday is hard to beat, and a model that reads four weeks does not."""
    level = 20 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.35, days)))
    return np.asarray((np.repeat(level, 24) * np.tile(_HOURLY_SHAPE, days)).round(3))


@pytest.mark.parametrize(("interval", "horizon"), [(3600, 168), (1800, 100), (900, 200), (86400, 30)])
def test_same_slot_day_1_is_the_seasonal_naive_forecast_on_fully_observed_data(
    interval: int, horizon: int
) -> None:
    # Given a fully observed history at this interval, without a holiday calendar
    spec = default_spec(interval, horizon)
    values = np.random.default_rng(interval).gamma(2.0, 5.0, spec.window + 37)
    window = prepare_window(values, spec)
    # When serving builds the rows of every step, and undoes the level of the same_slot_day_1 column
    steps = np.arange(1, horizon + 1)
    X, level = build_rows(window[None], np.array([START]), np.zeros(horizon, np.intp), steps, spec)
    served = X[:, spec.feature_names.index(NAIVE_FEATURE)].astype(np.float64) * level
    # Then it is the seasonal-naive forecast (period one day) of the history, to float32 precision
    expected = seasonal_naive_forecast(values, horizon, spec.season_day)
    np.testing.assert_allclose(served, expected, rtol=1e-6)
    # and naive_rows (what the backtest scores) reads exactly that
    np.testing.assert_array_equal(
        naive_rows(X, spec, np.zeros(horizon)), X[:, spec.feature_names.index(NAIVE_FEATURE)]
    )


def test_a_missing_same_slot_value_falls_back_to_the_days_median_then_to_the_model() -> None:
    # Given rows whose same_slot_day_1 is missing, and one whose every same-slot value is missing too
    spec = default_spec(3600, 24)
    values = np.random.default_rng(1).gamma(2.0, 5.0, spec.window)
    values[-24:] = np.nan  # the last day is missing: same_slot_day_1 is NaN for every step
    X, _ = build_rows(
        prepare_window(values, spec)[None], np.array([START]), np.zeros(24, np.intp), np.arange(1, 25), spec
    )
    first, median = (spec.feature_names.index(n) for n in (NAIVE_FEATURE, "same_slot_day_median"))
    assert np.isnan(X[:, first]).all() and np.isfinite(X[:, median]).all()
    X[0, spec.feature_names.index("same_slot_day_median")] = np.nan
    model = np.full(24, 7.0)
    # When the naive is read / Then it is the median of the same slot over the last days, else the model
    naive = naive_rows(X, spec, model)
    assert naive[0] == 7.0
    np.testing.assert_array_equal(naive[1:], X[1:, median])


@pytest.fixture(scope="module")
def blend_parts() -> tuple[object, np.ndarray]:
    series = [SeriesData("walk", daily_random_walk(30, seed=0), START)]
    spec = default_spec(3600, 24)
    rows = training_rows(series, [series[0].values.size - 1], spec, 3000, 0)
    return final_model(rows, FAST, {"squared_error": 0.5, "absolute_error": 0.5}), rows.X


@pytest.mark.parametrize("weight_naive", [0.25, 1.0])
def test_the_blended_graph_reproduces_the_backtests_blend_on_onnxruntime_and_the_reference(
    blend_parts: tuple[object, np.ndarray], weight_naive: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, X = blend_parts
    spec = default_spec(3600, 24)
    from lead_ai.forecasting.calibration import Calibration

    # Given the model exported with a share of the seasonal naive, and rows with missing same-slot values
    onnx_bytes = export_onnx(
        model, spec, Calibration(np.array([0.1, 0.5, 0.9]), np.zeros((24, 3))), FAST, weight_naive
    )
    rows = X[:200].copy()
    rows[::3, spec.feature_names.index(NAIVE_FEATURE)] = np.nan
    rows[::9, spec.feature_names.index("same_slot_day_median")] = np.nan
    # When onnxruntime runs the graph
    got, engine = run_onnx_rows(onnx_bytes, rows)
    assert engine == "onnxruntime"
    # Then it is (1 - w) * model + w * naive, the naive read from the rows as the backtest reads it
    from lead_ai.forecasting.training.fit import predict_sklearn

    expected = blend_rows(predict_sklearn(model, rows, 1), rows, spec, weight_naive)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # and the parity check covers the new graph, also on the reference evaluator (the training Lambda's)
    assert check_parity(model, onnx_bytes, rows, 1e-4, naive=(spec, weight_naive)) < 1e-3
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    assert run_onnx_rows(onnx_bytes, rows)[1] == "onnx.reference"
    assert check_parity(model, onnx_bytes, rows, 1e-4, naive=(spec, weight_naive)) < 1e-3
    # and the graph is the model's plus a few elementwise nodes; without a naive share it is unchanged
    ops = [n.op_type for n in onnx.load_from_string(onnx_bytes).graph.node]
    assert ops.count("TreeEnsemble") == 2 and {"Slice", "IsNaN", "Where"} <= set(ops)


def test_a_graph_without_a_naive_share_is_left_as_it_was(blend_parts: tuple[object, np.ndarray]) -> None:
    model, _ = blend_parts
    spec = default_spec(3600, 24)
    from lead_ai.forecasting.calibration import Calibration

    calibration = Calibration(np.array([0.1, 0.5, 0.9]), np.zeros((24, 3)))
    assert export_onnx(model, spec, calibration, FAST, 0.0) == export_onnx(model, spec, calibration, FAST)
    proto = onnx.load_from_string(export_onnx(model, spec, calibration, FAST))
    with pytest.raises(ValueError, match="weight_naive"):
        with_naive_blend(proto, spec, 1.5)


def test_when_the_model_loses_to_seasonal_naive_the_naive_is_served_with_the_reason() -> None:
    # Given a history whose daily level jumps at random: repeating yesterday beats any four-week model
    values = daily_random_walk(20, seed=0)
    # When trained
    result = train_forecaster([SeriesData("walk", values, START)], FAST)
    m = result.metrics
    # Then the backtest gave the seasonal naive all the weight, and says why
    assert m["weight_naive"] == 1.0
    assert m["backtest_mase_model"] > m["baseline_mase"]
    assert m["mase"] == m["baseline_mase"]
    assert result.note is not None and result.note.startswith("seasonal naive served")
    # And the artifact, served by onnxruntime, forecasts yesterday's values for the next day
    out = OnnxForecaster.from_bytes(result.onnx_bytes).predict(values, START + (values.size - 1) * 3600, 24)
    np.testing.assert_allclose(out.value, seasonal_naive_forecast(values, 24, 24), rtol=1e-5)


@pytest.mark.parametrize("seed", [3, 4])
def test_what_is_served_is_never_worse_on_the_backtest_than_the_seasonal_naive(seed: int) -> None:
    # Given ordinary lead counts (the model usually wins) and a random-walk level (the naive does)
    from tests.conftest import lead_history

    _, counts = lead_history(20, seed=seed)
    for values in (counts.astype(float), daily_random_walk(20, seed)):
        # When trained
        m = train_forecaster([SeriesData("s", values, START)], FAST).metrics
        # Then the chosen blend's backtest MASE is at most the baseline's, by construction
        assert m["mase"] <= m["baseline_mase"]
        assert 0.0 <= m["weight_naive"] <= 1.0


def test_a_partial_naive_share_can_be_chosen_and_is_served_through_the_same_graph() -> None:
    # Given the fault suite's history ending the day after Thanksgiving, and partial shares allowed
    # (the default tries 0 and 1 only: partial ones lost on the validation split, see settings.py)
    from dataclasses import replace

    from tests.conftest import lead_history

    _, counts = lead_history(20, seed=3, end=datetime(2026, 11, 27, 12, tzinfo=UTC))
    settings = replace(FAST, naive_weights=(0.0, 0.25, 0.5, 0.75, 1.0))
    # When trained
    result = train_forecaster([SeriesData("s", counts.astype(float), START)], settings)
    m = result.metrics
    # Then a blend of the model and the naive beat both on the backtest, and its graph passed parity
    assert 0.0 < m["weight_naive"] < 1.0
    assert m["mase"] < min(m["backtest_mase_model"], m["baseline_mase"])
    assert m["parity_max_abs_error"] < 1e-3 and result.note is None
    ops = {n.op_type for n in onnx.load_from_string(result.onnx_bytes).graph.node}
    assert {"Slice", "IsNaN", "Where"} <= ops
