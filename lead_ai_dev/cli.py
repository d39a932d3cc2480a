"""The `lead-ai` command: serve, the API verbs (ingest, train, forecast-series, models, promote), demo,
invoke, stack, worker, generate, forecast, staffing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _template(args: argparse.Namespace) -> Path:
    """--template, else template.yaml here or in a parent directory (SystemExit saying how otherwise)."""
    from lead_ai_dev.local.template import find_template

    try:
        return find_template(args.template)
    except FileNotFoundError as exc:
        raise SystemExit(f"error: {exc}") from None


def _project_dir(args: argparse.Namespace) -> Path:
    return _template(args).resolve().parent


def _cmd_demo(args: argparse.Namespace) -> int:
    from lead_ai_dev.local.demo import run_demo

    return run_demo(
        _project_dir(args),
        days=args.days,
        seed=args.seed,
        horizon=args.horizon,
        verbose=args.verbose,
    )


def _env_overrides(path: str | None, function: str) -> dict[str, str] | None:
    """`--env-vars FILE` as `sam local invoke` reads it: {"Parameters": {...}, "<LogicalId>": {...}}."""
    if not path:
        return None
    data = json.loads(Path(path).read_text())
    return {k: str(v) for k, v in {**data.get("Parameters", {}), **data.get(function, {})}.items()}


def _cmd_invoke(args: argparse.Namespace) -> int:
    import os
    from contextlib import nullcontext, redirect_stdout

    from lead_ai_dev.local.invoke import invoke
    from lead_ai_dev.local.stack import running_stack
    from lead_ai_dev.local.template import Template

    template = _template(args)
    try:
        event = json.loads(Path(args.event).read_text()) if args.event != "-" else json.load(sys.stdin)
    except ValueError as exc:
        raise SystemExit(f"error: --event {args.event} is not JSON: {exc}") from None
    if args.function not in Template(template).function_ids():
        names = ", ".join(Template(template).function_ids())
        raise SystemExit(f"error: {args.function} is not a function in {template.name}; functions: {names}")
    if os.environ.get("AWS_ENDPOINT_URL"):
        context = nullcontext(None)  # talk to the stack (or AWS) the environment points at
    else:
        print(
            "AWS_ENDPOINT_URL is not set: starting an embedded, empty local stack for this call",
            file=sys.stderr,
        )
        context = running_stack(template)  # type: ignore[assignment]
    # As `sam local invoke` does: the function's own output (logs, EMF metrics) on stderr, the response on stdout.
    with context, redirect_stdout(sys.stderr):
        response = invoke(
            Template(template), args.function, event, _env_overrides(args.env_vars, args.function)
        )
    print(json.dumps(response, indent=2))
    # An error status is a failed call for a script or `make`, as `curl --fail` would have it.
    status = response.get("statusCode") if isinstance(response, dict) else None
    if isinstance(status, int) and status >= 400:
        print(f"{args.function} answered {status}", file=sys.stderr)
        return 1
    return 0


def _cmd_stack(args: argparse.Namespace) -> int:
    import threading

    from lead_ai_dev.local.stack import LocalStack, PortInUseError
    from lead_ai_dev.local.template import Template

    try:
        stack = LocalStack(Template(_template(args)), args.port).start()
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    names = stack.create_resources()
    print(f"local stack on {stack.endpoint} with {', '.join(sorted(names.values()))}")
    for logical_id, url in sorted(stack.queue_urls.items()):
        print(f"  queue {logical_id}: {url}")
    print("in another shell:")
    for key, value in stack.environment().items():
        print(f"  export {key}={value}")
    print("Ctrl-C stops it (its data is in memory only)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    import os

    from lead_ai_dev.local.template import Template
    from lead_ai_dev.local.worker import LocalPoller, queue_trigger

    if not os.environ.get("AWS_ENDPOINT_URL"):
        print("AWS_ENDPOINT_URL is not set: start `lead-ai stack` and export what it prints", file=sys.stderr)
        return 2
    template = Template(_template(args))
    try:
        trigger = queue_trigger(template, args.function)
    except KeyError as exc:
        raise SystemExit(f"error: {exc.args[0]}") from None
    if args.concurrency > 1:
        return _run_worker_processes(args, trigger.maximum_concurrency)
    poller = LocalPoller(
        template,
        trigger,
        retry_after_seconds=args.retry_after,
        wait_seconds=args.wait,
        overrides=_env_overrides(args.env_vars, trigger.function),
    )
    tag = f"[{trigger.function} pid {os.getpid()}]"
    print(
        f"{tag} polling {poller.queue_url} (batch size {trigger.batch_size}, "
        f"ReportBatchItemFailures {'on' if trigger.report_batch_item_failures else 'off'})",
        flush=True,
    )

    def report(result: object) -> None:
        print(f"{tag} {result}", flush=True)

    try:
        totals = poller.run(until_empty=args.until_empty, on_batch=report)
    except KeyboardInterrupt:
        return 0
    print(f"{tag} done: {totals}", flush=True)
    return 0


def _run_worker_processes(args: argparse.Namespace, maximum: int | None) -> int:
    """Concurrency N: N processes, like N Lambda containers (no state shared, each its own cold start)."""
    import subprocess

    count = min(args.concurrency, maximum) if maximum else args.concurrency
    command = [
        sys.executable,
        "-m",
        "lead_ai_dev.cli",
        "--template",
        str(_template(args)),
        "worker",
        "--concurrency",
        "1",
    ]
    command += ["--wait", str(args.wait)] + (["--function", args.function] if args.function else [])
    command += ["--retry-after", str(args.retry_after)] if args.retry_after is not None else []
    command += ["--until-empty"] if args.until_empty else []
    command += ["--env-vars", args.env_vars] if args.env_vars else []
    processes = [subprocess.Popen(command) for _ in range(count)]
    try:
        return max(p.wait() for p in processes)
    except KeyboardInterrupt:
        for p in processes:
            p.terminate()
        for p in processes:
            p.wait(timeout=30)
        return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from lead_ai_dev.synthetic import recent_lead_counts

    stamps, counts = recent_lead_counts(args.days, seed=args.seed)
    out = open(args.output, "w") if args.output != "-" else sys.stdout  # noqa: SIM115
    with out:
        out.write("timestamp,value\n")
        for ts, value in zip(stamps, counts, strict=True):
            out.write(f"{datetime.fromtimestamp(int(ts), UTC).strftime('%Y-%m-%dT%H:%M:%SZ')},{int(value)}\n")
    return 0


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one is argparse's one-line usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {text!r}") from None
    if not 1 <= value <= 65_535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lead-ai", description=__doc__)
    parser.add_argument(
        "--template",
        default=None,
        help="the SAM template (default: template.yaml here or in the nearest parent directory)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    from lead_ai_dev.verbs import add_api_verbs, add_serve

    add_serve(commands)
    add_api_verbs(commands)

    demo = commands.add_parser(
        "demo",
        help="ingest generated history, train four teams and a new team's pool, forecast — all locally",
    )
    demo.add_argument(
        "--days",
        type=positive_int,
        default=90,
        help="days of hourly history of the main team (default 90; its sibling teams have 45, the new team 14)",
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--horizon", type=int, default=24)
    demo.add_argument("--verbose", action="store_true", help="show the functions' JSON logs")
    demo.set_defaults(run=_cmd_demo)

    run = commands.add_parser("invoke", help="run a function of template.yaml in-process (no Docker)")
    run.add_argument("function", help="logical id, e.g. PredictFunction")
    run.add_argument("--event", "-e", required=True, help="event JSON file (events/…) or - for stdin")
    run.add_argument(
        "--env-vars", "-n", help='JSON of variables over the template\'s, as sam: {"Parameters": {..}}'
    )
    run.set_defaults(run=_cmd_invoke)

    stack = commands.add_parser(
        "stack", help="run the local AWS stand-in (moto) with the template's bucket, tables and queues"
    )
    stack.add_argument("--port", type=port_number, default=4566, help="default 4566")
    stack.set_defaults(run=_cmd_stack)

    worker = commands.add_parser(
        "worker", help="poll the local training queue and invoke its function, as Lambda's SQS trigger does"
    )
    worker.add_argument("--function", help="the SQS-triggered function (default: the template's only one)")
    worker.add_argument(
        "--concurrency",
        type=positive_int,
        default=1,
        help="worker processes (capped at MaximumConcurrency; default 1)",
    )
    worker.add_argument(
        "--until-empty", action="store_true", help="stop once no message is visible, in flight or delayed"
    )
    worker.add_argument(
        "--retry-after",
        type=int,
        default=None,
        metavar="SECONDS",
        help="make failed messages visible again after SECONDS (default: the queue's visibility timeout)",
    )
    worker.add_argument("--wait", type=int, default=1, help="long-poll seconds per receive (default 1)")
    worker.add_argument("--env-vars", "-n", help="JSON of variables over the template's (as for invoke)")
    worker.set_defaults(run=_cmd_worker)

    generate = commands.add_parser("generate", help="write synthetic hourly lead counts as CSV")
    generate.add_argument("--days", type=positive_int, default=90)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--output", "-o", default="-")
    generate.set_defaults(run=_cmd_generate)

    from lead_ai_dev.batch_forecast import add_forecast_arguments, run_forecast_command

    forecast = commands.add_parser(
        "forecast", help="train and forecast a CSV of history through the ONNX path"
    )
    add_forecast_arguments(forecast)
    forecast.set_defaults(run=run_forecast_command)

    from lead_ai_dev.staffing_cli import add_staffing_arguments, run_staffing_command

    staffing = commands.add_parser(
        "staffing", help="agents per interval (Erlang C) and agent hours per day for a forecast CSV"
    )
    add_staffing_arguments(staffing)
    staffing.set_defaults(run=run_staffing_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except OSError as exc:
        if exc.filename is None:  # not a file the user named (a socket, …): a bug to show in full
            raise
        # A file that cannot be read or written (missing, a directory, no permission): one line, exit 1.
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
