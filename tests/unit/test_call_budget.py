"""The time budget's botocore hooks (lead_ai/storage/call_budget.py) on a real client: an attempt starts
only when it can end before the deadline, and no retry is slept for that could not finish."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config

from lead_ai import time_budget
from lead_ai.config import AwsCallLimits
from lead_ai.storage.call_budget import BudgetSpent, install
from lead_ai.storage.dynamo import guarded

LIMITS = AwsCallLimits(
    connect_timeout_seconds=0.1, read_timeout_seconds=0.4, max_attempts=10, api_budget_seconds=5
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Endpoint:
    """Answers every attempt itself (a before-send hook): a 500 that the SDK retries, after `delay` s."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.attempts = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts += 1
        time.sleep(self.delay)
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}'
        headers = HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"})
        return AWSResponse(request.url, 500, headers, _Raw(body))


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Endpoint]]:
    client: Any = botocore.session.get_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": LIMITS.max_attempts}),
    )
    install(client, LIMITS)
    endpoint = Endpoint()
    client.meta.events.register("before-send.dynamodb", endpoint)  # after the budget hook
    yield client, endpoint
    time_budget.end()


def _get(client: Any) -> Any:
    return client.get_item(TableName="t", Key={"k": {"S": "v"}})


def test_without_a_budget_the_sdk_makes_every_attempt(dynamodb: tuple[Any, Endpoint]) -> None:
    client, endpoint = dynamodb
    assert time_budget.remaining_seconds() == math.inf
    with pytest.raises(Exception, match="InternalServerError"):
        _get(client)
    assert endpoint.attempts == LIMITS.max_attempts


def test_no_attempt_starts_when_it_could_not_end_in_time(dynamodb: tuple[Any, Endpoint]) -> None:
    client, endpoint = dynamodb
    # Given less time left than one attempt may take (connect + read timeout = 0.5 s)
    time_budget.begin(0.3)
    # When a call is made, Then it fails at once, sending nothing, as a BotoCoreError
    started = time.monotonic()
    with pytest.raises(BudgetSpent):
        _get(client)
    assert endpoint.attempts == 0
    assert time.monotonic() - started < 0.2


def test_retries_stop_when_another_attempt_would_pass_the_deadline(dynamodb: tuple[Any, Endpoint]) -> None:
    client, endpoint = dynamodb
    # Given 1.5 s, and an endpoint that fails each attempt after 0.3 s
    endpoint.delay = 0.3
    time_budget.begin(1.5)
    started = time.monotonic()
    # When a call is made
    with pytest.raises(BudgetSpent):
        _get(client)
    # Then it stopped within the budget after as many attempts as fitted, not the SDK's six
    elapsed = time.monotonic() - started
    assert elapsed <= 1.5
    assert 2 <= endpoint.attempts <= 4


def test_a_spent_budget_is_a_storage_error_that_says_what_failed(dynamodb: tuple[Any, Endpoint]) -> None:
    client, _ = dynamodb
    time_budget.begin(0.0)
    with pytest.raises(Exception, match=r"^reading the series failed; retry shortly$"):
        guarded("reading the series", lambda: _get(client))


def test_the_invocation_budget_is_the_function_time_left_capped_for_api_requests() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 29_000

    try:
        # An API request: the cap; a scheduled run: the function's time less the answer's margin
        assert time_budget.begin_invocation(Context(), 24.0) == 24.0
        assert time_budget.begin_invocation(Context()) == 29.0 - time_budget.ANSWER_MARGIN_SECONDS
        assert time_budget.begin_invocation(None, 3.0) == 3.0
        assert 2.5 < time_budget.remaining_seconds() <= 3.0
        # After long CPU work past the API budget, the function's own time is used
        time_budget.begin(0.1, 20.0)
        assert time_budget.finish_in_function_time(1.0) is True
        assert time_budget.remaining_seconds() > 19
    finally:
        time_budget.end()
