"""Reading a file of observations for `lead-ai ingest`: CSV or JSON, one series or many.

CSV: a header `timestamp,value`, or `series_id,timestamp,value` for many series (any column order; an
Excel "CSV UTF-8" byte-order mark is fine). JSON: the API's own body `{"observations": [...]}`, or a list
of `{timestamp, value}` / `{series_id, timestamp, value}` objects. The rules on timestamps and values
are the API's (lead_ai/api/requests.py): this module only groups rows by series and remembers where each
came from, so an error the API reports for `observations[17].value` can name the line of the file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

MAX_PER_REQUEST = 5000  # well under the API's 10,000 observations and 1 MiB per request


class Row(NamedTuple):
    timestamp: object
    value: object
    where: str  # "line 12" or "item 3": where the row is in the file


class FileError(ValueError):
    """The file cannot be read as observations; the message names the file and the line."""


def read_observations(path: Path, series_id: str | None) -> dict[str, list[Row]]:
    """Rows per series id. `series_id`: the series of a file without a series_id column, or the one
    series to take from a file with one."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: drops a byte-order mark
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise FileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped[:1] in {"{", "["}:
        grouped = _json_rows(path, text, series_id)
    else:
        grouped = _csv_rows(path, text, series_id)
    if series_id is not None:
        if series_id not in grouped:
            raise FileError(
                f"{path}: no rows for series {series_id!r} (series in the file: {_names(grouped)})"
            )
        return {series_id: grouped[series_id]}
    if not grouped:
        raise FileError(f"{path}: no observations")
    return grouped


def _names(grouped: dict[str, list[Row]]) -> str:
    names = sorted(grouped)
    return ", ".join(names[:10]) + (" …" if len(names) > 10 else "") if names else "none"


def _csv_rows(path: Path, text: str, series_id: str | None) -> dict[str, list[Row]]:
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if "timestamp" not in header or "value" not in header:
        raise FileError(
            f"{path}: the CSV header must be timestamp,value or series_id,timestamp,value; got {','.join(header)!r}"
        )
    ts_col, value_col = header.index("timestamp"), header.index("value")
    sid_col = header.index("series_id") if "series_id" in header else None
    if sid_col is None and series_id is None:
        raise FileError(f"{path} has no series_id column: name the series with --series ID")
    grouped: dict[str, list[Row]] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise FileError(f"{path} line {line}: {len(row)} cells, the header has {len(header)}")
        sid = row[sid_col].strip() if sid_col is not None else str(series_id)
        grouped.setdefault(sid, []).append(Row(row[ts_col].strip(), _number(row[value_col]), f"line {line}"))
    return grouped


def _number(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell  # sent as it is: the API says what is wrong with it, and the CLI names the line


def _json_rows(path: Path, text: str, series_id: str | None) -> dict[str, list[Row]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FileError(f"{path}: not valid JSON ({exc})") from None
    items = data.get("observations") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise FileError(f'{path}: expected {{"observations": [...]}} or a list of observations')
    grouped: dict[str, list[Row]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FileError(f"{path} item {index}: expected an object with timestamp and value")
        sid = item.get("series_id", series_id)
        if sid is None:
            raise FileError(f"{path} item {index} has no series_id: name the series with --series ID")
        grouped.setdefault(str(sid), []).append(
            Row(item.get("timestamp"), item.get("value"), f"item {index}")
        )
    return grouped


def request_bodies(rows: list[Row], interval: str | None) -> list[tuple[dict[str, Any], list[Row]]]:
    """JSON ingest bodies of at most MAX_PER_REQUEST observations, each with the rows it carries."""
    bodies = []
    for start in range(0, len(rows), MAX_PER_REQUEST):
        chunk = rows[start : start + MAX_PER_REQUEST]
        body: dict[str, Any] = {"observations": [{"timestamp": r.timestamp, "value": r.value} for r in chunk]}
        if interval is not None:
            body["interval"] = interval
        bodies.append((body, chunk))
    return bodies
