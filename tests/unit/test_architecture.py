"""The package's layering, enforced: who may import whom inside `lead_ai`, and what the layer holds.

    api ──▶ service ──▶ storage ──▶ domain
     │         │                      ▲
     │         └──────▶ forecasting ──┘      (config, errors, monitoring: anyone)
     └──────────────────────────────────────▶ domain

- forecasting imports neither storage, service nor api (it runs without AWS: the batch CLI, benchmarks);
- storage imports neither service nor api, and nothing of forecasting (its adapters move bytes and items);
- domain imports no other lead_ai package;
- service never imports api (results are value types; api.responses shapes the JSON);
- nothing outside forecasting.training imports it at module level, and the prediction path imports no
  training module at all (tests/unit/test_prediction_imports.py checks the libraries in a fresh process).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "lead_ai"

# package -> the lead_ai packages it must never import
FORBIDDEN = {
    "domain": {"api", "service", "storage", "forecasting", "monitoring", "config"},
    "forecasting": {"api", "service", "storage"},
    "storage": {"api", "service", "forecasting"},
    "service": {"api"},
}
# modules every package may use
SHARED = {"config", "errors", "monitoring"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level?) for every `lead_ai.*` import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.extend((name, id(node) in top_level) for name in names if name.startswith("lead_ai."))
    return found


def _package_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_package_imports_only_the_layers_below_it(path: Path) -> None:
    # Given a module of the layer and the packages its package may not use
    package = _package_of(path)
    forbidden = FORBIDDEN.get(package, set())
    # When its lead_ai imports are read
    used = {module.split(".")[1] for module, _ in _imports(path)}
    # Then none of them reaches a forbidden package
    assert used.isdisjoint(forbidden), f"{path.relative_to(ROOT)} imports {sorted(used & forbidden)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_training_is_imported_lazily_outside_the_training_package(path: Path) -> None:
    # Given a module outside lead_ai.forecasting.training
    if path.is_relative_to(PACKAGE / "forecasting" / "training"):
        return
    # When its imports of the training package are read
    eager = [m for m, top in _imports(path) if m.startswith("lead_ai.forecasting.training") and top]
    # Then none happens at import time (the prediction and ingest functions never load scikit-learn)
    assert eager == [], f"{path.relative_to(ROOT)} imports {eager} at module level"


def test_the_layer_holds_no_developer_tool() -> None:
    # Given the lead_ai package, which the LeadAiLayer ships as it is
    names = {p.relative_to(PACKAGE).as_posix() for p in SOURCES}
    # Then the CLI, the local stack, synthetic data and the batch forecaster are elsewhere (lead_ai_dev)
    tools = {"cli.py", "synthetic.py", "batch_forecast.py"}
    assert not {n for n in names if Path(n).name in tools or n.startswith("local/")}
    assert not [p.name for p in SOURCES if "lead_ai_dev" in p.read_text(encoding="utf-8")]


def test_the_rules_see_every_package() -> None:
    # A rule about a package that does not exist would pass vacuously.
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert set(FORBIDDEN) <= packages
    assert {"api", "service", "storage", "forecasting", "domain", "monitoring"} <= packages
    assert {*packages, *(p.stem for p in PACKAGE.glob("*.py"))} >= SHARED
