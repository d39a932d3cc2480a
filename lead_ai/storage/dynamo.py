"""Small helpers for the low-level DynamoDB client (faster to import and call than the resource API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from lead_ai.errors import StorageError

if TYPE_CHECKING:  # the stubs are a dev dependency: the layer never imports them
    from mypy_boto3_dynamodb.client import DynamoDBClient
from lead_ai.monitoring.logger import logger

T = TypeVar("T")

Item = dict[str, dict[str, Any]]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float | int) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def get_s(item: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    attr = item.get(name)
    return attr["S"] if attr is not None else default


def get_n(item: Mapping[str, Any], name: str, default: float | None = None) -> float | None:
    attr = item.get(name)
    return float(attr["N"]) if attr is not None else default


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_conditional_failure(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def guarded(action: str, call: Callable[[], T]) -> T:
    """Run an AWS call; wrap any botocore failure into the project's StorageError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        raise _logged_storage_error(action, exc) from exc


def paginate_query(client: DynamoDBClient, **kwargs: Any) -> Iterator[Item]:
    while True:
        page: dict[str, Any] = dict(client.query(**kwargs))
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def storage_error(action: str, exc: Exception) -> Exception:
    """A botocore failure as the project's StorageError; any other exception as it is."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError | BotoCoreError):
        return _logged_storage_error(action, exc)
    return exc


def _logged_storage_error(action: str, exc: BaseException) -> StorageError:
    """The StorageError a caller may see: what failed, in words, and nothing of AWS's own text.

    AWS error messages carry role and table ARNs, the account id, bucket names and endpoint URLs; they
    go to the log (with the request's correlation id, which Powertools adds to every line), never into a
    response or a stored reason."""
    logger.warning(
        "AWS call failed",
        extra={"action": action, "error_code": error_code(exc) or type(exc).__name__, "error": str(exc)},
    )
    return StorageError(f"{action} failed; retry shortly")
