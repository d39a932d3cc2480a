"""The project's exceptions. Each one maps to exactly one HTTP status (lead_ai/api/router.py answers with it)."""

from __future__ import annotations


class LeadAIError(Exception):
    """Base class: `status` is the HTTP status the API answers with."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ConfigurationError(LeadAIError):
    """The function's environment is wrong: a deployment bug, not a user error."""

    code = "configuration_error"


class ValidationError(LeadAIError):
    """The request breaks a rule; `field` names the part of the request that does."""

    status = 400
    code = "invalid_request"


class PayloadTooLargeError(LeadAIError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(LeadAIError):
    status = 415
    code = "unsupported_media_type"


class InsufficientHistoryError(LeadAIError, ValueError):
    """Too few observations to train on; nothing is written. A ValueError too: the forecasting core raises
    it for input it cannot use, outside any request."""

    status = 422
    code = "insufficient_history"


class IntervalMismatchError(LeadAIError):
    """Observations for a series must use the interval the series was created with."""

    status = 409
    code = "interval_mismatch"


class SeriesNotFoundError(LeadAIError):
    status = 404
    code = "series_not_found"


class ModelNotFoundError(LeadAIError):
    status = 404
    code = "model_not_found"


class VersionConflictError(LeadAIError):
    """A conditional write lost a race (e.g. the current model moved while promoting)."""

    status = 409
    code = "conflict"


class ServiceUnavailableError(LeadAIError):
    """A dependency (S3, DynamoDB) failed and nothing usable is cached; the client should retry."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StorageError(LeadAIError):
    """An AWS call failed after the SDK's retries; the data-access layer wraps botocore errors in this."""

    status = 503
    code = "service_unavailable"


class IntegrityError(LeadAIError):
    """A stored artifact does not match its recorded sha256/size, or is not a valid model."""

    status = 500
    code = "integrity_error"


class CalendarNotSupportedError(LeadAIError, ValueError):
    """The series' holiday calendar is not one the training's `holidays` library knows (a code the API
    accepted from an older table): nothing is trained; the series keeps its current model."""

    status = 422
    code = "unknown_calendar"


class ArtifactUnavailableError(LeadAIError):
    """A recorded model object is gone (NoSuchKey, NoSuchVersion) or may not be read (AccessDenied): this
    artifact cannot be served, while S3 itself answers. Serving falls back to an older verified version."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone  # deleted for good (NoSuchKey/NoSuchVersion), not merely denied


class SeriesDeletingError(LeadAIError):
    """The series is being deleted (DELETE /series/{series_id} started and has not finished)."""

    status = 409
    code = "series_deleting"
