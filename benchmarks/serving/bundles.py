"""The bundles the probes run on: a snapshot of `sam build`'s output, and the A/B variants built from it.

Each variant changes one thing in the shipped prediction bundle, so that the cold start prices each
cold-start hack on its own (docs/serving-performance.md):
  handler_stock_sdk            the layer without its botocore/urllib3: the runtime's stock SDK is imported
  handler_trimmed_unpatched    botocore/urllib3 pip-installed as the layer build does, trimmed
                               (layers/predict-deps/trim_botocore.py), without sdk_patches.py
  handler_powertools_resolver  PredictFunction's app.py on Powertools' APIGatewayRestResolver instead of
                               RestApp (variants/predict_resolver_app.py), on the shipped layers
Variant layers are hard-linked copies of the snapshot: files are only ever removed or added, never edited
in place, so the snapshot is untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
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
# As layers/common.mk installs the layer: Lambda's platform, cp312, wheels only, no bytecode yet.
PIP_TARGET_OPTIONS = (
    "--quiet",
    "--disable-pip-version-check",
    "--no-compile",
    "--no-deps",
    "--platform",
    "manylinux_2_28_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
)


@dataclass(frozen=True)
class HandlerVariant:
    """A prediction bundle the cold-start probe runs, and what the probe must find in it."""

    name: str
    label: str
    path: list[Path]
    router: str = "RestApp"
    botocore_trimmed: bool = True
    botocore_patched: bool = True
    notes: dict[str, Any] = field(default_factory=dict)

    def check(self, facts: dict[str, Any], layer_services: int) -> None:
        """Fail the run if the probe did not run the variant it is named for."""
        found = {
            "router": facts["router"],
            "botocore_trimmed": facts["botocore_services"] <= layer_services,
            "botocore_patched": facts["botocore_patched"],
        }
        wanted = {
            "router": self.router,
            "botocore_trimmed": self.botocore_trimmed,
            "botocore_patched": self.botocore_patched,
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


def pinned_sdk() -> list[str]:
    """botocore and urllib3 as layers/predict-deps/requirements.txt pins them (`name==version`)."""
    pins = []
    for line in (PREDICT_DEPS / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement.split("==")[0] in SDK_PACKAGES:
            pins.append(requirement)
    if len(pins) != len(SDK_PACKAGES) or not all("==" in p for p in pins):
        raise SystemExit(f"layers/predict-deps/requirements.txt must pin {SDK_PACKAGES}: found {pins}")
    return pins


def handler_variants(work: Path, build: Path, runtime: Path, python312: Path) -> list[HandlerVariant]:
    """The shipped prediction bundle first, then one variant per cold-start hack."""
    function, code, deps = (
        build / "PredictFunction",
        build / "LeadAiLayer" / "python",
        build / "PredictDepsLayer",
    )
    variants = work / "variants"
    stock = _layer_without_sdk(deps, variants / "stock-sdk")
    trimmed = _layer_without_sdk(deps, variants / "trimmed-unpatched")
    pins = _install_trimmed_sdk(python312, trimmed / "python", variants / "pip")
    resolver = _resolver_function(python312, variants / "resolver-function")
    return [
        HandlerVariant(
            "handler", "shipped: trimmed + patched, RestApp", [function, code, deps / "python", runtime]
        ),
        HandlerVariant(
            "handler_stock_sdk",
            "stock botocore (runtime), RestApp",
            [function, code, stock / "python", runtime],
            botocore_trimmed=False,
            botocore_patched=False,
        ),
        HandlerVariant(
            "handler_trimmed_unpatched",
            "trimmed, unpatched botocore, RestApp",
            [function, code, trimmed / "python", runtime],
            botocore_patched=False,
            notes={"pip": pins},
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


def _install_trimmed_sdk(python312: Path, layer_python: Path, staging: Path) -> list[str]:
    """The layer build's SDK steps but the patches: pip, the common trim, trim_botocore.py, bytecode."""
    pins = pinned_sdk()
    subprocess.run(
        [str(python312), "-m", "pip", "install", *PIP_TARGET_OPTIONS, "--target", str(staging), *pins],
        check=True,
        capture_output=True,
    )
    for tests in [*staging.rglob("tests"), *staging.rglob("__pycache__")]:
        if tests.is_dir():
            shutil.rmtree(tests, ignore_errors=True)
    shutil.rmtree(staging / "bin", ignore_errors=True)
    subprocess.run(
        [
            str(python312),
            str(PREDICT_DEPS / "trim_botocore.py"),
            str(staging),
            str(PREDICT_DEPS / "aws-operations.json"),
        ],
        check=True,
        capture_output=True,
    )
    for entry in staging.iterdir():
        shutil.move(str(entry), layer_python / entry.name)
        if entry.name in SDK_PACKAGES:
            compile_unchecked(python312, layer_python / entry.name, shown_as=f"/opt/python/{entry.name}")
    return pins


def _resolver_function(python312: Path, dest: Path) -> Path:
    """PredictFunction's directory with the resolver variant as app.py, compiled as the function build does."""
    dest.mkdir(parents=True)
    shutil.copy2(RESOLVER_APP, dest / "app.py")
    compile_unchecked(python312, dest, shown_as="/var/task")
    return dest
