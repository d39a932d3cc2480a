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
from lead_ai.domain.opening_hours import opening_hours
from lead_ai.domain.staffing import StaffingAssumptions, validate_assumptions
from lead_ai.errors import PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError
from lead_ai.service.series import SettingsChange

_SETTINGS_FIELDS = ("interval", "timezone", "holidays", "open_hours", "open_days")
_FIELDS_IN_WORDS = "interval, timezone, holidays, open_hours, open_days"
_MAX_SETTINGS_BYTES = 4096


def parse_series_settings(body: str | None, content_type: str) -> SettingsChange:
    """`{"interval", "timezone", "holidays", "open_hours", "open_days"}`, each optional but at least one;
    nothing else."""
    if content_type not in ("application/json", ""):
        raise UnsupportedMediaTypeError("Content-Type must be application/json", field="Content-Type")
    if not body:
        raise ValidationError(
            f"the body must be a JSON object with one or more of: {_FIELDS_IN_WORDS}", field="body"
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
            f"unknown field(s): {', '.join(unknown)[:200]}; a series has {_FIELDS_IN_WORDS}",
            field=unknown[0][:64],
        )
    if not data:
        raise ValidationError(f"name at least one of: {_FIELDS_IN_WORDS}", field="body")
    interval = parse_interval(data["interval"]) if "interval" in data else None
    return SettingsChange(
        interval_seconds=interval,
        timezone=_checked("timezone", data, parse_timezone),
        holidays=_checked("holidays", data, parse_calendar),
        open_hours=_checked("open_hours", data, _open_hours),
        open_days=_checked("open_days", data, _open_days),
    )


def _open_hours(value: Any) -> str:
    """The hours as the plan writes them back ("08:00-18:00"); ValueError naming open_hours."""
    if not isinstance(value, str):
        raise ValueError(f"open_hours must be a string HH:MM-HH:MM, e.g. 08:00-18:00; got {value!r:.30}")
    return opening_hours(value, None).describe()["open_hours"]


def _open_days(value: Any) -> str:
    """The days as the plan writes them back ("mon,tue,wed,thu,fri"); ValueError naming open_days."""
    if not isinstance(value, str):
        raise ValueError(f"open_days must be a string of days, e.g. mon-fri; got {value!r:.30}")
    return opening_hours(None, value).describe()["open_days"]


class StaffingQuery(NamedTuple):
    horizon: int | None  # None: as far as the served model may forecast
    assumptions: StaffingAssumptions
    open_hours: str | None = None  # None: the series' own (PUT /series/{id}), else open all day
    open_days: str | None = None


def parse_staffing_query(query: Mapping[str, str], max_horizon: int) -> StaffingQuery:
    """`horizon` (intervals), the staffing assumptions and the opening hours (`open_hours`, `open_days`),
    each optional (StaffingAssumptions' defaults; the series' own opening hours); a parameter that is not
    a number or a valid time, or out of its range, is a 400 naming it."""
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
    given = {name: value for name in ("open_hours", "open_days") if (value := query.get(name))}
    return StaffingQuery(
        horizon,
        assumptions,
        _checked("open_hours", given, _open_hours),
        _checked("open_days", given, _open_days),
    )


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
