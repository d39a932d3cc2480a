"""TrainWorkerFunction: train the series the planner queued, a batch of SQS messages per invocation.

Each message is handled on its own (Powertools BatchProcessor): the handler answers with the messages
that failed (`batchItemFailures`, the event source has ReportBatchItemFailures), Lambda deletes the rest,
and SQS re-delivers the failed ones after the queue's visibility timeout, until maxReceiveCount sends them
to the dead-letter queue. A poison message therefore costs its own retries, never its neighbours'. A
message the invocation has too little time left to train is sent again and reported done (deferred).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from lead_ai import time_budget
from lead_ai.domain.fleet import TrainingRequest, parse_training_request
from lead_ai.domain.series import SeriesInfo
from lead_ai.errors import ConfigurationError, ValidationError
from lead_ai.monitoring import logger, metrics
from lead_ai.service.ml_service import build_dependencies
from lead_ai.service.queued_training import (
    TRAINED,
    PoolAwaitingMembers,
    defer_for_lack_of_time,
    idempotency_key,
    note_failure,
    out_of_time,
    read_series,
    recheck_pool_later,
    train_requested,
)
from lead_ai.storage.clients import client

deps = build_dependencies()

if not deps.settings.idempotency_table:
    raise ConfigurationError("LEAD_AI_IDEMPOTENCY_TABLE is required by the training worker")
# One history revision of one series is trained once: a re-delivered message, or the same series queued
# by two plans, finds the stored outcome (or, while the first is still training, fails and is re-delivered
# after the visibility timeout, by when the outcome is stored). `revision` is the one the training reads,
# and `created_at` tells a series deleted and created again apart from the one before: its revisions start
# again at 1 (queued_training.idempotency_key).
idempotency = IdempotencyConfig(
    event_key_jmespath="[series_id, revision, created_at]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=2 * 86_400,
)
# Through the container's DynamoDB client: its timeouts, attempts and time-budget hooks, as every other AWS
# call (Powertools' own client would wait up to 60 s per read and make ten attempts, past the function's timeout).
persistence = DynamoDBPersistenceLayer(
    table_name=deps.settings.idempotency_table, boto3_client=client("dynamodb")
)
# A whole batch that fails is reported item by item like a partial one (no exception): Lambda then
# retries exactly those messages, as it does for a partial failure.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


# A fixed key prefix: the key must not depend on the module's name or the function's (the default,
# `<function name>.<module>.<qualname>`), or a renamed module would train every revision once more.
@idempotent_function(
    data_keyword_argument="message",
    config=idempotency,
    persistence_store=persistence,
    key_prefix="train-revision",
)
def train_once(
    message: dict[str, Any], request: TrainingRequest, series: SeriesInfo | None
) -> dict[str, Any]:
    # Keyed on `message` only (queued_training.idempotency_key); `series` is the message's one read of
    # its SERIES item.
    return train_requested(deps, request, series)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    # Each message's log lines carry its id: the id a dead-lettered message keeps.
    logger.set_correlation_id(record.message_id)
    if out_of_time(deps):
        # Not started, rather than cut off by the timeout with the rest of the batch (queued_training).
        attributes = record.raw_event.get("messageAttributes") or {}
        outcome = defer_for_lack_of_time(deps, record.message_id, record.body, attributes)
        metrics.add_metric(name="QueuedTrainingDeferred", unit=MetricUnit.Count, value=1)
        return outcome
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        request = parse_training_request(record.body)
    except ValidationError as exc:
        # A poison message: fails on every delivery and ends in the dead-letter queue for a person to read.
        logger.error(
            "unreadable training message",
            extra={
                "message_id": record.message_id,
                "attempt": attempt,
                "field": exc.field,
                "rule": exc.message,
            },
        )
        metrics.add_metric(name="TrainingMessageRejected", unit=MetricUnit.Count, value=1)
        raise
    try:
        series = read_series(deps, request)
        outcome = train_once(message=idempotency_key(request, series), request=request, series=series)
    except PoolAwaitingMembers as waiting:
        # Raised through train_once, so (pool, day) is not recorded: the message sent again trains it.
        # (Should SQS refuse it, this raises and the message itself comes back.)
        outcome = recheck_pool_later(deps, waiting)
        metrics.add_metric(name="PoolRecheckQueued", unit=MetricUnit.Count, value=1)
        return outcome
    except IdempotencyAlreadyInProgressError:
        # Another worker holds a copy of this message and is training it: not a failure of the series.
        # Reported failed, the copy comes back after the visibility timeout and gets the stored outcome.
        logger.info(
            "training in progress elsewhere", extra={"series_id": request.series_id, "attempt": attempt}
        )
        metrics.add_metric(name="QueuedTrainingInProgressElsewhere", unit=MetricUnit.Count, value=1)
        raise
    except Exception as exc:
        note_failure(deps, request, attempt, exc)
        metrics.add_metric(name="QueuedTrainingFailed", unit=MetricUnit.Count, value=1)
        raise
    name = "QueuedTrainingCompleted" if outcome.get("status") == TRAINED else "QueuedTrainingSkipped"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    # Every AWS call fits the function's own remaining time (lead_ai/time_budget.py).
    time_budget.begin_invocation(context)
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        time_budget.end()
