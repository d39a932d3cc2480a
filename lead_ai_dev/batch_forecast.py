"""`lead-ai forecast`: train on a history CSV, export to ONNX, forecast through onnxruntime, write a CSV.

Input: long CSV with a header, `series_id,timestamp,value` (or `timestamp,value` for one series; the
aliases `unique_id`, `ds` and `y` are accepted). Timestamps are epoch seconds or ISO 8601 (a timestamp
without an offset is read as UTC). Each series must sit on the regular grid of `--interval`; slots
absent from the file, or with an empty value, are missing observations.

Output: `series_id,timestamp,value,lower,upper` for steps 1..horizon after each series' last
timestamp, timestamps written in the style of the input. The model is trained by the production code
path (lead_ai.forecasting.training.train.train_forecaster: one global model for all series in the file) and the
forecasts come from the exported ONNX bytes through lead_ai.forecasting.inference.OnnxForecaster, i.e. what the
prediction Lambda serves. No pandas: stdlib csv + numpy.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from lead_ai.domain.calendars import HOLIDAY_CALENDARS
from lead_ai.domain.intervals import parse_interval

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


# ---------------------------------------------------------------------------------------------- input


def _parse_time(text: str, line: int) -> tuple[int, str]:
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
    if stamp.tzinfo is None:
        return int(stamp.replace(tzinfo=UTC).timestamp()), "naive"
    return int(stamp.timestamp()), "utc"


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


def read_history(stream: Iterable[str], interval_seconds: int) -> HistoryTable:
    """Parse the long CSV into regular-grid series (see the module docstring for the rules)."""
    from lead_ai.forecasting.training.train import SeriesData

    reader = csv.reader(stream)
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
        ts, style = _parse_time(row[ts_col], line)
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

    series = []
    for sid, slots in points.items():
        stamps = np.fromiter(slots.keys(), dtype=np.int64, count=len(slots))
        vals = np.fromiter(slots.values(), dtype=np.float64, count=len(slots))
        first = int(stamps.min())
        offset = stamps - first
        off_grid = offset % interval_seconds != 0
        if off_grid.any():
            bad = int(stamps[np.argmax(off_grid)])
            raise InputError(
                f"series {sid!r}: timestamp {bad} is not on the {interval_seconds} s grid that starts at "
                f"{first} (check --interval)"
            )
        index = offset // interval_seconds
        grid = np.full(int(index.max()) + 1, np.nan)
        grid[index] = vals
        series.append(SeriesData(sid, grid, first, interval_seconds))
    return HistoryTable(series=series, time_style=styles.pop())


# ---------------------------------------------------------------------------------------------- core


def forecast_series(
    series: Sequence[Any],
    horizon: int,
    *,
    level: float = 0.8,
    min_points: int | None = None,
    holidays: str = "none",
    settings_overrides: dict[str, Any] | None = None,
) -> BatchForecast:
    """Train (production path), export, load the ONNX bytes in onnxruntime and forecast every series."""
    from lead_ai.domain.intervals import min_points_for_interval
    from lead_ai.forecasting.inference import OnnxForecaster
    from lead_ai.forecasting.training.train import TrainingSettings, train_forecaster

    if horizon < 1:
        raise InputError(f"--horizon must be >= 1, got {horizon}")
    kwargs: dict[str, Any] = {"max_horizon": int(horizon), "level": float(level), "holidays": holidays}
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
    )


# ---------------------------------------------------------------------------------------------- output


def _format_time(ts: int, style: str) -> str:
    if style == "epoch":
        return str(ts)
    stamp = datetime.fromtimestamp(ts, tz=UTC)
    if style == "naive":
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_forecast(out: TextIO, batch: BatchForecast, time_style: str) -> int:
    """Write the forecast CSV; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["series_id", "timestamp", "value", "lower", "upper"])
    rows = 0
    for sid, arr in batch.forecasts.items():
        last = batch.last_timestamps[sid]
        for h in range(arr.value.shape[0]):
            ts = last + (h + 1) * batch.interval_seconds
            writer.writerow(
                [sid, _format_time(ts, time_style)]
                + [f"{float(v):.6g}" for v in (arr.value[h], arr.lower[h], arr.upper[h])]
            )
            rows += 1
    return rows


# ---------------------------------------------------------------------------------------------- CLI


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
        choices=HOLIDAY_CALENDARS,
        default="none",
        help="holiday calendar of the series' market, used as a feature (default none)",
    )
    parser.add_argument("--save-model", default=None, help="also write the ONNX model bytes to this path")
    parser.add_argument(
        "--report", default=None, help="also write a JSON report: backtest metrics and timings"
    )


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
        with open(args.input, newline="", encoding="utf-8") as stream:
            table = read_history(stream, interval)
        read_s = time.perf_counter() - t0
        batch = forecast_series(
            table.series,
            int(args.horizon),
            level=float(args.level),
            min_points=args.min_points,
            holidays=args.holidays,
        )
    except FileNotFoundError as exc:
        print(f"error: cannot read {exc.filename}: no such file", file=sys.stderr)
        return 2
    except ValueError as exc:  # InputError, InsufficientHistoryError, bad interval / level
        print(f"error: {exc}", file=sys.stderr)
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
