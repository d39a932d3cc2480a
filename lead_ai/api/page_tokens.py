"""GET /series/{series_id}/models pages: the `limit` rule and the opaque `next_token`.

A token is URL-safe base64 of a small JSON object naming the series and the version record the next
page starts after. Clients must treat it as opaque; the service refuses one it did not make for this
series (400 naming `next_token`), without echoing it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from lead_ai.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_RECORD = re.compile(r"VERSION#[0-9]{6}\.[0-9]{6}\.[0-9]{6}")


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not re.fullmatch(r"\+?[0-9]{1,4}", raw.strip()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw[:20]!r}", field="limit"
        )
    return int(raw)


def encode_token(series_id: str, after: str) -> str:
    text = json.dumps({"s": series_id, "a": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(raw: str | None, series_id: str) -> str | None:
    """The version record a page starts after; None without a token."""
    if raw is None or raw == "":
        return None
    invalid = ValidationError(
        "next_token is not a token this API returned for this series: pass next_token from the previous "
        "page unchanged, or leave it out for the first page",
        field="next_token",
    )
    if len(raw) > 200:
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(data, dict) or data.get("s") != series_id:
        raise invalid
    after = data.get("a")
    if not isinstance(after, str) or not _RECORD.fullmatch(after):
        raise invalid
    return after
