"""The orphan sweep is the planner's clean-up after its messages are out: S3 failing it must not fail the
plan. A failed plan is retried by Lambda (twice) under the same event id, whose idempotency record a
failure deletes, so each retry queued every due series again; and its idempotency record stored nothing."""

from __future__ import annotations

from tests.faults.support import FaultInjector
from tests.fleet.conftest import Fleet


def test_an_s3_outage_during_the_sweep_leaves_the_plan_done_and_queued_once(
    fleet: Fleet, faults: FaultInjector
) -> None:
    # Given two due series, and S3 failing every listing of the model objects
    fleet.ingest("sweep-a")
    fleet.ingest("sweep-b", seed=4)
    fault = faults.inject("s3", "ListObjectVersions", "5xx")
    # When the schedule runs the planner, and the same event is delivered again (Lambda's retry)
    plan = fleet.plan("sweep-outage")
    again = fleet.plan("sweep-outage")
    # Then the plan is done: both series queued once, the sweep reported as not done (the next day's
    # looks at the same objects: its window is a week), and the retry gets the stored plan
    assert fault.hits >= 1
    assert plan["queued"] == 2 and plan["orphan_artifacts_deleted"] is None, plan
    assert again == plan
    assert fleet.queue_depth() == 2
