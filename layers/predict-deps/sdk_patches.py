"""Three source patches to the layer's botocore and urllib3, run by this layer's Makefile after pip.

Each one removes work that a cold start pays for and these functions never use. Together they saved
~23 ms of the prediction function's cold start on the benchmark machine
(benchmarks/serving/). None of them changes what a request does:

1. urllib3/http2: `from importlib.metadata import version` runs at import time, only to check the
   h2 version in `inject_into_urllib3()`. botocore never calls that function (it speaks HTTP/1.1).
   importlib.metadata drags zipfile, csv, email and importlib.resources along: ~9 ms.
2. botocore/handlers.py: the session registers ~130 built-in event handlers. ~80 of them are for
   services this layer has no model for (EC2, Glacier, RDS, ...) or for generating docstrings.
   Their events can never fire here. Registering them, then copying them into every client, costs
   ~5 ms.
3. botocore/loaders.py: every data file is parsed with `object_pairs_hook=OrderedDict`, which runs
   Python code for every JSON object. A plain `dict` keeps insertion order too, and botocore only
   iterates and indexes these documents: ~3 ms for the S3 and DynamoDB clients.

A patch whose text is not found exactly once fails the build. botocore and urllib3 are pinned in
requirements.txt, so a version bump that moves the code is caught here, not on Lambda.
tests/infrastructure/test_built_bundles.py runs the built bundles against moto.

usage: python sdk_patches.py LAYER_PYTHON_DIR aws-operations.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Patch:
    path: str  # relative to the layer's python/ directory
    find: str
    replace: str


def patches(services: list[str]) -> list[Patch]:
    return [
        Patch(
            "urllib3/http2/__init__.py",
            "from importlib.metadata import version\n",
            "",
        ),
        Patch(
            "urllib3/http2/__init__.py",
            "def inject_into_urllib3() -> None:\n",
            "def inject_into_urllib3() -> None:\n"
            "    from importlib.metadata import version  # lead_ai layer: imported when used\n\n",
        ),
        Patch(
            "botocore/handlers.py",
            "_add_parameter_aliases(BUILTIN_HANDLERS)\n",
            "_add_parameter_aliases(BUILTIN_HANDLERS)\n"
            "\n"
            "# lead_ai layer: this botocore has models for these services only (sdk_patches.py).\n"
            f"_LAYER_SERVICES = {sorted(services)!r}\n"
            "\n"
            "\n"
            "def _fires_in_this_layer(event_name):\n"
            "    kind, _, rest = event_name.partition('.')\n"
            "    service = rest.partition('.')[0]\n"
            "    return kind != 'docs' and service in ('', '*', *_LAYER_SERVICES)\n"
            "\n"
            "\n"
            "BUILTIN_HANDLERS = [h for h in BUILTIN_HANDLERS if _fires_in_this_layer(h[0])]\n",
        ),
        Patch(
            "botocore/loaders.py",
            "return json.loads(payload, object_pairs_hook=OrderedDict)\n",
            "return json.loads(payload)  # lead_ai layer: dicts keep order\n",
        ),
    ]


def apply(layer: Path, services: list[str]) -> None:
    for patch in patches(services):
        path = layer / patch.path
        text = path.read_text()
        found = text.count(patch.find)
        if found != 1:
            raise SystemExit(f"{patch.path}: expected the patched text once, found it {found} times")
        path.write_text(text.replace(patch.find, patch.replace))


def layer_services(operations_file: Path) -> list[str]:
    """The services aws-operations.json keeps in the layer (its keys, but for the `_why` notes)."""
    return [k for k in json.loads(operations_file.read_text()) if not k.startswith("_")]


def main(layer: Path, operations_file: Path) -> None:
    apply(layer, layer_services(operations_file))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
