"""The prediction path must not import training libraries: they cost ~1 s of cold start and 100+ MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN = ("sklearn", "scipy", "pandas", "skl2onnx", "onnx", "joblib")

_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("predict_app", "functions/predict/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import lead_ai.service.model_cache, lead_ai.forecasting.inference  # what the first forecast request loads
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""


def test_prediction_handler_imports_no_training_library() -> None:
    # Given a fresh interpreter with the function's environment
    env = {
        **os.environ,
        "LEAD_AI_BUCKET": "b",
        "LEAD_AI_REGISTRY_TABLE": "r",
        "LEAD_AI_OBSERVATIONS_TABLE": "o",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # When the prediction handler and its forecast path are imported
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # Then numpy and onnxruntime are there, and nothing from training is
    assert {"numpy", "onnxruntime", "aws_lambda_powertools"} <= loaded
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)
