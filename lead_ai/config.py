"""Settings read once from the environment (declared in template.yaml) and validated at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from lead_ai.errors import ConfigurationError
from lead_ai.forecasting.features import HOLIDAY_CALENDARS


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
    training_queue_url: str | None = None  # the SQS queue the planner fills and the training worker drains

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
            training_queue_url=env.get("LEAD_AI_TRAINING_QUEUE_URL") or None,
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
