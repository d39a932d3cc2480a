"""The `lead-ai` command: demo, invoke, stack, generate, forecast, staffing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _project_dir(template: str) -> Path:
    return Path(template).resolve().parent


def _cmd_demo(args: argparse.Namespace) -> int:
    from lead_ai_dev.local.demo import run_demo

    return run_demo(
        _project_dir(args.template),
        days=args.days,
        seed=args.seed,
        horizon=args.horizon,
        verbose=args.verbose,
    )


def _cmd_invoke(args: argparse.Namespace) -> int:
    import os
    from contextlib import nullcontext, redirect_stdout

    from lead_ai_dev.local.invoke import invoke
    from lead_ai_dev.local.stack import running_stack
    from lead_ai_dev.local.template import Template

    event = json.loads(Path(args.event).read_text()) if args.event != "-" else json.load(sys.stdin)
    if os.environ.get("AWS_ENDPOINT_URL"):
        context = nullcontext(None)  # talk to the stack (or AWS) the environment points at
    else:
        print(
            "AWS_ENDPOINT_URL is not set: starting an embedded, empty local stack for this call",
            file=sys.stderr,
        )
        context = running_stack(Path(args.template))  # type: ignore[assignment]
    # As `sam local invoke` does: the function's own output (logs, EMF metrics) on stderr, the response on stdout.
    with context, redirect_stdout(sys.stderr):
        response = invoke(Template(Path(args.template)), args.function, event)
    print(json.dumps(response, indent=2))
    return 0


def _cmd_stack(args: argparse.Namespace) -> int:
    import threading

    from lead_ai_dev.local.stack import LocalStack
    from lead_ai_dev.local.template import Template

    stack = LocalStack(Template(Path(args.template)), args.port).start()
    names = stack.create_resources()
    print(f"local stack on {stack.endpoint} with {', '.join(sorted(names.values()))}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lead-ai", description=__doc__)
    parser.add_argument(
        "--template", default="template.yaml", help="the SAM template (default: ./template.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="ingest generated history, train, forecast — all locally")
    demo.add_argument("--days", type=int, default=90, help="days of hourly history to generate (default 90)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--horizon", type=int, default=24)
    demo.add_argument("--verbose", action="store_true", help="show the functions' JSON logs")
    demo.set_defaults(run=_cmd_demo)

    run = commands.add_parser("invoke", help="run a function of template.yaml in-process (no Docker)")
    run.add_argument("function", help="logical id, e.g. PredictFunction")
    run.add_argument("--event", "-e", required=True, help="event JSON file (events/…) or - for stdin")
    run.set_defaults(run=_cmd_invoke)

    stack = commands.add_parser("stack", help="run the local AWS stand-in (moto) with the template's tables")
    stack.add_argument("--port", type=int, default=4566)
    stack.set_defaults(run=_cmd_stack)

    generate = commands.add_parser("generate", help="write synthetic hourly lead counts as CSV")
    generate.add_argument("--days", type=int, default=90)
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
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
