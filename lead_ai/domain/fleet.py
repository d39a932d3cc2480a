"""The training queue's message: one series at one history revision, `{"series_id", "revision"}`.

The planner writes it, the training worker reads it. A body that breaks these rules is a poison message:
the worker reports it failed, SQS re-delivers it up to the queue's maxReceiveCount and then moves it to
the dead-letter queue, where it waits for a person.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from lead_ai.domain.pools import is_pool_id
from lead_ai.domain.series import SERIES_ID_PATTERN
from lead_ai.errors import ValidationError

_FIELDS = {"series_id", "revision"}
_MAX_BODY_CHARS = 1024  # a real message is ~50 characters; anything long is not ours


class TrainingRequest(NamedTuple):
    """One series at one history revision; or one pool (series_id = its pool id) on one day (revision =
    the plan's day number since 1970-01-01 UTC): a pool is trained once a day."""

    series_id: str
    revision: int

    def to_json(self) -> str:
        return json.dumps({"series_id": self.series_id, "revision": self.revision}, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {"series_id": self.series_id, "revision": self.revision}


def parse_training_request(body: str | None) -> TrainingRequest:
    """The message body as a TrainingRequest; ValidationError naming the field that breaks a rule."""
    if not body or len(body) > _MAX_BODY_CHARS:
        raise ValidationError(
            f"the message body must be a JSON object of at most {_MAX_BODY_CHARS} characters", field="body"
        )
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValidationError("the message body is not JSON", field="body") from exc
    if not isinstance(data, dict) or set(data) != _FIELDS:
        raise ValidationError("the message body must be exactly {series_id, revision}", field="body")
    series_id, revision = data["series_id"], data["revision"]
    # A pool's id (domain.pools) names the pooled model of a group of series; it is never a series id.
    if not isinstance(series_id, str) or not (
        SERIES_ID_PATTERN.fullmatch(series_id) or is_pool_id(series_id)
    ):
        raise ValidationError(
            "series_id must be 1-64 characters from A-Z, a-z, 0-9, '_' and '-', or a pool id",
            field="series_id",
        )
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise ValidationError("revision must be an integer >= 1", field="revision")
    return TrainingRequest(series_id, revision)


class DueSeries(NamedTuple):
    """A due series as the planner reads it from the DueIndex."""

    series_id: str
    interval_seconds: int
    revision: int
    observed_points: int
    # Its own model lost to its group's pool at its last training: the pool serves it (the DueIndex's
    # POOL_SERVED partition), so its new data call for the pool's training too.
    pool_served: bool = False
