"""AWS clients, created once per container and reused across invocations.

They are botocore clients: what boto3 hands out, minus boto3's S3 transfer helpers (upload_file &c.,
which we never call). `import boto3` also imports s3transfer, and creating an S3 client through boto3
injects it: about 0.1 s of the prediction function's cold start on the benchmark machine
(benchmarks/serving/). Credentials, region, retries and `meta.events` are botocore's either way.

The same code talks to real AWS or to a local stand-in: botocore honours the standard
`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB` variables itself.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session  # imported on first use: module import stays cheap for code that never calls AWS

    return botocore.session.get_session()


@cache
def client(service: str) -> Any:
    """The container's client for `service`: short timeouts and a bounded number of attempts (from
    LEAD_AI_AWS_* in template.yaml), and hooks that keep each call inside the invocation's time budget:
    a Lambda waiting 60 s on a hung socket helps nobody; the caller answers from the warm cache or with
    a 503 instead."""
    from botocore.config import Config

    from lead_ai.config import AwsCallLimits
    from lead_ai.storage.call_budget import install

    limits = AwsCallLimits.from_env()
    aws_client = _session().create_client(
        service,
        config=Config(
            connect_timeout=limits.connect_timeout_seconds,
            read_timeout=limits.read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": limits.max_attempts},
        ),
    )
    install(aws_client, limits)
    return aws_client


def reset_clients() -> None:
    """Forget cached clients (tests that point the process at a new endpoint)."""
    client.cache_clear()
    _session.cache_clear()
