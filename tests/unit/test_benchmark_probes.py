"""The serving benchmark's probes run on the built bundles (`python -S`, a PYTHONPATH of the function, its
layers and the runtime's SDK): they may import only the standard library, what those bundles hold, and
probe_support.py beside them. A probe that imported a developer tool (lead_ai_dev, which the lead_ai layer
no longer carries) would pass on a developer's machine and fail, or measure something else, on the bundle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PROBES = ROOT / "benchmarks" / "serving" / "probes"
RESOLVER_VARIANT = ROOT / "benchmarks" / "serving" / "variants" / "predict_resolver_app.py"

# Top-level modules the bundles hold, and where each comes from.
BUNDLE_MODULES = {
    "app": "the function's own module (functions/<name>/app.py)",
    "lead_ai": "LeadAiLayer",
    "numpy": "PredictDepsLayer, TrainDepsLayer",
    "onnxruntime": "PredictDepsLayer",
    "aws_lambda_powertools": "PredictDepsLayer",
    "botocore": "PredictDepsLayer (trimmed) or the Lambda runtime",
    "boto3": "the Lambda runtime",
    "joblib": "TrainDepsLayer",
    "sklearn": "TrainDepsLayer",
}
BESIDE_THE_PROBES = {"probe_support"}


def _imports(path: Path, *, module_level_only: bool = False) -> set[str]:
    """Every absolute module name a file imports (anywhere in it, or at module level only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _outside(names: set[str], allowed: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] not in allowed | set(sys.stdlib_module_names)}


PROBE_FILES = sorted(PROBES.glob("*.py"))


def test_the_probes_are_found() -> None:
    # Given the probes folder / When it is listed / Then it holds the probes the orchestrator runs
    names = {p.stem for p in PROBE_FILES}
    assert {"cold_handler", "cold_floor", "cold_floor_clients", "cold_baseline", "warm_latency"} <= names
    assert {"train_cost", "probe_support"} <= names


@pytest.mark.parametrize("probe", PROBE_FILES, ids=lambda p: p.stem)
def test_a_probe_imports_only_the_standard_library_and_the_bundles(probe: Path) -> None:
    # Given a probe / When its imports are read / Then each is stdlib, a bundle's, or probe_support
    assert _outside(_imports(probe), set(BUNDLE_MODULES) | BESIDE_THE_PROBES) == set()


@pytest.mark.parametrize("probe", PROBE_FILES, ids=lambda p: p.stem)
def test_every_lead_ai_module_a_probe_imports_is_in_the_layer(probe: Path) -> None:
    # Given the lead_ai modules a probe imports / Then each is a file of lead_ai/, which the layer copies
    for name in sorted(n for n in _imports(probe) if n.startswith("lead_ai.")):
        path = ROOT.joinpath(*name.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), name


def test_probe_support_needs_nothing_but_the_standard_library_at_import() -> None:
    # Given probe_support, imported by the probes after their clock stops / Then at module level it
    # imports only the standard library (the SDK only inside the function that patches it)
    assert _outside(_imports(PROBES / "probe_support.py", module_level_only=True), set()) == set()


def test_the_resolver_variant_imports_only_what_the_prediction_bundle_holds() -> None:
    # Given the PredictFunction variant on Powertools' resolver, run on the shipped prediction layers
    allowed = {"lead_ai", "aws_lambda_powertools", "numpy", "onnxruntime", "botocore"}
    # Then it imports nothing else: it prices the router, on the very bundle that ships
    assert _outside(_imports(RESOLVER_VARIANT), allowed) == set()
