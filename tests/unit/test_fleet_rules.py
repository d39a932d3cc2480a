"""The training queue's message rules (no AWS); paging is in test_pagination.py."""

from __future__ import annotations

import pytest

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
