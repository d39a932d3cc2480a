"""Serving side (lead_ai.forecasting.inference): OnnxForecaster on a real exported model and onnxruntime session."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
import onnx
import pytest

from lead_ai.forecasting.artifact_format import FORMAT_KEY
from lead_ai.forecasting.inference import ForecastArrays, OnnxForecaster
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
H = 48


def hourly_counts(n: int, seed: int, scale: float = 30.0) -> np.ndarray:
    t = np.arange(n)
    hour = t % 24
    profile = np.where((hour >= 7) & (hour < 21), np.sin(np.pi * (hour - 7) / 14) + 0.1, 0.0)
    return np.random.default_rng(seed).poisson(scale * profile).astype(np.float64)


@pytest.fixture(scope="module")
def history() -> np.ndarray:
    return hourly_counts(24 * 7 * 6, seed=11)


@pytest.fixture(scope="module")
def model_bytes(history: np.ndarray) -> bytes:
    settings = TrainingSettings(max_horizon=H, min_points=500, backtest_origins=3, max_rows=5000, max_iter=30)
    return train_forecaster([SeriesData("s", history, START)], settings).onnx_bytes


@pytest.fixture(scope="module")
def forecaster(model_bytes: bytes) -> OnnxForecaster:
    return OnnxForecaster.from_bytes(model_bytes)


def _last_ts(values: np.ndarray) -> int:
    return START + (values.size - 1) * 3600


def _check_shape(out: ForecastArrays, horizon: int) -> None:
    for arr in (out.value, out.lower, out.upper):
        assert arr.dtype == np.float64 and arr.shape == (horizon,)
        assert np.isfinite(arr).all()
    assert (out.lower >= 0).all()
    assert (out.lower <= out.value).all() and (out.value <= out.upper).all()


def test_from_bytes_reads_spec_and_calibration_and_uses_one_thread(forecaster: OnnxForecaster) -> None:
    # Given the bytes of a trained model / Then the spec comes from the model itself
    assert forecaster.spec.max_horizon == H
    assert forecaster.calibration.quantiles.shape[0] >= H
    options = forecaster._session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


@pytest.mark.parametrize("horizon", [1, 7, H])
def test_predict_returns_ordered_non_negative_float64_arrays(
    forecaster: OnnxForecaster, history: np.ndarray, horizon: int
) -> None:
    out = forecaster.predict(history, _last_ts(history), horizon)
    _check_shape(out, horizon)


def test_predict_makes_exactly_one_session_run(forecaster: OnnxForecaster, history: np.ndarray) -> None:
    # Given a session that counts its run calls
    calls: list[int] = []
    real = forecaster._session

    class Counting:
        def run(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return real.run(*args, **kwargs)

    forecaster._session = Counting()
    try:
        forecaster.predict(history, _last_ts(history), H)
    finally:
        forecaster._session = real
    # Then the whole horizon went through one batched call
    assert calls == [1]


def test_young_series_and_missing_slots_still_forecast(
    forecaster: OnnxForecaster, history: np.ndarray
) -> None:
    # Given only 30 observations, some missing
    young = history[-30:].copy()
    young[[3, 10, 11]] = np.nan
    # Then a forecast is still produced
    _check_shape(forecaster.predict(young, _last_ts(history), 24), 24)


def test_all_zero_history_forecasts_zero_without_warnings(forecaster: OnnxForecaster) -> None:
    zeros = np.zeros(forecaster.spec.window)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = forecaster.predict(zeros, START, H)
    _check_shape(out, H)
    assert out.value.max() < 1.0


def test_a_wider_level_gives_a_wider_interval(forecaster: OnnxForecaster, history: np.ndarray) -> None:
    narrow = forecaster.predict(history, _last_ts(history), H, level=0.5)
    wide = forecaster.predict(history, _last_ts(history), H, level=0.95)
    np.testing.assert_array_equal(narrow.value, wide.value)
    assert (wide.lower <= narrow.lower).all() and (wide.upper >= narrow.upper).all()
    assert (wide.upper - wide.lower).sum() > (narrow.upper - narrow.lower).sum()


@pytest.mark.parametrize(("horizon", "level"), [(0, 0.8), (H + 1, 0.8), (True, 0.8), (5, 0.0), (5, 1.0)])
def test_predict_rejects_bad_arguments(
    forecaster: OnnxForecaster, history: np.ndarray, horizon: Any, level: float
) -> None:
    with pytest.raises(ValueError):
        forecaster.predict(history, _last_ts(history), horizon, level=level)


def test_predict_rejects_a_history_with_no_observation(forecaster: OnnxForecaster) -> None:
    with pytest.raises(ValueError, match="no observation"):
        forecaster.predict(np.full(50, np.nan), START, 5)


def test_predict_many_matches_predict(forecaster: OnnxForecaster, history: np.ndarray) -> None:
    other = hourly_counts(500, seed=3, scale=300.0)
    many = forecaster.predict_many([history, other], [_last_ts(history), _last_ts(other)], H)
    for values, got in zip((history, other), many, strict=True):
        one = forecaster.predict(values, _last_ts(values), H)
        np.testing.assert_allclose(got.value, one.value, rtol=1e-6)
        np.testing.assert_allclose(got.upper, one.upper, rtol=1e-6)


def test_from_bytes_rejects_garbage_and_foreign_models(model_bytes: bytes) -> None:
    # Given bytes that are not ONNX
    with pytest.raises(ValueError, match="ONNX"):
        OnnxForecaster.from_bytes(b"not a model")
    with pytest.raises(ValueError):
        OnnxForecaster.from_bytes(b"")
    # Given a valid ONNX model without our metadata
    model = onnx.load_from_string(model_bytes)
    del model.metadata_props[:]
    with pytest.raises(ValueError, match="not a lead_ai forecaster"):
        OnnxForecaster.from_bytes(model.SerializeToString())
    # Given our marker but a broken calibration entry
    model = onnx.load_from_string(model_bytes)
    for prop in model.metadata_props:
        if prop.key == "lead_ai.calibration":
            prop.value = "{broken"
    assert any(p.key == FORMAT_KEY for p in model.metadata_props)
    with pytest.raises(ValueError, match="metadata"):
        OnnxForecaster.from_bytes(model.SerializeToString())


def test_rows_built_once_for_every_step_serve_each_shorter_horizon(
    forecaster: OnnxForecaster, history: np.ndarray
) -> None:
    # Given the rows of one origin built for every step the model answers (what the serving cache keeps)
    last = _last_ts(history)
    rows = forecaster.origin_rows(history, last)
    assert rows.X.shape[0] == H
    for horizon in (1, 7, H):
        # When a forecast is answered from them
        cached = forecaster.predict_rows(rows, horizon, level=0.9)
        # Then it equals a forecast built from the history for that horizon alone
        direct = forecaster.predict(history, last, horizon, level=0.9)
        np.testing.assert_array_equal(cached.value, direct.value)
        np.testing.assert_array_equal(cached.lower, direct.lower)
        np.testing.assert_array_equal(cached.upper, direct.upper)
    # And rows built for fewer steps refuse a longer horizon
    with pytest.raises(ValueError, match="steps"):
        forecaster.predict_rows(forecaster.origin_rows(history, last, 3), 4)
