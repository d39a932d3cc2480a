"""The prediction path must not import training libraries: they cost ~1 s of cold start and 100+ MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

FORBIDDEN = ("sklearn", "scipy", "pandas", "skl2onnx", "onnx", "joblib")
# The local calendar travels in the artifact: serving needs neither the holiday library nor the zone database.
CALENDAR_LIBRARIES = ("holidays", "zoneinfo")

_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("predict_app", "functions/predict/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import lead_ai.service.model_cache, lead_ai.forecasting.inference  # what the first forecast request loads
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


_ENV = {
    **os.environ,
    "LEAD_AI_BUCKET": "b",
    "LEAD_AI_REGISTRY_TABLE": "r",
    "LEAD_AI_OBSERVATIONS_TABLE": "o",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_prediction_handler_imports_no_training_library() -> None:
    # Given a fresh interpreter with the function's environment
    env = _ENV
    # When the prediction handler and its forecast path are imported
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # Then numpy and onnxruntime are there, and nothing from training is
    assert {"numpy", "onnxruntime", "aws_lambda_powertools"} <= loaded
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)
    assert loaded.isdisjoint(CALENDAR_LIBRARIES), loaded & set(CALENDAR_LIBRARIES)


_FORECAST_PROBE = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("predict_app", "functions/predict/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.domain.localtime import iso_local_array
model = OnnxForecaster.from_bytes(open(sys.argv[1], "rb").read())
values = np.load(sys.argv[2])
out = model.predict(values, int(sys.argv[3]), 48)
wall, offsets = model.spec.wall_clock(int(sys.argv[3]) + 3600 * np.arange(1, 49))
print(json.dumps({"times": iso_local_array(wall, offsets), "modules": sorted({n.split('.')[0] for n in sys.modules})}))
"""


@pytest.mark.slow
def test_forecasting_with_a_time_zone_and_a_calendar_loads_no_calendar_library(tmp_path: Path) -> None:
    # Given a model trained for Bavaria (Europe/Berlin, DE-BY), its artifact and its history on disk
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
    from tests.unit.test_forecaster import hourly_counts

    start = 1_790_000_000 - 1_790_000_000 % 3600
    values = hourly_counts(24 * 40, seed=4, scale=30.0)
    settings = TrainingSettings(
        max_horizon=48, min_points=600, backtest_origins=3, max_rows=4000, max_iter=20,
        holidays="DE-BY", timezone="Europe/Berlin",
    )  # fmt: skip
    result = train_forecaster([SeriesData("s", values, start)], settings)
    (tmp_path / "model.onnx").write_bytes(result.onnx_bytes)
    np.save(tmp_path / "values.npy", values)
    last = start + 3600 * (values.size - 1)
    # When a fresh interpreter loads the prediction handler, the model, and forecasts with local times
    result_run = subprocess.run(
        [sys.executable, "-c", _FORECAST_PROBE, str(tmp_path / "model.onnx"), str(tmp_path / "values.npy"), str(last)],
        cwd=ROOT, env=_ENV, capture_output=True, text=True, check=True,
    )  # fmt: skip
    answer = json.loads(result_run.stdout.strip().splitlines()[-1])
    # Then the times carry Berlin's offset, and neither holidays nor the zone database was imported
    assert all(t.endswith(("+01:00", "+02:00")) for t in answer["times"])
    loaded = set(answer["modules"])
    assert loaded.isdisjoint(CALENDAR_LIBRARIES + FORBIDDEN), loaded & set(CALENDAR_LIBRARIES + FORBIDDEN)
