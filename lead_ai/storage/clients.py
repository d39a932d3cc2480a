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

# Short timeouts and a bounded retry budget: a Lambda waiting 60 s on a hung socket helps nobody;
# the caller answers from the warm cache or with a 503 instead.
_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 10,
    "retries": {"mode": "standard", "max_attempts": 3},
}


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session  # imported on first use: module import stays cheap for code that never calls AWS

    return botocore.session.get_session()


@cache
def client(service: str) -> Any:
    from botocore.config import Config

    return _session().create_client(service, config=Config(**_CLIENT_CONFIG))


def reset_clients() -> None:
    """Forget cached clients (tests that point the process at a new endpoint)."""
    client.cache_clear()
    _session.cache_clear()
