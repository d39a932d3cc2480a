"""Trim the layer's botocore to the AWS operations its functions call (run by this layer's Makefile).

botocore ships 400+ service models. Creating a client lists every service directory, parses the
1.2 MB endpoints.json and then the service's whole model through an OrderedDict hook (S3's is 1.4 MB):
about 90 ms of a cold start for a DynamoDB and an S3 client on the benchmark machine. This keeps the
two services we call, only the operations in aws-operations.json (and every shape they reach), blanks
documentation strings, and stores the JSON uncompressed: the same clients are created in ~45 ms.

usage: python trim_botocore.py LAYER_PYTHON_DIR aws-operations.json
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path
from typing import Any


def main(layer: Path, operations_file: Path) -> None:
    wanted: dict[str, list[str]] = {
        k: v for k, v in json.loads(operations_file.read_text()).items() if not k.startswith("_")
    }
    data = layer / "botocore" / "data"
    for service_dir in data.iterdir():
        if service_dir.is_dir() and service_dir.name not in wanted:
            shutil.rmtree(service_dir)
    _trim_endpoints(data / "endpoints.json", set(wanted))
    for service, operations in wanted.items():
        for version_dir in (data / service).iterdir():
            _trim_service(version_dir, operations)


def _trim_endpoints(path: Path, services: set[str]) -> None:
    endpoints = json.loads(path.read_text())
    for partition in endpoints["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in services}
    path.write_text(json.dumps(endpoints, separators=(",", ":")))


def _trim_service(version_dir: Path, operations: list[str]) -> None:
    (version_dir / "examples-1.json").unlink(missing_ok=True)  # documentation only
    for packed in version_dir.glob("*.json.gz"):
        document = json.loads(gzip.decompress(packed.read_bytes()))
        if packed.name == "service-2.json.gz":
            document = _without_docs(_only_operations(document, operations))
        # Uncompressed: botocore looks for .json first, and skips the gzip work on every cold start.
        packed.with_suffix("").write_text(json.dumps(document, separators=(",", ":")))
        packed.unlink()


def _only_operations(model: dict[str, Any], operations: list[str]) -> dict[str, Any]:
    missing = set(operations) - set(model["operations"])
    if missing:
        raise SystemExit(f"{model['metadata']['serviceId']} has no operation(s) {sorted(missing)}")
    roots = []
    for name in operations:
        operation = model["operations"][name]
        roots += [operation[part]["shape"] for part in ("input", "output") if part in operation]
        roots += [error["shape"] for error in operation.get("errors", [])]
    kept = _reachable_shapes(model["shapes"], roots)
    return {
        **model,
        "operations": {k: model["operations"][k] for k in operations},
        "shapes": {k: v for k, v in model["shapes"].items() if k in kept},
    }


def _reachable_shapes(shapes: dict[str, Any], roots: list[str]) -> set[str]:
    """The shapes named in `roots` and every shape they reference: structure members, list members, map
    keys and values."""
    kept: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept.add(name)
        shape = shapes[name]
        pending += [member["shape"] for member in shape.get("members", {}).values()]
        pending += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
    return kept


def _without_docs(node: Any) -> Any:
    # Blank the text but keep the key: botocore reads some `documentation` fields unconditionally.
    if isinstance(node, dict):
        return {k: "" if k == "documentation" else _without_docs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
