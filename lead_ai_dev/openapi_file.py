"""`make openapi`: write the API's OpenAPI document (lead_ai/api/openapi.py) to docs/openapi.json.

The file is kept in the repository for integrators and reviewers (a route's contract shows in the diff);
tests/unit/test_openapi.py fails when it is not what the code generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_PATH = Path("docs/openapi.json")


def rendered() -> str:
    from lead_ai.api.openapi import document

    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
