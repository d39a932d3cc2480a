"""boto3 clients, created once per container and reused across invocations.

The same code talks to real AWS or to a local stand-in: boto3 honours the standard
`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB` variables itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Short timeouts and a bounded retry budget: a Lambda waiting 60 s on a hung socket helps nobody;
# the caller answers from the warm cache or with a 503 instead.
_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 10,
    "retries": {"mode": "standard", "max_attempts": 3},
}


@lru_cache(maxsize=1)
def _session() -> Any:
    import boto3  # imported on first use: module import stays cheap for code that never calls AWS

    return boto3.session.Session()


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    from botocore.config import Config

    return _session().client(service, config=Config(**_CLIENT_CONFIG))


def reset_clients() -> None:
    """Forget cached clients (tests that point the process at a new endpoint)."""
    client.cache_clear()
    _session.cache_clear()
