"""Settings read once from the environment (declared in template.yaml) and validated at cold start."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from lead_ai.errors import ConfigurationError
from lead_ai.forecasting.features import HOLIDAY_CALENDARS


class AwsCallLimits(NamedTuple):
    """How long one AWS call may take: per attempt (connect + read timeout), how many attempts, and the
    cap on an API request's whole budget. Read by storage/clients.py when it builds a client (once per
    container), and by the API router for each request's deadline (lead_ai/time_budget.py)."""

    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 4.0
    max_attempts: int = 3
    # API Gateway gives up at 29 s: the request's AWS calls stop starting at this budget, leaving time
    # for a cold start's init and the answer itself.
    api_budget_seconds: float = 24.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AwsCallLimits:
        env = os.environ if environ is None else environ
        limits = cls(
            connect_timeout_seconds=_positive_float(env, "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS", 1.0),
            read_timeout_seconds=_positive_float(env, "LEAD_AI_AWS_READ_TIMEOUT_SECONDS", 4.0),
            max_attempts=_positive_int(env, "LEAD_AI_AWS_MAX_ATTEMPTS", 3),
            api_budget_seconds=_positive_float(env, "LEAD_AI_API_TIME_BUDGET_SECONDS", 24.0),
        )
        if limits.attempt_seconds > limits.api_budget_seconds:
            raise ConfigurationError(
                "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS + LEAD_AI_AWS_READ_TIMEOUT_SECONDS must not exceed "
                "LEAD_AI_API_TIME_BUDGET_SECONDS: no API request could make a single AWS call"
            )
        return limits

    @property
    def attempt_seconds(self) -> float:
        """The longest one attempt can take: connecting, then waiting for the answer."""
        return self.connect_timeout_seconds + self.read_timeout_seconds


class Settings(NamedTuple):
    bucket: str
    registry_table: str
    observations_table: str
    idempotency_table: str | None = None
    min_training_points: int = 1000
    default_interval: str = "1h"
    max_horizon: int = 168
    registry_ttl_seconds: float = 5.0
    max_body_bytes: int = 1_048_576
    max_observations_per_request: int = 10_000
    holidays: str = "none"  # holiday calendar the features use ("none" or "US"); a property of the market
    # The time budget of every AWS call (storage/clients.py, lead_ai/time_budget.py): timeouts, attempts,
    # and the cap on an API request's budget (API Gateway answers 504 at 29 s whatever the function does).
    aws_calls: AwsCallLimits = AwsCallLimits()
    version_retention_days: int = 30  # rejected and failed versions older than this are pruned daily

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            bucket=_required(env, "LEAD_AI_BUCKET"),
            registry_table=_required(env, "LEAD_AI_REGISTRY_TABLE"),
            observations_table=_required(env, "LEAD_AI_OBSERVATIONS_TABLE"),
            idempotency_table=env.get("LEAD_AI_IDEMPOTENCY_TABLE") or None,
            min_training_points=_positive_int(env, "LEAD_AI_MIN_TRAINING_POINTS", 1000),
            default_interval=env.get("LEAD_AI_DEFAULT_INTERVAL", "1h"),
            max_horizon=_positive_int(env, "LEAD_AI_MAX_HORIZON", 168),
            registry_ttl_seconds=_non_negative_float(env, "LEAD_AI_REGISTRY_TTL_SECONDS", 5.0),
            max_body_bytes=_positive_int(env, "LEAD_AI_MAX_BODY_BYTES", 1_048_576),
            max_observations_per_request=_positive_int(env, "LEAD_AI_MAX_OBSERVATIONS_PER_REQUEST", 10_000),
            holidays=_holiday_calendar(env, "LEAD_AI_HOLIDAYS"),
            aws_calls=AwsCallLimits.from_env(env),
            version_retention_days=_positive_int(env, "LEAD_AI_VERSION_RETENTION_DAYS", 30),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings; tests that change the environment call `get_settings.cache_clear()`."""
    return Settings.from_env()


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required (see template.yaml)")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigurationError(f"environment variable {name} must be > 0, got {value}")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _non_negative_float(env, name, default)
    if not 0 < value < math.inf:
        raise ConfigurationError(f"environment variable {name} must be a finite number > 0, got {value!r}")
    return value


def _non_negative_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name} must be a number, got {raw!r}") from exc
    if not value >= 0:
        raise ConfigurationError(f"environment variable {name} must be >= 0, got {raw!r}")
    return value


def _holiday_calendar(env: Mapping[str, str], name: str) -> str:
    raw = (env.get(name) or "none").strip()
    if raw not in HOLIDAY_CALENDARS:
        raise ConfigurationError(
            f"environment variable {name} must be one of {HOLIDAY_CALENDARS}, got {raw!r}"
        )
    return raw
