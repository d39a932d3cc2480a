"""The CLI verbs in-process on the local stack (AWS_ENDPOINT_URL: the test session's moto server), and
`lead-ai invoke` from outside the repository root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lead_ai.domain.isotime import iso_utc
from lead_ai_dev.cli import main
from tests.conftest import ROOT, Api, lead_history


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_ingest_sends_a_multi_series_csv_with_a_byte_order_mark(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an Excel "CSV UTF-8" file (a byte-order mark) holding two series, rows interleaved
    stamps, values = lead_history(3, seed=2)
    rows = ["series_id,timestamp,value"]
    for t, v in zip(stamps, values, strict=True):
        rows += [f"north,{iso_utc(t)},{int(v)}", f"south,{iso_utc(t)},{int(v) + 1}"]
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows))
    # When it is ingested with no --series
    code = main(["ingest", str(path)])
    # Then each series got its own rows, and the command printed both answers
    assert code == 0
    answers = json.loads(capsys.readouterr().out)
    assert {a["series_id"]: a["accepted"] for a in answers} == {"north": 72, "south": 72}
    assert main(["models", "north"]) == 0
    assert json.loads(capsys.readouterr().out)["versions"] == []


def test_ingest_of_a_single_series_json_file_then_train_refuses_too_little_history(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the API's own JSON body in a file
    stamps, values = lead_history(2, seed=3)
    path = tmp_path / "leads.json"
    observations = [{"timestamp": iso_utc(t), "value": float(v)} for t, v in zip(stamps, values, strict=True)]
    path.write_text(json.dumps({"observations": observations}))
    # When it is ingested into a series named on the command line, then trained
    assert main(["ingest", str(path), "--series", "tiny", "--interval", "1h"]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 48
    code = main(["train", "tiny"])
    # Then training exits 1 with the API's 422 on stderr, and nothing on stdout
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "HTTP 422 insufficient_history" in captured.err


def test_a_bad_value_is_reported_with_its_line_in_the_file(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a CSV whose fourth line has a value that is not a number
    path = tmp_path / "leads.csv"
    path.write_bytes(
        _csv(
            [
                "timestamp,value",
                "2026-11-02T00:00:00Z,3",
                "2026-11-02T01:00:00Z,4",
                "2026-11-02T02:00:00Z,lots",
            ]
        )
    )
    # When it is ingested
    code = main(["ingest", str(path), "--series", "typo"])
    # Then the command fails naming the API's rule and the line of the file; nothing was stored
    err = capsys.readouterr().err
    assert code == 1
    assert "value must be a number" in err and "line 4 of the file" in err
    assert main(["models", "typo"]) == 1
    assert "HTTP 404 series_not_found" in capsys.readouterr().err


def test_a_file_without_series_ids_needs_the_series_flag(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(_csv(["timestamp,value", "2026-11-02T00:00:00Z,3"]))
    assert main(["ingest", str(path)]) == 1
    assert "--series" in capsys.readouterr().err


def test_invoke_finds_the_template_from_a_subdirectory_and_says_how_elsewhere(tmp_path: Path) -> None:
    # Given a shell in events/ (below the template), and one outside the repository
    # (PYTHONPATH: this checkout's lead_ai_dev, whatever the venv's editable install points at)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "lead_ai_dev.cli", "invoke", "PredictFunction", "-e"]
    # When invoke runs in the subdirectory
    inside = subprocess.run(
        [*command, "models.json"], cwd=ROOT / "events", env=env, capture_output=True, text=True, timeout=120
    )
    # Then it found ../template.yaml and ran the handler (a 404 on an empty stack: exit 1, the response printed)
    assert json.loads(inside.stdout)["statusCode"] == 404, inside.stderr
    # and outside the repository it says what to do, without a traceback
    outside = subprocess.run(
        [*command, str(ROOT / "events" / "models.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outside.returncode != 0
    assert "no template.yaml" in outside.stderr and "--template" in outside.stderr
    assert "Traceback" not in outside.stderr
