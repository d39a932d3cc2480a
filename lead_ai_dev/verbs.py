"""`lead-ai serve` and the verbs that mirror the API, one per route:

    lead-ai ingest FILE --series ID [--interval 1h]   POST /series/{id}/observations (per series, in chunks)
    lead-ai train ID                                  POST /series/{id}/train
    lead-ai forecast-series ID --horizon N            GET  /series/{id}/forecast
    lead-ai models ID                                 GET  /series/{id}/models
    lead-ai promote ID VERSION                        POST /series/{id}/models/{version}/promote

Each prints the API's JSON answer on stdout and exits 0, or prints the error on stderr and exits 1 on a
4xx/5xx. With `--api URL` (or LEAD_AI_API_URL) it calls that API over HTTP with `--api-key` (or
LEAD_AI_API_KEY); without, the handlers run in this process on AWS_ENDPOINT_URL's stack.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from lead_ai_dev.api_client import ApiClient, api_client, error_line, series_path


def add_serve(commands: Any) -> None:
    from lead_ai_dev.cli import port_number
    from lead_ai_dev.local.serve import DEFAULT_PORT

    serve = commands.add_parser(
        "serve", help="the API on http://127.0.0.1 with an API key, like `sam local start-api` (no Docker)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    serve.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument("--quiet", action="store_true", help="hide the functions' INFO logs and metrics")
    serve.add_argument(
        "--env-vars",
        type=Path,
        default=None,
        help="JSON of environment values replacing the template's, as for sam local: "
        '{"Parameters": {"LEAD_AI_MIN_TRAINING_POINTS": "200"}, "PredictFunction": {...}}',
    )
    serve.set_defaults(run=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from lead_ai_dev.cli import _template
    from lead_ai_dev.local.serve import run_serve

    return run_serve(_template(args), args.host, args.port, quiet=args.quiet, env_vars=args.env_vars)


def add_api_verbs(commands: Any) -> None:
    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
        parser.add_argument(
            "--api",
            default=os.environ.get("LEAD_AI_API_URL"),
            help="base URL of a deployed API (stack output ApiUrl) or of `lead-ai serve` "
            "(default: LEAD_AI_API_URL; none: the handlers in-process on AWS_ENDPOINT_URL's stack)",
        )
        parser.add_argument(
            "--api-key", default=os.environ.get("LEAD_AI_API_KEY"), help="default: LEAD_AI_API_KEY"
        )
        return parser

    ingest = verb("ingest", "send a CSV or JSON file of observations (POST /series/{id}/observations)")
    ingest.add_argument("file", type=Path, help="CSV timestamp,value or series_id,timestamp,value; or JSON")
    ingest.add_argument("--series", default=None, help="the series (required when the file has no series_id)")
    ingest.add_argument(
        "--interval", default=None, help="15min, 30min, 1h or 1d: fixed at a series' first ingest"
    )
    ingest.set_defaults(run=_cmd_ingest)

    train = verb("train", "train a series now (POST /series/{id}/train)")
    train.add_argument("series_id")
    train.set_defaults(run=lambda a: _call(a, "POST", series_path(a.series_id, "train")))

    forecast = verb("forecast-series", "forecast a stored series (GET /series/{id}/forecast)")
    forecast.add_argument("series_id")
    forecast.add_argument("--horizon", required=True, help="intervals to forecast, 1 to LEAD_AI_MAX_HORIZON")
    forecast.add_argument("--level", default=None, help="central interval level, 0.5 to 0.99 (default 0.8)")
    forecast.set_defaults(run=_cmd_forecast)

    models = verb("models", "list a series' model versions (GET /series/{id}/models)")
    models.add_argument("series_id")
    models.set_defaults(run=lambda a: _call(a, "GET", series_path(a.series_id, "models")))

    promote = verb("promote", "make a version current, e.g. a rollback (POST …/models/{version}/promote)")
    promote.add_argument("series_id")
    promote.add_argument("version")
    promote.set_defaults(
        run=lambda a: _call(a, "POST", series_path(a.series_id, "models", a.version, "promote"))
    )


def _client(args: argparse.Namespace) -> Any:
    from lead_ai_dev.cli import _template

    template = None if args.api else _template(args)
    return api_client(args.api, args.api_key, template or Path("template.yaml"))


def _call(args: argparse.Namespace, method: str, path: str, query: dict[str, str] | None = None) -> int:
    with _client(args) as client:
        return _print_answer(_request(client, method, path, query=query))


def _cmd_forecast(args: argparse.Namespace) -> int:
    query = {"horizon": str(args.horizon)}
    if args.level is not None:
        query["level"] = str(args.level)
    return _call(args, "GET", series_path(args.series_id, "forecast"), query)


def _request(client: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    try:
        return client.request(method, path, **kwargs)
    except OSError as exc:  # URLError, a refused connection, a timeout
        raise SystemExit(f"error: cannot reach the API: {getattr(exc, 'reason', exc)}") from None


def _print_answer(response: Any) -> int:
    if response.status >= 400:
        print(f"error: {error_line(response)}", file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2))
    return 0


_OBSERVATION_FIELD = re.compile(r"^observations\[(\d+)\]")


def _cmd_ingest(args: argparse.Namespace) -> int:
    from lead_ai_dev.observations_file import FileError, read_observations, request_bodies

    try:
        grouped = read_observations(args.file, args.series)
    except FileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summaries = []
    with _client(args) as client:
        for series_id, rows in grouped.items():
            accepted = 0
            answer: dict[str, Any] = {}
            for body, chunk in request_bodies(rows, args.interval):
                response = _request(client, "POST", series_path(series_id, "observations"), body=body)
                if response.status >= 400:
                    where = _where(response, chunk)
                    print(f"error: series {series_id}: {error_line(response)}{where}", file=sys.stderr)
                    if accepted:
                        print(
                            f"  ({accepted} observations of {series_id} were stored before)", file=sys.stderr
                        )
                    return 1
                answer = response.json()
                accepted += int(answer.get("accepted", 0))
            summaries.append({**answer, "accepted": accepted})
    print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
    return 0


def _where(response: Any, chunk: list[Any]) -> str:
    """` at line 19 of the file` when the API's error names an observation of this chunk."""
    try:
        field = str(response.json().get("field") or "")
    except (ValueError, AttributeError):
        return ""
    found = _OBSERVATION_FIELD.match(field)
    if found and int(found[1]) < len(chunk):
        return f" — {chunk[int(found[1])].where} of the file"
    return ""
