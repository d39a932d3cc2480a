"""`lead-ai forecast` use case (lead_ai_dev.batch_forecast): CSV in, ONNX-served forecasts out."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai_dev.batch_forecast import (
    InputError,
    add_forecast_arguments,
    read_history,
    run_forecast_command,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
N = 24 * 7 * 5

# End to end through the CLI with real trainings: `make test` runs them, `make check` does not.
pytestmark = pytest.mark.slow


def counts(n: int, seed: int, scale: float) -> np.ndarray:
    t = np.arange(n)
    hour = t % 24
    lam = scale * np.where((hour >= 8) & (hour < 20), 1.0 + np.sin(np.pi * (hour - 8) / 12), 0.0)
    return np.random.default_rng(seed).poisson(lam).astype(np.float64)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lead-ai forecast")
    add_forecast_arguments(parser)
    return parser.parse_args(argv)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def multi_series_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    # Given two series in one long CSV with epoch timestamps; series b has a gap and an empty value
    tmp = tmp_path_factory.mktemp("multi")
    history = tmp / "history.csv"
    base = int(START.timestamp())
    data = {"a": counts(N, 1, 10.0), "b": counts(N - 48, 2, 200.0)}
    with open(history, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["series_id", "timestamp", "value"])
        for sid, vals in data.items():
            for i, v in enumerate(vals):
                if sid == "b" and 300 <= i < 310:
                    continue  # missing slots
                w.writerow([sid, base + i * 3600, "" if (sid == "b" and i == 400) else int(v)])
    out, model, report = tmp / "forecast.csv", tmp / "model.onnx", tmp / "report.json"
    argv = ["--input", str(history), "--horizon", "24", "--output", str(out), "--min-points", "500"]
    code = run_forecast_command(parse([*argv, "--save-model", str(model), "--report", str(report)]))
    return {"code": code, "out": out, "model": model, "report": report, "data": data, "base": base}


def test_forecast_writes_every_series_and_step_on_the_grid(multi_series_run: dict[str, object]) -> None:
    # When `lead-ai forecast --horizon 24` runs / Then it succeeds and writes 24 rows per series
    assert multi_series_run["code"] == 0
    rows = read_csv(multi_series_run["out"])  # type: ignore[arg-type]
    assert list(rows[0]) == ["series_id", "timestamp", "value", "lower", "upper"]
    data: dict[str, np.ndarray] = multi_series_run["data"]  # type: ignore[assignment]
    base: int = multi_series_run["base"]  # type: ignore[assignment]
    for sid, vals in data.items():
        mine = [r for r in rows if r["series_id"] == sid]
        # continuing each series' own clock, in the input's style (epoch seconds)
        expected = [base + (len(vals) - 1 + h) * 3600 for h in range(1, 25)]
        assert [int(r["timestamp"]) for r in mine] == expected
        for r in mine:
            lo, v, hi = float(r["lower"]), float(r["value"]), float(r["upper"])
            assert 0.0 <= lo <= v <= hi


def test_forecast_values_are_what_the_onnx_model_serves(multi_series_run: dict[str, object]) -> None:
    # Given the ONNX bytes the command saved / When OnnxForecaster predicts from the same history
    forecaster = OnnxForecaster.from_bytes(Path(multi_series_run["model"]).read_bytes())  # type: ignore[arg-type]
    rows = read_csv(multi_series_run["out"])  # type: ignore[arg-type]
    data: dict[str, np.ndarray] = multi_series_run["data"]  # type: ignore[assignment]
    base: int = multi_series_run["base"]  # type: ignore[assignment]
    vals = data["a"]
    direct = forecaster.predict(vals, base + (len(vals) - 1) * 3600, 24)
    written = np.array([float(r["value"]) for r in rows if r["series_id"] == "a"])
    # Then the CSV holds the onnxruntime forecast (to the 6 significant digits written)
    np.testing.assert_allclose(written, direct.value, rtol=1e-5, atol=1e-6)
    report = json.loads(Path(multi_series_run["report"]).read_text())  # type: ignore[arg-type]
    assert report["series"] == 2 and report["rows_written"] == 48
    assert {"mase", "baseline_mase", "coverage"} <= set(report["backtest"])


def test_single_series_iso_timestamps_round_trip(tmp_path: Path) -> None:
    # Given `timestamp,value` with naive ISO timestamps (read as UTC)
    history = tmp_path / "h.csv"
    vals = counts(N, 7, 30.0)
    lines = ["timestamp,value"] + [
        f"{(START + timedelta(hours=i)).strftime('%Y-%m-%d %H:%M:%S')},{int(v)}" for i, v in enumerate(vals)
    ]
    history.write_text("\n".join(lines) + "\n")
    out = tmp_path / "f.csv"
    code = run_forecast_command(
        parse(["--input", str(history), "--horizon", "6", "--output", str(out), "--min-points", "500"])
    )
    # Then the output continues the clock in the same style, under the default series id
    assert code == 0
    rows = read_csv(out)
    first = START + timedelta(hours=len(vals))
    assert [r["timestamp"] for r in rows] == [
        (first + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in range(6)
    ]
    assert {r["series_id"] for r in rows} == {"series"}


def test_too_little_history_exits_2_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "h.csv"
    history.write_text("timestamp,value\n" + "".join(f"{i * 3600},{i % 5}\n" for i in range(200)))
    out = tmp_path / "f.csv"
    code = run_forecast_command(parse(["--input", str(history), "--horizon", "24", "--output", str(out)]))
    assert code == 2
    err = capsys.readouterr().err
    assert "200 observed points" in err
    # named as the user typed the setting, not as the training core calls it
    assert "--min-points" in err and "min_points" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "timestamp,value\n0,1\n1800,2\n",
            "1970-01-01T00:30:00Z is not on the 1h grid that starts at 1970-01",
        ),
        ("timestamp,value\n0,1\n0,2\n", "duplicate timestamp"),
        ("timestamp,value\n0,1\n3600,abc\n", "line 3: value 'abc'"),
        ("timestamp,value\n0,1\n3600,inf\n", "not finite"),
        ("time,amount\n0,1\n", "must name columns"),
        ("timestamp,value\nyesterday,1\n", "cannot read timestamp"),
        ("", "empty"),
        ("timestamp,value\n0,1\n2024-01-01T00:00:00Z,1\n", "mix styles"),
    ],
)
def test_read_history_rejects_bad_input_with_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_history(io.StringIO(text), 3600)


def test_read_history_places_values_on_the_grid_with_nan_for_missing_slots() -> None:
    # Given rows out of order, a skipped slot and an empty value, in UTC ISO 8601
    text = (
        "series_id,timestamp,value\n"
        "x,2024-01-01T03:00:00Z,4\nx,2024-01-01T00:00:00Z,1\nx,2024-01-01T01:00:00Z,\n"
    )
    table = read_history(io.StringIO(text), 3600)
    (s,) = table.series
    assert table.time_style == "utc"
    assert s.first_timestamp == int(START.timestamp())
    np.testing.assert_array_equal(s.values, [1.0, np.nan, np.nan, 4.0])


def test_bad_interval_or_level_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "h.csv"
    history.write_text("timestamp,value\n0,1\n")
    base = ["--input", str(history), "--horizon", "3", "--output", str(tmp_path / "o.csv")]
    assert run_forecast_command(parse([*base, "--interval", "7min"])) == 2
    assert run_forecast_command(parse([*base, "--level", "1.5"])) == 2
    assert run_forecast_command(parse([*base[:1], str(tmp_path / "missing.csv"), *base[2:]])) == 2
    err = capsys.readouterr().err
    assert "interval" in err and "--level" in err and "no such file" in err


def test_holidays_flag_reaches_the_model_and_the_report(tmp_path: Path) -> None:
    # Given five weeks of history from 2024-01-01 (New Year's Day in it)
    history = tmp_path / "h.csv"
    vals = counts(N, 3, 30.0)
    base = int(START.timestamp())
    history.write_text(
        "timestamp,value\n" + "".join(f"{base + 3600 * i},{int(v)}\n" for i, v in enumerate(vals))
    )
    out, model, report = tmp_path / "f.csv", tmp_path / "m.onnx", tmp_path / "r.json"
    argv = ["--input", str(history), "--horizon", "6", "--output", str(out), "--min-points", "500"]
    # When it is forecast with --holidays US
    code = run_forecast_command(
        parse([*argv, "--holidays", "US", "--save-model", str(model), "--report", str(report)])
    )
    # Then the served model's spec carries the calendar and the report says which one was used
    assert code == 0
    assert OnnxForecaster.from_bytes(model.read_bytes()).spec.holidays == "US"
    assert json.loads(report.read_text())["holidays"] == "US"
    # And the default is no calendar; an unknown one is refused by the parser
    assert parse(argv).holidays == "none"
    with pytest.raises(SystemExit):
        parse([*argv, "--holidays", "XX"])


def test_an_excel_byte_order_mark_is_not_read_as_part_of_the_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an Excel "CSV UTF-8" file: a byte-order mark before the header
    history = tmp_path / "h.csv"
    text = "timestamp,value\n" + "".join(f"{i * 3600},{i % 5}\n" for i in range(200))
    history.write_bytes(b"\xef\xbb\xbf" + text.encode())
    # When it is forecast
    code = run_forecast_command(
        parse(["--input", str(history), "--horizon", "24", "--output", str(tmp_path / "f.csv")])
    )
    # Then the header is read (the run goes on to the history rule), not refused
    err = capsys.readouterr().err
    assert code == 2 and "200 observed points" in err and "header" not in err
