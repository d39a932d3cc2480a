"""Fleet benchmark (issue 12): the daily fan-out against the local stack, in one run.

Run:  make bench-fleet            (= OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fleet.py)
      python benchmarks/fleet.py [--series 200] [--throughput-series 10] [--skip-sizing]

Sections, in order (each on a fresh local stack: lead_ai_dev.local.stack, moto on 127.0.0.1):
  1. sizing: one production training (1 year hourly, horizon 168, TrainingSettings defaults) in a fresh
     process: wall seconds, CPU seconds (user + system, every thread), peak RSS. The worker's memory and
     timeout in template.yaml come from these figures (docs/fleet.md, "Sizing").
  2. planner: --series series in the catalogue (10 % brand new: 14-30 days), every one due, with 1 and
     then 5 model versions each (VERSION# items and a CURRENT pointer written directly: the planner only
     reads items, it never looks at what a version holds). PlannerFunction runs on the schedule event;
     its wall time and the registry items it reads (botocore hooks: ScannedCount of each Query) are
     reported beside what the former full-table scan (`series_needing_training`) would read.
  3. fan-out: the same mix ingested through IngestFunction with mixed intervals (1h, 30min, 15min, 1d) and
     history lengths; two schedules at once (two PlannerFunction runs with different event ids: every
     message twice) plus one poison message; the local poller (in-process, the template's batch size)
     drains the queue into TrainWorkerFunction with a canned training (the real result of one production
     training, returned for every series: this section measures the plumbing, not the model). Checks:
     0 series trained twice, 0 lost (each queued series has a version for its revision, or its message
     is in the dead-letter queue), exactly 1 message (the poison one) in the dead-letter queue.
  4. throughput: --throughput-series hourly series with short histories (42-50 days) trained for real,
     production settings, by `lead-ai worker --concurrency 2` (two processes, like two Lambda
     containers): trainings completed per minute, cold starts included. A production training takes
     ~10 s whatever the history length (training rows are capped at 60,000 a series), so the 200-series run
     of section 3 uses the canned training: 180 real trainings at concurrency 2 take ~30 min here.
  5. cost per training (benchmarks/pooled.py): CPU seconds of one production training (1 y hourly, horizon
     168) with the settings before the cut and with today's, in fresh processes; one pooled-model
     training at the production caps; the Lambda cost per series per day.
  6. the pooled model on short histories (benchmarks/pooled.py): pooled vs per-series vs seasonal naive,
     M4 Hourly truncated to 14 and 28 days, bike and taxi: MASE and 80 % coverage.
Writes benchmarks/results/fleet.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LeadAI")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "fleet.json"
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
# Every history ends here: a run does not depend on the day it is made (a Monday noon, no holiday near).
HISTORY_END = datetime(2026, 11, 9, 12, tzinfo=UTC)
# The functions' logs and metrics stay quiet: the benchmark prints its own summary.
QUIET = {
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "LEAD_AI_REGISTRY_TTL_SECONDS": "0",
}
MAX_RECEIVE = 3  # template.yaml TrainingMaxReceiveCount default

_SIZING_CHILD = """
import json, resource, sys, time
def peak_kib():  # this process's own peak (ru_maxrss keeps the forking parent's after exec)
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
from datetime import UTC, datetime
from lead_ai_dev.synthetic import recent_lead_counts
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
stamps, values = recent_lead_counts(365, seed=11, now=datetime(2026, 11, 9, 12, tzinfo=UTC))
before = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter()
result = train_forecaster([SeriesData("sizing", values.astype(float), int(stamps[0]), 3600)], TrainingSettings())
wall = time.perf_counter() - wall
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
json.dump({"points": int(len(values)), "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
           "cpu_per_wall": round(cpu / wall, 2), "peak_rss_mib": round(peak_kib() / 1024, 1),
           "onnx_kib": round(len(result.onnx_bytes) / 1024, 1), "backtest_mase": round(result.metrics["mase"], 4)},
          sys.stdout)
"""


@dataclass(frozen=True)
class SeriesPlan:
    series_id: str
    interval_seconds: int
    days: int
    brand_new: bool


def fleet_mix(count: int) -> list[SeriesPlan]:
    """10 % brand new (hourly, 14-30 days: less history than a model of its own needs); the rest established,
    with mixed intervals and lengths (each above the minimum: 1,000 hours, whatever the interval)."""
    plans: list[SeriesPlan] = []
    new = count // 10
    for i in range(new):
        plans.append(SeriesPlan(f"new-{i:03d}", 3600, 14 + (i * 7) % 17, True))
    kinds = [(3600, 42, 75)] * 6 + [(1800, 42, 60), (900, 42, 50), (3600, 42, 75), (86400, 45, 400)]
    for i in range(count - new):
        interval, low, high = kinds[i % len(kinds)]
        plans.append(SeriesPlan(f"team-{i:03d}", interval, low + (i * 13) % (high - low + 1), False))
    return plans


def observations(plan: SeriesPlan, seed: int) -> list[dict[str, Any]]:
    from lead_ai.domain.isotime import iso_utc
    from lead_ai_dev.synthetic import lead_counts

    periods = plan.days * 86_400 // plan.interval_seconds
    start = HISTORY_END - timedelta(seconds=periods * plan.interval_seconds)
    rate = 12.0 * plan.interval_seconds / 3600
    stamps, counts = lead_counts(
        start, periods, seed=seed, interval_seconds=plan.interval_seconds, base_rate=rate
    )
    return [{"timestamp": iso_utc(t), "value": float(v)} for t, v in zip(stamps, counts, strict=True)]


# ------------------------------------------------------------------------------------------ sections


def measure_sizing() -> dict[str, Any]:
    """One production training in a fresh process (its CPU and peak memory are the training's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _SIZING_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    data: dict[str, Any] = json.loads(out.stdout)
    data["python"] = platform.python_version()
    return data


def measure_planner(stack: Any, plans: list[SeriesPlan], versions_per_series: int) -> dict[str, Any]:
    """PlannerFunction on `plans`, every one due, each with `versions_per_series` versions; one established
    series in 20 is pool-served (its versions lost to its pool: no CURRENT, due in the POOL_SERVED
    partition), so both of the DueIndex's partitions are read."""
    from lead_ai.storage.clients import client
    from lead_ai.storage.dynamo import n, s
    from lead_ai.storage.observations import CHUNK_SLOTS
    from lead_ai.storage.registry_table import CURRENT, POOL_SERVED, SERIES, key
    from lead_ai.storage.series_writes import MAX_CHUNKS_PER_WRITE, SeriesWriter
    from lead_ai_dev.local.invoke import invoke
    from lead_ai_dev.local.reads import counting_reads

    dynamodb = client("dynamodb")
    table = stack.names["RegistryTable"]
    established = [plan.series_id for plan in plans if not plan.brand_new]
    pool_served = set(established[::20])
    writer = SeriesWriter(dynamodb, stack.names["ObservationsTable"], table)
    group = MAX_CHUNKS_PER_WRITE * CHUNK_SLOTS  # the most slots one write may hold
    for plan in plans:
        points = plan.days * 86_400 // plan.interval_seconds
        for start in range(0, points, group):
            slots = range(start, min(points, start + group))
            writer.ingest(
                plan.series_id, plan.interval_seconds, [(k * plan.interval_seconds, 1.0) for k in slots]
            )
        for major in range(1, versions_per_series + 1):
            record = f"VERSION#{major:06d}.000000.000000"
            item = {**key(plan.series_id, record), "version": s(f"{major}.0.0"), "size_bytes": n(1)}
            dynamodb.put_item(TableName=table, Item=item)
        if versions_per_series and plan.series_id not in pool_served:
            item = {**key(plan.series_id, CURRENT), "version": s(f"{versions_per_series}.0.0")}
            dynamodb.put_item(TableName=table, Item=item)
        if plan.series_id in pool_served:  # as its last training left it: its own model lost to the pool
            dynamodb.update_item(
                TableName=table,
                Key=key(plan.series_id, SERIES),
                UpdateExpression="SET pool_served = :p, due = :p",
                ExpressionAttributeValues={":p": s(POOL_SERVED)},
            )
    total_items = dynamodb.scan(TableName=table, Select="COUNT")["ScannedCount"]
    with counting_reads(dynamodb, table) as reads:
        started = time.perf_counter()
        outcome = invoke(stack.template, "PlannerFunction", _schedule_event(), QUIET)
        seconds = time.perf_counter() - started
    return {
        "series": len(plans),
        "versions_per_series": versions_per_series,
        "registry_items": total_items,
        "planner_seconds": round(seconds, 3),
        "items_read": reads.total,
        "reads_by_operation": dict(reads.items),
        "calls_by_operation": dict(reads.calls),
        "queued": outcome["queued"],
        "too_short": len(outcome["too_short"]),
        "pool_served": len(outcome["pool_served"]),
        # What the former planner (a Scan filtered on SERIES items) read: every item of the table.
        "former_full_scan_items_read": total_items,
    }


def run_fan_out(stack: Any, plans: list[SeriesPlan], canned: Any) -> dict[str, Any]:
    """Ingest `plans`, plan twice (duplicates) plus a poison message, drain with the in-process poller."""
    import lead_ai.forecasting.training.train as train_module
    from lead_ai.storage.clients import client
    from lead_ai_dev.local.invoke import invoke
    from lead_ai_dev.local.reads import counting_reads
    from lead_ai_dev.local.worker import LocalPoller, queue_trigger

    started = time.perf_counter()
    for seed, plan in enumerate(plans):
        _ingest(stack, plan, seed)
    ingest_seconds = time.perf_counter() - started

    plans_out = []
    dynamodb = client("dynamodb")
    for _ in range(2):  # two schedules at once: a manual run beside the daily one
        with counting_reads(dynamodb, stack.names["RegistryTable"]) as reads:
            t0 = time.perf_counter()
            outcome = invoke(stack.template, "PlannerFunction", _schedule_event(), QUIET)
            plans_out.append(
                {
                    "seconds": round(time.perf_counter() - t0, 3),
                    "queued": outcome["queued"],
                    "too_short": len(outcome["too_short"]),
                    "pool_served": len(outcome["pool_served"]),
                    "items_read": reads.total,
                }
            )
    sqs = client("sqs")
    sqs.send_message(
        QueueUrl=stack.queue_urls["TrainingQueue"], MessageBody='{"series_id": "nobody", "rev": "x"}'
    )

    calls: Counter[str] = Counter()

    def canned_training(series: Any, *args: Any, **kwargs: Any) -> Any:
        calls[series[0].series_id] += 1
        return canned

    original = train_module.train_forecaster
    train_module.train_forecaster = canned_training
    try:
        template = stack.template
        poller = LocalPoller(
            template, queue_trigger(template), retry_after_seconds=1, wait_seconds=0, overrides=QUIET
        )
        t0 = time.perf_counter()
        totals = poller.run(until_empty=True, timeout_seconds=3600)
        drain_seconds = time.perf_counter() - t0
    finally:
        train_module.train_forecaster = original

    dead = _dead_letters(stack)
    audit = _audit(stack, plans, dead)
    return {
        "series": len(plans),
        "brand_new": sum(p.brand_new for p in plans),
        "intervals": dict(Counter(_interval_name(p.interval_seconds) for p in plans)),
        "ingest_seconds": round(ingest_seconds, 1),
        "planner_runs": plans_out,
        "messages_sent": sum(p["queued"] for p in plans_out) + 1,
        "drain_seconds": round(drain_seconds, 1),
        "messages_per_minute": round(totals.received / drain_seconds * 60, 1),
        "deliveries": totals.received,
        "deliveries_failed": totals.failed,
        "training_calls": sum(calls.values()),
        "training": "canned (one real production training's result, returned for every series)",
        **audit,
        "dead_letter_bodies": [m["Body"] for m in dead],
    }


def run_throughput(stack: Any, count: int) -> dict[str, Any]:
    """`count` short hourly series trained for real by `lead-ai worker --concurrency 2`."""
    from lead_ai_dev.local.invoke import invoke

    plans = [SeriesPlan(f"live-{i:02d}", 3600, 42 + i % 9, False) for i in range(count)]
    for seed, plan in enumerate(plans):
        _ingest(stack, plan, 1000 + seed)
    outcome = invoke(stack.template, "PlannerFunction", _schedule_event(), QUIET)
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "env.json"
        env_file.write_text(json.dumps({"Parameters": QUIET}))
        log = Path(tmp) / "worker.log"
        command = [sys.executable, "-m", "lead_ai_dev.cli", "--template", str(TEMPLATE), "worker"]
        command += ["--concurrency", "2", "--until-empty", "--retry-after", "60", "--env-vars", str(env_file)]
        started = time.perf_counter()
        with log.open("w") as out:
            result = subprocess.run(
                command, cwd=ROOT, env={**os.environ}, stdout=out, stderr=subprocess.STDOUT
            )
        seconds = time.perf_counter() - started
        lines = log.read_text().splitlines()
    if result.returncode != 0:
        raise SystemExit("lead-ai worker failed:\n" + "\n".join(lines[-30:]))
    audit = _audit(stack, plans, _dead_letters(stack))
    return {
        "series": count,
        "history_days": f"{min(p.days for p in plans)}-{max(p.days for p in plans)}",
        "settings": "production (template defaults: LEAD_AI_MIN_TRAINING_POINTS 1000, LEAD_AI_MAX_HORIZON 168)",
        "concurrency": 2,
        "queued": outcome["queued"],
        "seconds": round(seconds, 1),
        "trainings_per_minute": round(audit["trained"] / seconds * 60, 2),
        "seconds_per_training_per_worker": round(seconds * 2 / max(audit["trained"], 1), 1),
        "worker_batches": sum("batch of" in line for line in lines),
        **audit,
    }


def pooled_model_accuracy() -> dict[str, Any] | None:
    """Pooled vs per-series vs seasonal naive on short histories (M4 Hourly truncated to 14 and 28 days; bike,
    taxi): MASE and 80 % coverage (benchmarks/pooled.py has the protocol)."""
    from pooled import pooled_model_accuracy as measure

    return measure()


def cpu_per_training() -> dict[str, Any] | None:
    """CPU seconds per training (1 y hourly, horizon 168, production settings) before and after the cut,
    one pooled-model training at the production caps, and the Lambda cost per series per day
    (benchmarks/pooled.py)."""
    from pooled import cpu_per_training as measure

    return measure()


# ------------------------------------------------------------------------------------------ helpers


def _schedule_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "schedule.json").read_text())
    event["id"] = str(uuid.uuid4())
    return event


def _interval_name(seconds: int) -> str:
    from lead_ai.domain.intervals import interval_name

    return interval_name(seconds)


def _ingest(stack: Any, plan: SeriesPlan, seed: int) -> None:
    from lead_ai_dev.local.events import api_event, load_event
    from lead_ai_dev.local.invoke import invoke

    body = json.dumps(
        {"interval": _interval_name(plan.interval_seconds), "observations": observations(plan, seed)}
    )
    event = api_event(load_event(EVENTS, "ingest-observations.json"), series_id=plan.series_id, body=body)
    response = invoke(stack.template, "IngestFunction", event, QUIET)
    if response["statusCode"] != 200:
        raise SystemExit(f"ingest of {plan.series_id} failed: {response['body']}")


def _dead_letters(stack: Any) -> list[dict[str, Any]]:
    from lead_ai.storage.clients import client

    seen: dict[str, dict[str, Any]] = {}
    for _ in range(50):
        messages = (
            client("sqs")
            .receive_message(
                QueueUrl=stack.queue_urls["TrainingDeadLetterQueue"],
                MaxNumberOfMessages=10,
                VisibilityTimeout=60,
            )
            .get("Messages", [])
        )
        if not messages:
            break
        seen.update({m["MessageId"]: m for m in messages})
    return list(seen.values())


def _audit(stack: Any, plans: list[SeriesPlan], dead: list[dict[str, Any]]) -> dict[str, Any]:
    """Trained twice (two versions for one history revision), lost (queued, neither trained nor dead-lettered)."""
    from lead_ai.storage.catalogue import SeriesCatalogue
    from lead_ai.storage.clients import client
    from lead_ai.storage.registry import ModelTracker

    catalogue = SeriesCatalogue(client("dynamodb"), stack.names["RegistryTable"])
    tracker = ModelTracker(client("dynamodb"), stack.names["RegistryTable"], _NoAnalytics())
    dead_series = {json.loads(m["Body"]).get("series_id") for m in dead if m["Body"].startswith("{")}
    trained = trained_twice = lost = still_due_new = 0
    for plan in plans:
        series = catalogue.get_series(plan.series_id)
        assert series is not None, plan.series_id
        revisions = Counter(v.history_revision for v in tracker.list_versions(plan.series_id))
        if plan.brand_new:
            still_due_new += int(not revisions)
            continue
        trained += int(revisions[series.revision] >= 1)
        trained_twice += sum(1 for count in revisions.values() if count > 1)
        lost += int(revisions[series.revision] == 0 and plan.series_id not in dead_series)
    return {
        "trained": trained,
        "trained_twice": trained_twice,
        "lost": lost,
        "brand_new_left_due": still_due_new,
        "dead_letter_messages": len(dead),
    }


class _NoAnalytics:
    def track(self, event: str, series_id: str, values: Any = None) -> None:
        return None


def _canned_result() -> tuple[Any, float]:
    """One real production training (45 days hourly), whose result section 3 hands every series."""
    from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
    from lead_ai_dev.synthetic import recent_lead_counts

    stamps, values = recent_lead_counts(45, seed=5, now=HISTORY_END)
    started = time.perf_counter()
    result = train_forecaster(
        [SeriesData("canned", values.astype(float), int(stamps[0]), 3600)], TrainingSettings()
    )
    return result, time.perf_counter() - started


def _fresh(stack: Any) -> None:
    """An empty stack and cold handlers: moto keeps its state across server instances in one process."""
    from lead_ai_dev.local.invoke import forget_loaded_handlers

    stack.reset()
    stack.create_resources()
    forget_loaded_handlers()


def _machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "git_commit": commit.stdout.strip(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--throughput-series", type=int, default=10)
    parser.add_argument("--skip-sizing", action="store_true")
    args = parser.parse_args(argv)

    from lead_ai_dev.local.stack import running_stack

    # The in-process handlers share this process's Powertools singletons, created at their first import.
    os.environ.update(QUIET)
    report: dict[str, Any] = {"machine_at_start": _machine()}
    plans = fleet_mix(args.series)
    if not args.skip_sizing:
        print(
            "1. sizing: one production training (1 y hourly, horizon 168) in a fresh process ...", flush=True
        )
        report["sizing"] = measure_sizing()
        print(f"   {report['sizing']}", flush=True)

    print(f"2. planner: {len(plans)} due series with 1 and with 5 versions each ...", flush=True)
    report["planner"] = []
    for versions in (1, 5):
        with running_stack(TEMPLATE) as stack:
            _fresh(stack)
            row = measure_planner(stack, plans, versions)
        report["planner"].append(row)
        print(f"   {row}", flush=True)

    print("3. fan-out: ingest, two schedules, poison message, local poller (canned training) ...", flush=True)
    canned, canned_seconds = _canned_result()
    with running_stack(TEMPLATE) as stack:
        _fresh(stack)
        report["fan_out"] = run_fan_out(stack, plans, canned) | {
            "canned_training_seconds": round(canned_seconds, 1)
        }
    print(f"   {report['fan_out']}", flush=True)

    print(
        f"4. throughput: {args.throughput_series} real trainings, lead-ai worker --concurrency 2 ...",
        flush=True,
    )
    with running_stack(TEMPLATE) as stack:
        _fresh(stack)
        report["throughput"] = run_throughput(stack, args.throughput_series)
    print(f"   {report['throughput']}", flush=True)

    print("5. cost per training before/after the cut, and one pooled-model training ...", flush=True)
    report["cpu_per_training"] = cpu_per_training()
    print(f"   {json.dumps(report['cpu_per_training'])}", flush=True)
    print("6. pooled vs per-series vs seasonal naive on 14 and 28 days of history ...", flush=True)
    report["pooled_model_accuracy"] = pooled_model_accuracy()
    print(f"   {json.dumps(report['pooled_model_accuracy']['checks'])}", flush=True)
    report["machine_at_end"] = _machine()
    fan_out = report["fan_out"]
    report["checks"] = {
        "planner_reads_do_not_grow_with_versions": report["planner"][0]["items_read"]
        == report["planner"][1]["items_read"],
        "zero_trained_twice": fan_out["trained_twice"] == 0 and report["throughput"]["trained_twice"] == 0,
        "zero_lost": fan_out["lost"] == 0 and report["throughput"]["lost"] == 0,
        "one_poison_message_in_dlq": fan_out["dead_letter_messages"] == 1,
        "cpu_per_training_at_most_a_third": report["cpu_per_training"]["cpu_ratio_after_to_before"] <= 1 / 3,
        "pool_beats_seasonal_naive_with_coverage_75_85": all(
            all(check.values()) for check in report["pooled_model_accuracy"]["checks"].values()
        ),
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["checks"], indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
