"""Settings from the environment (lead_ai.config)."""

from __future__ import annotations

import pytest

from lead_ai.config import Settings
from lead_ai.errors import ConfigurationError

REQUIRED = {"LEAD_AI_BUCKET": "b", "LEAD_AI_REGISTRY_TABLE": "r", "LEAD_AI_OBSERVATIONS_TABLE": "o"}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "none"), ("", "none"), ("none", "none"), ("US", "US")]
)
def test_holiday_calendar_is_read_from_lead_ai_holidays(value: str | None, expected: str) -> None:
    # Given LEAD_AI_HOLIDAYS unset, empty or set, When the settings are read, Then the calendar is as set
    env = {**REQUIRED, **({} if value is None else {"LEAD_AI_HOLIDAYS": value})}
    assert Settings.from_env(env).holidays == expected


def test_an_unknown_holiday_calendar_fails_at_cold_start_naming_the_variable() -> None:
    # Given a calendar the features do not know, Then reading the settings fails with the variable's name
    with pytest.raises(ConfigurationError, match="LEAD_AI_HOLIDAYS"):
        Settings.from_env({**REQUIRED, "LEAD_AI_HOLIDAYS": "us"})
