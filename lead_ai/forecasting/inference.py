"""Serving side: run an exported forecaster with onnxruntime (numpy + onnxruntime + the forecasting core).

The ONNX artifact is self-contained (lead_ai.forecasting.artifact_format): the graph maps feature rows to
the scaled forecast y / level, and its metadata carries the FeatureSpec and the interval calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from lead_ai.forecasting.artifact_format import parse_metadata
from lead_ai.forecasting.calibration import Calibration, interval_bounds, quantile_values
from lead_ai.forecasting.feature_spec import STEP_COLUMN, FeatureSpec, slots_of_week
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.local_fit import SERVING, LocalFit, LocalFitSettings, fit_locally
from lead_ai.forecasting.seasonal_naive import blend_rows

__all__ = ["ForecastArrays", "OnnxForecaster", "OriginRows", "session_options"]


class OriginRows(NamedTuple):
    """Feature rows (float32, one per step) from one origin, and the scale that undoes the target's."""

    X: np.ndarray
    scale: float


class ForecastArrays(NamedTuple):
    """Point forecast and interval, float64, one entry per step; 0 <= lower <= value <= upper."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def session_options() -> ort.SessionOptions:
    """Lambda-friendly options: one thread, sequential execution (see FINDINGS: OpenMP busy-waiting)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return options


class OnnxForecaster:
    """A trained forecaster loaded from its ONNX bytes."""

    spec: FeatureSpec
    calibration: Calibration
    # Set on a pooled model fitted to the one series it serves (fitted_to); None on the model as exported
    local_fit: LocalFit | None = None

    def __init__(self, session: ort.InferenceSession, spec: FeatureSpec, calibration: Calibration) -> None:
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"expected a model with one input, got {len(inputs)}")
        width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
        if width != spec.n_features:
            raise ValueError(f"model input width {width} does not match the FeatureSpec ({spec.n_features})")
        if calibration.quantiles.shape[0] < spec.max_horizon:
            raise ValueError("calibration table is shorter than the model's max_horizon")
        factors = calibration.slot_factors
        if factors is not None and factors.size not in (spec.season_day, 7 * spec.season_day):
            raise ValueError(
                f"calibration has {factors.size} slot factors: one per slot of the day ({spec.season_day}) "
                f"or of the week ({7 * spec.season_day}) expected"
            )
        self._session = session
        self._input_name = inputs[0].name
        self._output_names = [session.get_outputs()[0].name]
        self.spec = spec
        self.calibration = calibration
        self._steps = np.arange(1, spec.max_horizon + 1, dtype=np.int64)
        self._zeros = np.zeros(spec.max_horizon, dtype=np.intp)
        self._base = self

    @classmethod
    def from_bytes(cls, model: bytes) -> OnnxForecaster:
        """Load a model exported by lead_ai.forecasting.training; ValueError when the bytes are not such a model."""
        if not isinstance(model, bytes | bytearray | memoryview) or len(model) == 0:
            raise ValueError("model must be non-empty bytes")
        try:
            session = ort.InferenceSession(
                bytes(model), sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt bytes
            raise ValueError(f"not a loadable ONNX model: {exc}") from exc
        meta = session.get_modelmeta().custom_metadata_map
        return cls(session, *parse_metadata(meta))

    @property
    def max_horizon(self) -> int:
        return self.spec.max_horizon

    @property
    def base(self) -> OnnxForecaster:
        """The model as exported (itself, unless this is a copy fitted to one series)."""
        return self._base

    def fitted_to(
        self, values: np.ndarray, last_timestamp: int, settings: LocalFitSettings = SERVING
    ) -> OnnxForecaster:
        """This (pooled) model as served to the series of `values`: blended with the seasonal naive and
        with its intervals scaled as its backtest on that series' own last days chose
        (forecasting.local_fit). Shares the session; the base model is left as it is."""
        base = self._base
        fit = fit_locally(base, values, last_timestamp, settings=settings)
        fitted = object.__new__(type(self))
        fitted.__dict__.update(base.__dict__)
        fitted.calibration = fit.calibration(base.calibration, base.spec.season_day)
        fitted.local_fit = fit
        return fitted

    def _served(self, raw: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The scaled forecast served for rows X from the graph's output `raw`."""
        out = np.asarray(raw, dtype=np.float64).reshape(-1)
        if self.local_fit is None:
            return out
        weight = self.local_fit.weights(X[:, STEP_COLUMN], self.spec.season_day)
        return blend_rows(out, X, self.spec, weight)

    def predict(
        self, values: np.ndarray, last_timestamp: int, horizon: int, level: float = 0.8
    ) -> ForecastArrays:
        """Forecast steps 1..horizon after `last_timestamp` from the most recent `values` (oldest first,
        NaN for missing slots; a shorter history than spec.window is allowed)."""
        self._check_horizon(horizon)
        return self.predict_rows(self.origin_rows(values, last_timestamp, horizon), horizon, level)

    def origin_rows(self, values: np.ndarray, last_timestamp: int, horizon: int | None = None) -> OriginRows:
        """The feature rows of steps 1..horizon (default: every step the model answers) from one origin.

        A row depends on its step and the window only, so rows built once for the longest horizon serve
        every shorter one: the serving cache keeps them for as long as it keeps the window.
        """
        spec = self.spec
        steps = spec.max_horizon if horizon is None else horizon
        window = prepare_window(values, spec)
        if np.isnan(window).all():
            raise ValueError("values contain no observation (all missing)")
        X, scale = build_rows(
            window[None, :],
            np.array([int(last_timestamp)], dtype=np.int64),
            self._zeros[:steps],
            self._steps[:steps],
            spec,
        )
        return OriginRows(X=X, scale=float(scale[0]))

    def predict_rows(self, rows: OriginRows, horizon: int, level: float = 0.8) -> ForecastArrays:
        """Forecast steps 1..horizon from rows built by `origin_rows`: one `session.run`."""
        point, width = self._point_and_width(rows, horizon)
        lo_off, hi_off = self.calibration.offsets(int(horizon), float(level))
        return _finish(point, lo_off * width, hi_off * width)

    def predict_quantile(
        self, rows: OriginRows, horizon: int, quantile: float, level: float = 0.8
    ) -> tuple[ForecastArrays, np.ndarray]:
        """The forecast of steps 1..horizon and its calibrated quantile `quantile` (0.5: the point
        forecast), from one `session.run`."""
        point, width = self._point_and_width(rows, horizon)
        lo_off, hi_off = self.calibration.offsets(int(horizon), float(level))
        offsets = self.calibration.quantile_offsets(int(horizon), float(quantile)) * width
        return _finish(point, lo_off * width, hi_off * width), quantile_values(point, offsets, quantile)

    def _point_and_width(self, rows: OriginRows, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """The served forecast of steps 1..horizon in the data's units, and what each step's calibrated
        offsets are multiplied by (the level times its slot's factor)."""
        self._check_horizon(horizon)
        if horizon > rows.X.shape[0]:
            raise ValueError(f"these rows answer {rows.X.shape[0]} steps, not {horizon}")
        return self._served_rows(rows.X[:horizon], rows.scale)

    def _served_rows(self, X: np.ndarray, scale: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """For feature rows X, one `session.run`: each row's served forecast in the data's units, and
        what its calibrated offsets are multiplied by (its window's level times its slot's factor)."""
        raw = self._session.run(self._output_names, {self._input_name: X})[0]
        spread = self.calibration.spread(slots_of_week(X, self.spec.season_day))
        return self._served(raw, X) * scale, spread * scale

    def _check_horizon(self, horizon: int) -> None:
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, int | np.integer)
            or not 1 <= horizon <= self.spec.max_horizon
        ):
            raise ValueError(f"horizon must be an integer within 1..{self.spec.max_horizon}, got {horizon!r}")

    def predict_many(
        self,
        windows: Sequence[np.ndarray],
        last_timestamps: Sequence[int],
        horizon: int,
        level: float = 0.8,
    ) -> list[ForecastArrays]:
        """Forecast several series in one session.run (batch use: benchmarks, the batch CLI)."""
        spec = self.spec
        if not 1 <= int(horizon) <= spec.max_horizon:
            raise ValueError(f"horizon must be within 1..{spec.max_horizon}, got {horizon}")
        if len(windows) != len(last_timestamps):
            raise ValueError("windows and last_timestamps differ in length")
        if not windows:
            return []
        lo_off, hi_off = self.calibration.offsets(int(horizon), float(level))
        W = np.stack([prepare_window(v, spec) for v in windows])
        if np.isnan(W).all(axis=1).any():
            raise ValueError("a series has no observation (all missing)")
        n = W.shape[0]
        idx = np.repeat(np.arange(n), horizon)
        steps = np.tile(np.arange(1, horizon + 1), n)
        X, scale = build_rows(W, np.asarray(last_timestamps, dtype=np.int64), idx, steps, spec)
        point, width = (a.reshape(n, horizon) for a in self._served_rows(X, scale))
        return [_finish(point[i], lo_off * width[i], hi_off * width[i]) for i in range(n)]

    def run_rows(self, X: np.ndarray) -> np.ndarray:
        """The graph's output (scaled forecast, before any local fit) for feature rows X."""
        out = self._session.run(self._output_names, {self._input_name: np.asarray(X, dtype=np.float32)})[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)


def _finish(point: np.ndarray, lo_off: np.ndarray, hi_off: np.ndarray) -> ForecastArrays:
    return ForecastArrays(*interval_bounds(point, lo_off, hi_off))
