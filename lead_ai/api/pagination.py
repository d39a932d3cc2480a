"""Paging of the list endpoints (GET /series, GET /series/{series_id}/models): `limit` and an opaque
`next_token`.

A token is URL-safe base64 of a small JSON object: the position the next page continues after, and the
scope it belongs to (the series whose versions are listed; "" for the series list). Clients pass back
what they got; a token this API did not issue for this listing is a 400 naming `next_token`, and its
text is never echoed. It carries no secret and grants nothing: a hand-made one can only start a listing
elsewhere in the same list (a token scoped to a series or pool that does not exist answers its 404, as
no token does: lead_ai.service.serving.list_models, lead_ai.service.pooling.list_pool_models).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable

from lead_ai.domain.series import SERIES_ID_PATTERN
from lead_ai.errors import ValidationError

LIST_PARAMETERS = ("limit", "next_token")  # the query parameters a list takes
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_TOKEN_VERSION = 1
_MAX_TOKEN_CHARS = 300


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not re.fullmatch(r"\+?[0-9]{1,4}", raw.strip()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw[:20]!r}", field="limit"
        )
    return int(raw)


def encode_token(after: str | None, scope: str = "") -> str | None:
    """The token of the page after `after` (None when there is no next page)."""
    if after is None:
        return None
    raw = json.dumps({"v": _TOKEN_VERSION, "s": scope, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_next_token(raw: str | None, valid: Callable[[str], object], scope: str = "") -> str | None:
    """The position a listing continues after (None: from the start); `valid` says whether a position
    can be one of this listing's."""
    if raw is None or raw == "":
        return None
    invalid = ValidationError(
        "next_token is not a token this API returned for this listing: pass next_token from the previous "
        "page unchanged, or leave it out for the first page",
        field="next_token",
    )
    if len(raw) > _MAX_TOKEN_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", raw):
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(data, dict) or set(data) != {"v", "s", "a"} or data["v"] != _TOKEN_VERSION:
        raise invalid
    after = data["a"]
    if data["s"] != scope or not isinstance(after, str) or not valid(after):
        raise invalid
    return after


def series_list_position(raw: str | None) -> str | None:
    """GET /series: the series id the page continues after."""
    return parse_next_token(raw, SERIES_ID_PATTERN.fullmatch)


def models_position(raw: str | None, series_id: str) -> str | None:
    """GET /series/{series_id}/models: the version record the page continues after."""
    return parse_next_token(raw, _VERSION_RECORD.fullmatch, scope=series_id)


_VERSION_RECORD = re.compile(r"VERSION#[0-9]{6}\.[0-9]{6}\.[0-9]{6}")
