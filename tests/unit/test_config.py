"""Settings from the environment (lead_ai.config)."""

from __future__ import annotations

import pytest

from lead_ai.config import AwsCallLimits, Settings
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


def test_aws_call_limits_are_read_from_the_environment() -> None:
    # Given the LEAD_AI_AWS_* and budget variables, When the settings are read, Then they hold them
    env = {
        **REQUIRED,
        "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS": "0.5",
        "LEAD_AI_AWS_READ_TIMEOUT_SECONDS": "2",
        "LEAD_AI_AWS_MAX_ATTEMPTS": "4",
        "LEAD_AI_API_TIME_BUDGET_SECONDS": "10",
        "LEAD_AI_VERSION_RETENTION_DAYS": "7",
    }
    settings = Settings.from_env(env)
    assert settings.aws_calls == AwsCallLimits(0.5, 2.0, 4, 10.0)
    assert settings.aws_calls.attempt_seconds == 2.5
    assert settings.version_retention_days == 7
    assert Settings.from_env(REQUIRED).aws_calls == AwsCallLimits()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEAD_AI_AWS_READ_TIMEOUT_SECONDS", "0"),
        ("LEAD_AI_AWS_READ_TIMEOUT_SECONDS", "inf"),
        ("LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS", "nan"),
        ("LEAD_AI_AWS_MAX_ATTEMPTS", "0"),
        ("LEAD_AI_API_TIME_BUDGET_SECONDS", "-1"),
        ("LEAD_AI_API_TIME_BUDGET_SECONDS", "3"),  # less than one attempt (1 + 4 s)
        ("LEAD_AI_VERSION_RETENTION_DAYS", "0"),
    ],
)
def test_a_budget_that_cannot_work_fails_at_cold_start_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**REQUIRED, name: value})
