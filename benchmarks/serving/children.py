"""Fresh Python 3.12 processes (Lambda's runtime) that run the probes on a bundle, as Lambda would:
`-S`, `-B`, nothing on PYTHONPATH but the function directory, its layers and the runtime's SDK."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

# What the Lambda Python runtime provides next to the layers (boto3 is not in our layers).
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def find_python312() -> Path:
    candidates = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    found = shutil.which("python3.12")
    for candidate in [*reversed(candidates), *([Path(found)] if found else [])]:
        try:
            subprocess.run([str(candidate), "-c", "pass"], check=True, capture_output=True)
            return candidate
        except (OSError, subprocess.CalledProcessError):
            continue
    raise SystemExit("python3.12 (Lambda's runtime) not found: pyenv install 3.12")


def compile_unchecked(python312: Path, directory: Path, *, shown_as: str | None = None) -> None:
    """Bytecode as the layers ship it: unchecked-hash .pyc (see layers/common.mk)."""
    command = [str(python312), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    if shown_as is not None:
        command += ["-d", shown_as]
    subprocess.run([*command, str(directory)], check=True, capture_output=True)


def lambda_runtime_dir(work: Path, python312: Path) -> Path:
    """boto3 and friends as the Lambda runtime provides them (the driver's copies: the same pinned botocore
    as the layer, untrimmed), with 3.12 bytecode; the same for every variant."""
    runtime = work / "runtime"
    runtime.mkdir()
    for name in LAMBDA_RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        if source.is_dir():
            shutil.copytree(source, runtime / source.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, runtime / source.name)
    compile_unchecked(python312, runtime)
    return runtime


def child_env(base: dict[str, str], path: list[Path], *, bytecode: bool, empty_cache: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        **base,
    }
    if not bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(empty_cache)  # look for .pyc only in an empty tree: compile all
    return env


def run_child(
    python: Path, script: Path, cfg: Path, env: dict[str, str], work: Path, timeout: float = 600
) -> dict[str, Any]:
    """Run one probe (`script CONFIG RESULT`) in a fresh process; its result plus the process wall time."""
    out = work / f"out-{random.getrandbits(48):012x}.json"
    started = time.perf_counter()
    result = subprocess.run(
        [str(python), "-S", "-B", str(script), str(cfg), str(out)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,  # the functions' log and EMF lines, as Lambda's stdout pipe takes them
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{result.stderr[-4000:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    data["process_wall"] = wall
    return data


def import_profile(
    python: Path, env: dict[str, str], work: Path, modules: str, top: int = 15
) -> list[dict[str, Any]]:
    """One `python -X importtime` run: the top-level packages by self time, and the slowest imports."""
    result = subprocess.run(
        [str(python), "-S", "-B", "-X", "importtime", "-c", modules],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    per_package: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = [f.strip() for f in line[len("import time:") :].split("|")]
        package = fields[2].split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(fields[0])
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": name, "self_ms": round(us / 1000, 1)} for name, us in ranked]
