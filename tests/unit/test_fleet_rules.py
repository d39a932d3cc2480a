"""The training queue's message rules and GET /series's paging rules (no AWS)."""

from __future__ import annotations

import pytest

from lead_ai.api.pagination import MAX_LIMIT, encode_token, parse_limit, parse_next_token
from lead_ai.domain.fleet import TrainingRequest, parse_training_request
from lead_ai.errors import ValidationError


def test_a_training_message_round_trips() -> None:
    # Given a request as the planner writes it, When the worker reads it, Then it is the same request
    request = TrainingRequest("emea-inbound_2", 41)
    assert parse_training_request(request.to_json()) == request


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("", "body"),
        ("not json", "body"),
        ("[]", "body"),
        ('{"series_id": "a"}', "body"),
        ('{"series_id": "a", "revision": 1, "extra": 0}', "body"),
        ('{"series_id": "../a", "revision": 1}', "series_id"),
        ('{"series_id": "' + "a" * 65 + '", "revision": 1}', "series_id"),
        ('{"series_id": 7, "revision": 1}', "series_id"),
        ('{"series_id": "a", "revision": 0}', "revision"),
        ('{"series_id": "a", "revision": true}', "revision"),
        ('{"series_id": "a", "revision": "1"}', "revision"),
        ('{"series_id": "a", "revision": 1.5}', "revision"),
        ('{"series_id": "a", "revision": 1}' + " " * 2000, "body"),
    ],
)
def test_a_poison_message_is_refused_naming_the_field(body: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_training_request(body)
    assert caught.value.field == field


def test_a_next_token_round_trips_and_is_opaque() -> None:
    token = encode_token("team-42")
    assert token is not None and "team-42" not in token
    assert parse_next_token(token) == "team-42"
    assert encode_token(None) is None and parse_next_token(None) is None and parse_next_token("") is None


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 50), ("", 50), ("1", 1), ("+7", 7), (str(MAX_LIMIT), 100)]
)
def test_limit_defaults_to_50_and_accepts_1_to_100(raw: str | None, expected: int) -> None:
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "101", "99999", "-3", "abc", "1e2", "١٢"])
def test_a_limit_out_of_range_names_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_limit(raw)
    assert caught.value.field == "limit"
