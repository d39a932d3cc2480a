"""One `sam build` for every infrastructure test that needs the bundles (one per run, however many
pytest-xdist workers share it)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from tests.infrastructure.sam_build import SAM, python312, require_tool, sam_build


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(build directory, Lambda's Python) of a fresh `sam build` of template.yaml."""
    require_tool(SAM)
    python = python312()
    if python is None:
        pytest.skip("python3.12 not found (sam build needs Lambda's runtime Python)")
    # Under xdist each worker has its own base temp inside this run's: the build goes one level up, once.
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent
    build_dir = run_dir / "sam" / "build"
    with open(run_dir / "sam.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait here for the one that builds
        done = build_dir / ".built"
        if not done.exists():
            sam_build(build_dir, python)
            done.touch()
    return build_dir, python
