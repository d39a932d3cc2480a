"""`lead-ai demo`: the whole bundle end to end on this machine, through the real handlers and events.

Ingest generated lead history (and a brand-new team's two weeks) -> the daily schedule: the planner
queues the due series, the local poller hands the queue to the training worker (ONNX into S3, version
into DynamoDB) -> GET /series -> forecast the next day.
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
from lead_ai_dev.local.worker import LocalPoller, queue_trigger
from lead_ai_dev.synthetic import recent_lead_counts


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The demo prints its own summary; the functions' JSON logs would bury it (`--verbose` shows them).
_QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def _quiet(verbose: bool) -> dict[str, str] | None:
    return None if verbose else _QUIET


def _call(template: Any, function: str, event: dict[str, Any], verbose: bool) -> Any:
    response = invoke(template, function, event, _quiet(verbose))
    body = response_json(response)
    if response["statusCode"] >= 400:
        raise SystemExit(f"{function} answered {response['statusCode']}: {json.dumps(body)}")
    return body


def _ingest(
    template: Any, events_dir: Path, series_id: str, days: int, seed: int, end: Any, verbose: bool
) -> Any:
    stamps, counts = recent_lead_counts(days, seed=seed, now=end)
    body = json.dumps(
        {
            "observations": [
                {"timestamp": _iso(t), "value": float(v)} for t, v in zip(stamps, counts, strict=True)
            ]
        }
    )
    return _call(
        template,
        "IngestFunction",
        api_event(load_event(events_dir, "ingest-observations.json"), series_id=series_id, body=body),
        verbose,
    )


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

        started = time.perf_counter()
        ingested = _ingest(template, events_dir, series_id, days, seed, end, verbose)
        print(
            f"ingested {ingested['accepted']} hourly observations "
            f"({ingested['span']['first']} .. {ingested['span']['last']}) in {time.perf_counter() - started:.1f} s"
        )
        newcomer = _ingest(template, events_dir, f"{series_id}-new-team", 14, seed + 1, end, verbose)
        print(f"ingested {newcomer['accepted']} observations of a brand-new team ({newcomer['series_id']})")

        # The daily schedule: EventBridge -> planner -> training queue -> (local poller) -> training worker.
        planned = invoke(
            template, "PlannerFunction", load_event(events_dir, "schedule.json"), _quiet(verbose)
        )
        print(
            f"\nschedule -> planner: {planned['queued']} training(s) queued; too short for a model of their own: "
            f"{', '.join(planned['too_short']) or 'none'}"
        )
        started = time.perf_counter()
        poller = LocalPoller(template, queue_trigger(template), overrides=_quiet(verbose), wait_seconds=0)
        totals = poller.run(
            until_empty=True,
            on_batch=lambda batch: print(f"queue -> worker ({poller.trigger.function}): {batch}"),
        )
        models = _call(
            template,
            "PredictFunction",
            api_event(load_event(events_dir, "models.json"), series_id=series_id),
            verbose,
        )
        version = models["versions"][0]
        print(
            f"trained model version {version['version']} ({version['status']}, current={version['current']}) "
            f"in {time.perf_counter() - started:.1f} s ({totals.succeeded} message(s) done, {totals.failed} failed)"
        )
        metrics = version["metrics"]
        print(
            f"  backtest MASE {metrics.get('mase', float('nan')):.3f} vs seasonal naive "
            f"{metrics.get('baseline_mase', float('nan')):.3f}; 80% interval coverage "
            f"{metrics.get('coverage', float('nan')):.2f}"
        )
        artifact = version["artifact"]
        print(
            f"  artifact {artifact['s3_key']} ({artifact['size_bytes']} bytes, sha256 {artifact['sha256'][:16]}…)"
        )

        listed = _call(template, "PredictFunction", load_event(events_dir, "series-list.json"), verbose)
        print(f"\nGET /series:\n{'series':<26}{'interval':>9}{'points':>8}{'current':>9}{'due':>6}")
        for row in listed["series"]:
            points = (row["span"] or {}).get("observations", 0)
            print(
                f"{row['series_id']:<26}{row['interval']:>9}{points:>8}"
                f"{row['current_version'] or '-':>9}{'yes' if row['due'] else 'no':>6}"
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
