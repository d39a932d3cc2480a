"""Paging rules of list endpoints (GET /series): `limit` and an opaque `next_token`.

The token is the position to continue after, base64url-encoded JSON: opaque to clients (they pass back
what they got), checked on the way in (a token this API did not issue is a 400 naming `next_token`).
It carries no secret and grants nothing: a hand-made one can only start a listing elsewhere in the list.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from lead_ai.domain.series import SERIES_ID_PATTERN
from lead_ai.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_TOKEN_VERSION = 1
_MAX_TOKEN_CHARS = 200


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not re.fullmatch(r"\+?[0-9]{1,4}", raw.strip()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw[:20]!r}", field="limit"
        )
    return int(raw)


def encode_token(after: str | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps({"v": _TOKEN_VERSION, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_next_token(raw: str | None) -> str | None:
    """The series id a listing continues after; None to start at the beginning."""
    if raw is None or raw == "":
        return None
    invalid = ValidationError(
        "next_token is not a token this API issued: pass back the next_token of the previous page",
        field="next_token",
    )
    if len(raw) > _MAX_TOKEN_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", raw):
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not isinstance(data, dict) or set(data) != {"v", "after"} or data["v"] != _TOKEN_VERSION:
        raise invalid
    after = data["after"]
    if not isinstance(after, str) or not SERIES_ID_PATTERN.fullmatch(after):
        raise invalid
    return after
