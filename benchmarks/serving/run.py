"""The orchestrator: build, snapshot, set up moto, run the probes, write serving.json, print the table."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .bundles import (
    BASELINE_PARTS,
    BUILD_DIR,
    PREDICT_PARTS,
    TRAIN_PARTS,
    handler_variants,
    layer_services,
    snapshot_bundles,
)
from .children import find_python312, lambda_runtime_dir
from .measure import cold_cases, measure_bundles, measure_cold, measure_training, measure_warm
from .report import TARGETS, machine_info, print_table, verdicts
from .stack_setup import BASELINE_KEY, SERIES_ID, setup_stack

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LeadAI")

ROOT = Path(__file__).resolve().parents[2]
PROBES = Path(__file__).resolve().parent / "probes"
RESULTS = ROOT / "benchmarks" / "results" / "serving.json"


def run_make_build() -> float:
    started = time.perf_counter()
    result = subprocess.run(["make", "build"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit("make build failed")
    return time.perf_counter() - started


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving",
        description="Serving benchmark (issue 4): cold start and its A/B hacks, warm latency, bundle sizes, training.",
    )
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--warm-requests", type=int, default=2000)
    parser.add_argument("--no-build", action="store_true", help="use the existing .aws-sam/build")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--train-years", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
        probes = Path(shutil.copytree(PROBES, work / "probes", ignore=shutil.ignore_patterns("__pycache__")))
        # Train and serve the same lead_ai: the driver (ingest + train through the handlers) imports the
        # snapshot's copy, not the working tree, which may have moved on since `make build`.
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(build / "LeadAiLayer" / "python"))
        import lead_ai
        from lead_ai_dev.local.invoke import resolve_environment
        from lead_ai_dev.local.stack import running_stack

        assert Path(lead_ai.__file__ or "").is_relative_to(build), "lead_ai imported too early"
        print("bundle sizes ...", file=sys.stderr)
        results["bundles"] = measure_bundles(BUILD_DIR)
        runtime = lambda_runtime_dir(work, python312)
        print("A/B variant bundles ...", file=sys.stderr)
        variants = handler_variants(work, build, runtime, python312)
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
                cases = cold_cases(probes, build, runtime, variants)
                results["cold_start"] = measure_cold(
                    python312, work, cases, env_base, cold_cfg, args.cold_runs, len(layer_services())
                )
            warm_cfg = work / "warm.json"
            warm_cfg.write_text(
                json.dumps({"series_id": SERIES_ID, "requests": args.warm_requests, "events": events})
            )
            print(f"warm latency ({args.warm_requests} requests per horizon) ...", file=sys.stderr)
            warm_probe = probes / "warm_latency.py"
            results["warm"] = measure_warm(python312, work, warm_probe, variants[0].path, env_base, warm_cfg)
            # The router is the one hack that runs on every request too.
            resolver = next(v for v in variants if v.router != "RestApp")
            results["warm_ab"] = {
                resolver.name: measure_warm(python312, work, warm_probe, resolver.path, env_base, warm_cfg)
            }
        if not args.skip_training:
            print("training ...", file=sys.stderr)
            results["training"] = measure_training(
                python312, work, probes / "train_cost.py", build, args.train_years
            )
    results["machine"] = machine_info(python312)
    results["verdicts"] = verdicts(results)
    results["all_pass"] = all(v["pass"] for v in results["verdicts"].values())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0
