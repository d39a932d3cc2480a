"""Cold-start probe: the pickle baseline, a minimal handler that serves the same model as a joblib pickle
with scikit-learn (the same data, features and answer as the prediction function).

usage: python3.12 -S -B cold_baseline.py CONFIG.json RESULT.json   (PYTHONPATH: the lead_ai layer, the
training layer's numpy + scikit-learn + scipy + joblib, the runtime's boto3). Phases as in cold_handler.py:
imports (+ clients) | model load (S3 get + joblib.load + observation window) | first answer (features,
sklearn predict, JSON body).
"""

# ruff: noqa: E402  -- the clock starts before the imports it measures
import time

STARTED = time.perf_counter()
import io
import json
import os
import sys

import boto3
import joblib
import numpy as np
import sklearn.ensemble  # noqa: F401  (what unpickling the model needs, imported as a handler would)

from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.storage.observations import HistoryStore

s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
IMPORTED = time.perf_counter()

from typing import Any

from probe_support import ServerWait, read_config, write_result


def main(config_path: str, result_path: str) -> None:
    wait = ServerWait()
    config = read_config(config_path)
    resumed = time.perf_counter()
    data = s3.get_object(Bucket=os.environ["LEAD_AI_BUCKET"], Key=config["baseline_key"])["Body"].read()
    bundle = joblib.load(io.BytesIO(data))
    model, spec = bundle["model"], bundle["spec"]
    window = HistoryStore(dynamodb, os.environ["LEAD_AI_OBSERVATIONS_TABLE"]).latest(
        config["series_id"], spec.window, spec.interval_seconds
    )
    loaded = time.perf_counter()
    if window is None:
        raise SystemExit(f"no observations for {config['series_id']}")
    horizon = int(config["event"]["queryStringParameters"]["horizon"])
    rows, scale = build_rows(
        prepare_window(window.values, spec)[None, :],
        np.array([window.last_timestamp]),
        np.zeros(horizon, dtype=np.intp),
        np.arange(1, horizon + 1),
        spec,
    )
    value = np.maximum(model.predict(rows) * scale, 0.0)
    stamps = window.last_timestamp + window.interval_seconds * np.arange(1, horizon + 1)
    forecast = [
        {"timestamp": int(t), "value": round(float(v), 3)} for t, v in zip(stamps, value, strict=True)
    ]
    response: dict[str, Any] = {
        "statusCode": 200,
        "body": json.dumps({"series_id": config["series_id"], "forecast": forecast}),
    }
    answered = time.perf_counter()
    if len(json.loads(response["body"])["forecast"]) != horizon:
        raise SystemExit(f"unexpected answer: {response}")
    write_result(
        result_path,
        {
            "imports": IMPORTED - STARTED,
            "model_load": loaded - resumed,
            "first_answer": answered - loaded,
            "total": answered - STARTED - (resumed - IMPORTED),
            "server_wait": wait.seconds,
            "modules": len(sys.modules),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
