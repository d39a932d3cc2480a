"""A user's mistake on the command line is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lead_ai_dev.cli import main
from tests.conftest import ROOT


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors, and errors said with SystemExit("error: …")
        code = exc.code if isinstance(exc.code, int) else 1
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["generate", "--days", "0"], "argument --days: must be at least 1, got 0"),
        (["generate", "--days", "-3"], "argument --days: must be at least 1, got -3"),
        (["demo", "--days", "0"], "argument --days: must be at least 1, got 0"),
        (["stack", "--port", "99999"], "argument --port: must be a port number from 1 to 65535, got 99999"),
        (["serve", "--port", "-1"], "argument --port: must be a port number from 1 to 65535, got -1"),
        (["worker", "--concurrency", "0"], "argument --concurrency: must be at least 1, got 0"),
    ],
)
def test_a_value_out_of_range_is_a_usage_error_naming_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], says: str
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # a worker that got past its flags stops at once
    code, err = _error(capsys, argv)
    assert code == 2 and says in err and "Traceback" not in err, err


def test_an_output_file_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing-directory" / "leads.csv"
    code, err = _error(capsys, ["generate", "--days", "1", "-o", str(target)])
    assert (code, err) == (1, f"error: {target}: No such file or directory\n")


def test_a_directory_given_as_the_file_to_ingest_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = _error(capsys, ["ingest", str(tmp_path), "--series", "acme", "--api", "http://127.0.0.1:9"])
    assert (code, err) == (1, f"error: {tmp_path}: Is a directory\n")


def test_invoke_names_an_unknown_function_and_an_event_that_is_not_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = ["--template", str(ROOT / "template.yaml")]
    event = tmp_path / "event.json"
    event.write_text("{}")
    code, err = _error(capsys, [*template, "invoke", "NoSuchFunction", "-e", str(event)])
    assert code == 1 and err.startswith(
        "error: NoSuchFunction is not a function in template.yaml; functions:"
    )
    event.write_text("not json")
    code, err = _error(capsys, [*template, "invoke", "PredictFunction", "-e", str(event)])
    assert code == 1 and err.startswith(f"error: --event {event} is not JSON:"), err
    code, err = _error(capsys, [*template, "invoke", "PredictFunction", "-e", str(tmp_path / "none.json")])
    assert (code, err) == (1, f"error: {tmp_path / 'none.json'}: No such file or directory\n")


def test_worker_names_a_function_the_queue_does_not_trigger(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: the name is checked first
    code, err = _error(capsys, ["--template", str(ROOT / "template.yaml"), "worker", "--function", "Nope"])
    assert code == 1 and err.startswith("error: no single SQS-triggered function Nope in the template"), err
