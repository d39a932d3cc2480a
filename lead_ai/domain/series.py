"""A series as the service knows it: its catalogue entry, and its observations on a regular grid."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SeriesInfo(NamedTuple):
    series_id: str
    interval_seconds: int
    revision: int
    trained_revision: int | None
    span: Span | None = None  # first and last observed slot and the count (None: no observations)
    deleting: bool = False  # DELETE /series/{series_id} started and has not finished


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
