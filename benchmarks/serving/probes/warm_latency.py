"""Warm-latency probe: one process on the prediction bundle imports the handler and sends API Gateway
events per horizon to lambda_handler with the production registry TTL, each request followed by the bare
`InferenceSession.run` of the same forecast's rows (same session options): the floor. Registry,
observation and S3 reads during the timed loop are counted.

usage: python3.12 -S -B warm_latency.py CONFIG.json RESULT.json   (PYTHONPATH: as cold_handler.py)
"""

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import app
import numpy as np
import onnxruntime as ort
from probe_support import LambdaContext, read_config, write_result

from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.inference import session_options

WARM_UP_ROUNDS = 50


def count_calls(owner: Any, name: str, key: str, counts: dict[str, int]) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[key] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def bare_session_rows(series_id: str, horizons: list[int]) -> tuple[ort.InferenceSession, dict[int, Any]]:
    """The model's own onnxruntime session and the rows the handler builds for each horizon."""
    state = app.deps.cache.state(series_id)
    spec = state.forecaster.spec
    model_bytes = app.deps.artifacts.get_model(app.deps.tracker.current(series_id).artifact)
    session = ort.InferenceSession(
        model_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
    )
    window = prepare_window(state.window.values, spec)
    rows = {}
    for h in horizons:
        rows[h], _ = build_rows(
            window[None, :],
            np.array([state.window.last_timestamp]),
            np.zeros(h, dtype=np.intp),
            np.arange(1, h + 1),
            spec,
        )
    return session, rows


def main(config_path: str, result_path: str) -> None:
    config = read_config(config_path)
    events = {int(h): e for h, e in config["events"].items()}
    counts = {"registry_reads": 0, "observation_reads": 0, "s3_reads": 0}
    count_calls(app.deps.tracker, "current", "registry_reads", counts)
    count_calls(app.deps.history, "latest", "observation_reads", counts)
    count_calls(app.deps.artifacts, "get_model", "s3_reads", counts)
    context = LambdaContext()
    first = app.lambda_handler(events[168], context)
    if first["statusCode"] != 200:
        raise SystemExit(f"unexpected answer: {first}")
    session, rows = bare_session_rows(config["series_id"], list(events))
    name = session.get_inputs()[0].name
    for _ in range(WARM_UP_ROUNDS):
        for h in events:
            app.lambda_handler(events[h], context)
            session.run(None, {name: rows[h]})
    for key in counts:
        counts[key] = 0
    handler: dict[int, list[float]] = {h: [] for h in events}
    bare: dict[int, list[float]] = {h: [] for h in events}
    clock = time.perf_counter
    started = clock()
    response: dict[str, Any] = first
    for i in range(config["requests"]):
        for h in events:
            t = clock()
            response = app.lambda_handler(events[h], context)
            handler[h].append(clock() - t)
            if response["statusCode"] != 200:
                raise SystemExit(f"request {i} h={h}: {response}")
            t = clock()
            session.run(None, {name: rows[h]})
            bare[h].append(clock() - t)
    elapsed = clock() - started
    write_result(
        result_path,
        {
            "handler": handler,
            "bare_run": bare,
            "counts": counts,
            "loop_seconds": elapsed,
            "ttl_seconds": app.deps.settings.registry_ttl_seconds,
            "response_bytes": len(response["body"]),
            "rows": len(json.loads(response["body"])["forecast"]),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
