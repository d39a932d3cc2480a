"""The planner reads O(due) registry items, not O(all items): counted on the real client with botocore hooks."""

from __future__ import annotations

from typing import Any

from lead_ai.domain.pools import PoolKey
from lead_ai.domain.versions import parse_version
from lead_ai.storage.catalogue import SeriesCatalogue
from lead_ai.storage.clients import client
from lead_ai.storage.dynamo import n, s
from lead_ai.storage.registry_table import CURRENT, key, version_sort_key
from lead_ai.storage.series_writes import SeriesWriter
from lead_ai_dev.local.reads import counting_reads
from tests.fleet.conftest import Fleet

POOL_ID = PoolKey(3600, "UTC", "none").pool_id  # the template's default zone and calendar


def _registry(fleet: Fleet) -> tuple[SeriesCatalogue, str]:
    table = fleet.api.stack.names["RegistryTable"]
    return SeriesCatalogue(client("dynamodb"), table), table


def _add_series(fleet: Fleet, series_id: str, *, due: bool, pool_served: bool = False) -> None:
    """A series with one model version and a CURRENT pointer, due or trained on all its history; or, when
    pool-served, one whose own model lost to its group's pool, due with one more observation since."""
    catalogue, _ = _registry(fleet)
    names = fleet.api.stack.names
    writer = SeriesWriter(client("dynamodb"), names["ObservationsTable"], names["RegistryTable"])
    writer.ingest(series_id, 3600, [(3600 * k, 1.0) for k in range(1000)])
    if pool_served:
        catalogue.record_training_attempt(series_id, 1, pool_served=True)
        writer.ingest(series_id, 3600, [(3600 * 1000, 1.0)])
        return
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
    # Given 40 series with one model version each, 6 of them due (new history since their training), and
    # 2 due series whose own models lost to their group's pool (the DueIndex's second partition)
    for i in range(40):
        _add_series(fleet, f"s-{i:02d}", due=i % 7 == 0)
    for i in range(2):
        _add_series(fleet, f"p-{i:02d}", due=True, pool_served=True)
    # When the planner runs
    read_small, calls, plan = _planner_reads(fleet)
    # Then it read exactly the 8 due series' index items, with one Query per partition and no Scan, and
    # the 2 pool-served series' settings (one BatchGetItem: which pool serves them), queueing that pool
    assert plan["queued"] == 8 and plan["pool_served"] == ["p-00", "p-01"]
    assert plan["pools"] == [POOL_ID]
    assert read_small == 8 + 2
    assert calls == {"Query": 2, "BatchGetItem": 1}
    # Given 4 more versions for every series and 40 more series that are not due (280 more items)
    for i in range(40):
        _add_versions(fleet, f"s-{i:02d}", range(2, 6))
        _add_series(fleet, f"t-{i:02d}", due=False)
    # When the planner runs again (a new schedule: the due series are still due)
    read_large, calls, plan = _planner_reads(fleet)
    # Then it read just as many items: the due series, and nothing for the versions or the other series
    assert plan["queued"] == 8
    assert read_large == read_small == 8 + 2
    assert calls == {"Query": 2, "BatchGetItem": 1}
