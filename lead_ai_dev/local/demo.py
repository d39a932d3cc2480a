"""`lead-ai demo`: the whole bundle end to end on this machine, through the real handlers and events.

Ingest generated lead history -> train (ONNX into S3, version into DynamoDB) -> forecast the next day.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lead_ai_dev.local.events import api_event, load_event, response_json
from lead_ai_dev.local.invoke import invoke
from lead_ai_dev.local.stack import running_stack
from lead_ai_dev.synthetic import recent_lead_counts


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The demo prints its own summary; the functions' JSON logs would bury it (`--verbose` shows them).
_QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def _call(template: Any, function: str, event: dict[str, Any], verbose: bool) -> Any:
    response = invoke(template, function, event, None if verbose else _QUIET)
    body = response_json(response)
    if response["statusCode"] >= 400:
        raise SystemExit(f"{function} answered {response['statusCode']}: {json.dumps(body)}")
    return body


def run_demo(
    project_dir: Path,
    *,
    days: int = 90,
    seed: int = 7,
    horizon: int = 24,
    series_id: str = "demo-leads",
    verbose: bool = False,
    end: datetime | None = None,
) -> int:
    """`end`: when the generated history ends (default: the last full hour before now)."""
    events_dir = project_dir / "events"
    with running_stack(project_dir / "template.yaml") as stack:
        template = stack.template
        print(f"local AWS stand-in (moto) on {stack.endpoint}")

        stamps, counts = recent_lead_counts(days, seed=seed, now=end)
        body = json.dumps(
            {
                "observations": [
                    {"timestamp": _iso(t), "value": float(v)} for t, v in zip(stamps, counts, strict=True)
                ]
            }
        )
        started = time.perf_counter()
        ingested = _call(
            template,
            "IngestFunction",
            api_event(load_event(events_dir, "ingest-observations.json"), series_id=series_id, body=body),
            verbose,
        )
        print(
            f"ingested {ingested['accepted']} hourly observations "
            f"({ingested['span']['first']} .. {ingested['span']['last']}) in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        version = _call(
            template,
            "TrainFunction",
            api_event(load_event(events_dir, "train.json"), series_id=series_id),
            verbose,
        )
        metrics = version["metrics"]
        print(
            f"trained model version {version['version']} ({version['status']}, current={version['current']}) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"  backtest MASE {metrics.get('mase', float('nan')):.3f} vs seasonal naive "
            f"{metrics.get('baseline_mase', float('nan')):.3f}; 80% interval coverage "
            f"{metrics.get('coverage', float('nan')):.2f}"
        )
        artifact = version["artifact"]
        print(
            f"  artifact {artifact['s3_key']} ({artifact['size_bytes']} bytes, sha256 {artifact['sha256'][:16]}…)"
        )

        forecast = _call(
            template,
            "PredictFunction",
            api_event(
                load_event(events_dir, "forecast.json"), series_id=series_id, query={"horizon": str(horizon)}
            ),
            verbose,
        )
        print(
            f"\nforecast for '{series_id}' with model {forecast['model_version']}, origin {forecast['origin']}:"
        )
        print(f"{'hour (UTC)':<22}{'leads':>8}{'low (10%)':>11}{'high (90%)':>12}")
        for row in forecast["forecast"]:
            print(f"{row['timestamp']:<22}{row['value']:>8.1f}{row['lower']:>11.1f}{row['upper']:>12.1f}")
    return 0
