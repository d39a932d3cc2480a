"""Set-up on the moto stand-in: history ingested and a model trained through the real handlers, and the
scikit-learn model TrainFunction exports kept as a joblib pickle for the baseline (benchmark only: no pickle
exists in the product)."""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERIES_ID = "bench-leads"
HISTORY_DAYS = 120
# The history ends here in every run: the synthetic series follows the clock (hour of day, weekday), so a
# moving end would train a different model each run (one ensemble one day, a two-loss blend the next).
HISTORY_END = datetime(2026, 11, 30, tzinfo=UTC)
BASELINE_KEY = f"benchmark-baseline/{SERIES_ID}/model.joblib"


def setup_stack(stack: Any, template: Any) -> dict[str, Any]:
    """Ingest history and train through the real handlers; capture the exported sklearn model."""
    import joblib
    import numpy as np

    from lead_ai.forecasting.feature_spec import FeatureSpec
    from lead_ai.forecasting.training import train as forecaster_module
    from lead_ai.storage.clients import client
    from lead_ai_dev.local.demo import _iso
    from lead_ai_dev.local.events import api_event, load_event, response_json
    from lead_ai_dev.local.invoke import forget_loaded_handlers, invoke
    from lead_ai_dev.synthetic import recent_lead_counts

    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    events = ROOT / "events"
    stamps, counts = recent_lead_counts(HISTORY_DAYS, seed=7, now=HISTORY_END)
    body = json.dumps(
        {
            "observations": [
                {"timestamp": _iso(t), "value": float(v)} for t, v in zip(stamps, counts, strict=True)
            ]
        }
    )
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        ingested = invoke(
            template,
            "IngestFunction",
            api_event(load_event(events, "ingest-observations.json"), series_id=SERIES_ID, body=body),
            quiet,
        )
    assert ingested["statusCode"] == 200, ingested

    captured: dict[str, Any] = {}
    original_export = forecaster_module.export_onnx

    def recording_export(model: Any, spec: FeatureSpec, *args: Any, **kwargs: Any) -> bytes:
        captured["model"], captured["spec"] = model, spec
        return original_export(model, spec, *args, **kwargs)

    forecaster_module.export_onnx = recording_export  # benchmark only: keep the model TrainFunction exports
    try:
        started = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            trained = invoke(
                template,
                "TrainFunction",
                api_event(load_event(events, "train.json"), series_id=SERIES_ID),
                quiet,
            )
        train_seconds = time.perf_counter() - started
    finally:
        forecaster_module.export_onnx = original_export
    version = response_json(trained)
    assert trained["statusCode"] == 201 and version.get("current"), version
    forget_loaded_handlers()

    buffer = io.BytesIO()
    joblib.dump({"model": captured["model"], "spec": captured["spec"]}, buffer)
    s3 = client("s3")
    bucket = stack.names["ArtifactBucket"]
    s3.put_object(Bucket=bucket, Key=BASELINE_KEY, Body=buffer.getvalue())

    # The pickle and the ONNX artifact are the same forecaster: check it on the serving rows.
    import onnxruntime as ort

    from lead_ai.forecasting.features import build_rows, prepare_window
    from lead_ai.forecasting.inference import session_options

    onnx_bytes = s3.get_object(Bucket=bucket, Key=version["artifact"]["s3_key"])["Body"].read()
    spec = captured["spec"]
    window = prepare_window(np.asarray(counts, dtype=float), spec)
    X, _ = build_rows(
        window[None, :], np.array([int(stamps[-1])]), np.zeros(168, dtype=np.intp), np.arange(1, 169), spec
    )
    session = ort.InferenceSession(
        onnx_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    onnx_out = session.run(None, {session.get_inputs()[0].name: X})[0].reshape(-1)
    sk_out = captured["model"].predict(X)
    parity = float(np.max(np.abs(onnx_out - sk_out)))
    return {
        "version": version["version"],
        "onnx_bytes": len(onnx_bytes),
        "pickle_bytes": len(buffer.getvalue()),
        "pickle_vs_onnx_max_abs_diff": parity,
        "train_through_handler_seconds": train_seconds,
        "observations": len(counts),
    }
