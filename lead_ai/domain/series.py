"""A series as the service knows it: its catalogue entry, and its observations on a regular grid."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from lead_ai.domain.opening_hours import ALWAYS_OPEN

# What a series id may be (the API's path rule, and the training queue's message rule).
SERIES_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SeriesInfo(NamedTuple):
    series_id: str
    interval_seconds: int
    revision: int
    trained_revision: int | None
    # The series' settings (PUT /series/{id}); None on an item written before they existed: the
    # deployment's defaults apply (SeriesSettings.of).
    timezone: str | None = None
    holidays: str | None = None
    span: Span | None = None  # None until the first ingest
    deleting: bool = False  # DELETE /series/{series_id} started and has not finished
    # When this SERIES item was created (ISO 8601): a series deleted and created again under the same id
    # starts its revisions again at 1, and this tells its histories apart. None on items written before.
    created_at: str | None = None
    # When the team answers leads (PUT /series/{id}, as the staffing plan's open_hours / open_days write
    # them); None: open all the time
    open_hours: str | None = None
    open_days: str | None = None

    @property
    def has_history(self) -> bool:
        return self.revision > 0

    @property
    def training_due(self) -> bool:
        """History or settings changed since the last training (the schedule trains it)."""
        return self.revision > 0 and (self.trained_revision or 0) < self.revision


class SeriesSettings(NamedTuple):
    """What a user sets per series: the grid interval, the IANA time zone its local day follows, the
    holiday calendar of its market ("none", "US", "DE-BY"), and when its reps answer leads (its staffing
    plans' default opening hours, domain.opening_hours)."""

    interval_seconds: int
    timezone: str
    holidays: str
    open_hours: str = ALWAYS_OPEN.describe()["open_hours"]
    open_days: str = ALWAYS_OPEN.describe()["open_days"]

    @classmethod
    def of(cls, info: SeriesInfo | SeriesSummary, defaults: SeriesSettings) -> SeriesSettings:
        return cls(
            info.interval_seconds or defaults.interval_seconds,
            info.timezone or defaults.timezone,
            info.holidays or defaults.holidays,
            info.open_hours or defaults.open_hours,
            info.open_days or defaults.open_days,
        )


class SeriesWindow(NamedTuple):
    """Observations on a regular grid, oldest first; NaN marks a slot nobody reported."""

    values: np.ndarray
    first_timestamp: int
    interval_seconds: int

    @property
    def last_timestamp(self) -> int:
        return self.first_timestamp + (len(self.values) - 1) * self.interval_seconds

    @property
    def observed_points(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))


class Span(NamedTuple):
    first_timestamp: int
    last_timestamp: int
    observed_points: int


class ObservationBatch(NamedTuple):
    """Validated observations: sorted by time, one value per slot."""

    points: list[tuple[int, float]]
    interval_seconds: int


class LastFailure(NamedTuple):
    """The latest queued training of a series that failed: when, at which attempt, with which error code."""

    at: str
    revision: int
    attempt: int
    error: str  # the project error code (e.g. "service_unavailable"), never AWS error text


class SeriesSummary(NamedTuple):
    """A series as GET /series lists it: its catalogue entry, with its last training and whether it is due."""

    series_id: str
    interval_seconds: int
    revision: int
    span: Span | None
    trained_revision: int | None
    trained_at: str | None
    due: bool
    last_failure: LastFailure | None
    timezone: str | None = None  # its own settings (None: the deployment's default); with the interval,
    holidays: str | None = None  # they name the pool that serves it while it is young
    open_hours: str | None = None  # None: open all the time
    open_days: str | None = None
