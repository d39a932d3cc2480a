"""A series' settings (interval, time zone, holiday calendar) and what the service knows of it.

`PUT /series/{id}` stores settings in the series' catalogue item; `GET /series/{id}` shows them with the
span of its history, the model it serves and whether training is due. The interval of a series with
history is fixed (its stored slots are on that grid): changing it is a 409. A new time zone or calendar
changes the model's features, so it makes the series due for training (the revision moves).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.localtime import misaligned_offset, offset_suffix
from lead_ai.domain.models import ModelVersion
from lead_ai.domain.opening_hours import opening_on_grid
from lead_ai.domain.series import SeriesInfo, SeriesSettings
from lead_ai.errors import (
    IntervalMismatchError,
    ModelNotFoundError,
    SeriesNotFoundError,
    ValidationError,
    VersionConflictError,
)
from lead_ai.service.dependencies import Dependencies

_SAVE_ATTEMPTS = 5


class SettingsChange(NamedTuple):
    """The fields a PUT names (None: keep the current value, or the default for a new series)."""

    interval_seconds: int | None = None
    timezone: str | None = None
    holidays: str | None = None
    open_hours: str | None = None  # as OpeningHours.describe() writes them
    open_days: str | None = None


class SeriesView(NamedTuple):
    info: SeriesInfo
    settings: SeriesSettings
    current: ModelVersion | None  # the version serving forecasts, if any
    pool_id: str | None = None  # set when `current` is the pooled model of its group (no model of its own)


def describe(deps: Dependencies, series_id: str) -> SeriesView:
    info = deps.catalogue.get_series(series_id)
    if info is None:
        raise SeriesNotFoundError(f"series '{series_id}' does not exist", field="series_id")
    settings = SeriesSettings.of(info, deps.settings.series_defaults)
    registry_key, pointer = series_id, deps.tracker.current(series_id)
    pool_id = None
    if pointer is None:
        # Imported here: IngestFunction imports this module (save_settings) and never serves a forecast
        from lead_ai.service.pooling import pool_serving

        try:
            pool_id, pointer = pool_serving(deps, info)
        except ModelNotFoundError:
            return SeriesView(info, settings, None)  # nothing forecasts it yet
        registry_key = pool_id
    current = deps.tracker.get_version(registry_key, pointer.version)
    return SeriesView(info, settings, current, pool_id if current is not None else None)


def _check_grid(settings: SeriesSettings) -> None:
    """The series' slots are on a UTC grid: its zone's local intervals must start on that grid."""
    now = int(time.time())
    offset = misaligned_offset(settings.timezone, settings.interval_seconds, now)
    if offset is None:
        return
    fits = [
        interval_name(seconds)
        for seconds in (1800, 900)
        if seconds < settings.interval_seconds and misaligned_offset(settings.timezone, seconds, now) is None
    ]
    raise ValidationError(
        f"timezone {settings.timezone} has the offset UTC{offset_suffix(offset)}: its local "
        f"{interval_name(settings.interval_seconds)} intervals do not start where UTC's do; "
        + (f"use a {' or a '.join(fits)} interval for this zone" if fits else "use another time zone"),
        field="timezone",
    )


def save_settings(deps: Dependencies, series_id: str, change: SettingsChange) -> SeriesView:
    """Apply the change; 409 for a new interval on a series with history. Retried when an ingest moves
    the revision meanwhile (the check is made again on what that ingest left)."""
    defaults = deps.settings.series_defaults
    for _ in range(_SAVE_ATTEMPTS):
        info = deps.catalogue.get_series(series_id)
        before = SeriesSettings.of(info, defaults) if info is not None else defaults
        after = SeriesSettings(
            change.interval_seconds or before.interval_seconds,
            change.timezone or before.timezone,
            change.holidays or before.holidays,
            change.open_hours or before.open_hours,
            change.open_days or before.open_days,
        )
        has_history = info is not None and info.has_history
        if has_history and after.interval_seconds != before.interval_seconds:
            raise IntervalMismatchError(
                f"series '{series_id}' has history on a {interval_name(before.interval_seconds)} grid: its "
                f"interval cannot change to {interval_name(after.interval_seconds)} (create a new series)",
                field="interval",
            )
        _check_grid(after)
        opening_on_grid(after.open_hours, after.open_days, after.interval_seconds)
        retrain = has_history and (after.timezone, after.holidays) != (before.timezone, before.holidays)
        try:
            saved = deps.catalogue.save_settings(
                series_id,
                after,
                expected_revision=info.revision if info is not None else None,
                retrain=retrain,
            )
        except VersionConflictError:
            continue
        pointer = deps.tracker.current(series_id)
        current = deps.tracker.get_version(series_id, pointer.version) if pointer is not None else None
        return SeriesView(saved, after, current)
    raise VersionConflictError(f"series '{series_id}' kept changing while its settings were saved; retry")
