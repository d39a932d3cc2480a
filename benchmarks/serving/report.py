"""The report: the machine, the verdicts against issue 4's targets, and the printed table."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

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
    if "cold_start" in results:
        _print_cold(results["cold_start"])
        if "hacks_ab" in results["cold_start"]:
            _print_hacks_ab(results["cold_start"]["hacks_ab"])
    if "warm" in results:
        _print_warm(results["warm"], results.get("warm_ab", {}))
    if "bundles" in results:
        _print_bundles(results["bundles"])
    if "training" in results:
        _print_training(results["training"])
    print("\nTargets (issue 4)")
    for name, v in results["verdicts"].items():
        print(f"  {'PASS' if v['pass'] else 'FAIL'}  {name:<28} {v['value']!s:>10}  (target {v['target']})")


def _print_cold(cold: dict[str, Any]) -> None:
    print(
        f"\n1. Cold start (median of {cold['pyc']['handler']['runs']} fresh processes each, interleaved; ms)"
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
    columns = (
        "imports_ms",
        "clients_ms",
        "model_load_ms",
        "first_answer_ms",
        "total_ms",
        "server_wait_ms",
        "process_wall_ms",
    )
    for mode, label in (("pyc", ".pyc"), ("no_pyc", "no .pyc")):
        for name, title in rows:
            cells = [cold[mode][name].get(k) for k in columns]
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


def _print_hacks_ab(ab: dict[str, Any]) -> None:
    print(
        "\n1b. Cold-start hacks A/B (.pyc; same rounds as above; ms; paired = median of per-round differences)"
    )
    print(
        f"{'PredictFunction variant':<40}{'imports':>8}{'model load':>11}{'total':>7}"
        f"{'vs shipped':>11}{'ratio':>7}{'paired':>8}{'  paired IQR':<16}{'slower':>7}"
    )
    for row in ab["variants"]:
        iqr = row["paired_delta_vs_shipped_ms_iqr"]
        print(
            f"{row['label']:<40}{row['imports_ms']:>8.0f}{row['model_load_ms']:>11.0f}{row['total_ms']:>7.0f}"
            f"{row['delta_vs_shipped_ms']:>+11.1f}{row['ratio_vs_shipped']:>7.2f}"
            f"{row['paired_delta_vs_shipped_ms_median']:>+8.1f}  [{iqr[0]:+.1f}, {iqr[1]:+.1f}]"
            f"{row['paired_delta_vs_shipped_rounds_positive']:>9}"
        )
    print(f"{'hack':<40}{'saves ms':>9}{'% of shipped':>14}{'paired':>8}  paired IQR")
    for name, hack in ab["hacks"].items():
        iqr = hack["paired_saving_ms_iqr"]
        print(
            f"{name:<40}{hack['saves_ms']:>9.1f}{hack['saves_pct_of_shipped_cold_start']:>13.1f}%"
            f"{hack['paired_saving_ms_median']:>8.1f}  [{iqr[0]:+.1f}, {iqr[1]:+.1f}]"
        )


def _print_warm(warm: dict[str, Any], variants: dict[str, Any]) -> None:
    print(
        f"\n2. Warm latency ({warm['requests_per_horizon']} requests per horizon, TTL {warm['ttl_seconds']} s; ms)"
    )
    print(f"{'horizon':<36}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'bare run p50':>14}{'p50 / run':>11}")
    for label, data in (("PredictFunction", warm), *((f"  {name}", v) for name, v in variants.items())):
        for h in ("24", "168"):
            r = data[f"h{h}"]
            print(
                f"{label + ' h=' + h:<36}{r['p50_ms']:>8.3f}{r['p90_ms']:>8.3f}{r['p99_ms']:>8.3f}"
                f"{r['max_ms']:>8.2f}{r['bare_run_p50_ms']:>14.3f}{r['p50_vs_bare_run']:>11.2f}"
            )
    c = warm["dependency_reads_during_loop"]
    print(
        f"reads during the {warm['loop_seconds']} s loop: registry {c['registry_reads']}, "
        f"observations {c['observation_reads']}, S3 {c['s3_reads']}"
    )


def _print_bundles(bundles: dict[str, Any]) -> None:
    print("\n3. Bundles after sam build (function + layers, MiB)")
    print(f"{'function':<18}{'unzipped':>10}{'zipped':>9}  layers")
    for name, b in bundles.items():
        print(f"{name:<18}{b['unzipped_mib']:>10.1f}{b['zipped_mib']:>9.1f}  {' + '.join(b['layers'])}")


def _print_training(training: dict[str, Any]) -> None:
    print("\n4. Training (train_forecaster, production settings, fresh process on the TrainFunction bundle)")
    print(f"{'history':<10}{'points':>8}{'seconds':>9}{'peak RSS MiB':>14}{'parity on':>16}")
    for name, t in training.items():
        print(
            f"{name:<10}{t['points']:>8}{t['seconds']:>9.1f}{t['peak_rss_mib']:>14.0f}{t['parity_engine']:>16}"
        )
