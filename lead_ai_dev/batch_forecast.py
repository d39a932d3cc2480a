"""`lead-ai forecast`: train on a history CSV, export to ONNX, forecast through onnxruntime, write a CSV.

Input: long CSV with a header, `series_id,timestamp,value` (or `timestamp,value` for one series; the
aliases `unique_id`, `ds` and `y` are accepted). Timestamps are epoch seconds or ISO 8601 (a timestamp
without an offset is a local time of `--timezone`, UTC by default). Each series must sit on the regular
grid of `--interval`; slots absent from the file, or with an empty value, are missing observations.

Output: `series_id,timestamp,value,lower,upper` for steps 1..horizon after each series' last
timestamp, timestamps written in the style of the input (with the local offset for a `--timezone` other
than UTC). The model is trained by the production code
path (lead_ai.forecasting.training.train.train_forecaster: one global model for all series in the file) and the
forecasts come from the exported ONNX bytes through lead_ai.forecasting.inference.OnnxForecaster, i.e. what the
prediction Lambda serves. No pandas: stdlib csv + numpy.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.intervals import DAY_SECONDS, interval_name, parse_interval
from lead_ai.domain.isotime import iso_utc
from lead_ai.domain.localtime import UTC_ZONE, iso_local_array, local_to_utc, local_wall_time, parse_timezone

__all__ = [
    "BatchForecast",
    "HistoryTable",
    "add_forecast_arguments",
    "forecast_series",
    "read_history",
    "run_forecast_command",
    "write_forecast",
]

_SERIES_COLUMNS = ("series_id", "unique_id")
_TIME_COLUMNS = ("timestamp", "ds")
_VALUE_COLUMNS = ("value", "y")
DEFAULT_SERIES_ID = "series"


class InputError(ValueError):
    """The history file breaks a rule; the message names the line."""


@dataclass(frozen=True)
class HistoryTable:
    """Parsed history: regular-grid series plus the timestamp style to write back."""

    series: list[Any]  # list[SeriesData]; typed loosely to keep sklearn-free imports lazy
    time_style: str  # "epoch", "naive" or "utc"


@dataclass
class BatchForecast:
    """Forecasts per series id plus the training record and timings (seconds)."""

    forecasts: dict[str, Any]  # series_id -> ForecastArrays
    last_timestamps: dict[str, int]
    interval_seconds: int
    metrics: dict[str, float]
    onnx_bytes: bytes
    timings: dict[str, float] = field(default_factory=dict)
    spec: Any = None  # the served model's FeatureSpec (its zone's clock attached): local times of the output


# ---------------------------------------------------------------------------------------------- input


def _parse_time(text: str, line: int, timezone: str = UTC_ZONE, interval: int = 0) -> tuple[int, str]:
    raw = text.strip()
    if not raw:
        raise InputError(f"line {line}: empty timestamp")
    try:
        return int(raw), "epoch"
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number == int(number):
        return int(number), "epoch"
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError as exc:
        raise InputError(f"line {line}: cannot read timestamp {raw!r} (epoch seconds or ISO 8601)") from exc
    style = "naive" if stamp.tzinfo is None else "utc"
    if interval >= DAY_SECONDS:  # a daily series' slot is a local date, kept at its midnight UTC
        local = stamp if stamp.tzinfo is None else local_wall_time(int(stamp.timestamp()), timezone)
        return int(datetime.combine(local.date(), clock_time(0), UTC).timestamp()), style
    if stamp.tzinfo is not None:
        return int(stamp.timestamp()), style
    try:
        return local_to_utc(stamp, timezone), style  # a naive timestamp is a local time of --timezone
    except ValueError as exc:
        raise InputError(f"line {line}: {exc}") from exc


def _parse_value(text: str, line: int) -> float:
    raw = text.strip()
    if raw == "" or raw.lower() in ("nan", "na", "null", "none"):
        return math.nan
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError(f"line {line}: value {raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise InputError(f"line {line}: value {raw!r} is not finite")
    return value


def _column(header: list[str], names: Sequence[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def read_history(stream: Iterable[str], interval_seconds: int, timezone: str = UTC_ZONE) -> HistoryTable:
    """Parse the long CSV into regular-grid series (see the module docstring for the rules); naive
    timestamps are local times in `timezone` (one the clocks skip or repeat is an error naming its line)."""
    points, style = _read_points(csv.reader(stream), interval_seconds, timezone)
    series = [_on_grid(sid, slots, interval_seconds) for sid, slots in points.items()]
    return HistoryTable(series=series, time_style=style)


def _read_points(
    reader: Iterator[list[str]], interval_seconds: int, timezone: str
) -> tuple[dict[str, dict[int, float]], str]:
    """Each series' {timestamp: value} in file order, and the one timestamp style the file uses."""
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the input file is empty (expected a header line)") from None
    sid_col = _column(header, _SERIES_COLUMNS)
    ts_col = _column(header, _TIME_COLUMNS)
    val_col = _column(header, _VALUE_COLUMNS)
    if ts_col is None or val_col is None:
        raise InputError(
            f"header {header!r} must name columns series_id,timestamp,value (or timestamp,value)"
        )
    points: dict[str, dict[int, float]] = {}
    styles: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise InputError(f"line {line}: expected {len(header)} columns, got {len(row)}")
        sid = row[sid_col].strip() if sid_col is not None else DEFAULT_SERIES_ID
        if not sid:
            raise InputError(f"line {line}: empty series_id")
        ts, style = _parse_time(row[ts_col], line, timezone, interval_seconds)
        styles.add(style)
        value = _parse_value(row[val_col], line)
        slots = points.setdefault(sid, {})
        if ts in slots:
            raise InputError(f"line {line}: duplicate timestamp {row[ts_col].strip()!r} for series {sid!r}")
        slots[ts] = value
    if not points:
        raise InputError("the input file has no data rows")
    if len(styles) > 1:
        raise InputError(f"timestamps mix styles {sorted(styles)}: use one (epoch seconds or ISO 8601)")
    return points, styles.pop()


def _on_grid(sid: str, slots: dict[int, float], interval_seconds: int) -> Any:
    """One series (a SeriesData) on its regular grid from its first timestamp, NaN where a slot is missing."""
    from lead_ai.forecasting.training.train import SeriesData

    stamps = np.fromiter(slots.keys(), dtype=np.int64, count=len(slots))
    vals = np.fromiter(slots.values(), dtype=np.float64, count=len(slots))
    first = int(stamps.min())
    offset = stamps - first
    off_grid = offset % interval_seconds != 0
    if off_grid.any():
        bad = int(stamps[np.argmax(off_grid)])
        raise InputError(
            f"series {sid!r}: timestamp {iso_utc(bad)} is not on the {interval_name(interval_seconds)} "
            f"grid that starts at {iso_utc(first)} (check --interval)"
        )
    index = offset // interval_seconds
    grid = np.full(int(index.max()) + 1, np.nan)
    grid[index] = vals
    return SeriesData(sid, grid, first, interval_seconds)


# ---------------------------------------------------------------------------------------------- core


def forecast_series(
    series: Sequence[Any],
    horizon: int,
    *,
    level: float = 0.8,
    min_points: int | None = None,
    holidays: str = "none",
    timezone: str = UTC_ZONE,
    settings_overrides: dict[str, Any] | None = None,
) -> BatchForecast:
    """Train (production path), export, load the ONNX bytes in onnxruntime and forecast every series."""
    from lead_ai.domain.intervals import min_points_for_interval
    from lead_ai.forecasting.inference import OnnxForecaster
    from lead_ai.forecasting.training.train import TrainingSettings, train_forecaster

    if horizon < 1:
        raise InputError(f"--horizon must be >= 1, got {horizon}")
    kwargs: dict[str, Any] = {
        "max_horizon": int(horizon),
        "level": float(level),
        "holidays": holidays,
        "timezone": timezone,
    }
    # The default minimum is a duration: 1000 hours of history whatever the interval (about six weeks)
    kwargs["min_points"] = (
        int(min_points)
        if min_points is not None
        else min_points_for_interval(
            TrainingSettings.min_points, series[0].interval_seconds if series else 3600
        )
    )
    kwargs.update(settings_overrides or {})
    settings = TrainingSettings(**kwargs)

    t0 = time.perf_counter()
    result = train_forecaster(series, settings)
    t1 = time.perf_counter()
    forecaster = OnnxForecaster.from_bytes(result.onnx_bytes)
    if forecaster.max_horizon < horizon:
        raise InputError(
            f"--horizon {horizon} is longer than this history can train for: at most "
            f"{forecaster.max_horizon} steps (it keeps {settings.min_backtest_origins} backtest origins)"
        )
    t2 = time.perf_counter()
    windows = [s.values[-forecaster.spec.window :] for s in series]
    stamps = [s.last_timestamp for s in series]
    arrays = forecaster.predict_many(windows, stamps, int(horizon), level=float(level))
    t3 = time.perf_counter()
    return BatchForecast(
        forecasts={s.series_id: a for s, a in zip(series, arrays, strict=True)},
        last_timestamps={s.series_id: s.last_timestamp for s in series},
        interval_seconds=series[0].interval_seconds,
        metrics=dict(result.metrics),
        onnx_bytes=result.onnx_bytes,
        timings={"train_export_s": t1 - t0, "load_s": t2 - t1, "predict_s": t3 - t2},
        spec=forecaster.spec,
    )


# ---------------------------------------------------------------------------------------------- output


def _format_time(ts: int, style: str) -> str:
    if style == "epoch":
        return str(ts)
    stamp = datetime.fromtimestamp(ts, tz=UTC)
    if style == "naive":
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def forecast_times(batch: BatchForecast, last: int, steps: int, time_style: str) -> list[str]:
    """The timestamps of steps 1..steps after `last`, in the input's style; a series in a zone other than
    UTC gets local times with their offset (a naive local time would be ambiguous when the clocks go back)."""
    stamps = last + batch.interval_seconds * np.arange(1, steps + 1, dtype=np.int64)
    spec = batch.spec
    if time_style == "epoch" or spec is None or spec.timezone == UTC_ZONE:
        return [_format_time(int(ts), time_style) for ts in stamps.tolist()]
    wall, offsets = spec.wall_clock(stamps)
    return iso_local_array(wall, offsets)


def write_forecast(out: TextIO, batch: BatchForecast, time_style: str) -> int:
    """Write the forecast CSV; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["series_id", "timestamp", "value", "lower", "upper"])
    rows = 0
    for sid, arr in batch.forecasts.items():
        times = forecast_times(batch, batch.last_timestamps[sid], arr.value.shape[0], time_style)
        for h in range(arr.value.shape[0]):
            writer.writerow(
                [sid, times[h]] + [f"{float(v):.6g}" for v in (arr.value[h], arr.lower[h], arr.upper[h])]
            )
            rows += 1
    return rows


def add_forecast_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `lead-ai forecast`."""
    parser.add_argument(
        "--input", required=True, help="history CSV: series_id,timestamp,value (or timestamp,value)"
    )
    parser.add_argument("--horizon", required=True, type=int, help="steps to forecast after each series' end")
    parser.add_argument(
        "--output", required=True, help="forecast CSV to write: series_id,timestamp,value,lower,upper"
    )
    parser.add_argument(
        "--interval", default="1h", help="grid interval of the history, e.g. 1h, 30min, 1d (default 1h)"
    )
    parser.add_argument(
        "--min-points",
        type=int,
        default=None,
        help="observed points each series needs (default: training default)",
    )
    parser.add_argument(
        "--level", type=float, default=0.8, help="central prediction-interval level (default 0.8)"
    )
    parser.add_argument(
        "--holidays",
        type=_calendar_argument,
        default="none",
        help="holiday calendar of the series' market, used as a feature: none, a country (US, GB) or a "
        "country and subdivision (DE-BY) (default none)",
    )
    parser.add_argument(
        "--timezone",
        type=_timezone_argument,
        default=UTC_ZONE,
        help="IANA time zone of the series' market, e.g. America/New_York: naive timestamps are read in it, "
        "the daily shape and holidays follow its local day, and the output carries local offsets (default UTC)",
    )
    parser.add_argument("--save-model", default=None, help="also write the ONNX model bytes to this path")
    parser.add_argument(
        "--report", default=None, help="also write a JSON report: backtest metrics and timings"
    )


# The training core names its settings; the user typed flags. Its messages say "(min_points)".
_FLAGS = {
    "min_points": "--min-points",
    "max_horizon": "--horizon",
    "level": "--level",
    "holidays": "--holidays",
}


def as_typed(message: str) -> str:
    """A message from the training core with its setting names replaced by the flags that set them."""
    for setting, flag in _FLAGS.items():
        message = re.sub(rf"\b{setting}\b", flag, message)
    return message


def _timezone_argument(text: str) -> str:
    try:
        return parse_timezone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _calendar_argument(text: str) -> str:
    try:
        return parse_calendar(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_forecast_command(args: argparse.Namespace) -> int:
    """Run `lead-ai forecast`; returns the process exit code (0 ok, 2 bad input or too little history)."""
    started = time.perf_counter()
    try:
        interval = parse_interval(args.interval)
        if not 0.0 < float(args.level) < 1.0:
            raise InputError(f"--level must be within (0, 1), got {args.level}")
        if int(args.horizon) < 1:
            raise InputError(f"--horizon must be >= 1, got {args.horizon}")
        t0 = time.perf_counter()
        with open(args.input, newline="", encoding="utf-8-sig") as stream:  # -sig: an Excel BOM is fine
            table = read_history(stream, interval, args.timezone)
        read_s = time.perf_counter() - t0
        batch = forecast_series(
            table.series,
            int(args.horizon),
            level=float(args.level),
            min_points=args.min_points,
            holidays=args.holidays,
            timezone=args.timezone,
            # Not a CLI flag: benchmarks/accuracy.py --settings sets it for a tuning run.
            settings_overrides=getattr(args, "settings_overrides", None),
        )
    except FileNotFoundError as exc:
        print(f"error: cannot read {exc.filename}: no such file", file=sys.stderr)
        return 2
    except ValueError as exc:  # InputError, InsufficientHistoryError, bad interval / level
        print(f"error: {as_typed(str(exc))}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # ExportParityError: the ONNX model does not match; nothing is written
        print(f"error: {exc}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    out_path = Path(args.output)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as out:
        rows = write_forecast(out, batch, table.time_style)
    tmp.replace(out_path)  # never leave a half-written forecast behind
    if args.save_model:
        Path(args.save_model).write_bytes(batch.onnx_bytes)
    timings = {"read_s": read_s, **batch.timings, "write_s": time.perf_counter() - t0}
    timings["total_s"] = time.perf_counter() - started
    if args.report:
        report = {
            "series": len(batch.forecasts),
            "horizon": int(args.horizon),
            "level": float(args.level),
            "holidays": args.holidays,
            "timezone": args.timezone,
            "rows_written": rows,
            "backtest": batch.metrics,
            "timings": timings,
            "model_bytes": len(batch.onnx_bytes),
        }
        Path(args.report).write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    m = batch.metrics
    print(
        f"forecast: {len(batch.forecasts)} series x {args.horizon} steps -> {args.output}; backtest MASE "
        f"{m['mase']:.3f} (seasonal naive {m['baseline_mase']:.3f}), {args.level:.0%} coverage "
        f"{m['coverage']:.1%}; {timings['total_s']:.1f} s",
        file=sys.stderr,
    )
    return 0
