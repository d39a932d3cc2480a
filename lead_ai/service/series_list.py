"""GET /series: the series, a page at a time, with the model that answers each.

Cost of a page of `limit` series: one Query of the SeriesIndex reading `limit + 1` index items (SERIES
items only: no VERSION# or CURRENT item is read, however many the table holds), one BatchGetItem of the
page's `limit` CURRENT pointers, and, when the page holds young series, one more of the CURRENT pointers of
their pools (one per group: a handful). Nothing is scanned; a page costs the same on the first page and the
thousandth.
"""

from __future__ import annotations

from typing import NamedTuple

from lead_ai.domain.pools import old_enough_for_pool
from lead_ai.domain.series import SeriesSummary
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.pooling import pool_key_of


class ListedModel(NamedTuple):
    """The model that answers a listed series: its own, or the pool of its group while it is young."""

    version: str
    pool_id: str | None = None  # set when the pool answers


class SeriesPage(NamedTuple):
    series: list[SeriesSummary]
    models: dict[str, ListedModel]  # series_id -> the model that answers it, for those that have one
    next_after: str | None  # the series id the next page starts after; None on the last page


def list_series(deps: Dependencies, limit: int, after: str | None = None) -> SeriesPage:
    page, next_after = deps.catalogue.list_series(limit, after)
    own = deps.tracker.current_versions([s.series_id for s in page]) if page else {}
    models = {series_id: ListedModel(version) for series_id, version in own.items()}
    models.update(_pool_models(deps, [s for s in page if s.series_id not in own]))
    return SeriesPage(page, models, next_after)


def _pool_models(deps: Dependencies, without_own: list[SeriesSummary]) -> dict[str, ListedModel]:
    """The pool that answers each series without a model of its own, as serving picks it
    (service.pooling.pool_serving): POOL_MIN_DAYS of history and a current model for its group."""
    pool_of: dict[str, str] = {}
    for series in without_own:
        key = pool_key_of(deps, series)
        if series.span is not None and old_enough_for_pool(series.span.observed_points, key.interval_seconds):
            pool_of[series.series_id] = key.pool_id
    if not pool_of:
        return {}
    versions = deps.tracker.current_versions(sorted(set(pool_of.values())))
    return {
        series_id: ListedModel(versions[pool_id], pool_id)
        for series_id, pool_id in pool_of.items()
        if pool_id in versions
    }
