"""ISO 8601 text for epoch seconds: the one formatter of every timestamp the service writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_utc(ts: int | float) -> str:
    """Epoch seconds as `2026-11-24T09:00:00Z`."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_or_none(ts: int | float | None) -> str | None:
    return None if ts is None else iso_utc(ts)


def utc_now_iso() -> str:
    """Now, to the millisecond: record creation and update times."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_utc_array(stamps: Any) -> list[str]:
    """Many epoch seconds at once (a forecast's timestamps): numpy formats them without a Python loop."""
    import numpy as np

    texts = np.datetime_as_string(np.asarray(stamps, dtype=np.int64).astype("datetime64[s]"), unit="s")
    return [f"{t}Z" for t in texts.tolist()]
