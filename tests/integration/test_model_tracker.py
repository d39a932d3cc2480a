"""ModelTracker against DynamoDB (moto): allocation, verification, promotion guards."""

from __future__ import annotations

from typing import Any

import pytest

from lead_ai.domain.fleet import DueSeries
from lead_ai.domain.models import ArtifactRef, ModelVersion, Status, TrainingRecord, WindowShape
from lead_ai.domain.series import SeriesSettings
from lead_ai.errors import IntervalMismatchError, SeriesDeletingError, VersionConflictError
from lead_ai.forecasting.feature_spec import default_spec
from lead_ai.service.dependencies import Dependencies
from lead_ai.service.promotion import Comparison, promote_if_better, promote_version, window_of
from lead_ai.service.training import served_by_pool
from lead_ai.storage.catalogue import SeriesCatalogue
from lead_ai.storage.registry import ModelTracker
from lead_ai.storage.series_writes import SeriesWriter
from tests.conftest import Api, settings_for

SPEC = {"interval_seconds": 3600, "lags": [1, 2, 3]}


class RecordingAnalytics:
    """The tracker's analytics sink, keeping what it was told (a real in-memory sink, not a mock)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, float]]] = []

    def track(self, event: str, series_id: str, values: Any = None) -> None:
        self.events.append((event, series_id, dict(values or {})))


@pytest.fixture
def analytics() -> RecordingAnalytics:
    return RecordingAnalytics()


@pytest.fixture
def tracker(stack: Any, aws: Any, analytics: RecordingAnalytics) -> ModelTracker:
    return ModelTracker(aws("dynamodb"), stack.names["RegistryTable"], analytics)


@pytest.fixture
def series_exist(stack: Any, aws: Any) -> None:
    """Series 's' and 'q' exist (a SERIES item each): a promotion needs its series."""
    for series_id in ("s", "q"):
        aws("dynamodb").put_item(
            TableName=stack.names["RegistryTable"],
            Item={"series_id": {"S": series_id}, "record": {"S": "SERIES"}, "revision": {"N": "1"}},
        )


def _record(mase: float = 0.7) -> TrainingRecord:
    return TrainingRecord(
        SPEC,
        {"mase": mase, "baseline_mase": 1.0, "coverage": 0.8},
        {"sklearn": "1.9.1"},
        0,
        3600 * 1000,
        1000,
        1,
    )


def _artifact(version: str) -> ArtifactRef:
    return ArtifactRef(f"models/s/{version}/model.onnx", "v1", "ab" * 32, 123)


def test_allocations_are_distinct_and_increasing(tracker: ModelTracker, series_exist: None) -> None:
    versions = [tracker.allocate_version("s", SPEC).version for _ in range(4)]
    assert versions == ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]


def test_a_changed_feature_spec_is_a_major_version(tracker: ModelTracker, series_exist: None) -> None:
    tracker.allocate_version("s", SPEC)
    assert tracker.allocate_version("s", SPEC | {"lags": [1, 24]}).version == "2.0.0"


def test_only_a_pending_version_can_be_verified(tracker: ModelTracker, series_exist: None) -> None:
    # Given a version marked failed
    version = tracker.allocate_version("s", SPEC).version
    tracker.mark_failed("s", version, "upload failed")
    # When someone tries to verify it, the conditional write refuses
    with pytest.raises(Exception, match=r"ConditionalCheckFailed|verified version"):
        tracker.mark_verified("s", version, _artifact(version), _record())
    assert tracker.get_version("s", version).status == Status.FAILED
    assert tracker.get_version("s", version).artifact is None


def test_promote_is_conditional_on_the_expected_champion(
    tracker: ModelTracker, analytics: RecordingAnalytics, series_exist: None
) -> None:
    # Given two verified versions, the first current
    first = tracker.allocate_version("s", SPEC).version
    tracker.mark_verified("s", first, _artifact(first), _record())
    tracker.promote("s", tracker.get_version("s", first), expected_current=None)
    second = tracker.allocate_version("s", SPEC).version
    tracker.mark_verified("s", second, _artifact(second), _record(0.6))
    # When a promotion expects no current model (stale view), it is refused
    with pytest.raises(VersionConflictError):
        tracker.promote("s", tracker.get_version("s", second), expected_current=None)
    # And with the right expectation (the pointer as read) it succeeds
    tracker.promote("s", tracker.get_version("s", second), expected_current=tracker.current("s"))
    current = tracker.current("s")
    assert current is not None and current.version == second
    assert [e[0] for e in analytics.events].count("ModelPromoted") == 2


def _verified_at(tracker: ModelTracker, mase: float) -> Any:
    version = tracker.allocate_version("s", SPEC).version
    tracker.mark_verified("s", version, _artifact(version), _record(mase))
    return tracker.get_version("s", version)


def test_a_pointer_moved_away_and_back_is_not_the_pointer_read_before(
    tracker: ModelTracker, series_exist: None
) -> None:
    # Given A current, read by a training, and versions B and C
    a, b, c = (_verified_at(tracker, mase) for mase in (0.7, 0.6, 0.5))
    tracker.promote("s", a, expected_current=None)
    read_by_the_training = tracker.current("s")
    # When CURRENT goes A -> B -> A by hand (a rollback and back)
    tracker.promote("s", b, expected_current=tracker.current("s"), by_hand=True)
    tracker.promote("s", a, expected_current=tracker.current("s"), by_hand=True)
    # Then the training's promotion over the A it read is refused, and the hand's A stays
    with pytest.raises(VersionConflictError):
        tracker.promote("s", c, expected_current=read_by_the_training)
    current = tracker.current("s")
    assert current is not None and (current.version, current.by_hand) == (a.version, True)
    assert read_by_the_training is not None and current.promotion_id != read_by_the_training.promotion_id


def test_a_pointer_written_before_promotion_ids_is_matched_on_its_version_once(
    tracker: ModelTracker, series_exist: None, stack: Any, aws: Any
) -> None:
    # Given A current on a pointer with no promotion_id (written before they were recorded)
    a, b, c = (_verified_at(tracker, mase) for mase in (0.7, 0.6, 0.5))
    tracker.promote("s", a, expected_current=None)
    aws("dynamodb").update_item(
        TableName=stack.names["RegistryTable"],
        Key={"series_id": {"S": "s"}, "record": {"S": "CURRENT"}},
        UpdateExpression="REMOVE promotion_id",
    )
    old = tracker.current("s")
    assert old is not None and old.promotion_id is None
    # When B is promoted over it, Then that succeeds and writes a promotion id
    tracker.promote("s", b, expected_current=old)
    moved = tracker.current("s")
    assert moved is not None and moved.version == b.version and moved.promotion_id
    # And the old read cannot be used again: the pointer it names is gone
    with pytest.raises(VersionConflictError):
        tracker.promote("s", c, expected_current=old)


def test_a_series_without_its_series_item_is_never_promoted(
    tracker: ModelTracker, series_exist: None, stack: Any, aws: Any
) -> None:
    # Given a verified version of a series whose SERIES item is gone (DELETE /series ran to its end)
    version = tracker.allocate_version("s", SPEC).version
    tracker.mark_verified("s", version, _artifact(version), _record())
    _delete_series_item(stack, aws, "s")
    # When it is promoted (a training that outlasted the deletion)
    with pytest.raises(SeriesDeletingError):
        tracker.promote("s", tracker.get_version("s", version), expected_current=None)
    # Then nothing serves the deleted series
    assert tracker.current("s") is None


def _delete_series_item(stack: Any, aws: Any, series_id: str) -> None:
    aws("dynamodb").delete_item(
        TableName=stack.names["RegistryTable"],
        Key={"series_id": {"S": series_id}, "record": {"S": "SERIES"}},
    )


def _registry_records(stack: Any, aws: Any, series_id: str) -> set[str]:
    items = aws("dynamodb").query(
        TableName=stack.names["RegistryTable"],
        KeyConditionExpression="series_id = :id",
        ExpressionAttributeValues={":id": {"S": series_id}},
        ConsistentRead=True,
    )["Items"]
    return {item["record"]["S"] for item in items}


@pytest.mark.parametrize("state", ["being deleted", "deleted", "deleted and created again"])
def test_a_series_being_deleted_or_gone_gets_no_version(
    tracker: ModelTracker, catalogue: SeriesCatalogue, writer: SeriesWriter, stack: Any, aws: Any, state: str
) -> None:
    # Given a training that read series 's', then a DELETE /series/s that began (and perhaps finished,
    # and the id was used afresh) while it fitted
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    read = catalogue.get_series("s")
    assert read is not None and read.created_at
    assert catalogue.begin_deletion("s") is True
    if state != "being deleted":
        catalogue.delete_series_record("s")
    if state == "deleted and created again":
        writer.ingest("s", 3600, [(0, 5.0)])
    # When the training allocates its version
    with pytest.raises(SeriesDeletingError) as refused:
        tracker.allocate_version("s", SPEC, read.created_at)
    # Then it is refused naming the series, and no version record is left behind
    assert refused.value.field == "series_id"
    assert not {r for r in _registry_records(stack, aws, "s") if r.startswith("VERSION#")}


def test_a_pool_has_no_series_item_and_gets_its_versions(tracker: ModelTracker, stack: Any, aws: Any) -> None:
    # Given a pool (no SERIES item under its id)
    pool = "pool:1h:UTC:none"
    # When two versions are allocated, Then both are, in order
    assert [tracker.allocate_version(pool, SPEC).version for _ in range(2)] == ["1.0.0", "1.1.0"]
    assert _registry_records(stack, aws, pool) == {
        "VERSION#000001.000000.000000",
        "VERSION#000001.000001.000000",
    }


def test_a_pending_version_cannot_be_promoted(tracker: ModelTracker, series_exist: None) -> None:
    version = tracker.allocate_version("s", SPEC)
    with pytest.raises(VersionConflictError):
        tracker.promote("s", version, expected_current=None)
    assert tracker.current("s") is None


@pytest.fixture
def catalogue(stack: Any, aws: Any) -> SeriesCatalogue:
    return SeriesCatalogue(aws("dynamodb"), stack.names["RegistryTable"])


@pytest.fixture
def writer(stack: Any, aws: Any) -> SeriesWriter:
    return SeriesWriter(aws("dynamodb"), stack.names["ObservationsTable"], stack.names["RegistryTable"])


def test_due_series_follow_revisions(catalogue: SeriesCatalogue, writer: SeriesWriter) -> None:
    # Given a series with one ingest, trained at it
    assert writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)]).revision == 1
    catalogue.record_training_attempt("s", 1)
    assert [s.series_id for s in catalogue.due_series()] == []
    # When the same values are sent again, Then nothing changed and nothing is due
    assert writer.ingest("s", 3600, [(0, 1.0)]).revision == 1
    assert [s.series_id for s in catalogue.due_series()] == []
    # When more history arrives
    assert writer.ingest("s", 3600, [(7200, 3.0)]).revision == 2
    # Then the planner sees it, with its revision and observation count
    assert list(catalogue.due_series()) == [DueSeries("s", 3600, 2, 3)]
    # And once its deletion has begun, it is gone for the planner, the series list and readers
    assert catalogue.begin_deletion("s") is True
    assert list(catalogue.due_series()) == []
    assert catalogue.list_series(10)[0] == []
    assert catalogue.get_series("s") is None


def test_an_ingest_during_a_training_keeps_the_series_due(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a training that read revision 1, and an ingest (revision 2) while it trained
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    writer.ingest("s", 3600, [(7200, 3.0)])
    # When the training records revision 1
    catalogue.record_training_attempt("s", 1)
    # Then the series is still due (for revision 2), and its last training is recorded
    assert [s.revision for s in catalogue.due_series()] == [2]
    summary = catalogue.list_series(10)[0][0]
    assert summary.trained_revision == 1 and summary.trained_at is not None and summary.due is True
    # And once revision 2 is trained it is not due any more
    catalogue.record_training_attempt("s", 2)
    assert list(catalogue.due_series()) == []


def test_a_training_failure_is_noted_on_an_existing_series_only(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given one series
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    # When queued trainings of it and of a series that does not exist fail
    catalogue.record_training_failure("s", 1, 2, "service_unavailable")
    catalogue.record_training_failure("ghost", 1, 1, "internal_error")
    # Then the failure is on the series, and no series was created for the unknown id
    page, _ = catalogue.list_series(10)
    assert [(p.series_id, p.last_failure and p.last_failure.error) for p in page] == [
        ("s", "service_unavailable")
    ]
    assert catalogue.get_series("ghost") is None
    # And a training that succeeds clears it
    catalogue.record_training_attempt("s", 1)
    assert catalogue.list_series(10)[0][0].last_failure is None


def test_a_training_recorded_after_its_series_was_deleted_creates_nothing(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a series deleted (its SERIES item gone) while a training of its revision 1 ran
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    assert catalogue.begin_deletion("s") is True
    catalogue.delete_series_record("s")
    # When the training records its revision
    catalogue.record_training_attempt("s", 1)
    # Then no SERIES item is written for the id: a new series can start under it
    assert catalogue.get_series("s") is None
    assert writer.ingest("s", 3600, [(0, 5.0)]).revision == 1


def test_a_training_of_a_deleted_series_leaves_the_series_created_again_due(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a training that read series 's' at revision 1, then 's' deleted and created again (revision 1)
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    read = catalogue.get_series("s")
    assert read is not None and read.created_at
    assert catalogue.begin_deletion("s") is True
    catalogue.delete_series_record("s")
    writer.ingest("s", 3600, [(0, 5.0)])
    again = catalogue.get_series("s")
    assert again is not None and again.revision == 1 and again.created_at != read.created_at
    # When the training records the revision it read, naming the SERIES item it read
    catalogue.record_training_attempt("s", 1, read.created_at)
    # Then the new series is still due: nothing was trained on its history
    assert [s.series_id for s in catalogue.due_series()] == ["s"]
    assert catalogue.list_series(10)[0][0].trained_revision is None
    # And its own training, naming its own item, takes it off the DueIndex
    catalogue.record_training_attempt("s", 1, again.created_at)
    assert list(catalogue.due_series()) == []


def test_a_series_keeps_its_interval(writer: SeriesWriter) -> None:
    writer.ingest("s", 3600, [(0, 1.0)])
    with pytest.raises(IntervalMismatchError, match="interval"):
        writer.ingest("s", 1800, [(1800, 1.0)])


def test_current_carries_the_window_its_model_reads(tracker: ModelTracker, series_exist: None) -> None:
    # Given a verified version trained with a real feature spec of a 15-minute series
    spec = default_spec(900)
    version = tracker.allocate_version("q", spec.to_dict()).version
    tracker.mark_verified("q", version, _artifact(version), _record())
    # When it is promoted with the window its spec reads
    verified = tracker.get_version("q", version)
    tracker.promote("q", verified, expected_current=None, window=window_of(verified))
    # Then the pointer says which observations serving must read, before loading the model
    current = tracker.current("q")
    assert current is not None and current.window == WindowShape(spec.window, 900)


def test_a_pointer_to_a_version_without_a_readable_spec_has_no_window(
    tracker: ModelTracker, series_exist: None
) -> None:
    # Given a version whose recorded spec is not a FeatureSpec (as records written by older code may be)
    version = tracker.allocate_version("s", SPEC).version
    tracker.mark_verified("s", version, _artifact(version), _record())
    verified = tracker.get_version("s", version)
    assert window_of(verified) is None
    tracker.promote("s", verified, expected_current=None, window=window_of(verified))
    # Then the pointer names no window (serving reads it after loading the model)
    current = tracker.current("s")
    assert current is not None and current.window is None


def _due(catalogue: SeriesCatalogue) -> list[tuple[str, int, bool]]:
    """(series, revision, pool-served) of every due series, as the planner reads them."""
    return [(d.series_id, d.revision, d.pool_served) for d in catalogue.due_series()]


def test_a_series_its_pool_serves_is_due_in_the_pool_served_partition(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a series whose training found its own model losing to its group's pool, and one whose own won
    writer.ingest("s", 3600, [(0, 1.0), (3600, 2.0)])
    writer.ingest("t", 3600, [(0, 1.0), (3600, 2.0)])
    catalogue.record_training_attempt("s", 1, pool_served=True)
    catalogue.record_training_attempt("t", 1, pool_served=False)
    assert _due(catalogue) == []
    # When new observations arrive, Then the pool-served one is due apart (read with its own Query)
    writer.ingest("s", 3600, [(7200, 3.0)])
    writer.ingest("t", 3600, [(7200, 3.0)])
    assert _due(catalogue) == [("t", 2, False), ("s", 2, True)]
    assert list(catalogue.due_series())[1] == DueSeries("s", 3600, 2, 3, pool_served=True)
    # And the other changes that call for a training put it there too: a range delete, new settings
    catalogue.record_training_attempt("s", 2, pool_served=True)
    assert writer.delete_range("s", 0, 0) is not None
    assert _due(catalogue) == [("t", 2, False), ("s", 3, True)]
    catalogue.record_training_attempt("s", 3, pool_served=True)
    catalogue.save_settings(
        "s", SeriesSettings(3600, "Europe/Berlin", "DE"), expected_revision=3, retrain=True
    )
    assert _due(catalogue) == [("t", 2, False), ("s", 4, True)]


def test_the_mark_goes_when_its_own_model_wins_and_stays_when_a_training_says_nothing_of_the_pool(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a pool-served series
    writer.ingest("s", 3600, [(0, 1.0)])
    catalogue.record_training_attempt("s", 1, pool_served=True)
    # When a training that did not compare with the pool records a revision (an unchanged history)
    writer.ingest("s", 3600, [(3600, 2.0)])
    catalogue.record_training_attempt("s", 2)
    # Then the mark stays: its next observations are the pool's business still
    writer.ingest("s", 3600, [(7200, 3.0)])
    assert _due(catalogue) == [("s", 3, True)]
    # When a training finds its own model beating the pool
    catalogue.record_training_attempt("s", 3, pool_served=False)
    # Then its next observations make it due as any series
    writer.ingest("s", 3600, [(10800, 4.0)])
    assert _due(catalogue) == [("s", 4, False)]


def test_an_ingest_during_the_training_that_marks_a_series_leaves_it_due_under_its_new_mark(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a training of revision 1, and an ingest while it trained (revision 2, due as any series)
    writer.ingest("s", 3600, [(0, 1.0)])
    writer.ingest("s", 3600, [(3600, 2.0)])
    # When the training records that its own model lost to the pool
    catalogue.record_training_attempt("s", 1, pool_served=True)
    # Then the series stays due for revision 2, in the pool-served partition
    assert _due(catalogue) == [("s", 2, True)]
    # And when the next training finds its own model winning while another ingest comes in
    writer.ingest("s", 3600, [(7200, 3.0)])
    catalogue.record_training_attempt("s", 2, pool_served=False)
    # Then it is due for revision 3 as any series
    assert _due(catalogue) == [("s", 3, False)]


def test_a_training_that_marks_a_series_being_deleted_does_not_make_it_due(
    catalogue: SeriesCatalogue, writer: SeriesWriter
) -> None:
    # Given a series at revision 2 whose deletion began while a training of revision 1 ran
    writer.ingest("s", 3600, [(0, 1.0)])
    writer.ingest("s", 3600, [(3600, 2.0)])
    assert catalogue.begin_deletion("s") is True
    # When the training records that the pool serves it
    catalogue.record_training_attempt("s", 1, pool_served=True)
    # Then the planner does not see it
    assert _due(catalogue) == []


POOL = "pool:1h:UTC:none"


@pytest.fixture
def deps(api: Api, analytics: RecordingAnalytics) -> Dependencies:
    return Dependencies(settings_for(api), analytics)


def _verified(tracker: ModelTracker, series_id: str, metrics: dict[str, float] | None = None) -> ModelVersion:
    version = tracker.allocate_version(series_id, SPEC).version
    record = _record()
    scored = record._replace(metrics={**record.metrics, **(metrics or {})})
    tracker.mark_verified(series_id, version, _artifact(version), scored)
    return tracker.get_version(series_id, version)


def _contest(deps: Dependencies, challenger_mase: float) -> tuple[ModelVersion, bool]:
    """A training of series 's' scored against the pool's current version: its outcome, and whether the
    pool serves the series after it."""
    pool = deps.tracker.current(POOL)
    assert pool is not None
    comparison = Comparison(pool.version, pool_id=POOL)
    candidate = _verified(deps.tracker, "s", {"challenger_mase": challenger_mase, "champion_mase": 0.8})
    outcome = promote_if_better(deps, "s", candidate, comparison)
    return outcome, served_by_pool(deps, "s", outcome, comparison)


def test_a_training_says_the_pool_serves_its_series_only_when_its_own_model_lost_to_it(
    deps: Dependencies, series_exist: None
) -> None:
    # Given a series without a model of its own, served by its group's pool
    pool_version = _verified(deps.tracker, POOL)
    deps.tracker.promote(POOL, pool_version, expected_current=None)
    # When its own model loses to the pool on the same windows
    outcome, served = _contest(deps, challenger_mase=0.9)
    # Then it is rejected, and the pool serves the series
    assert outcome.status == Status.REJECTED and served is True
    # When the next one beats the pool
    outcome, served = _contest(deps, challenger_mase=0.7)
    # Then it is the series' own model, and the pool no longer serves it
    assert outcome.promoted_at is not None and served is False


def test_a_model_made_current_by_hand_during_a_training_against_the_pool_is_what_serves(
    deps: Dependencies, series_exist: None
) -> None:
    # Given a series served by its pool, and a version of its own promoted by hand while a training that
    # read the pool as its champion ran
    pool_version = _verified(deps.tracker, POOL)
    deps.tracker.promote(POOL, pool_version, expected_current=None)
    by_hand = _verified(deps.tracker, "s")
    promote_version(deps, "s", by_hand.version)
    # When that training's model beats the pool
    outcome, served = _contest(deps, challenger_mase=0.7)
    # Then the hand's choice stands (the candidate is rejected) and the series' own model serves it
    assert outcome.status == Status.REJECTED and "by hand" in (outcome.reason or "")
    assert served is False
