"""The measurements: cold starts (with the A/B variants), warm latency, training cost, bundle sizes."""

from __future__ import annotations

import json
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .bundles import BASELINE_PARTS, TRAIN_PARTS, HandlerVariant
from .children import child_env, import_profile, run_child

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("imports", "clients", "model_load", "first_answer", "total", "server_wait", "process_wall")
MODES = ("pyc", "no_pyc")


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


@dataclass(frozen=True)
class ColdCase:
    """One kind of fresh process: a probe on a PYTHONPATH, in the bytecode modes it is measured in."""

    name: str
    probe: Path
    path: list[Path]
    modes: tuple[str, ...] = MODES
    variant: HandlerVariant | None = None


def cold_cases(probes: Path, build: Path, runtime: Path, variants: list[HandlerVariant]) -> list[ColdCase]:
    deps = build / "PredictDepsLayer" / "python"
    shipped, *others = variants
    return [
        # The floor is what any handler pays: numpy and onnxruntime, and the runtime's own (full) SDK.
        ColdCase("floor", probes / "cold_floor.py", [runtime, deps]),
        ColdCase("floor_clients", probes / "cold_floor_clients.py", [runtime, deps]),
        ColdCase("handler", probes / "cold_handler.py", shipped.path, variant=shipped),
        ColdCase(
            "baseline",
            probes / "cold_baseline.py",
            [build / p / "python" for p in BASELINE_PARTS] + [runtime],
        ),
        # The A/B variants: with the shipped bytecode only (the hacks are judged as they ship).
        *(ColdCase(v.name, probes / "cold_handler.py", v.path, ("pyc",), v) for v in others),
    ]


def measure_cold(
    python312: Path,
    work: Path,
    cases: list[ColdCase],
    env_base: dict[str, str],
    cfg: Path,
    runs: int,
    layer_services: int,
) -> dict[str, Any]:
    """Medians over `runs` rounds; each round runs every case in every mode once, in a shuffled order."""
    empty = work / "empty-pycache"
    empty.mkdir(exist_ok=True)
    by_name = {case.name: case for case in cases}

    def env(case: ColdCase, mode: str) -> dict[str, str]:
        return child_env(env_base, case.path, bytecode=mode == "pyc", empty_cache=empty)

    digests = {}
    for case in cases:  # one untimed run each: page cache warm, as on a re-used Lambda host
        facts = run_child(python312, case.probe, cfg, env(case, "pyc"), work)
        if case.variant is not None:
            case.variant.check(facts, layer_services)
            digests[case.name] = facts["body_sha256"]
    if len(set(digests.values())) != 1:
        raise SystemExit(f"the handler variants answered differently: {digests}")
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {mode: {} for mode in MODES}
    order = [(mode, case.name) for case in cases for mode in case.modes]
    rng = random.Random(4)
    for i in range(runs):
        rng.shuffle(order)
        for mode, name in order:
            case = by_name[name]
            samples[mode].setdefault(name, []).append(
                run_child(python312, case.probe, cfg, env(case, mode), work)
            )
        print(f"  cold round {i + 1}/{runs} done", file=sys.stderr)
    summary: dict[str, Any] = {mode: _summaries(samples[mode], work) for mode in MODES}
    for mode in MODES:
        summary[mode].update(_ratios(summary[mode]))
    summary["import_profile_handler_pyc"] = import_profile(
        python312, env(by_name["handler"], "pyc"), work, "import app, lead_ai.service.model_cache"
    )
    summary["hacks_ab"] = hacks_ab(samples["pyc"], [c.variant for c in cases if c.variant is not None])
    return summary


def _summaries(by_name: dict[str, list[dict[str, Any]]], work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, runs in by_name.items():
        first = runs[0]
        out[name] = {
            **{f"{k}_ms": round(median([r[k] for r in runs]) * 1000, 1) for k in PHASES if k in first},
            "total_ms_all": [round(r["total"] * 1000, 1) for r in runs],
            "modules": first["modules"],
            **({"boto3_imported": first["boto3_imported"]} if "boto3_imported" in first else {}),
            "runs": len(runs),
        }
        if "botocore_path" in first:  # the handler and its variants: which SDK they ran
            out[name]["botocore"] = {
                "version": first["botocore_version"],
                "path": str(Path(first["botocore_path"]).relative_to(work)),
                "services": first["botocore_services"],
            }
    return out


def _ratios(mode: dict[str, Any]) -> dict[str, float]:
    floor = mode["floor"]["total_ms"]
    handler = mode["handler"]["total_ms"]
    baseline = mode["baseline"]["total_ms"]
    # The same ratios with the stand-in's HTTP answer time (moto, per process) taken out of both sides.
    h_wait = mode["handler"]["server_wait_ms"]
    b_wait = mode["baseline"]["server_wait_ms"]
    return {
        "handler_vs_floor": round(handler / floor, 2),
        "handler_vs_floor_with_clients": round(handler / mode["floor_clients"]["total_ms"], 2),
        "speedup_vs_pickle": round(baseline / handler, 2),
        "handler_vs_floor_excl_server_wait": round((handler - h_wait) / floor, 2),
        "speedup_vs_pickle_excl_server_wait": round((baseline - b_wait) / (handler - h_wait), 2),
    }


# What each hack saves: the cold start without it minus the cold start with it (both else equal).
HACKS = (
    ("trim_botocore", "handler_stock_sdk", "handler", "layers/predict-deps/trim_botocore.py"),
    ("rest_app", "handler_powertools_resolver", "handler", "lead_ai/api/router.py"),
)


def hacks_ab(samples: dict[str, list[dict[str, Any]]], variants: list[HandlerVariant]) -> dict[str, Any]:
    """Each variant against the shipped handler, and each hack as the difference it makes. Deltas are the
    difference of medians and, more robust on a busy machine, the median of the per-round differences
    (every round runs every variant once, back to back)."""
    shipped = median([r["total"] for r in samples["handler"]]) * 1000
    rows = []
    for variant in variants:
        total = median([r["total"] for r in samples[variant.name]]) * 1000
        rows.append(
            {
                "variant": variant.name,
                "label": variant.label,
                **{
                    f"{k}_ms": round(median([r[k] for r in samples[variant.name]]) * 1000, 1)
                    for k in ("imports", "model_load", "first_answer", "total", "server_wait")
                },
                "modules": samples[variant.name][0]["modules"],
                "delta_vs_shipped_ms": round(total - shipped, 1),
                "delta_vs_shipped_pct": round(100 * (total - shipped) / shipped, 1),
                "ratio_vs_shipped": round(total / shipped, 3),
                **_paired("paired_delta_vs_shipped", samples[variant.name], samples["handler"]),
            }
        )
    hacks = {}
    for name, without, with_, source in HACKS:
        saved = (
            median([r["total"] for r in samples[without]]) * 1000
            - median([r["total"] for r in samples[with_]]) * 1000
        )
        hacks[name] = {
            "source": source,
            "without": without,
            "with": with_,
            "saves_ms": round(saved, 1),
            "saves_pct_of_shipped_cold_start": round(100 * saved / shipped, 1),
            **_paired("paired_saving", samples[without], samples[with_]),
        }
    return {"shipped_total_ms": round(shipped, 1), "variants": rows, "hacks": hacks}


def _paired(prefix: str, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-round a - b (ms): its median, interquartile range, and in how many rounds a was slower."""
    differences = [(x["total"] - y["total"]) * 1000 for x, y in zip(a, b, strict=True)]
    return {
        f"{prefix}_ms_median": round(median(differences), 1),
        f"{prefix}_ms_iqr": [round(percentile(differences, 25), 1), round(percentile(differences, 75), 1)],
        f"{prefix}_rounds_positive": f"{sum(d > 0 for d in differences)}/{len(differences)}",
    }


def measure_warm(
    python312: Path, work: Path, probe: Path, path: list[Path], env_base: dict[str, str], cfg: Path
) -> dict[str, Any]:
    env = child_env(env_base, path, bytecode=True, empty_cache=work / "empty-pycache")
    data = run_child(python312, probe, cfg, env, work, timeout=1800)
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
            "p50_ms": round(percentile(lat, 50) * 1000, 3),
            "p90_ms": round(percentile(lat, 90) * 1000, 3),
            "p99_ms": round(percentile(lat, 99) * 1000, 3),
            "max_ms": round(max(lat) * 1000, 3),
            "bare_run_p50_ms": round(percentile(bare, 50) * 1000, 3),
            "bare_run_p99_ms": round(percentile(bare, 99) * 1000, 3),
            "p50_vs_bare_run": round(percentile(lat, 50) / percentile(bare, 50), 2),
        }
    return out


def measure_training(
    python312: Path, work: Path, probe: Path, build: Path, years: list[int]
) -> dict[str, Any]:
    import numpy as np

    from lead_ai_dev.synthetic import lead_counts

    path = [build / p / "python" for p in TRAIN_PARTS]
    env = child_env(
        {"AWS_DEFAULT_REGION": "us-east-1"}, path, bytecode=True, empty_cache=work / "empty-pycache"
    )
    out = {}
    for y in years:
        # Made here: the generator is a developer tool, not in the bundle the probe runs on.
        stamps, counts = lead_counts(datetime(2020, 1, 1, tzinfo=UTC), 8760 * y, seed=11)
        np.save(work / f"train-{y}.npy", counts)
        cfg = work / f"train-{y}.json"
        cfg.write_text(
            json.dumps({"counts_npy": str(work / f"train-{y}.npy"), "first_timestamp": int(stamps[0])})
        )
        data = run_child(python312, probe, cfg, env, work, timeout=3600)
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
