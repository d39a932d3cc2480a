"""The prediction layer's source patches (layers/predict-deps/sdk_patches.py) apply to the pinned botocore
and urllib3 and do what they say: checked on copies of the dev venv's packages (the same versions),
imported in a fresh interpreter. tests/infrastructure/test_built_bundles.py runs the built layer on moto.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import botocore
import pytest
import urllib3

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "layers" / "predict-deps"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdk_patches", LAYER_DIR / "sdk_patches.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sdk_patches"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


sdk_patches = _load_script()


def _requirement(name: str) -> str:
    for line in (LAYER_DIR / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==")[1]
    raise AssertionError(f"{name} is not pinned in the layer's requirements.txt")


@pytest.fixture(scope="module")
def patched_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layer = tmp_path_factory.mktemp("layer")
    # botocore's models stay where they are (80 MB): the loader is pointed at one file below.
    shutil.copytree(Path(botocore.__file__).parent, layer / "botocore", ignore=shutil.ignore_patterns("data"))
    shutil.copytree(Path(urllib3.__file__).parent, layer / "urllib3")
    sdk_patches.apply(layer, sdk_patches.layer_services(LAYER_DIR / "aws-operations.json"))
    return layer


def _run_in(layer: Path | None, code: str) -> str:
    # -I: no user site, no PYTHONPATH; the copies (if any) come first, the venv's packages after them.
    path = [str(layer), *sys.path[1:]] if layer is not None else sys.path[1:]
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path[:] = {path!r}\n{code}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_dev_venv_has_the_versions_the_layer_pins() -> None:
    # The patches are checked against the dev venv's packages: they must be the ones the layer ships.
    assert botocore.__version__ == _requirement("botocore")
    assert urllib3.__version__ == _requirement("urllib3")


def test_urllib3_no_longer_imports_importlib_metadata(patched_layer: Path) -> None:
    # Given the patched urllib3, when botocore's HTTP stack is imported
    out = _run_in(
        patched_layer,
        "import urllib3, urllib3.connection, botocore.httpsession\n"
        "assert urllib3.__file__.startswith(sys.path[0]), urllib3.__file__\n"
        "print('importlib.metadata' in sys.modules)",
    )
    # Then importlib.metadata was not loaded
    assert out.strip() == "False"


def test_urllib3_http2_still_works_when_asked_for(patched_layer: Path) -> None:
    # The moved import is still there for the one function that needs it (h2 is not installed: the
    # version lookup runs and fails the way it did before the patch).
    out = _run_in(
        patched_layer,
        "import importlib.metadata, urllib3.http2\n"
        "try:\n"
        "    urllib3.http2.inject_into_urllib3()\n"
        "except importlib.metadata.PackageNotFoundError:\n"
        "    print('looked up h2')",
    )
    assert out.strip() == "looked up h2"


_LIST_HANDLERS = "import json, botocore.handlers as h\nprint(json.dumps([e for e, *_ in h.BUILTIN_HANDLERS]))"


def test_only_handlers_for_the_layers_services_are_registered(patched_layer: Path) -> None:
    # Given the patched handler table, when it is imported
    events: list[str] = json.loads(_run_in(patched_layer, _LIST_HANDLERS))
    # Then every event is generic or for S3 / DynamoDB, and none is a documentation hook
    services = {e.split(".")[1] for e in events if "." in e}
    assert services <= {"*", "s3", "dynamodb"}
    assert not [e for e in events if e.startswith("docs.")]
    # And every one of the stock table's handlers for those services is still there, in order. (The
    # stock table is read in a fresh interpreter: moto appends its own handler to this process's.)
    stock: list[str] = json.loads(_run_in(None, _LIST_HANDLERS))
    wanted = [e for e in stock if e.split(".")[1:2] in ([], ["*"], ["s3"], ["dynamodb"])]
    assert events == [e for e in wanted if not e.startswith("docs.")]
    assert len(events) < len(stock) / 2


def test_the_loader_returns_plain_dicts_in_file_order(patched_layer: Path, tmp_path: Path) -> None:
    # Given a data file, when the patched loader reads it
    document = tmp_path / "data.json"
    document.write_text('{"b": 1, "a": {"d": 2, "c": 3}}')
    out = _run_in(
        patched_layer,
        "from botocore.loaders import JSONFileLoader\n"
        f"d = JSONFileLoader().load_file({str(tmp_path / 'data')!r})\n"
        "print(type(d).__name__, type(d['a']).__name__, list(d), list(d['a']))",
    )
    # Then it gets plain dicts, keys in the file's order
    assert out.strip() == "dict dict ['b', 'a'] ['d', 'c']"


def test_a_patch_that_no_longer_matches_fails_the_build(tmp_path: Path) -> None:
    # Given an urllib3 whose code moved (as a version bump might do)
    (tmp_path / "urllib3" / "http2").mkdir(parents=True)
    (tmp_path / "urllib3" / "http2" / "__init__.py").write_text("# rewritten upstream\n")
    # When the patches are applied, then the build stops and names the file
    with pytest.raises(SystemExit, match=re.escape("urllib3/http2/__init__.py")):
        sdk_patches.apply(tmp_path, ["s3"])
