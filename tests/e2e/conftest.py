"""`lead-ai serve` as a user runs it: a subprocess on a free port with its own embedded stack, called
over real HTTP (urllib). One server and one trained series for the session: training is the slow part."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from lead_ai.domain.isotime import iso_utc
from lead_ai_dev.local.stack import free_port
from tests.conftest import ROOT, lead_history

LEAD_AI = [sys.executable, "-m", "lead_ai_dev.cli"]
SERIES = "acme-inbound"
API_KEY = "e2e-local-key"


@dataclass
class Served:
    base_url: str
    api_key: str
    process: subprocess.Popen[str]
    banner: list[str]  # what it printed at start, then a line per request
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)  # what setting the series up answered

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        key: str | None = "default",
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if key is not None:
            request.add_header("x-api-key", self.api_key if key == "default" else key)
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                return answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.call(method, path, **kwargs)
        return status, json.loads(body) if body else None


def clean_environment() -> dict[str, str]:
    """This environment without AWS_* (the test session's moto) and any LEAD_AI_API_* of the user's."""
    drop = ("AWS_", "LEAD_AI_API_", "LEAD_AI_LOCAL_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def start_server(
    port: int, env: dict[str, str], extra: list[str] | None = None
) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [*LEAD_AI, "serve", "--port", str(port), "--quiet", *(extra or [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line.rstrip("\n"))
        if "Ctrl-C" in line:
            # Keep reading its output (a line per request): a full pipe would block the server.
            threading.Thread(target=_drain, args=(process.stdout, banner), daemon=True).start()
            return process, banner
    process.kill()
    raise AssertionError("lead-ai serve did not start:\n" + "\n".join(banner))


def _drain(stream: Any, lines: list[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))


def history_csv(days: int = 60, *, bom: bool = False) -> bytes:
    stamps, values = lead_history(days, seed=11)
    lines = ["timestamp,value", *(f"{iso_utc(t)},{int(v)}" for t, v in zip(stamps, values, strict=True))]
    text = "\n".join(lines) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    """`lead-ai serve` on a free port, its API key set through LEAD_AI_LOCAL_API_KEY."""
    port = free_port()
    process, banner = start_server(port, clean_environment() | {"LEAD_AI_LOCAL_API_KEY": API_KEY})
    server = Served(f"http://127.0.0.1:{port}", API_KEY, process, banner)
    yield server
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def trained(served: Served) -> Served:
    """The served API with 60 days of hourly history ingested as CSV (an Excel BOM and all) and trained."""
    served.answers["ingest"] = served.json(
        "POST",
        f"/series/{SERIES}/observations",
        body=history_csv(60, bom=True),
        headers={"Content-Type": "text/csv"},
    )
    served.answers["train"] = served.json("POST", f"/series/{SERIES}/train")
    return served
