"""One `sam build` for every infrastructure test that needs the bundles."""

from __future__ import annotations

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
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    sam_build(build_dir, python)
    return build_dir, python
