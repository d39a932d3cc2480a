"""`lead-ai staffing`: the staffing plan of a forecast CSV (what `lead-ai forecast` writes), through the same
Erlang C code as `GET /series/{id}/staffing` (lead_ai.domain.staffing.staffing_plan).

The forecast CSV holds the point forecast and one central interval (`--level` of the forecast run), i.e.
three quantiles: (1 - level) / 2 (`lower`), 0.5 (`value`) and (1 + level) / 2 (`upper`). `--quantile`
must be one of them: 0.5 plans on the point forecast, 0.9 on the upper bound of an 80 % forecast. Days are
the timestamps' own dates (local dates when the forecast was made with `--timezone`).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from lead_ai.domain.intervals import interval_name, parse_interval
from lead_ai.domain.opening_hours import minutes_of_week, opening_hours
from lead_ai.domain.staffing import (
    MAX_STAFFING_INTERVAL,
    StaffingAssumptions,
    plans_staffing,
    staffing_plan,
    validate_assumptions,
)


class StaffingInputError(ValueError):
    """The forecast file or the options break a rule; the message says which."""


def add_staffing_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = StaffingAssumptions()
    parser.add_argument("--input", required=True, help="forecast CSV: series_id,timestamp,value,lower,upper")
    parser.add_argument("--output", required=True, help="plan CSV to write: one row per interval")
    parser.add_argument("--daily", default=None, help="also write agent hours per day to this CSV")
    parser.add_argument("--series", default=None, help="the series to plan (default: the file's only one)")
    parser.add_argument("--interval", default="1h", help="the forecast's interval (default 1h)")
    parser.add_argument(
        "--level", type=float, default=0.8, help="the forecast's interval level (default 0.8)"
    )
    for name in StaffingAssumptions._fields:
        parser.add_argument(
            "--" + name.replace("_", "-"), type=float, default=getattr(defaults, name), dest=name,
            help=f"default {getattr(defaults, name):g}",
        )  # fmt: skip
    parser.add_argument(
        "--open-hours", default=None, dest="open_hours",
        help="when reps answer, on the timestamps' own clock: HH:MM-HH:MM (default all day)",
    )  # fmt: skip
    parser.add_argument(
        "--open-days", default=None, dest="open_days",
        help="the days the opening hours apply: mon-fri, or days and ranges comma separated (default all)",
    )  # fmt: skip


def run_staffing_command(args: argparse.Namespace) -> int:
    """Run `lead-ai staffing`; 0 when the plan was written, 2 for bad input."""
    try:
        assumptions = StaffingAssumptions(
            **{name: getattr(args, name) for name in StaffingAssumptions._fields}
        )
        validate_assumptions(assumptions)
        opening = opening_hours(args.open_hours, args.open_days)
        interval = parse_interval(args.interval)
        opening.check_grid(interval)
        if not plans_staffing(interval):  # the API's rule (GET /series/{id}/staffing): a 400 naming interval
            raise StaffingInputError(
                f"--interval {args.interval}: staffing needs an interval of at most "
                f"{interval_name(MAX_STAFFING_INTERVAL)} (Erlang C plans an interval's leads as arriving "
                "evenly through it); plan a daily forecast's staff from an hourly one"
            )
        with open(args.input, newline="", encoding="utf-8") as stream:
            rows = _series_rows(list(csv.DictReader(stream)), args.series)
        times = [row["timestamp"] for row in rows]
        leads = np.array([float(row["value"]) for row in rows])
        planned = _planned(rows, assumptions.quantile, float(args.level))
        minutes = minutes_of_week([_wall_seconds(t) for t in times])
        plan = staffing_plan(
            times, leads, planned, [_date(t) for t in times], interval, assumptions, opening, minutes
        )
    except FileNotFoundError as exc:
        print(f"error: cannot read {exc.filename}: no such file", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _write(Path(args.output), plan.plan)
    if args.daily:
        _write(Path(args.daily), plan.daily)
    for day in plan.daily:
        print(
            f"{day['date']}  {day['leads']:>9.1f} leads  {day['agent_hours']:>7.1f} agent hours",
            file=sys.stderr,
        )
    print(
        json.dumps({"assumptions": plan.assumptions, "leads_after_closing": plan.leads_after_closing}),
        file=sys.stderr,
    )
    return 0


def _series_rows(rows: list[dict[str, str]], series: str | None) -> list[dict[str, str]]:
    if not rows:
        raise StaffingInputError("the forecast file has no rows")
    missing = {"timestamp", "value", "lower", "upper"} - set(rows[0])
    if missing:
        raise StaffingInputError(f"the forecast file lacks column(s) {sorted(missing)}")
    ids = sorted({row.get("series_id", "") for row in rows})
    if series is None and len(ids) > 1:
        raise StaffingInputError(
            f"the file holds {len(ids)} series: name one with --series ({', '.join(ids[:5])}...)"
        )
    wanted = series if series is not None else ids[0]
    picked = [row for row in rows if row.get("series_id", "") == wanted]
    if not picked:
        raise StaffingInputError(f"no series {wanted!r} in the forecast file")
    return picked


def _planned(rows: list[dict[str, str]], quantile: float, level: float) -> np.ndarray:
    columns = {0.5: "value", round((1 + level) / 2, 6): "upper", round((1 - level) / 2, 6): "lower"}
    column = columns.get(round(quantile, 6))
    if column is None:
        raise StaffingInputError(
            f"--quantile {quantile:g}: a forecast made at --level {level:g} has the quantiles "
            f"{', '.join(f'{q:g}' for q in sorted(columns))}; forecast again with --level {abs(2 * quantile - 1):g}"
        )
    return np.array([float(row[column]) for row in rows])


def _wall_seconds(timestamp: str) -> int:
    """The timestamp's own wall-clock time (its offset's local time; UTC for epoch seconds and Z) as
    seconds since 1970-01-01 00:00 on that clock."""
    text = timestamp.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.replace(tzinfo=UTC).timestamp())


def _date(timestamp: str) -> str:
    text = timestamp.strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text), UTC).date().isoformat()
    return text[:10]  # ISO 8601: the date the timestamp's own clock shows


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["timestamp"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
