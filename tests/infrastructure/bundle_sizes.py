"""Sizes of each Lambda function as deployed: its code plus its layers, unzipped and zipped.

Reads the built template (.aws-sam/build/template.yaml by default) to know which layers each
function carries, so it always measures what `sam build` produced. Used by
tests/infrastructure/test_template.py (unzipped limits) and `make bundle-sizes` (a table, and JSON
with --json for benchmarks).

Lambda's limit is 250 MB (262,144,000 bytes = 250 MiB) unzipped for a function and all its layers;
every size here is in MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

MIB = 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes, function + layers


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # a SafeLoader subclass


def dir_bytes(path: Path) -> int:
    """Apparent size of every regular file under path (what Lambda counts once unzipped)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def zipped_bytes(path: Path) -> int:
    """Size of the deflated zip that sam deploy would upload for this directory."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp, "bundle.zip")
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for root, _dirs, files in os.walk(path):
                for name in sorted(files):
                    file = Path(root, name)
                    zf.write(file, file.relative_to(path))
        return archive.stat().st_size


@dataclass(frozen=True)
class Bundle:
    function: str
    layers: list[str]
    unzipped_bytes: int
    zipped_bytes: int | None
    parts_unzipped_bytes: dict[str, int]

    @property
    def unzipped_mib(self) -> float:
        return self.unzipped_bytes / MIB


def function_parts(build_dir: Path) -> dict[str, list[str]]:
    """{FunctionLogicalId: [its own artifact dir, then each layer's]} from the built template."""
    template = load_template(build_dir / "template.yaml")
    parts: dict[str, list[str]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        layers = [layer["Ref"] for layer in props.get("Layers", []) if isinstance(layer, dict)]
        parts[logical_id] = [logical_id, *layers]
    return parts


def measure(build_dir: Path, *, zipped: bool = False) -> list[Bundle]:
    build_dir = Path(build_dir)
    unz_cache: dict[str, int] = {}
    zip_cache: dict[str, int] = {}
    bundles = []
    for function, parts in function_parts(build_dir).items():
        for part in parts:
            if part not in unz_cache:
                unz_cache[part] = dir_bytes(build_dir / part)
                if zipped:
                    zip_cache[part] = zipped_bytes(build_dir / part)
        bundles.append(
            Bundle(
                function=function,
                layers=parts[1:],
                unzipped_bytes=sum(unz_cache[p] for p in parts),
                zipped_bytes=sum(zip_cache[p] for p in parts) if zipped else None,
                parts_unzipped_bytes={p: unz_cache[p] for p in parts},
            )
        )
    return bundles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--no-zip", action="store_true", help="skip the (slower) zipped sizes")
    parser.add_argument("--json", type=Path, help="also write the sizes as JSON to this file")
    args = parser.parse_args(argv)
    if not (args.build_dir / "template.yaml").exists():
        print(f"{args.build_dir}/template.yaml not found: run `make build` first", file=sys.stderr)
        return 2
    bundles = measure(args.build_dir, zipped=not args.no_zip)
    print(f"{'function':<18} {'layers':<36} {'unzipped MiB':>12} {'zipped MiB':>10}")
    for b in bundles:
        zipped = f"{b.zipped_bytes / MIB:10.1f}" if b.zipped_bytes is not None else f"{'-':>10}"
        print(f"{b.function:<18} {' + '.join(b.layers):<36} {b.unzipped_mib:12.1f} {zipped}")
    print(f"(Lambda limit: {LAMBDA_UNZIPPED_LIMIT / MIB:.0f} MiB unzipped, function + layers)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(b) for b in bundles], indent=2) + "\n")
    return 0 if all(b.unzipped_bytes <= LAMBDA_UNZIPPED_LIMIT for b in bundles) else 1


if __name__ == "__main__":
    raise SystemExit(main())
