"""The planner reads O(due) registry items, not O(all items): counted on the real client with botocore hooks."""

from __future__ import annotations

from typing import Any

from lead_ai.domain.versions import parse_version
from lead_ai.storage.catalogue import SeriesCatalogue
from lead_ai.storage.clients import client
from lead_ai.storage.dynamo import n, s
from lead_ai.storage.registry_table import CURRENT, key, version_sort_key
from lead_ai.storage.series_writes import SeriesWriter
from lead_ai_dev.local.reads import counting_reads
from tests.fleet.conftest import Fleet


def _registry(fleet: Fleet) -> tuple[SeriesCatalogue, str]:
    table = fleet.api.stack.names["RegistryTable"]
    return SeriesCatalogue(client("dynamodb"), table), table


def _add_series(fleet: Fleet, series_id: str, *, due: bool) -> None:
    """A series with one model version and a CURRENT pointer; due, or trained on all its history."""
    catalogue, _ = _registry(fleet)
    names = fleet.api.stack.names
    writer = SeriesWriter(client("dynamodb"), names["ObservationsTable"], names["RegistryTable"])
    writer.ingest(series_id, 3600, [(3600 * k, 1.0) for k in range(1000)])
    if not due:
        catalogue.record_training_attempt(series_id, 1)
    _add_versions(fleet, series_id, range(1, 2))


def _add_versions(fleet: Fleet, series_id: str, majors: range) -> None:
    _, table = _registry(fleet)
    for major in majors:
        version = f"{major}.0.0"
        item = {**key(series_id, version_sort_key(parse_version(version))), "version": s(version)}
        client("dynamodb").put_item(
            TableName=table, Item=item | {"status": s("verified"), "size_bytes": n(1)}
        )
        client("dynamodb").put_item(TableName=table, Item={**key(series_id, CURRENT), "version": s(version)})


def _planner_reads(fleet: Fleet) -> tuple[int, dict[str, int], Any]:
    with counting_reads(client("dynamodb"), fleet.api.stack.names["RegistryTable"]) as reads:
        plan = fleet.plan()
    return reads.total, dict(reads.calls), plan


def test_the_planner_reads_the_due_series_only_however_many_items_the_registry_holds(fleet: Fleet) -> None:
    # Given 40 series with one model version each, 6 of them due (new history since their training)
    for i in range(40):
        _add_series(fleet, f"s-{i:02d}", due=i % 7 == 0)
    # When the planner runs
    read_small, calls, plan = _planner_reads(fleet)
    # Then it read exactly the 6 due series' index items, with one Query per partition of the DueIndex
    # (`DUE`, and `POOL_SERVED`, empty here) and no Scan
    assert plan["queued"] == 6
    assert read_small == 6
    assert calls == {"Query": 2}
    # Given 4 more versions for every series and 40 more series that are not due (280 more items)
    for i in range(40):
        _add_versions(fleet, f"s-{i:02d}", range(2, 6))
        _add_series(fleet, f"t-{i:02d}", due=False)
    # When the planner runs again (a new schedule: the due series are still due)
    read_large, calls, plan = _planner_reads(fleet)
    # Then it read just as many items: the due series, and nothing for the versions or the other series
    assert plan["queued"] == 6
    assert read_large == read_small == 6
    assert calls == {"Query": 2}
