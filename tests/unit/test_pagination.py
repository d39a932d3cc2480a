"""Paging of the list endpoints (lead_ai/api/pagination.py): `limit` and the opaque `next_token` of
GET /series and GET /series/{series_id}/models."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lead_ai.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    encode_token,
    models_position,
    parse_limit,
    series_list_position,
)
from lead_ai.errors import ValidationError

RECORD = "VERSION#000001.000002.000000"


def test_a_token_round_trips_for_its_series_only() -> None:
    token = encode_token(RECORD, scope="acme")
    assert models_position(token, "acme") == RECORD
    with pytest.raises(ValidationError) as refused:
        models_position(token, "other")
    assert refused.value.field == "next_token"


def _refusal_of(raw: str) -> str:
    with pytest.raises(ValidationError) as refused:
        models_position(raw, "acme")
    return refused.value.message


@given(st.text(max_size=300))
def test_any_other_text_is_refused_naming_next_token_without_echoing_it(raw: str) -> None:
    if raw == "":
        assert models_position(raw, "acme") is None
        return
    try:
        after = models_position(raw, "acme")
    except ValidationError as exc:
        # the message is the same whatever was sent: nothing of it is echoed (a substring test failed
        # whenever hypothesis drew a piece of the message itself, such as "ext")
        assert exc.field == "next_token"
        assert exc.message == _refusal_of("not a token")
    else:
        assert after is not None and after.startswith("VERSION#")  # only a well-formed token of acme


def test_a_well_formed_token_with_a_bad_record_is_refused() -> None:
    for after in ("CURRENT", "SERIES", "VERSION#1.2.0", 7, None):
        raw = base64.urlsafe_b64encode(json.dumps({"v": 1, "s": "acme", "a": after}).encode()).decode()
        with pytest.raises(ValidationError):
            models_position(raw, "acme")


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, DEFAULT_LIMIT), ("", DEFAULT_LIMIT), ("1", 1), ("100", 100)]
)
def test_limits_from_1_to_100(raw: str | None, expected: int) -> None:
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", str(MAX_LIMIT + 1), "-1", "1e2", "ten", "٣", "99999999999"])
def test_other_limits_are_refused_naming_limit(raw: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_limit(raw)
    assert refused.value.field == "limit"


def test_a_series_list_token_round_trips_and_is_opaque() -> None:
    token = encode_token("team-42")
    assert token is not None and "team-42" not in token
    assert series_list_position(token) == "team-42"
    assert (
        encode_token(None) is None and series_list_position(None) is None and series_list_position("") is None
    )


def test_a_token_of_one_listing_is_refused_by_the_other() -> None:
    # Given a page token of acme's models and one of the series list
    models_token = encode_token("VERSION#000001.000000.000000", scope="acme")
    series_token = encode_token("acme")
    # Then neither continues the other listing
    with pytest.raises(ValidationError):
        series_list_position(models_token)
    with pytest.raises(ValidationError):
        models_position(series_token, "acme")
