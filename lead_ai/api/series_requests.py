"""Request rules of the series resource (`PUT /series/{id}`) and of the staffing plan: every rejection
names the field and the rule it breaks."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from lead_ai.api.requests import parse_horizon, parse_interval, unique_keys
from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.localtime import parse_timezone
from lead_ai.domain.opening_hours import ALWAYS_OPEN, OpeningHours, opening_hours
from lead_ai.domain.staffing import StaffingAssumptions, validate_assumptions
from lead_ai.errors import PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError
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
    if len(body.encode("utf-8", "surrogatepass")) > _MAX_SETTINGS_BYTES:  # as ingest counts its limit
        raise PayloadTooLargeError(f"the body is over the {_MAX_SETTINGS_BYTES}-byte limit", field="body")
    try:
        data: Any = json.loads(body, object_pairs_hook=unique_keys)
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


class StaffingQuery(NamedTuple):
    horizon: int | None  # None: as far as the served model may forecast
    assumptions: StaffingAssumptions
    opening: OpeningHours = ALWAYS_OPEN


def parse_staffing_query(query: Mapping[str, str], max_horizon: int) -> StaffingQuery:
    """`horizon` (intervals), the staffing assumptions and the opening hours (`open_hours`, `open_days`),
    each optional (StaffingAssumptions' defaults; open all the time); a parameter that is not a number or
    a valid time, or out of its range, is a 400 naming it."""
    raw_horizon = query.get("horizon")
    horizon = None if raw_horizon in (None, "") else parse_horizon(raw_horizon, max_horizon)
    values: dict[str, float] = {}
    for name in StaffingAssumptions._fields:
        raw = query.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = float(raw) if _NUMBER.fullmatch(raw.strip()) else math.nan
        except ValueError:
            values[name] = math.nan
        if not math.isfinite(values[name]):
            _assumption_error(name, raw)
    assumptions = StaffingAssumptions(**values)
    try:
        validate_assumptions(assumptions)
    except ValueError as exc:
        name = str(exc).split(" ", 1)[0]
        raise ValidationError(str(exc), field=name) from exc
    return StaffingQuery(horizon, assumptions, _opening(query))


def _opening(query: Mapping[str, str]) -> OpeningHours:
    try:
        return opening_hours(query.get("open_hours"), query.get("open_days"))
    except ValueError as exc:
        raise ValidationError(str(exc), field=str(exc).split(" ", 1)[0]) from exc


_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _assumption_error(name: str, raw: str) -> None:
    try:
        validate_assumptions(StaffingAssumptions(**{name: math.nan}))
    except ValueError as exc:
        message = str(exc).rsplit(", got", 1)[0]
        raise ValidationError(f"{message}, got {raw[:20]!r}", field=name) from exc


def _checked(name: str, data: dict[str, Any], parse: Any) -> str | None:
    if name not in data:
        return None
    try:
        return str(parse(data[name]))
    except ValueError as exc:
        raise ValidationError(str(exc), field=name) from exc
