"""GET /series: the series, a page at a time, with their current model.

Cost of a page of `limit` series: one Query of the SeriesIndex reading `limit + 1` index items (SERIES
items only: no VERSION# or CURRENT item is read, however many the table holds) and one BatchGetItem of
the page's `limit` CURRENT pointers. Nothing is scanned; a page costs the same on the first page and the
thousandth.
"""

from __future__ import annotations

from typing import NamedTuple

from lead_ai.domain.series import SeriesSummary
from lead_ai.service.dependencies import Dependencies


class SeriesPage(NamedTuple):
    series: list[SeriesSummary]
    current_versions: dict[str, str]  # series_id -> current model version, for those that have one
    next_after: str | None  # the series id the next page starts after; None on the last page


def list_series(deps: Dependencies, limit: int, after: str | None = None) -> SeriesPage:
    page, next_after = deps.catalogue.list_series(limit, after)
    current = deps.tracker.current_versions([s.series_id for s in page]) if page else {}
    return SeriesPage(page, current, next_after)
