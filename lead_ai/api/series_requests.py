"""Request rules of the series resource (`PUT /series/{id}`) and of the staffing plan: every rejection
names the field and the rule it breaks."""

from __future__ import annotations

import json
from typing import Any

from lead_ai.api.requests import parse_interval
from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.localtime import parse_timezone
from lead_ai.errors import UnsupportedMediaTypeError, ValidationError
from lead_ai.service.series import SettingsChange

_SETTINGS_FIELDS = ("interval", "timezone", "holidays")
_MAX_SETTINGS_BYTES = 4096


def parse_series_settings(body: str | None, content_type: str) -> SettingsChange:
    """`{"interval", "timezone", "holidays"}`, each optional but at least one; nothing else."""
    if content_type not in ("application/json", ""):
        raise UnsupportedMediaTypeError("Content-Type must be application/json", field="Content-Type")
    if not body:
        raise ValidationError(
            "the body must be a JSON object with one or more of: interval, timezone, holidays", field="body"
        )
    if len(body) > _MAX_SETTINGS_BYTES:
        raise ValidationError(f"the body is over {_MAX_SETTINGS_BYTES} bytes", field="body")
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"the body is not valid JSON: {str(exc)[:120]}", field="body") from exc
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    unknown = sorted(str(name) for name in data if name not in _SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(
            f"unknown field(s): {', '.join(unknown)[:200]}; a series has interval, timezone and holidays",
            field=unknown[0][:64],
        )
    if not data:
        raise ValidationError("name at least one of: interval, timezone, holidays", field="body")
    interval = parse_interval(data["interval"]) if "interval" in data else None
    return SettingsChange(
        interval_seconds=interval,
        timezone=_checked("timezone", data, parse_timezone),
        holidays=_checked("holidays", data, parse_calendar),
    )


def _checked(name: str, data: dict[str, Any], parse: Any) -> str | None:
    if name not in data:
        return None
    try:
        return str(parse(data[name]))
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from exc
