"""The bundles the probes run on: a snapshot of `sam build`'s output, and the A/B variants built from it.

Each variant changes one thing in the shipped prediction bundle, so that the cold start prices each
cold-start hack on its own (docs/serving-performance.md):
  handler_stock_sdk            the layer without its botocore/urllib3: the runtime's stock SDK is imported,
                               untrimmed (what layers/predict-deps/trim_botocore.py saves)
  handler_powertools_resolver  PredictFunction's app.py on Powertools' APIGatewayRestResolver instead of
                               RestApp (variants/predict_resolver_app.py), on the shipped layers
Variant layers are hard-linked copies of the snapshot: files are only ever removed or added, never edited
in place, so the snapshot is untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .children import compile_unchecked

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
PREDICT_DEPS = ROOT / "layers" / "predict-deps"
RESOLVER_APP = Path(__file__).resolve().parent / "variants" / "predict_resolver_app.py"

PREDICT_PARTS = ("PredictFunction", "LeadAiLayer", "PredictDepsLayer")
BASELINE_PARTS = ("LeadAiLayer", "TrainDepsLayer")  # numpy + scikit-learn + scipy + joblib, cp312, .pyc
TRAIN_PARTS = ("LeadAiLayer", "TrainDepsLayer")
SDK_PACKAGES = ("botocore", "urllib3")  # what the prediction layer adds to the runtime's SDK


@dataclass(frozen=True)
class HandlerVariant:
    """A prediction bundle the cold-start probe runs, and what the probe must find in it."""

    name: str
    label: str
    path: list[Path]
    router: str = "RestApp"
    botocore_trimmed: bool = True

    def check(self, facts: dict[str, Any], layer_services: int) -> None:
        """Fail the run if the probe did not run the variant it is named for."""
        found = {
            "router": facts["router"],
            "botocore_trimmed": facts["botocore_services"] <= layer_services,
        }
        wanted = {
            "router": self.router,
            "botocore_trimmed": self.botocore_trimmed,
        }
        if found != wanted:
            raise SystemExit(f"variant {self.name}: expected {wanted}, the probe found {found}")


def snapshot_bundles(work: Path, parts: set[str]) -> Path:
    """Copy the built parts the benchmark runs, so a concurrent `sam build` cannot swap them mid-run."""
    dest = work / "build"
    for part in sorted(parts):
        shutil.copytree(BUILD_DIR / part, dest / part, symlinks=True)
    return dest


def layer_services() -> list[str]:
    """The services the prediction layer's botocore keeps (aws-operations.json's keys)."""
    operations = json.loads((PREDICT_DEPS / "aws-operations.json").read_text())
    return [k for k in operations if not k.startswith("_")]


def handler_variants(work: Path, build: Path, runtime: Path, python312: Path) -> list[HandlerVariant]:
    """The shipped prediction bundle first, then one variant per cold-start hack."""
    function, code, deps = (
        build / "PredictFunction",
        build / "LeadAiLayer" / "python",
        build / "PredictDepsLayer",
    )
    variants = work / "variants"
    stock = _layer_without_sdk(deps, variants / "stock-sdk")
    resolver = _resolver_function(python312, variants / "resolver-function")
    return [
        HandlerVariant(
            "handler", "shipped: trimmed botocore, RestApp", [function, code, deps / "python", runtime]
        ),
        HandlerVariant(
            "handler_stock_sdk",
            "stock botocore (runtime), RestApp",
            [function, code, stock / "python", runtime],
            botocore_trimmed=False,
        ),
        HandlerVariant(
            "handler_powertools_resolver",
            "shipped SDK, Powertools resolver",
            [resolver, code, deps / "python", runtime],
            router="APIGatewayRestResolver",
        ),
    ]


def _layer_without_sdk(layer: Path, dest: Path) -> Path:
    shutil.copytree(layer, dest, symlinks=True, copy_function=os.link)
    for entry in (dest / "python").iterdir():
        package = entry.name.split("-")[0]
        if package in SDK_PACKAGES and (
            entry.is_dir() and (entry.name == package or entry.suffix == ".dist-info")
        ):
            shutil.rmtree(entry)
    return dest


def _resolver_function(python312: Path, dest: Path) -> Path:
    """PredictFunction's directory with the resolver variant as app.py, compiled as the function build does."""
    dest.mkdir(parents=True)
    shutil.copy2(RESOLVER_APP, dest / "app.py")
    compile_unchecked(python312, dest, shown_as="/var/task")
    return dest
