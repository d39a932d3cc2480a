"""The time budget of the current invocation: the moment after which no AWS attempt may start.

AWS clients live for the container (storage/clients.py); the budget is per invocation. Each invocation
sets it from the Lambda context (`begin_invocation`), capped for API requests so that the answer (a
cached forecast, or a 503 with Retry-After) leaves before API Gateway gives up at 29 s. The clients'
botocore hooks (storage/time_budget_hooks.py) read `remaining_seconds()` before every attempt and every
retry, and stop when an attempt could not finish in time.

Lambda runs one invocation at a time per container, so one module-level deadline is enough; threads a
request starts (the model cache's background read) share it, as they should.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

# Kept back from the function's own timeout: time to shape and return the answer after the last call.
ANSWER_MARGIN_SECONDS = 1.0

_deadline: float | None = None  # time.monotonic() value; None: no budget (tests, CLI, benchmarks)
_function_deadline: float | None = None  # the function's own timeout (less the margin), past any API cap


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def begin(seconds: float | None, function_seconds: float | None = None) -> None:
    """Start a budget of `seconds` from now (None: unlimited); `function_seconds`: what the function
    itself has left, if more (see `finish_in_function_time`)."""
    global _deadline, _function_deadline
    now = time.monotonic()
    _deadline = None if seconds is None else now + max(0.0, seconds)
    _function_deadline = None if function_seconds is None else now + max(0.0, function_seconds)


def begin_invocation(context: object, cap_seconds: float | None = None) -> float | None:
    """The invocation's budget: the function's remaining time less a margin, at most `cap_seconds`.

    A context without `get_remaining_time_in_millis` (a test calling a handler with None) gets only
    the cap. Returns the budget in seconds (None when unlimited)."""
    budget = cap_seconds
    left = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        left = remaining() / 1000.0 - ANSWER_MARGIN_SECONDS
        budget = left if budget is None else min(budget, left)
    begin(budget, left)
    return budget


def end() -> None:
    begin(None)


def finish_in_function_time(needed_seconds: float) -> bool:
    """After long CPU work (a training fit): if the request's budget can no longer fit `needed_seconds`,
    API Gateway answers the caller (504) whatever we do now, so finish the work within the function's
    own timeout rather than throw it away. Returns whether the budget was extended."""
    global _deadline
    if _deadline is None or _function_deadline is None or remaining_seconds() >= needed_seconds:
        return False
    _deadline = max(_deadline, _function_deadline)
    return True


def function_seconds_left() -> float:
    """Seconds the invocation has left before the function's own timeout (less the answer's margin), past
    any API cap: whether long work (a training) can still finish. math.inf without a Lambda context."""
    if _function_deadline is None:
        return math.inf
    return max(0.0, _function_deadline - time.monotonic())


def remaining_seconds() -> float:
    """Seconds left in the budget (math.inf without one; never negative)."""
    if _deadline is None:
        return math.inf
    return max(0.0, _deadline - time.monotonic())
