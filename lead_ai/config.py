"""Settings read once from the environment (declared in template.yaml) and validated at cold start."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import NamedTuple

from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.intervals import parse_series_interval
from lead_ai.domain.localtime import parse_timezone
from lead_ai.domain.series import SeriesSettings
from lead_ai.errors import ConfigurationError


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
    max_horizon_seconds: int = 7 * 86_400  # the longest forecast, a duration whatever the interval
    registry_ttl_seconds: float = 5.0
    max_body_bytes: int = 1_048_576
    max_observations_per_request: int = 10_000
    training_queue_url: str | None = None  # the SQS queue the planner fills and the training worker drains
    # A new series' time zone and holiday calendar until PUT /series/{id} sets its own (template
    # parameters DefaultTimezone, DefaultHolidays)
    default_timezone: str = "UTC"
    default_holidays: str = "none"

    @property
    def series_defaults(self) -> SeriesSettings:
        return SeriesSettings(
            parse_series_interval(self.default_interval), self.default_timezone, self.default_holidays
        )

    def max_horizon_steps(self, interval_seconds: int) -> int:
        """The longest horizon, in intervals of the series (7 days: 168 hours, 672 quarter hours)."""
        return max(1, self.max_horizon_seconds // interval_seconds)

    # The time budget of every AWS call (storage/clients.py, lead_ai/time_budget.py): timeouts, attempts,
    # and the cap on an API request's budget (API Gateway answers 504 at 29 s whatever the function does).
    aws_calls: AwsCallLimits = AwsCallLimits()
    version_retention_days: int = 30  # rejected and failed versions older than this are pruned daily
    # How long a pooled model's training waits for its group's first models before it looks again
    # (SQS DelaySeconds: at most 900)
    pool_recheck_seconds: int = 900
    # The training worker starts a message's training only with this much of its invocation left; with
    # less it sends the message again for another invocation (a timeout re-delivers the whole batch)
    training_min_seconds_left: float = 90.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            bucket=_required(env, "LEAD_AI_BUCKET"),
            registry_table=_required(env, "LEAD_AI_REGISTRY_TABLE"),
            observations_table=_required(env, "LEAD_AI_OBSERVATIONS_TABLE"),
            idempotency_table=env.get("LEAD_AI_IDEMPOTENCY_TABLE") or None,
            min_training_points=_positive_int(env, "LEAD_AI_MIN_TRAINING_POINTS", 1000),
            default_interval=_checked(env, "LEAD_AI_DEFAULT_INTERVAL", "1h", parse_series_interval),
            max_horizon_seconds=_duration(env, "LEAD_AI_MAX_HORIZON", 7 * 86_400),
            registry_ttl_seconds=_non_negative_float(env, "LEAD_AI_REGISTRY_TTL_SECONDS", 5.0),
            max_body_bytes=_positive_int(env, "LEAD_AI_MAX_BODY_BYTES", 1_048_576),
            max_observations_per_request=_positive_int(env, "LEAD_AI_MAX_OBSERVATIONS_PER_REQUEST", 10_000),
            training_queue_url=env.get("LEAD_AI_TRAINING_QUEUE_URL") or None,
            default_timezone=_checked(env, "LEAD_AI_DEFAULT_TIMEZONE", "UTC", parse_timezone),
            default_holidays=_checked(env, "LEAD_AI_DEFAULT_HOLIDAYS", "none", parse_calendar),
            aws_calls=AwsCallLimits.from_env(env),
            version_retention_days=_positive_int(env, "LEAD_AI_VERSION_RETENTION_DAYS", 30),
            pool_recheck_seconds=_at_most(
                _positive_int(env, "LEAD_AI_POOL_RECHECK_SECONDS", 900), 900, "LEAD_AI_POOL_RECHECK_SECONDS"
            ),
            training_min_seconds_left=_positive_float(env, "LEAD_AI_TRAINING_MIN_SECONDS_LEFT", 90.0),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings; tests that change the environment call `get_settings.cache_clear()`."""
    return Settings.from_env()


def _at_most(value: int, limit: int, name: str) -> int:
    if value > limit:
        raise ConfigurationError(f"environment variable {name} must be at most {limit}, got {value}")
    return value


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


def _checked(env: Mapping[str, str], name: str, default: str, parse: Callable[[str], object]) -> str:
    """The variable as set (default when unset or empty), refused at cold start when `parse` refuses it."""
    raw = (env.get(name) or default).strip()
    try:
        parsed = parse(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name}: {exc}") from exc
    return parsed if isinstance(parsed, str) else raw


_DURATION_UNITS = {"min": 60, "h": 3600, "d": 86_400}


def _duration(env: Mapping[str, str], name: str, default: int) -> int:
    """A duration such as '7d', '168h' or '10080min' in seconds; a bare integer is hours (the variable
    once counted hourly steps)."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    number, unit = raw.rstrip("abcdefghijklmnopqrstuvwxyz"), raw.lstrip("0123456789") or "h"
    if not number.isdigit() or unit not in _DURATION_UNITS or int(number) <= 0:
        raise ConfigurationError(
            f"environment variable {name} must be a duration such as '7d', '168h' or '10080min', got {raw!r}"
        )
    return int(number) * _DURATION_UNITS[unit]
