"""botocore hooks that keep every AWS call inside the invocation's time budget (lead_ai/time_budget.py).

The clients are built once per container with fixed timeouts (a connect timeout and a read timeout per
attempt) and a fixed number of attempts. What is left of the invocation changes from call to call, so
two hooks consult it:

- `before-send` (before every attempt, the first one included): an attempt starts only if it can end
  before the deadline even when the endpoint hangs, i.e. if connect + read timeout still fit;
- `needs-retry` (after a failed attempt, before the SDK's backoff sleep): no retry when the sleep and
  another whole attempt no longer fit.

Either way the call fails at once with `BudgetSpent`, a BotoCoreError, so the data-access layer turns
it into a StorageError like any other AWS failure and the use case answers as it does for an outage
(the warm cache, or a 503 with Retry-After) instead of being cut off by Lambda or API Gateway.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError

from lead_ai import time_budget
from lead_ai.config import AwsCallLimits
from lead_ai.monitoring.logger import logger

# Error codes the SDK backs off from with a 1 s base (others: 25-50 ms); botocore's ThrottlingErrorDetector.
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_MAX_BACKOFF_SECONDS = 20.0


class BudgetSpent(BotoCoreError):
    """The invocation's time budget cannot fit another attempt of this call."""

    fmt = "{operation}: not started, {remaining:.2f} s left and an attempt may take {needed:.2f} s"


def install(client: Any, limits: AwsCallLimits) -> None:
    """Register the budget hooks on one client (first, so they run before anything else)."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-send.{service}", _BeforeAttempt(limits))
    client.meta.events.register_first(f"needs-retry.{service}", _BeforeRetry(limits))


class _BeforeAttempt:
    def __init__(self, limits: AwsCallLimits) -> None:
        self._needed = limits.attempt_seconds

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> None:
        remaining = time_budget.remaining_seconds()
        if remaining < self._needed:
            _spent(_operation(event_name), remaining, self._needed)


class _BeforeRetry:
    def __init__(self, limits: AwsCallLimits) -> None:
        self._attempt = limits.attempt_seconds

    def __call__(
        self,
        attempts: int,
        response: Any = None,
        caught_exception: BaseException | None = None,
        event_name: str = "",
        **_: Any,
    ) -> None:
        if isinstance(caught_exception, BudgetSpent):
            return  # already out of time: the SDK raises it (it never retries a BotoCoreError)
        retryable, throttled = _failure_kind(response, caught_exception)
        if not retryable:
            return  # a success, or an error the SDK does not retry: let it through untouched
        # The SDK sleeps rand(0, 1) x base x 2^(n-1) before attempt n + 1; count the worst case.
        base = 1.0 if throttled else 0.05
        needed = min(base * 2 ** (attempts - 1), _MAX_BACKOFF_SECONDS) + self._attempt
        remaining = time_budget.remaining_seconds()
        if remaining < needed:
            _spent(_operation(event_name), remaining, needed, cause=caught_exception or _code(response))


def _spent(operation: str, remaining: float, needed: float, cause: object = None) -> None:
    # The detail (which call, what failed before) is for the log; the caller's answer stays generic.
    logger.warning(
        "AWS call stopped: the invocation's time budget is spent",
        extra={
            "operation": operation,
            "remaining_seconds": round(remaining, 3),
            "attempt_seconds": round(needed, 3),
            "last_error": None if cause is None else str(cause),
        },
    )
    raise BudgetSpent(operation=operation, remaining=remaining, needed=needed)


def _failure_kind(response: Any, caught_exception: BaseException | None) -> tuple[bool, bool]:
    """(would the SDK retry this?, is it throttling?), as far as it matters for the budget."""
    if caught_exception is not None:
        return True, False  # connection errors and timeouts
    if not response:
        return False, False
    code = _code(response)
    status = getattr(response[0], "status_code", 200)
    throttled = code in _THROTTLING_CODES or status == 429
    return throttled or status >= 500 or code in ("RequestTimeout", "RequestTimeoutException"), throttled


def _code(response: Any) -> str:
    if not response:
        return ""
    parsed = response[1] if len(response) > 1 else {}
    return str((parsed or {}).get("Error", {}).get("Code", ""))


def _operation(event_name: str) -> str:
    # before-send.dynamodb.GetItem -> dynamodb.GetItem
    return event_name.split(".", 1)[1] if "." in event_name else event_name
