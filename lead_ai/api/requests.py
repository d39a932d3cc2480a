"""Request rules: every rejection names the field and the rule it breaks, and happens before any write."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from lead_ai.domain.intervals import DAY_SECONDS, interval_name, parse_series_interval
from lead_ai.domain.localtime import (
    UTC_ZONE,
    AmbiguousLocalTimeError,
    NonexistentLocalTimeError,
    local_to_utc,
    local_wall_time,
)
from lead_ai.domain.pools import parse_pool_id
from lead_ai.domain.series import SERIES_ID_PATTERN, ObservationBatch
from lead_ai.domain.versions import VERSION_PATTERN
from lead_ai.errors import PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError

# GET …/staffing's query parameters: `horizon` and domain.staffing.StaffingAssumptions' fields (a unit
# test keeps them equal). Spelt out here so that routing the staffing route does not load Erlang C (~6 ms)
# into the forecast route's cold start.
STAFFING_QUERY = (
    "horizon",
    "handle_seconds",
    "answer_within_seconds",
    "service_level",
    "shrinkage",
    "max_occupancy",
    "quantile",
    "open_hours",
    "open_days",
)

_EARLIEST = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp())
_MAX_VALUE = 1e12
_JSON_FIELDS = {"observations", "interval"}
_OBSERVATION_FIELDS = {"timestamp", "value"}


def validate_series_id(raw: str | None) -> str:
    if raw is None or not SERIES_ID_PATTERN.fullmatch(raw):
        raise ValidationError(
            "series_id must be 1-64 characters from A-Z, a-z, 0-9, '_' and '-'", field="series_id"
        )
    return raw


def validate_pool_id(raw: str | None) -> str:
    try:
        parse_pool_id(raw or "")
    except ValueError:
        raise ValidationError(
            "pool_id must be pool:<interval>:<time zone, '/' as '.'>:<holiday calendar>, "
            "e.g. pool:1h:Europe.Berlin:DE-BY (GET /series/{series_id} names a young series' pool)",
            field="pool_id",
        ) from None
    return raw or ""


def validate_version(raw: str | None) -> str:
    if raw is None or not VERSION_PATTERN.fullmatch(raw):
        raise ValidationError(
            "version must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.2.0", field="version"
        )
    return raw


def reject_unknown_parameters(query: Mapping[str, str], known: tuple[str, ...], takes: str) -> None:
    """A 400 naming the first query parameter not in `known`, and what `takes` (the route) takes. The
    router calls it for every route with the parameters the route declares (api/router.py)."""
    unknown = sorted(name for name in query if name not in known)
    if unknown:
        raise ValidationError(
            f"unknown query parameter(s): {', '.join(unknown)[:200]}; {takes} takes "
            + (", ".join(known) or "no query parameters"),
            field=unknown[0][:64],
        )


def parse_horizon(raw: str | None, max_horizon: int) -> int:
    """The number of intervals asked for, before the series is known: a whole number from 1, at most
    `max_horizon` (LEAD_AI_MAX_HORIZON in the shortest interval). The series' own limit, fewer at longer
    intervals, is checked once its interval is known (service.serving.check_horizon)."""
    rule = "a whole number of the series' intervals, at least 1"
    if raw is None or raw == "":
        raise ValidationError(f"horizon is required: {rule}", field="horizon")
    if not re.fullmatch(r"\+?[0-9]{1,7}", raw.strip()) or int(raw) < 1:
        raise ValidationError(f"horizon must be {rule}, got {raw[:20]!r}", field="horizon")
    horizon = int(raw)
    if horizon > max_horizon:
        raise ValidationError(
            f"horizon must be at most {max_horizon} (LEAD_AI_MAX_HORIZON in the shortest interval; a series "
            f"of longer intervals allows fewer), got {horizon}",
            field="horizon",
        )
    return horizon


def parse_level(raw: str | None) -> float:
    if raw is None or raw == "":
        return 0.8
    try:
        level = float(raw)
    except ValueError:
        level = math.nan
    if not 0.5 <= level <= 0.99:
        raise ValidationError(f"level must be a number from 0.5 to 0.99, got {raw[:20]!r}", field="level")
    return level


def parse_interval(raw: object) -> int:
    try:
        return parse_series_interval(raw)
    except ValueError as exc:
        raise ValidationError(str(exc), field="interval") from exc


def content_type_of(headers: Mapping[str, str] | None) -> str:
    for name, value in (headers or {}).items():
        if name.lower() == "content-type" and value:
            return value.split(";", 1)[0].strip().lower()
    return ""


def request_body(body: str | None, is_base64_encoded: bool) -> str | None:
    """The body as text; a base64 body (API Gateway binary media types) must decode to UTF-8."""
    if not is_base64_encoded or body is None:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise ValidationError("the base64-encoded body does not decode to UTF-8 text", field="body") from exc


def parse_observations(
    body: str | None,
    content_type: str,
    *,
    default_interval: str,
    max_bytes: int,
    max_observations: int,
    now: float,
    timezone: str = UTC_ZONE,
) -> ObservationBatch:
    """Validated observations. Naive timestamps are local times in the series' `timezone` (a time the
    clocks skip or show twice is refused, never guessed); a `1d` series' timestamps name local dates."""
    raw_points, interval_raw = _raw_observations(body, content_type, max_bytes, max_observations)
    interval = parse_interval(interval_raw if interval_raw is not None else default_interval)
    slots = _slots(raw_points, interval, now, timezone)
    return ObservationBatch(points=sorted(slots.items()), interval_seconds=interval)


class _Sent(NamedTuple):
    """One observation as sent, and where it is in the body: `observations[3]` (JSON) or `line 5` (CSV),
    the prefix of the field its errors name."""

    timestamp: Any
    value: Any
    where: str


def _raw_observations(
    body: str | None, content_type: str, max_bytes: int, max_observations: int
) -> tuple[list[_Sent], object]:
    """The observations as sent (with where each is in the body), and the interval the body names (JSON
    only), within limits."""
    if body is None or body == "":
        raise ValidationError("the request body is empty: send observations as JSON or CSV", field="body")
    if len(body.encode("utf-8", "surrogatepass")) > max_bytes:
        raise PayloadTooLargeError(f"the request body is over the {max_bytes}-byte limit", field="body")
    # Excel's "CSV UTF-8" (and some JSON writers) start with a byte-order mark: text, not data.
    body = body.removeprefix("\ufeff")
    if content_type == "application/json":
        raw_points, interval_raw = _json_observations(body)
    elif content_type == "text/csv":
        raw_points, interval_raw = _csv_observations(body), None
    else:
        raise UnsupportedMediaTypeError(
            "Content-Type must be application/json or text/csv", field="Content-Type"
        )
    if len(raw_points) > max_observations:
        raise ValidationError(
            f"at most {max_observations} observations per request, got {len(raw_points)}",
            field="observations",
        )
    if not raw_points:
        raise ValidationError("observations must contain at least one observation", field="observations")
    return raw_points, interval_raw


def _slots(raw_points: list[_Sent], interval: int, now: float, timezone: str) -> dict[int, float]:
    """Each observation's slot (epoch seconds on the interval's grid) and value. Local times the clocks
    skip or repeat are all named in one error; two different values for one slot are refused."""
    slots: dict[int, float] = {}
    unclear: list[tuple[str, str]] = []  # (field, why) of local times that are skipped or repeated
    first_seen: dict[int, str] = {}
    for ts_raw, value_raw, where in raw_points:
        field = f"{where}.timestamp"
        try:
            ts = _timestamp(ts_raw, field, now, timezone, interval)
        except (NonexistentLocalTimeError, AmbiguousLocalTimeError) as exc:
            unclear.append((field, str(exc)))
            continue
        if ts % interval:
            raise ValidationError(
                f"timestamp {ts_raw!r} is not on the series' {interval_name(interval)} grid", field=field
            )
        value = _value(value_raw, f"{where}.value")
        if ts in slots and slots[ts] != value:
            # Which one is right? Only the sender knows: nothing is stored, both are named.
            raise ValidationError(
                f"{first_seen[ts]} and {where} have the same timestamp "
                f"{ts_raw!r} with different values; send one value per timestamp",
                field=field,
            )
        first_seen.setdefault(ts, where)
        slots[ts] = value
    if unclear:
        listed = "; ".join(f"{field}: {why}" for field, why in unclear[:5])
        more = f"; and {len(unclear) - 5} more" if len(unclear) > 5 else ""
        raise ValidationError(
            f"{len(unclear)} local time(s) cannot be read in {timezone}: {listed}{more}", field=unclear[0][0]
        )
    return slots


def _json_observations(body: str) -> tuple[list[_Sent], object]:
    try:
        data = json.loads(body, parse_constant=_reject_constant, object_pairs_hook=unique_keys)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"the body is not valid JSON: {str(exc)[:120]}", field="body") from exc
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object with an 'observations' list", field="body")
    unknown = sorted(map(str, set(data) - _JSON_FIELDS))
    if unknown:
        raise ValidationError(
            f"unknown field(s): {', '.join(unknown)[:200]}; the body takes observations and interval",
            field=unknown[0][:64],
        )
    observations = data.get("observations")
    if not isinstance(observations, list):
        raise ValidationError(
            "observations must be a list of {timestamp, value} objects", field="observations"
        )
    points: list[_Sent] = []
    for index, item in enumerate(observations):
        if not isinstance(item, dict) or set(item) != _OBSERVATION_FIELDS:
            raise ValidationError(
                "each observation must be an object with exactly 'timestamp' and 'value'",
                field=f"observations[{index}]",
            )
        points.append(_Sent(item["timestamp"], item["value"], f"observations[{index}]"))
    return points, data.get("interval")


def _csv_observations(body: str) -> list[_Sent]:
    rows = _csv_rows(body)
    if not rows or [cell.strip().lower() for cell in rows[0][1]] != ["timestamp", "value"]:
        raise ValidationError("CSV must start with the header 'timestamp,value'", field="body")
    points: list[_Sent] = []
    for line, row in rows[1:]:
        if not row:
            continue
        if len(row) != 2:
            raise ValidationError(f"CSV line {line} must have 2 cells, has {len(row)}", field=f"line {line}")
        points.append(_Sent(row[0].strip(), _csv_number(row[1]), f"line {line}"))
    return points


def _csv_rows(body: str) -> list[tuple[int, list[str]]]:
    """Each record with the line of the body it starts on (a quoted cell may span lines). Lines end in
    CRLF, LF or a lone CR (Excel for Mac's "CSV (Macintosh)"): newline="" lets the csv module read all three."""
    reader = csv.reader(io.StringIO(body, newline=""))
    rows: list[tuple[int, list[str]]] = []
    first_line = 1
    try:
        for row in reader:
            rows.append((first_line, row))
            first_line = reader.line_num + 1  # line_num: the lines read so far
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise ValidationError(f"the body is not valid CSV: {str(exc)[:120]}", field="body") from exc
    return rows


def _csv_number(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell  # reported by _value, with the line


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it names a key twice: `json` would keep the last value and drop the
    other unseen (a second "observations" list replaced the first)."""
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValidationError(
                f"the key {key[:64]!r} appears more than once in one JSON object; send each field once",
                field=key[:64],
            )
        seen.add(key)
    return data  # not reached: a shorter dict means a repeated key


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _timestamp(raw: object, field: str, now: float, timezone: str, interval_seconds: int) -> int:
    if not isinstance(raw, str) or len(raw) > 40 or not raw.isascii() or not raw.strip().isprintable():
        raise ValidationError("timestamp must be an ISO 8601 string, e.g. 2026-11-25T09:00:00Z", field=field)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationError(f"timestamp {raw!r} is not ISO 8601", field=field) from exc
    try:
        ts = _instant(moment, timezone, interval_seconds, raw, field)
    except (OverflowError, OSError) as exc:
        raise ValidationError(f"timestamp {raw!r} is out of range", field=field) from exc
    if ts < _EARLIEST:
        raise ValidationError(
            f"timestamp {raw!r} is out of range: observations must lie between 1990-01-01 and now",
            field=field,
        )
    # A slot is stamped with its start: the current one may be reported, a later one cannot have happened
    # (a client clock ahead, or a typo) and would move the forecast's origin into the future.
    if ts > now + interval_seconds:
        raise ValidationError(
            f"timestamp {raw!r} is in the future: observations may be at most one interval "
            f"({interval_name(interval_seconds)}) after the time of the request",
            field=field,
        )
    return ts


def _instant(moment: datetime, timezone: str, interval: int, raw: str, field: str) -> int:
    """Epoch seconds of the slot a timestamp names: the instant itself, a naive one read in the series'
    zone; for a daily series the local date, kept as its midnight UTC (a day is a date, not an instant)."""
    if moment.microsecond:
        raise ValidationError(f"timestamp {raw!r} has a fraction of a second", field=field)
    if interval >= DAY_SECONDS:
        local = moment if moment.tzinfo is None else _local_date_time(moment, timezone, raw, field)
        if local.time() != time(0):
            raise ValidationError(
                f"timestamp {raw!r} is not a local midnight: a 1d series takes one value per local date",
                field=field,
            )
        return _date_stamp(local.date())
    if moment.tzinfo is not None:
        return int(moment.timestamp())
    try:
        return local_to_utc(moment, timezone)
    except (NonexistentLocalTimeError, AmbiguousLocalTimeError):
        raise
    except ValueError as exc:
        raise ValidationError(f"timestamp {raw!r} is out of range", field=field) from exc


def _local_date_time(moment: datetime, timezone: str, raw: str, field: str) -> datetime:
    """The series' wall time of an instant with an offset (for a daily series' date)."""
    try:
        return local_wall_time(int(moment.timestamp()), timezone)
    except ValueError as exc:  # its local date is before year 1 or after 9999
        raise ValidationError(
            f"timestamp {raw!r} is out of range: observations must lie between 1990-01-01 and now",
            field=field,
        ) from exc


def _value(raw: object, field: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError(f"value must be a number, got {str(raw)[:40]!r}", field=field)
    if isinstance(raw, int) and abs(raw) > _MAX_VALUE:
        raise ValidationError(f"value must be a finite number from 0 to {_MAX_VALUE:g}", field=field)
    value = float(raw)
    if not math.isfinite(value) or value < 0 or value > _MAX_VALUE:
        raise ValidationError(
            f"value must be a finite number from 0 to {_MAX_VALUE:g}, got {raw!r}", field=field
        )
    return value


def parse_time_range(
    raw_from: str | None, raw_to: str | None, timezone: str, interval_seconds: int
) -> tuple[int, int]:
    """`from` and `to` of a range delete: ISO 8601 (without an offset: in the series' time zone, as at
    ingest), both required, from <= to, both inclusive. The slots removed are those whose start lies
    within; a daily series' slot is a local date, so its bounds are read as local dates."""
    start, end = (_range_moment(raw, name) for name, raw in (("from", raw_from), ("to", raw_to)))
    if interval_seconds >= DAY_SECONDS:
        first_day, last_day = _wall_time(start, timezone, "from"), _wall_time(end, timezone, "to")
        if first_day > last_day:
            raise ValidationError("from must not be after to", field="from")
        # The first date that starts at or after `from`, the last that starts at or before `to`; each
        # stored as ingest keeps a date: at its midnight UTC.
        return _date_stamp(_first_date_from(first_day)), _date_stamp(last_day.date())
    first, last = _instant_seconds(start, timezone, "from"), _instant_seconds(end, timezone, "to")
    if first > last:
        raise ValidationError("from must not be after to", field="from")
    return math.ceil(first), math.floor(last)


def _range_moment(raw: str | None, field: str) -> datetime:
    if raw is None or raw == "":
        raise ValidationError(
            f"{field} is required: an ISO 8601 time such as 2026-11-25T09:00:00Z", field=field
        )
    if len(raw) > 40 or not raw.isascii() or not raw.strip().isprintable():
        raise ValidationError(f"{field} must be an ISO 8601 time such as 2026-11-25T09:00:00Z", field=field)
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationError(f"{field} {raw!r} is not an ISO 8601 time", field=field) from exc


def _instant_seconds(moment: datetime, timezone: str, field: str) -> float:
    """Epoch seconds of a bound: a naive one read in the series' zone."""
    try:
        if moment.tzinfo is None:
            return local_to_utc(moment.replace(microsecond=0), timezone) + moment.microsecond / 1e6
        return moment.timestamp()
    except (NonexistentLocalTimeError, AmbiguousLocalTimeError) as exc:
        raise ValidationError(f"{field}: {exc}", field=field) from exc
    except (ValueError, OverflowError, OSError) as exc:
        raise ValidationError(f"{field} {moment.isoformat()!r} is out of range", field=field) from exc


def _wall_time(moment: datetime, timezone: str, field: str) -> datetime:
    """The series' local wall time of a bound (a naive one is one already: no gap or fold to resolve)."""
    if moment.tzinfo is None:
        return moment
    seconds = _instant_seconds(moment, timezone, field)
    try:
        return local_wall_time(math.floor(seconds), timezone) + timedelta(microseconds=moment.microsecond)
    except (ValueError, OverflowError) as exc:  # its local date is before year 1 or after 9999
        raise ValidationError(f"{field} {moment.isoformat()!r} is out of range", field=field) from exc


def _first_date_from(moment: datetime) -> date:
    """The first local date that starts at or after a `from` wall time."""
    if moment.time() == time(0):
        return moment.date()
    try:
        return moment.date() + timedelta(days=1)
    except OverflowError as exc:  # after the last day of year 9999: no date starts there
        raise ValidationError(f"from {moment.isoformat()!r} is out of range", field="from") from exc


def _date_stamp(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp())
