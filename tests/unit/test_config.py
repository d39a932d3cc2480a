"""Settings from the environment (lead_ai.config)."""

from __future__ import annotations

import pytest

from lead_ai.config import AwsCallLimits, Settings
from lead_ai.domain.series import SeriesSettings
from lead_ai.errors import ConfigurationError

REQUIRED = {"LEAD_AI_BUCKET": "b", "LEAD_AI_REGISTRY_TABLE": "r", "LEAD_AI_OBSERVATIONS_TABLE": "o"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "none"), ("", "none"), ("none", "none"), ("US", "US"), ("de-by", "DE-BY"), ("GB", "GB")],
)
def test_the_default_calendar_is_read_from_lead_ai_default_holidays(value: str | None, expected: str) -> None:
    # Given LEAD_AI_DEFAULT_HOLIDAYS unset, empty or set, When the settings are read, Then the code is canonical
    env = {**REQUIRED, **({} if value is None else {"LEAD_AI_DEFAULT_HOLIDAYS": value})}
    assert Settings.from_env(env).default_holidays == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEAD_AI_DEFAULT_HOLIDAYS", "XX"),
        ("LEAD_AI_DEFAULT_HOLIDAYS", "DE-ZZ"),
        ("LEAD_AI_DEFAULT_TIMEZONE", "Mars/Olympus_Mons"),
        ("LEAD_AI_DEFAULT_INTERVAL", "2h"),
        ("LEAD_AI_MAX_HORIZON", "seven days"),
    ],
)
def test_a_bad_default_fails_at_cold_start_naming_the_variable(name: str, value: str) -> None:
    # Given a default the API would refuse from a user, Then reading the settings fails naming the variable
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**REQUIRED, name: value})


def test_series_defaults_come_from_the_three_default_variables() -> None:
    # Given the three defaults set
    env = {
        **REQUIRED,
        "LEAD_AI_DEFAULT_INTERVAL": "15min",
        "LEAD_AI_DEFAULT_TIMEZONE": "Europe/Berlin",
        "LEAD_AI_DEFAULT_HOLIDAYS": "DE-BY",
    }
    # Then a new series gets them
    assert Settings.from_env(env).series_defaults == SeriesSettings(900, "Europe/Berlin", "DE-BY")
    # And unset, a new series is hourly, UTC, without a calendar
    assert Settings.from_env(REQUIRED).series_defaults == SeriesSettings(3600, "UTC", "none")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 7 * 86400), ("7d", 7 * 86400), ("48h", 48 * 3600), ("24", 24 * 3600), ("90min", 5400)],
)
def test_the_horizon_limit_is_a_duration(value: str | None, seconds: int) -> None:
    # Given LEAD_AI_MAX_HORIZON as a duration (a bare number is hours: it once counted hourly steps)
    env = {**REQUIRED, **({} if value is None else {"LEAD_AI_MAX_HORIZON": value})}
    settings = Settings.from_env(env)
    # Then the limit is that duration, and in steps it depends on the interval
    assert settings.max_horizon_seconds == seconds
    assert settings.max_horizon_steps(900) == seconds // 900
    assert settings.max_horizon_steps(3600) == max(1, seconds // 3600)


def test_aws_call_limits_are_read_from_the_environment() -> None:
    # Given the LEAD_AI_AWS_* and budget variables, When the settings are read, Then they hold them
    env = {
        **REQUIRED,
        "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS": "0.5",
        "LEAD_AI_AWS_READ_TIMEOUT_SECONDS": "2",
        "LEAD_AI_AWS_MAX_ATTEMPTS": "4",
        "LEAD_AI_API_TIME_BUDGET_SECONDS": "10",
        "LEAD_AI_VERSION_RETENTION_DAYS": "7",
        "LEAD_AI_POOL_RECHECK_SECONDS": "60",
        "LEAD_AI_TRAINING_MIN_SECONDS_LEFT": "120",
    }
    settings = Settings.from_env(env)
    assert settings.aws_calls == AwsCallLimits(0.5, 2.0, 4, 10.0)
    assert settings.aws_calls.attempt_seconds == 2.5
    assert settings.version_retention_days == 7
    assert settings.pool_recheck_seconds == 60 and Settings.from_env(REQUIRED).pool_recheck_seconds == 900
    assert Settings.from_env(REQUIRED).aws_calls == AwsCallLimits()
    assert settings.training_min_seconds_left == 120.0
    assert Settings.from_env(REQUIRED).training_min_seconds_left == 90.0


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
        ("LEAD_AI_POOL_RECHECK_SECONDS", "0"),
        ("LEAD_AI_POOL_RECHECK_SECONDS", "901"),  # past SQS's longest DelaySeconds
        ("LEAD_AI_TRAINING_MIN_SECONDS_LEFT", "0"),
        ("LEAD_AI_TRAINING_MIN_SECONDS_LEFT", "soon"),
    ],
)
def test_a_budget_that_cannot_work_fails_at_cold_start_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**REQUIRED, name: value})
