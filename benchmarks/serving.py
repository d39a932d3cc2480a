"""Serving benchmark (issue 4): cold start, warm latency, bundle sizes and training cost, in one run.

Run:  make bench-serving            (= OMP_NUM_THREADS=1 .venv/bin/python benchmarks/serving.py)
      python benchmarks/serving.py --cold-runs 20 --warm-requests 2000 [--no-build] [--skip-training]

What it does, in order:
  1. `make build` (sam build: every layer pip-installed for cp312 and shipped with unchecked-hash .pyc),
     then copies the prediction and training bundles to a scratch directory so a concurrent rebuild
     cannot change them mid-run. Bundle sizes (function + its layers, unzipped and zipped) come from
     tests/infrastructure/bundle_sizes.py on that build.
  2. Starts the moto stand-in (lead_ai_dev.local.stack), ingests 120 days of synthetic hourly leads through
     IngestFunction and trains + registers a model through TrainFunction (the real handler path). The very
     scikit-learn model that TrainFunction exports to ONNX is captured and `joblib.dump`ed to the moto
     bucket under `benchmark-baseline/` -- for the baseline only; no pickle exists in the product.
  3. Cold starts: fresh Python 3.12 processes (Lambda's runtime; `-S`, nothing but the built function
     directory, its layers and the runtime's boto3 on PYTHONPATH, as on Lambda), each timing its phases
     with perf_counter from its first statement:
       handler:  imports (`import app`: module init, incl. the layer's trimmed botocore clients) |
                 model load (registry read, S3 get, onnxruntime session, observation window) | first
                 answer (lambda_handler with an API Gateway event, horizon 168)
       floor:    `import numpy, onnxruntime, boto3`
       baseline: imports (boto3, numpy, joblib, sklearn.ensemble) + clients | model load (S3 get +
                 joblib.load + the same observation window) | first answer (same features, sklearn
                 predict, JSON body)
     Medians over --cold-runs processes each, the three variants shuffled within each round, with the
     shipped bytecode and without it (PYTHONPYCACHEPREFIX = an empty directory, -B: every module compiled
     from source, as happens when a bundle ships no .pyc on read-only /opt).
  4. Warm latency: one Python 3.12 process on the same bundle imports the handler and sends
     --warm-requests API Gateway events per horizon (24 and 168) to lambda_handler with the production
     registry TTL (5 s), interleaved with the bare `InferenceSession.run` of the same forecast's rows
     (same session options) -- the floor. Registry and S3 reads during the loop are counted.
  5. Training: train_forecaster with production settings (backtest, ONNX export, parity) on 1 and 5 years
     of hourly synthetic leads, each in a fresh Python 3.12 process on the TrainFunction bundle (which,
     like Lambda, has no onnxruntime: parity runs on onnx.reference): wall time and peak RSS (ru_maxrss).
Writes benchmarks/results/serving.json and prints the table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LeadAI")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "serving.json"
BUILD_DIR = ROOT / ".aws-sam" / "build"
SERIES_ID = "bench-leads"
HISTORY_DAYS = 120
# The history ends here in every run: the synthetic series follows the clock (hour of day, weekday), so a
# moving end would train a different model each run (one ensemble one day, a two-loss blend the next).
HISTORY_END = datetime(2026, 11, 30, tzinfo=UTC)
BASELINE_KEY = f"benchmark-baseline/{SERIES_ID}/model.joblib"
# What the Lambda Python runtime provides next to the layers (boto3 is not in our layers).
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
PREDICT_PARTS = ("PredictFunction", "LeadAiLayer", "PredictDepsLayer")
BASELINE_PARTS = ("LeadAiLayer", "TrainDepsLayer")  # numpy + scikit-learn + scipy + joblib, cp312, .pyc
TRAIN_PARTS = ("LeadAiLayer", "TrainDepsLayer")

TARGETS = {
    "cold_vs_floor_max": 1.5,  # handler cold start <= 1.5x `import numpy, onnxruntime, boto3`
    "cold_speedup_vs_pickle_min": 4.0,  # pickle baseline cold start / handler cold start >= 4
    "warm_p50_168_vs_run_max": 3.0,  # handler p50 (h=168) <= 3x bare InferenceSession.run
    "warm_p99_ms_max": 10.0,
    "predict_bundle_mib_max": 150.0,
    "train_bundle_mib_max": 250.0,
    "train_1y_seconds_max": 20.0,
    "train_1y_peak_mib_max": 1024.0,
}

# ------------------------------------------------------------------------------------- child scripts

# Installed after the imports phase (which makes no AWS call): time spent waiting on the stand-in's
# HTTP answers, so the report can separate moto's own speed from the handler's work.
_SERVER_WAIT = """
import botocore.endpoint
_wait = [0.0]
_send = botocore.endpoint.Endpoint._send
def _timed_send(self, request):
    started = time.perf_counter()
    try:
        return _send(self, request)
    finally:
        _wait[0] += time.perf_counter() - started
botocore.endpoint.Endpoint._send = _timed_send
"""

_CONTEXT = """
class Context:
    function_name = "PredictFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:PredictFunction"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/PredictFunction"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30000
"""

COLD_HANDLER = (
    """
import time
_t0 = time.perf_counter()
import app
_t1 = time.perf_counter()
import json, sys
"""
    + _SERVER_WAIT
    + _CONTEXT
    + """
cfg = json.load(open(sys.argv[1]))
_t1b = time.perf_counter()
state = app.deps.cache.state(cfg["series_id"])  # registry read, S3 get, onnxruntime session, window
_t2 = time.perf_counter()
response = app.lambda_handler(cfg["event"], Context())
_t3 = time.perf_counter()
body = json.loads(response["body"])
assert response["statusCode"] == 200 and len(body["forecast"]) == cfg["horizon"], response
with open(sys.argv[2], "w") as out:
    json.dump({"imports": _t1 - _t0, "model_load": _t2 - _t1b, "first_answer": _t3 - _t2,
               "total": _t3 - _t0 - (_t1b - _t1), "server_wait": _wait[0], "modules": len(sys.modules),
               "boto3_imported": "boto3" in sys.modules}, out)
"""
)

COLD_FLOOR = """
import time
_t0 = time.perf_counter()
import numpy, onnxruntime, boto3
_t1 = time.perf_counter()
import json, sys
with open(sys.argv[2], "w") as out:
    json.dump({"imports": _t1 - _t0, "total": _t1 - _t0, "modules": len(sys.modules)}, out)
"""

# The floor plus the two clients any S3-model + DynamoDB handler creates (boto3's way).
COLD_FLOOR_CLIENTS = """
import time
_t0 = time.perf_counter()
import numpy, onnxruntime, boto3
_t1 = time.perf_counter()
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
_t2 = time.perf_counter()
import json, sys
with open(sys.argv[2], "w") as out:
    json.dump({"imports": _t1 - _t0, "clients": _t2 - _t1, "total": _t2 - _t0,
               "modules": len(sys.modules)}, out)
"""

# A minimal pickle-serving handler: the same data and features, the model as a joblib pickle.
COLD_BASELINE = (
    """
import time
_t0 = time.perf_counter()
import io, json, os, sys
import boto3
import numpy as np
import joblib
import sklearn.ensemble
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.storage.observations import HistoryStore
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
_t1 = time.perf_counter()
"""
    + _SERVER_WAIT
    + """
cfg = json.load(open(sys.argv[1]))
_t1b = time.perf_counter()
data = s3.get_object(Bucket=os.environ["LEAD_AI_BUCKET"], Key=cfg["baseline_key"])["Body"].read()
bundle = joblib.load(io.BytesIO(data))
model, spec = bundle["model"], bundle["spec"]
window = HistoryStore(dynamodb, os.environ["LEAD_AI_OBSERVATIONS_TABLE"]).latest(
    cfg["series_id"], spec.window, spec.interval_seconds)
_t2 = time.perf_counter()
h = int(cfg["event"]["queryStringParameters"]["horizon"])
w = prepare_window(window.values, spec)
X, scale = build_rows(w[None, :], np.array([window.last_timestamp]), np.zeros(h, dtype=np.intp),
                      np.arange(1, h + 1), spec)
value = np.maximum(model.predict(X) * scale, 0.0)
stamps = window.last_timestamp + window.interval_seconds * np.arange(1, h + 1)
rows = [{"timestamp": int(t), "value": round(float(v), 3)} for t, v in zip(stamps, value)]
response = {"statusCode": 200, "body": json.dumps({"series_id": cfg["series_id"], "forecast": rows})}
_t3 = time.perf_counter()
assert len(json.loads(response["body"])["forecast"]) == h
with open(sys.argv[2], "w") as out:
    json.dump({"imports": _t1 - _t0, "model_load": _t2 - _t1b, "first_answer": _t3 - _t2,
               "total": _t3 - _t0 - (_t1b - _t1), "server_wait": _wait[0], "modules": len(sys.modules)}, out)
"""
)

WARM = (
    """
import json, statistics, sys, time
import numpy as np
import onnxruntime as ort
import app
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.inference import session_options
"""
    + _CONTEXT
    + """
cfg = json.load(open(sys.argv[1]))
n = cfg["requests"]
events = {int(h): e for h, e in cfg["events"].items()}
counts = {"registry_reads": 0, "observation_reads": 0, "s3_reads": 0}
def counting(obj, name, key):
    original = getattr(obj, name)
    def wrapper(*args, **kwargs):
        counts[key] += 1
        return original(*args, **kwargs)
    setattr(obj, name, wrapper)
counting(app.deps.tracker, "current", "registry_reads")
counting(app.deps.history, "latest", "observation_reads")
counting(app.deps.artifacts, "get_model", "s3_reads")
ctx = Context()
first = app.lambda_handler(events[168], ctx)
assert first["statusCode"] == 200, first
state = app.deps.cache.state(cfg["series_id"])
spec = state.forecaster.spec
model_bytes = app.deps.artifacts.get_model(app.deps.tracker.current(cfg["series_id"]).artifact)
session = ort.InferenceSession(model_bytes, sess_options=session_options(),
                               providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
window = prepare_window(state.window.values, spec)
rows = {}
for h in events:
    X, _ = build_rows(window[None, :], np.array([state.window.last_timestamp]), np.zeros(h, dtype=np.intp),
                      np.arange(1, h + 1), spec)
    rows[h] = X
for _ in range(50):  # warm-up
    for h in events:
        app.lambda_handler(events[h], ctx)
        session.run(None, {name: rows[h]})
for key in counts:
    counts[key] = 0
handler = {h: [] for h in events}
bare = {h: [] for h in events}
clock = time.perf_counter
started = clock()
for i in range(n):
    for h in events:
        t = clock()
        r = app.lambda_handler(events[h], ctx)
        handler[h].append(clock() - t)
        if r["statusCode"] != 200:
            raise SystemExit(f"request {i} h={h}: {r}")
        t = clock()
        session.run(None, {name: rows[h]})
        bare[h].append(clock() - t)
elapsed = clock() - started
body = json.loads(r["body"])
with open(sys.argv[2], "w") as out:
    json.dump({"handler": handler, "bare_run": bare, "counts": counts, "loop_seconds": elapsed,
               "ttl_seconds": app.deps.settings.registry_ttl_seconds,
               "response_bytes": len(r["body"]), "rows": len(body["forecast"])}, out)
"""
)

TRAIN = """
import json, resource, sys, time
from datetime import datetime, timezone
import numpy as np
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from lead_ai_dev.synthetic import lead_counts
cfg = json.load(open(sys.argv[1]))
stamps, counts = lead_counts(datetime(2020, 1, 1, tzinfo=timezone.utc), cfg["points"], seed=11)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
result = train_forecaster([SeriesData("train-bench", counts.astype(float), int(stamps[0]), 3600)],
                          TrainingSettings(max_horizon=168, min_points=1000))
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    import onnxruntime  # noqa: F401
    parity_engine = "onnxruntime"
except ImportError:
    parity_engine = "onnx.reference"
with open(sys.argv[2], "w") as out:
    json.dump({"points": cfg["points"], "seconds": seconds, "peak_rss_mib": peak / 1024,
               "rss_before_mib": before / 1024, "onnx_bytes": len(result.onnx_bytes),
               "mase": result.metrics.get("mase"), "training_rows": result.metrics.get("training_rows"),
               "parity_engine": parity_engine}, out)
"""

# ------------------------------------------------------------------------------------- helpers


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def find_python312() -> Path:
    candidates = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    found = shutil.which("python3.12")
    for candidate in [*reversed(candidates), *([Path(found)] if found else [])]:
        try:
            subprocess.run([str(candidate), "-c", "pass"], check=True, capture_output=True)
            return candidate
        except (OSError, subprocess.CalledProcessError):
            continue
    raise SystemExit("python3.12 (Lambda's runtime) not found: pyenv install 3.12")


def run_make_build() -> float:
    started = time.perf_counter()
    result = subprocess.run(["make", "build"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit("make build failed")
    return time.perf_counter() - started


def snapshot_bundles(work: Path, parts: set[str]) -> Path:
    """Copy the built parts the benchmark runs, so a concurrent `sam build` cannot swap them mid-run."""
    dest = work / "build"
    for part in sorted(parts):
        shutil.copytree(BUILD_DIR / part, dest / part, symlinks=True)
    return dest


def lambda_runtime_dir(work: Path, python312: Path) -> Path:
    """boto3 and friends as the Lambda runtime provides them, with 3.12 bytecode (same for every variant)."""
    import importlib.util

    runtime = work / "runtime"
    runtime.mkdir()
    for name in LAMBDA_RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        if source.is_dir():
            shutil.copytree(source, runtime / source.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, runtime / source.name)
    subprocess.run(
        [
            str(python312),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(runtime),
        ],
        check=True,
        capture_output=True,
    )
    return runtime


def child_env(base: dict[str, str], path: list[Path], *, bytecode: bool, empty_cache: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        **base,
    }
    if not bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(empty_cache)  # look for .pyc only in an empty tree: compile all
    return env


def run_child(
    python: Path, script: Path, cfg: Path, env: dict[str, str], work: Path, timeout: float = 600
) -> dict[str, Any]:
    out = work / f"out-{random.getrandbits(48):012x}.json"
    started = time.perf_counter()
    result = subprocess.run(
        [str(python), "-S", "-B", str(script), str(cfg), str(out)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,  # the functions' log and EMF lines, as Lambda's stdout pipe takes them
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{result.stderr[-4000:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    data["process_wall"] = wall
    return data


def import_profile(
    python: Path, env: dict[str, str], work: Path, modules: str, top: int = 15
) -> list[dict[str, Any]]:
    """One `python -X importtime` run: the top-level packages by self time, and the slowest imports."""
    result = subprocess.run(
        [str(python), "-S", "-B", "-X", "importtime", "-c", modules],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    per_package: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = [f.strip() for f in line[len("import time:") :].split("|")]
        package = fields[2].split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(fields[0])
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": name, "self_ms": round(us / 1000, 1)} for name, us in ranked]


# ------------------------------------------------------------------------------------- setup on moto


def setup_stack(stack: Any, template: Any) -> dict[str, Any]:
    """Ingest history and train through the real handlers; capture the exported sklearn model."""
    import joblib
    import numpy as np

    from lead_ai.forecasting.features import FeatureSpec
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


# ------------------------------------------------------------------------------------- measurements


def measure_cold(
    python312: Path, work: Path, build: Path, runtime: Path, env_base: dict[str, str], cfg: Path, runs: int
) -> dict[str, Any]:
    scripts = {}
    for name, text in (
        ("handler", COLD_HANDLER),
        ("floor", COLD_FLOOR),
        ("floor_clients", COLD_FLOOR_CLIENTS),
        ("baseline", COLD_BASELINE),
    ):
        scripts[name] = work / f"cold_{name}.py"
        scripts[name].write_text(text)
    paths = {
        "handler": [build / p / "python" if p.endswith("Layer") else build / p for p in PREDICT_PARTS]
        + [runtime],
        # The floor is what any handler pays: numpy and onnxruntime, and the runtime's own (full) SDK.
        "floor": [runtime, build / "PredictDepsLayer" / "python"],
        "floor_clients": [runtime, build / "PredictDepsLayer" / "python"],
        "baseline": [build / p / "python" for p in BASELINE_PARTS] + [runtime],
    }
    empty = work / "empty-pycache"
    empty.mkdir(exist_ok=True)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {"pyc": {}, "no_pyc": {}}
    variants = [(mode, name) for mode in ("pyc", "no_pyc") for name in scripts]
    rng = random.Random(4)
    for name in scripts:  # one untimed run each: page cache warm, as on a re-used Lambda host
        run_child(
            python312,
            scripts[name],
            cfg,
            child_env(env_base, paths[name], bytecode=True, empty_cache=empty),
            work,
        )
    for i in range(runs):
        order = variants[:]
        rng.shuffle(order)
        for mode, name in order:
            env = child_env(env_base, paths[name], bytecode=mode == "pyc", empty_cache=empty)
            samples[mode].setdefault(name, []).append(run_child(python312, scripts[name], cfg, env, work))
        print(f"  cold round {i + 1}/{runs} done", file=sys.stderr)
    summary: dict[str, Any] = {}
    for mode, by_name in samples.items():
        summary[mode] = {}
        for name, runs_ in by_name.items():
            keys = [
                k
                for k in (
                    "imports",
                    "clients",
                    "model_load",
                    "first_answer",
                    "total",
                    "server_wait",
                    "process_wall",
                )
                if k in runs_[0]
            ]
            summary[mode][name] = {
                **{f"{k}_ms": round(_median([r[k] for r in runs_]) * 1000, 1) for k in keys},
                "total_ms_all": [round(r["total"] * 1000, 1) for r in runs_],
                "modules": runs_[0]["modules"],
                **({"boto3_imported": runs_[0]["boto3_imported"]} if "boto3_imported" in runs_[0] else {}),
                "runs": len(runs_),
            }
        floor = summary[mode]["floor"]["total_ms"]
        handler = summary[mode]["handler"]["total_ms"]
        baseline = summary[mode]["baseline"]["total_ms"]
        summary[mode]["handler_vs_floor"] = round(handler / floor, 2)
        summary[mode]["handler_vs_floor_with_clients"] = round(
            handler / summary[mode]["floor_clients"]["total_ms"], 2
        )
        summary[mode]["speedup_vs_pickle"] = round(baseline / handler, 2)
        # The same ratios with the stand-in's HTTP answer time (moto, per process) taken out of both sides.
        h_wait = summary[mode]["handler"]["server_wait_ms"]
        b_wait = summary[mode]["baseline"]["server_wait_ms"]
        summary[mode]["handler_vs_floor_excl_server_wait"] = round((handler - h_wait) / floor, 2)
        summary[mode]["speedup_vs_pickle_excl_server_wait"] = round(
            (baseline - b_wait) / (handler - h_wait), 2
        )
    env = child_env(env_base, paths["handler"], bytecode=True, empty_cache=empty)
    summary["import_profile_handler_pyc"] = import_profile(
        python312, env, work, "import app, lead_ai.service.model_cache"
    )
    return summary


def measure_warm(
    python312: Path, work: Path, build: Path, runtime: Path, env_base: dict[str, str], cfg: Path
) -> dict[str, Any]:
    script = work / "warm.py"
    script.write_text(WARM)
    path = [build / p / "python" if p.endswith("Layer") else build / p for p in PREDICT_PARTS] + [runtime]
    env = child_env(env_base, path, bytecode=True, empty_cache=work / "empty-pycache")
    data = run_child(python312, script, cfg, env, work, timeout=1800)
    out: dict[str, Any] = {
        "requests_per_horizon": len(data["handler"]["168"]),
        "ttl_seconds": data["ttl_seconds"],
        "loop_seconds": round(data["loop_seconds"], 2),
        "dependency_reads_during_loop": data["counts"],
        "response_bytes_h168": data["response_bytes"],
    }
    for h in ("24", "168"):
        lat = data["handler"][h]
        bare = data["bare_run"][h]
        out[f"h{h}"] = {
            "p50_ms": round(_pct(lat, 50) * 1000, 3),
            "p90_ms": round(_pct(lat, 90) * 1000, 3),
            "p99_ms": round(_pct(lat, 99) * 1000, 3),
            "max_ms": round(max(lat) * 1000, 3),
            "bare_run_p50_ms": round(_pct(bare, 50) * 1000, 3),
            "bare_run_p99_ms": round(_pct(bare, 99) * 1000, 3),
            "p50_vs_bare_run": round(_pct(lat, 50) / _pct(bare, 50), 2),
        }
    return out


def measure_training(python312: Path, work: Path, build: Path, years: list[int]) -> dict[str, Any]:
    script = work / "train.py"
    script.write_text(TRAIN)
    path = [build / p / "python" for p in TRAIN_PARTS]
    env = child_env(
        {"AWS_DEFAULT_REGION": "us-east-1"}, path, bytecode=True, empty_cache=work / "empty-pycache"
    )
    out = {}
    for y in years:
        cfg = work / f"train-{y}.json"
        cfg.write_text(json.dumps({"points": 8760 * y}))
        data = run_child(python312, script, cfg, env, work, timeout=3600)
        out[f"{y}y"] = {
            "points": data["points"],
            "seconds": round(data["seconds"], 2),
            "peak_rss_mib": round(data["peak_rss_mib"], 1),
            "rss_before_training_mib": round(data["rss_before_mib"], 1),
            "process_wall_seconds": round(data["process_wall"], 2),
            "onnx_kib": round(data["onnx_bytes"] / 1024, 1),
            "training_rows": data["training_rows"],
            "backtest_mase": round(data["mase"], 4) if data["mase"] is not None else None,
            "parity_engine": data["parity_engine"],
        }
        print(f"  trained {y} y in {data['seconds']:.1f} s", file=sys.stderr)
    return out


def measure_bundles(build: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "infrastructure"))
    from bundle_sizes import MIB, measure

    out = {}
    for b in measure(build, zipped=True):
        out[b.function] = {
            "layers": b.layers,
            "unzipped_mib": round(b.unzipped_bytes / MIB, 1),
            "zipped_mib": round((b.zipped_bytes or 0) / MIB, 1),
            "parts_unzipped_mib": {k: round(v / MIB, 2) for k, v in b.parts_unzipped_bytes.items()},
        }
    return out


# ------------------------------------------------------------------------------------- report


def machine_info(python312: Path) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import numpy
    import onnxruntime

    py312 = subprocess.run(
        [str(python312), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--", "lead_ai", "functions", "layers", "template.yaml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python_benchmark_driver": platform.python_version(),
        "python_cold_warm_training": py312,
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "git_commit": commit,
        "git_dirty_code": dirty,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cold = results.get("cold_start", {}).get("pyc")
    if cold:
        out["cold_vs_floor"] = {
            "value": cold["handler_vs_floor"],
            "target": f"<= {TARGETS['cold_vs_floor_max']}",
            "pass": cold["handler_vs_floor"] <= TARGETS["cold_vs_floor_max"],
        }
        out["cold_speedup_vs_pickle"] = {
            "value": cold["speedup_vs_pickle"],
            "target": f">= {TARGETS['cold_speedup_vs_pickle_min']}",
            "pass": cold["speedup_vs_pickle"] >= TARGETS["cold_speedup_vs_pickle_min"],
        }
    warm = results.get("warm")
    if warm:
        ratio = warm["h168"]["p50_vs_bare_run"]
        out["warm_p50_h168_vs_bare_run"] = {
            "value": ratio,
            "target": f"<= {TARGETS['warm_p50_168_vs_run_max']}",
            "pass": ratio <= TARGETS["warm_p50_168_vs_run_max"],
        }
        p99 = max(warm["h24"]["p99_ms"], warm["h168"]["p99_ms"])
        out["warm_p99_ms"] = {
            "value": p99,
            "target": f"<= {TARGETS['warm_p99_ms_max']}",
            "pass": p99 <= TARGETS["warm_p99_ms_max"],
        }
        reads = warm["dependency_reads_during_loop"]
        out["no_s3_read_when_warm"] = {
            "value": reads["s3_reads"],
            "target": "0",
            "pass": reads["s3_reads"] == 0,
        }
    bundles = results.get("bundles")
    if bundles:
        p = bundles["PredictFunction"]["unzipped_mib"]
        t = bundles["TrainFunction"]["unzipped_mib"]
        out["predict_bundle_mib"] = {
            "value": p,
            "target": f"<= {TARGETS['predict_bundle_mib_max']}",
            "pass": p <= TARGETS["predict_bundle_mib_max"],
        }
        out["train_bundle_mib"] = {
            "value": t,
            "target": f"<= {TARGETS['train_bundle_mib_max']}",
            "pass": t <= TARGETS["train_bundle_mib_max"],
        }
    train = results.get("training", {}).get("1y")
    if train:
        out["train_1y_seconds"] = {
            "value": train["seconds"],
            "target": f"<= {TARGETS['train_1y_seconds_max']}",
            "pass": train["seconds"] <= TARGETS["train_1y_seconds_max"],
        }
        out["train_1y_peak_mib"] = {
            "value": train["peak_rss_mib"],
            "target": f"<= {TARGETS['train_1y_peak_mib_max']}",
            "pass": train["peak_rss_mib"] <= TARGETS["train_1y_peak_mib_max"],
        }
    return out


def print_table(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"\nServing benchmark  {m['date']}  {m['cpu']} x{m['cpus']}  load {m['load_average']}")
    print(
        f"cold/warm/training: Python {m['python_cold_warm_training']} on the sam-build bundles; "
        f"driver Python {m['python_benchmark_driver']}"
    )
    cold = results.get("cold_start")
    if cold:
        print(
            f"\n1. Cold start (median of {cold['pyc']['handler']['runs']} fresh processes each, "
            "interleaved; ms)"
        )
        print(
            f"{'':40}{'imports':>8}{'clients':>8}{'model load':>11}{'1st answer':>11}{'total':>7}"
            f"{'moto wait':>10}{'process':>8}"
        )
        rows = (
            ("floor", "floor: numpy+onnxruntime+boto3"),
            ("floor_clients", "floor + s3/dynamodb clients"),
            ("handler", "PredictFunction"),
            ("baseline", "baseline: joblib pickle + sklearn"),
        )
        for mode, label in (("pyc", ".pyc"), ("no_pyc", "no .pyc")):
            for name, title in rows:
                r = cold[mode][name]
                cells = [
                    r.get(k)
                    for k in (
                        "imports_ms",
                        "clients_ms",
                        "model_load_ms",
                        "first_answer_ms",
                        "total_ms",
                        "server_wait_ms",
                        "process_wall_ms",
                    )
                ]
                text = "".join(
                    f"{'-' if c is None else f'{c:.0f}':>{w}}"
                    for c, w in zip(cells, (8, 8, 11, 11, 7, 10, 8), strict=True)
                )
                print(f"{label + ' ' + title:<40}{text}")
            c = cold[mode]
            print(
                f"{'':4}handler / floor {c['handler_vs_floor']:.2f}x "
                f"(without moto wait {c['handler_vs_floor_excl_server_wait']:.2f}x; "
                f"/ floor+clients {c['handler_vs_floor_with_clients']:.2f}x);  "
                f"pickle / handler {c['speedup_vs_pickle']:.2f}x "
                f"(without moto wait {c['speedup_vs_pickle_excl_server_wait']:.2f}x)"
            )
    warm = results.get("warm")
    if warm:
        print(
            f"\n2. Warm latency ({warm['requests_per_horizon']} requests per horizon, "
            f"TTL {warm['ttl_seconds']} s; ms)"
        )
        print(f"{'horizon':<10}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'bare run p50':>14}{'p50 / run':>11}")
        for h in ("24", "168"):
            r = warm[f"h{h}"]
            print(
                f"{h:<10}{r['p50_ms']:>8.3f}{r['p90_ms']:>8.3f}{r['p99_ms']:>8.3f}{r['max_ms']:>8.2f}{r['bare_run_p50_ms']:>14.3f}{r['p50_vs_bare_run']:>11.2f}"
            )
        c = warm["dependency_reads_during_loop"]
        print(
            f"reads during the {warm['loop_seconds']} s loop: registry {c['registry_reads']}, "
            f"observations {c['observation_reads']}, S3 {c['s3_reads']}"
        )
    bundles = results.get("bundles")
    if bundles:
        print("\n3. Bundles after sam build (function + layers, MiB)")
        print(f"{'function':<18}{'unzipped':>10}{'zipped':>9}  layers")
        for name, b in bundles.items():
            print(f"{name:<18}{b['unzipped_mib']:>10.1f}{b['zipped_mib']:>9.1f}  {' + '.join(b['layers'])}")
    training = results.get("training")
    if training:
        print(
            "\n4. Training (train_forecaster, production settings, fresh process on the TrainFunction bundle)"
        )
        print(f"{'history':<10}{'points':>8}{'seconds':>9}{'peak RSS MiB':>14}{'parity on':>16}")
        for name, t in training.items():
            print(
                f"{name:<10}{t['points']:>8}{t['seconds']:>9.1f}{t['peak_rss_mib']:>14.0f}{t['parity_engine']:>16}"
            )
    print("\nTargets (issue 4)")
    for name, v in results["verdicts"].items():
        print(f"  {'PASS' if v['pass'] else 'FAIL'}  {name:<28} {v['value']!s:>10}  (target {v['target']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--warm-requests", type=int, default=2000)
    parser.add_argument("--no-build", action="store_true", help="use the existing .aws-sam/build")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--train-years", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    python312 = find_python312()
    results: dict[str, Any] = {"targets": TARGETS}
    if not args.no_build:
        print("make build ...", file=sys.stderr)
        results["build_seconds"] = round(run_make_build(), 1)
    if not (BUILD_DIR / "template.yaml").exists():
        raise SystemExit(f"{BUILD_DIR} has no build: run `make build`")

    with tempfile.TemporaryDirectory(prefix="lead-ai-serving-") as tmp:
        work = Path(tmp)
        build = snapshot_bundles(work, {*PREDICT_PARTS, *BASELINE_PARTS, *TRAIN_PARTS})
        shutil.copy2(BUILD_DIR / "template.yaml", build / "template.yaml")
        # Train and serve the same lead_ai: the driver (ingest + train through the handlers) imports the
        # snapshot's copy, not the working tree, which may have moved on since `make build`.
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(build / "LeadAiLayer" / "python"))
        from lead_ai_dev.local.invoke import resolve_environment
        from lead_ai_dev.local.stack import running_stack

        assert Path(sys.modules["lead_ai"].__file__ or "").is_relative_to(build), "lead_ai imported too early"
        print("bundle sizes ...", file=sys.stderr)
        results["bundles"] = measure_bundles(BUILD_DIR)
        runtime = lambda_runtime_dir(work, python312)
        with running_stack(ROOT / "template.yaml") as stack:
            print(f"moto on {stack.endpoint}: ingest + train through the handlers ...", file=sys.stderr)
            results["setup"] = setup_stack(stack, stack.template)
            function_env = resolve_environment(stack.template, stack.template.function("PredictFunction"))
            env_base = {**function_env, **stack.environment()}
            env_base["LEAD_AI_REGISTRY_TTL_SECONDS"] = function_env.get("LEAD_AI_REGISTRY_TTL_SECONDS", "5")
            from lead_ai_dev.local.events import api_event, load_event

            template_event = load_event(ROOT / "events", "forecast.json")
            events = {
                h: api_event(template_event, series_id=SERIES_ID, query={"horizon": str(h)})
                for h in (24, 168)
            }
            cold_cfg = work / "cold.json"
            cold_cfg.write_text(
                json.dumps(
                    {
                        "series_id": SERIES_ID,
                        "event": events[168],
                        "horizon": 168,
                        "baseline_key": BASELINE_KEY,
                    }
                )
            )
            if not args.skip_cold:
                print(f"cold starts ({args.cold_runs} rounds) ...", file=sys.stderr)
                results["cold_start"] = measure_cold(
                    python312, work, build, runtime, env_base, cold_cfg, args.cold_runs
                )
            warm_cfg = work / "warm.json"
            warm_cfg.write_text(
                json.dumps({"series_id": SERIES_ID, "requests": args.warm_requests, "events": events})
            )
            print(f"warm latency ({args.warm_requests} requests per horizon) ...", file=sys.stderr)
            results["warm"] = measure_warm(python312, work, build, runtime, env_base, warm_cfg)
        if not args.skip_training:
            print("training ...", file=sys.stderr)
            results["training"] = measure_training(python312, work, build, args.train_years)
    results["machine"] = machine_info(python312)
    results["verdicts"] = verdicts(results)
    results["all_pass"] = all(v["pass"] for v in results["verdicts"].values())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
