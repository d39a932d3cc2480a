"""Training side (lead_ai.forecasting.training.train): real scikit-learn fits, real ONNX export, parity, backtest."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import onnx
import pytest

from lead_ai import errors
from lead_ai.forecasting.artifact_format import FEATURE_SPEC_KEY
from lead_ai.forecasting.feature_spec import FeatureSpec, default_spec
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.export import check_parity, run_onnx_rows
from lead_ai.forecasting.training.onnx_trees import TREE_ENSEMBLE_OPSET
from lead_ai.forecasting.training.rows import rows_for_pairs, sample_pairs
from lead_ai.forecasting.training.train import (
    ExportParityError,
    InsufficientHistoryError,
    SeriesData,
    TrainingResult,
    TrainingSettings,
    train_forecaster,
)

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
FAST = TrainingSettings(max_horizon=48, min_points=600, backtest_origins=3, max_rows=6000, max_iter=40)


def hourly_counts(n: int, seed: int, scale: float = 20.0) -> np.ndarray:
    """Poisson counts with a daily profile that is zero at night and busier on weekdays."""
    t = np.arange(n)
    hour = t % 24
    day = (t // 24) % 7
    profile = np.where((hour >= 8) & (hour < 20), np.sin(np.pi * (hour - 8) / 12) + 0.2, 0.0)
    lam = scale * profile * np.where(day < 5, 1.0, 0.5)
    return np.random.default_rng(seed).poisson(lam).astype(np.float64)


@pytest.fixture(scope="module")
def two_series() -> list[SeriesData]:
    a = hourly_counts(24 * 7 * 6, seed=1)
    a[200:230] = np.nan  # a gap in the history
    b = hourly_counts(24 * 7 * 5, seed=2, scale=400.0)
    return [SeriesData("a", a, START), SeriesData("b", b, START + 24 * 7 * 3600)]


@pytest.fixture(scope="module")
def trained(two_series: list[SeriesData]) -> TrainingResult:
    return train_forecaster(two_series, FAST)


def test_training_returns_a_self_contained_onnx_model_and_backtest_metrics(
    trained: TrainingResult, two_series: list[SeriesData]
) -> None:
    # Given two series of different scale trained into one global model
    # Then the metrics of the model and of the seasonal naive on the same origins are all present
    for key in ("mase", "smape", "wape", "coverage", "baseline_mase", "baseline_smape", "baseline_wape"):
        assert np.isfinite(trained.metrics[key]), key
    assert 0.0 <= trained.metrics["coverage"] <= 1.0
    assert trained.metrics["parity_max_abs_error"] < 1e-3
    # and the bookkeeping describes the data used
    assert trained.n_points == sum(int(np.count_nonzero(~np.isnan(s.values))) for s in two_series)
    assert trained.training_start == START
    assert trained.training_end == max(s.last_timestamp for s in two_series)
    assert set(trained.library_versions) >= {"sklearn", "skl2onnx", "onnx", "onnx_opset", "numpy"}
    # and the ONNX bytes carry the feature spec (no pickle, no side files)
    model = onnx.load_from_string(trained.onnx_bytes)
    meta = {p.key: p.value for p in model.metadata_props}
    assert FeatureSpec.from_dict(json.loads(meta[FEATURE_SPEC_KEY])).to_dict() == trained.feature_spec
    opsets = {o.domain: o.version for o in model.opset_import}
    assert opsets[""] <= FAST.target_opset
    assert trained.library_versions["onnx_opset"] == str(opsets[""])
    # and its trees are TreeEnsemble (ai.onnx.ml 5), not skl2onnx's legacy TreeEnsembleRegressor
    ops = {n.op_type for n in model.graph.node}
    assert "TreeEnsemble" in ops and "TreeEnsembleRegressor" not in ops
    assert opsets["ai.onnx.ml"] == TREE_ENSEMBLE_OPSET
    assert trained.library_versions["onnx_ml_opset"] == str(TREE_ENSEMBLE_OPSET)


def test_auto_loss_keeps_the_blend_with_the_lowest_backtest_mase(trained: TrainingResult) -> None:
    # Given the default loss="auto" / Then both losses were backtested and the kept blend is no worse
    sq = trained.metrics["backtest_mase_squared_error"]
    ab = trained.metrics["backtest_mase_absolute_error"]
    assert trained.metrics["mase"] <= min(sq, ab)
    assert trained.metrics["weight_squared_error"] in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_a_blend_of_both_losses_exports_as_one_graph_with_parity(two_series: list[SeriesData]) -> None:
    # Given the blend forced by fixed weights (what auto picks when a blend backtests best)
    from lead_ai.forecasting.calibration import Calibration
    from lead_ai.forecasting.training.export import export_onnx
    from lead_ai.forecasting.training.fit import final_model
    from lead_ai.forecasting.training.rows import training_rows

    spec = default_spec(3600, 48)
    rows = training_rows(two_series, [s.values.size - 1 for s in two_series], spec, 3000, 0)
    model = final_model(rows, FAST, {"squared_error": 0.25, "absolute_error": 0.75})
    levels = np.array([0.1, 0.5, 0.9])
    onnx_bytes = export_onnx(model, spec, Calibration(levels, np.zeros((48, 3))), FAST)
    # Then the ONNX graph holds both ensembles and reproduces the weighted sklearn prediction
    ops = [n.op_type for n in onnx.load_from_string(onnx_bytes).graph.node]
    assert ops.count("TreeEnsemble") == 2 and "TreeEnsembleRegressor" not in ops
    assert check_parity(model, onnx_bytes, rows.X[:50], rtol=1e-4) < 1e-3
    members = [est.predict(rows.X[:50]) for est in model.estimators_]
    np.testing.assert_allclose(model.predict(rows.X[:50]), 0.25 * members[0] + 0.75 * members[1], rtol=1e-9)


def test_model_beats_the_seasonal_naive_on_noisy_seasonal_counts(trained: TrainingResult) -> None:
    # Given Poisson counts around a stable weekly profile, where repeating yesterday doubles the noise
    # Then the backtest MASE of the model is below the seasonal naive's on the same origins
    assert trained.metrics["mase"] < trained.metrics["baseline_mase"]
    assert trained.metrics["wape"] < trained.metrics["baseline_wape"]


def test_exported_model_loads_in_onnxruntime_and_forecasts_non_negative_counts(
    trained: TrainingResult, two_series: list[SeriesData]
) -> None:
    forecaster = OnnxForecaster.from_bytes(trained.onnx_bytes)
    s = two_series[0]
    out = forecaster.predict(s.values[-forecaster.spec.window :], s.last_timestamp, 48)
    assert (out.value >= 0).all()
    # Night hours (zero in every week of history) forecast close to zero
    hours = ((s.last_timestamp + 3600 * np.arange(1, 49)) // 3600) % 24
    assert out.value[(hours < 6)].max() < 1.0


@pytest.mark.parametrize("holidays", ["none", "US"])
def test_training_rows_equal_the_rows_serving_builds_from_the_same_history(holidays: str) -> None:
    # Given sampled (origin, step) pairs of a series with gaps over 2024-01-01 .. 2024-03-24 (New Year's
    # Day is in the level window of the first four weeks' origins), with and without the holiday calendar
    values = hourly_counts(2000, seed=5)
    values[::17] = np.nan
    spec = FeatureSpec.from_dict({**default_spec(3600, 48).to_dict(), "holidays": holidays})
    t, h = sample_pairs(values, spec, values.size - 1, 40, np.random.default_rng(0))
    X, target, level = rows_for_pairs(values, START, spec, t, h)
    # When serving builds each row from values[: t + 1] (what prediction would read)
    for i in range(t.size):
        w = prepare_window(values[: t[i] + 1], spec)
        Xs, ls = build_rows(
            w[None, :], np.array([START + t[i] * 3600]), np.zeros(1, np.intp), h[i : i + 1], spec
        )
        # Then the features are identical (no train/serve skew) and the target is y[t + h] / level
        np.testing.assert_array_equal(X[i], Xs[0])
        assert level[i] == ls[0]
        assert target[i] == pytest.approx(values[t[i] + h[i]] / ls[0])
    assert (t + h <= values.size - 1).all() and (h >= 1).all() and (h <= 48).all()
    # And with the calendar the holidays did shape some of these rows (their level leaves them out)
    _, _, plain_level = rows_for_pairs(values, START, default_spec(3600, 48), t, h)
    assert (level != plain_level).any() == (holidays == "US")


def test_too_little_history_raises_insufficient_history_naming_count_and_rule() -> None:
    # Given a series with 100 observed points and the default rule of 1000
    s = SeriesData("short", np.ones(100), START)
    # Then training refuses with a message naming both numbers
    with pytest.raises(InsufficientHistoryError, match=r"100 observed points.*1000") as info:
        train_forecaster([s])
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errors.InsufficientHistoryError)


def test_missing_slots_do_not_count_as_observed_points() -> None:
    values = np.ones(800)
    values[::2] = np.nan
    with pytest.raises(InsufficientHistoryError, match="400 observed"):
        train_forecaster([SeriesData("gappy", values, START)], FAST)


@pytest.mark.parametrize(("days", "expected"), [(450, True), (300, False)])
def test_day_of_year_is_used_only_with_about_a_year_of_history(days: int, expected: bool) -> None:
    # Given a daily series of `days` observations (a weekly cycle plus noise)
    rng = np.random.default_rng(days)
    values = 50 + 20 * (np.arange(days) % 7 < 5) + rng.normal(0, 3, days)
    settings = TrainingSettings(max_horizon=7, min_points=100, backtest_origins=3, max_rows=3000, max_iter=20)
    result = train_forecaster([SeriesData("daily", values, START, 86400)], settings)
    # Then the yearly feature is on from 400 days of history, off below, and the model still serves
    assert result.feature_spec["day_of_year"] is expected
    out = OnnxForecaster.from_bytes(result.onnx_bytes).predict(values, START + (days - 1) * 86400, 7)
    assert out.value.shape == (7,) and (out.value > 0).all()


def test_poisson_and_gamma_losses_are_refused() -> None:
    # skl2onnx silently drops their exp link (see FINDINGS): the settings must not allow them
    for loss in ("poisson", "gamma"):
        with pytest.raises(ValueError, match="loss"):
            TrainingSettings(loss=loss)


def test_parity_check_uses_the_reference_evaluator_without_onnxruntime(
    trained: TrainingResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given rows with missing values, and onnxruntime made unimportable (as in the training Lambda)
    spec = FeatureSpec.from_dict(trained.feature_spec)
    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, 0.5, size=(20, spec.n_features)).astype(np.float32)
    X[:, 0] = rng.integers(1, 49, 20)
    X[rng.random(X.shape) < 0.1] = np.nan
    with_ort, engine = run_onnx_rows(trained.onnx_bytes, X)
    assert engine == "onnxruntime"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    without, engine = run_onnx_rows(trained.onnx_bytes, X)
    # Then the pure-Python evaluator runs and agrees with onnxruntime
    assert engine == "onnx.reference"
    np.testing.assert_allclose(without, with_ort, rtol=1e-5, atol=1e-6)


def test_parity_check_raises_when_onnx_differs_from_the_sklearn_model(trained: TrainingResult) -> None:
    # Given a scikit-learn model that is not the one exported
    from sklearn.ensemble import HistGradientBoostingRegressor

    spec = FeatureSpec.from_dict(trained.feature_spec)
    rng = np.random.default_rng(1)
    X = rng.random((200, spec.n_features)).astype(np.float32)
    other = HistGradientBoostingRegressor(max_iter=10).fit(X, 5 + 3 * X[:, 3])
    # Then the parity check refuses the export
    with pytest.raises(ExportParityError, match="differs"):
        check_parity(other, trained.onnx_bytes, X[:20], rtol=1e-4)


def test_same_seed_gives_the_same_model(two_series: list[SeriesData], trained: TrainingResult) -> None:
    again = train_forecaster(two_series, FAST)
    assert again.onnx_bytes == trained.onnx_bytes
    assert again.metrics == trained.metrics


def test_fitting_the_losses_on_parallel_threads_gives_the_same_artifact(
    two_series: list[SeriesData], trained: TrainingResult
) -> None:
    # Given the module's model, whose backtest fitted both losses side by side (the default)
    assert FAST.parallel_fits == 2
    assert {"backtest_mase_squared_error", "backtest_mase_absolute_error"} <= set(trained.metrics)
    # When the same data are trained with one fit at a time
    sequential = train_forecaster(two_series, replace(FAST, parallel_fits=1))
    # Then the exported bytes are the same: threads change when, not what, is fitted
    assert sequential.onnx_bytes == trained.onnx_bytes
    assert sequential.metrics == trained.metrics


def test_a_model_trained_with_the_holiday_calendar_carries_it_and_serves_its_rows_through_onnx() -> None:
    # Given ten weeks of counts from 2014-11-01 whose US holidays are as quiet as a Sunday
    from lead_ai.forecasting.calendar import holiday_kind
    from lead_ai.forecasting.training.calendars import holiday_table

    start = int(datetime(2014, 11, 1, tzinfo=UTC).timestamp())
    values = hourly_counts(24 * 70, seed=9, scale=50.0)
    stamps = start + 3600 * np.arange(values.size)
    values[holiday_kind(stamps, holiday_table("US", start, int(stamps[-1]))) > 0] *= 0.3
    settings = TrainingSettings(
        max_horizon=48, min_points=600, backtest_origins=3, max_rows=6000, max_iter=40, holidays="US"
    )
    # When it is trained with the calendar
    result = train_forecaster([SeriesData("s", values, start)], settings)
    # Then the artifact's spec names the calendar and the model has the target-day feature, with parity
    assert result.feature_spec["holidays"] == "US"
    assert result.metrics["parity_max_abs_error"] < 1e-3
    forecaster = OnnxForecaster.from_bytes(result.onnx_bytes)
    assert forecaster.spec.holidays == "US" and forecaster.spec.feature_names[-1] == "holiday_target"
    # And serving from the eve of Christmas Eve equals the rows build_rows makes from that spec, in onnxruntime
    origin = int(np.flatnonzero(stamps == int(datetime(2014, 12, 23, 23, tzinfo=UTC).timestamp()))[0])
    window = prepare_window(values[: origin + 1], forecaster.spec)
    out = forecaster.predict(window, int(stamps[origin]), 48)
    X, level = build_rows(
        window[None, :], stamps[origin : origin + 1], np.zeros(48, np.intp), np.arange(1, 49), forecaster.spec
    )
    assert X[:, -1].tolist() == [2.0] * 24 + [1.0] * 24  # Christmas Eve (quiet day), Christmas Day
    raw, engine = run_onnx_rows(result.onnx_bytes, X)
    assert engine == "onnxruntime"
    np.testing.assert_allclose(out.value, np.maximum(raw * level, 0.0), rtol=1e-6)


def test_a_split_between_two_adjacent_float32_values_routes_in_onnx_as_in_scikit_learn(
    trained: TrainingResult,
) -> None:
    # Given a feature whose training values include two neighbouring float32 numbers: scikit-learn splits
    # at their float64 midpoint, which rounds (half to even) up to the larger one as a float32
    from sklearn.ensemble import HistGradientBoostingRegressor

    from lead_ai.forecasting.artifact_format import parse_metadata
    from lead_ai.forecasting.training.export import export_onnx

    spec, calibration = parse_metadata(
        {p.key: p.value for p in onnx.load_from_string(trained.onnx_bytes).metadata_props}
    )
    low = np.nextafter(np.float32(1.0), np.float32(2.0))  # odd last bit: the midpoint rounds up
    high = np.nextafter(low, np.float32(2.0))
    rng = np.random.default_rng(3)
    X = rng.random((400, spec.n_features)).astype(np.float32)
    X[:, 3] = np.where(np.arange(400) % 2 == 0, low, high)
    model = HistGradientBoostingRegressor(max_iter=5, min_samples_leaf=5).fit(
        X, np.where(X[:, 3] > low, 2.0, 1.0)
    )
    assert model.predict(X[1:2])[0] > 1.5  # scikit-learn puts `high` on the upper side
    # When exported / Then the graph routes `high` the same way: parity holds on the training rows
    onnx_bytes = export_onnx(model, spec, calibration, FAST)
    assert check_parity(model, onnx_bytes, X, rtol=1e-6) < 1e-6  # float32 leaf sums, not a branch


def test_a_daily_series_with_three_weeks_missing_trains_and_exports_with_parity() -> None:
    # Given 80 days of a daily series with days 50..69 missing (found: its export failed the parity
    # check by 1.55e-4, one split threshold rounded up to a training value as a float32: a 500)
    rng = np.random.default_rng(1)
    values = np.full(80, np.nan)
    for d in range(80):
        if not 50 <= d < 70:
            values[d] = 300 + 100 * (d % 7 < 5) + rng.normal(0, 20)
    # When trained with the service's settings for a daily series / Then it trains
    first = int(datetime(2025, 8, 21, tzinfo=UTC).timestamp())
    settings = TrainingSettings(max_horizon=7, min_points=42)
    result = train_forecaster([SeriesData("daily", values, first, 86400)], settings)
    assert result.metrics["parity_max_abs_error"] < 1e-5
