"""DELETE /series/{id}/observations?from=&to= (fix bad data) and DELETE /series/{id} (the series, its
observations, every version record, CURRENT and every S3 object version of its models); a fault half-way
is answered 503, and the same DELETE again finishes the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from lead_ai.service.ml_service import build_dependencies
from tests.conftest import Api, settings_for
from tests.faults.conftest import SERIES, CannedTraining, add_hour, call
from tests.faults.support import FaultInjector, plain_client

pytestmark = pytest.mark.faults

HOUR = 3600
DAY = 86400
OTHER = f"{SERIES}-2"  # shares the prefix models/acme-faults...: must survive a delete of SERIES


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _delete_range(api: Api, series_id: str, start: str | None, end: str | None) -> tuple[int, Any, Any]:
    query = {k: v for k, v in (("from", start), ("to", end)) if v is not None}
    return call(api, "DeleteFunction", "delete-observations.json", series_id=series_id, query=query)


def _delete_series(api: Api, series_id: str = SERIES) -> tuple[int, Any, Any]:
    return call(api, "DeleteFunction", "delete-series.json", series_id=series_id)


def _window(api: Api, series_id: str = SERIES) -> Any:
    deps = build_dependencies(settings_for(api))
    return deps.history.history(series_id, HOUR)


def _stored(api: Api, series_id: str) -> dict[str, int]:
    names, dynamodb = api.stack.names, plain_client("dynamodb")

    def count(table: str) -> int:
        return int(
            dynamodb.query(
                TableName=names[table],
                KeyConditionExpression="series_id = :id",
                ExpressionAttributeValues={":id": {"S": series_id}},
                ConsistentRead=True,
            )["Count"]
        )

    listing = plain_client("s3").list_object_versions(
        Bucket=names["ArtifactBucket"], Prefix=f"models/{series_id}/"
    )
    return {
        "registry": count("RegistryTable"),
        "chunks": count("ObservationsTable"),
        "objects": len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", [])),
    }


@pytest.fixture
def trained(fast_api: Api, small_history: Any, canned_training: CannedTraining) -> Api:
    """SERIES with two versions (1.0.0, then the current 1.1.0) and OTHER with one."""
    canned_training.mase = [0.7, 0.6, 0.7]
    fast_api.ingest(SERIES, *small_history)
    assert call(fast_api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    add_hour(fast_api, small_history)
    assert call(fast_api, "TrainFunction", "train.json", series_id=SERIES)[0] == 201
    fast_api.ingest(OTHER, *small_history)
    assert call(fast_api, "TrainFunction", "train.json", series_id=OTHER)[0] == 201
    return fast_api


# ------------------------------------------------------------------------------------ range delete


def test_a_range_in_the_middle_is_removed_and_the_series_is_due_for_training(
    trained: Api, small_history: Any
) -> None:
    stamps, _ = small_history
    before = _window(trained)
    # When ten hours in the middle are deleted
    start, end = int(stamps[100]), int(stamps[109])
    status, payload, _ = _delete_range(trained, SERIES, _iso(start), _iso(end))
    # Then they are gone, the span keeps its ends and counts ten fewer, and the revision moved
    assert status == 200, payload
    assert payload["removed"] == 10
    assert payload["span"]["observations"] == before.observed_points - 10
    assert (payload["span"]["first"], payload["span"]["last"]) == (
        _iso(before.first_timestamp),
        _iso(before.last_timestamp),
    )
    after = _window(trained)
    assert np.isnan(after.values[100:110]).all()
    np.testing.assert_array_equal(after.values[:100], before.values[:100])
    # And the planner retrains it
    deps = build_dependencies(settings_for(trained))
    assert SERIES in [s.series_id for s in deps.catalogue.due_series()]
    # And deleting the same range again removes nothing and moves nothing
    status, again, _ = _delete_range(trained, SERIES, _iso(start), _iso(end))
    assert (status, again["removed"], again["revision"]) == (200, 0, payload["revision"])


def test_deleting_the_ends_moves_the_span_to_the_next_observations(trained: Api, small_history: Any) -> None:
    stamps, _ = small_history
    first, last = int(stamps[0]), _window(trained).last_timestamp
    # When the first day and (with a gap before it) the last six hours are deleted
    assert _delete_range(trained, SERIES, _iso(first - 86400), _iso(first + 23 * HOUR))[0] == 200
    assert _delete_range(trained, SERIES, _iso(int(stamps[-30])), _iso(int(stamps[-25])))[0] == 200
    status, payload, _ = _delete_range(trained, SERIES, _iso(last - 5 * HOUR), _iso(last + 86400))
    # Then the span starts at the first hour left and ends at the last one left
    assert status == 200, payload
    window = _window(trained)
    assert payload["span"]["first"] == _iso(first + 24 * HOUR) == _iso(window.first_timestamp)
    assert payload["span"]["last"] == _iso(last - 6 * HOUR) == _iso(window.last_timestamp)
    assert payload["span"]["observations"] == window.observed_points


def test_a_range_over_more_chunks_than_one_transaction_is_deleted_whole(fast_api: Api) -> None:
    # Given two and a half years of hours (131 chunks: more than one transaction's 99)
    end = int(datetime(2026, 11, 9, 12, tzinfo=UTC).timestamp())
    stamps = end - HOUR * np.arange(int(2.5 * 8760))[::-1]
    for i in range(0, stamps.size, 9_996):
        assert fast_api.ingest("long", stamps[i : i + 9_996], np.ones(stamps[i : i + 9_996].size))[0] == 200
    # When all but the first and the last hour are deleted
    status, payload, _ = _delete_range(fast_api, "long", _iso(int(stamps[1])), _iso(int(stamps[-2])))
    # Then two observations are left, at the ends, and the empty chunks are gone
    assert status == 200, payload
    assert payload["removed"] == stamps.size - 2
    assert payload["span"] == {
        "first": _iso(int(stamps[0])),
        "last": _iso(int(stamps[-1])),
        "observations": 2,
    }
    assert _stored(fast_api, "long")["chunks"] == 2
    # When everything is deleted, Then the series has no span and no chunk, and still exists
    status, payload, _ = _delete_range(fast_api, "long", "1990-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
    assert (status, payload["removed"], payload["span"]) == (200, 2, None)
    assert _stored(fast_api, "long") == {"registry": 1, "chunks": 0, "objects": 0}


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, "2026-11-01T00:00:00Z", "from"),
        ("2026-11-01T00:00:00Z", None, "to"),
        ("yesterday", "2026-11-01T00:00:00Z", "from"),
        ("2026-11-01T00:00:00Z", "2026-13-01T00:00:00Z", "to"),
        ("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z", "from"),
    ],
)
def test_a_bad_range_is_400_naming_the_parameter(
    trained: Api, start: str | None, end: str | None, field: str
) -> None:
    before = _stored(trained, SERIES)
    status, payload, _ = _delete_range(trained, SERIES, start, end)
    assert (status, payload["field"]) == (400, field), payload
    assert _stored(trained, SERIES) == before


def _stored_dates(api: Api, series_id: str) -> list[str]:
    window = build_dependencies(settings_for(api)).history.history(series_id, DAY)
    assert window is not None
    stamps = window.first_timestamp + DAY * np.flatnonzero(~np.isnan(window.values))
    return [datetime.fromtimestamp(int(t), UTC).date().isoformat() for t in stamps]


@pytest.mark.parametrize(
    ("start", "end", "removed"),
    [
        ("2026-11-05T00:00:00", "2026-11-05T23:59:59", ["2026-11-05"]),  # a local day, as at ingest
        ("2026-11-05", "2026-11-06", ["2026-11-05", "2026-11-06"]),  # dates alone
        ("2026-11-05T00:00:00-05:00", "2026-11-05T23:59:59-05:00", ["2026-11-05"]),  # with New York's offset
        ("2026-11-05T05:00:00Z", "2026-11-06T04:59:59Z", ["2026-11-05"]),  # the same day in UTC
        ("2026-11-01T00:00:00", "2026-11-01T23:59:59", ["2026-11-01"]),  # the 25-hour day the clocks go back
        ("2026-11-04T12:00:00", "2026-11-05T12:00:00", ["2026-11-05"]),  # only the date starting within
        ("2026-11-05T12:00:00", "2026-11-05T18:00:00", []),  # no date starts within
    ],
)
def test_a_daily_series_loses_the_local_dates_named(
    fast_api: Api, start: str, end: str, removed: list[str]
) -> None:
    # Given a New York series of one value per local date (stored at each date's midnight UTC)
    body = json.dumps({"interval": "1d", "timezone": "America/New_York"})
    assert call(fast_api, "IngestFunction", "put-series.json", series_id="daily-ny", body=body)[0] == 200
    days = [f"2026-11-{d:02d}" for d in range(1, 11)]
    observations = [{"timestamp": f"{day}T00:00:00", "value": 1.0} for day in days]
    body = json.dumps({"observations": observations})
    assert (
        call(fast_api, "IngestFunction", "ingest-observations.json", series_id="daily-ny", body=body)[0]
        == 200
    )
    # When a range is deleted
    status, payload, _ = _delete_range(fast_api, "daily-ny", start, end)
    # Then exactly the local dates whose start lies within it are gone
    assert (status, payload["removed"]) == (200, len(removed)), payload
    assert _stored_dates(fast_api, "daily-ny") == [day for day in days if day not in removed]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("9999-12-31T00:00:01", "9999-12-31T00:00:02", "from"),  # no date starts after it
        ("2026-11-01", "9999-12-31T23:59:59-12:00", "to"),  # its local date is in year 10000
        ("0001-01-01T00:00:00+14:00", "2026-11-01", "from"),  # its local date is in year 0
    ],
)
def test_a_daily_range_past_the_calendar_is_400_naming_the_parameter(
    fast_api: Api, start: str, end: str, field: str
) -> None:
    # Given a daily series with observations
    body = json.dumps({"interval": "1d", "timezone": "America/New_York"})
    assert call(fast_api, "IngestFunction", "put-series.json", series_id="daily-ny", body=body)[0] == 200
    body = json.dumps({"observations": [{"timestamp": "2026-11-05", "value": 1.0}]})
    assert (
        call(fast_api, "IngestFunction", "ingest-observations.json", series_id="daily-ny", body=body)[0]
        == 200
    )
    # When a range whose bound has no local date datetime can hold is deleted (a 500 internal_error)
    status, payload, _ = _delete_range(fast_api, "daily-ny", start, end)
    # Then it is a 400 naming that bound, and nothing is removed
    assert (status, payload["field"]) == (400, field), payload
    assert "out of range" in payload["message"], payload
    assert _stored_dates(fast_api, "daily-ny") == ["2026-11-05"]


def test_a_delete_with_a_parameter_it_does_not_take_deletes_nothing(
    fast_api: Api, small_history: Any
) -> None:
    # Given a series with observations
    assert fast_api.ingest(SERIES, *small_history)[0] == 200
    before = _stored(fast_api, SERIES)
    # When a range, then the series, is deleted with a parameter neither route takes (a dry run)
    first, last = _iso(int(small_history[0][0])), _iso(int(small_history[0][-1]))
    query = {"from": first, "to": last, "dry_run": "true"}
    status, payload, _ = call(
        fast_api, "DeleteFunction", "delete-observations.json", series_id=SERIES, query=query
    )
    assert (status, payload["field"]) == (400, "dry_run"), payload
    assert "DELETE /series/{series_id}/observations takes from, to" in payload["message"], payload
    status, payload, _ = call(
        fast_api, "DeleteFunction", "delete-series.json", series_id=SERIES, query={"dry_run": "true"}
    )
    assert (status, payload["field"]) == (400, "dry_run"), payload
    assert "takes no query parameters" in payload["message"], payload
    # Then nothing was deleted (both deleted everything before)
    assert _stored(fast_api, SERIES) == before


def test_unknown_series_are_404(fast_api: Api) -> None:
    assert _delete_range(fast_api, "nobody", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")[0] == 404
    status, payload, _ = _delete_series(fast_api, "nobody")
    assert (status, payload["error"]) == (404, "series_not_found")


# ------------------------------------------------------------------------------------ series delete


def test_deleting_a_series_removes_everything_of_it_and_nothing_else(trained: Api) -> None:
    other_before = _stored(trained, OTHER)
    assert _stored(trained, SERIES)["objects"] == 2
    # When the series is deleted
    status, payload, _ = _delete_series(trained)
    # Then every chunk, version record, CURRENT, the SERIES record and every object version are gone
    assert status == 200, payload
    assert payload["deleted"]["model_versions"] == 2 and payload["deleted"]["artifact_objects"] == 2
    assert payload["deleted"]["observation_chunks"] >= 3
    assert _stored(trained, SERIES) == {"registry": 0, "chunks": 0, "objects": 0}
    # And the API says so; the other series (sharing the id's prefix) is untouched and still served
    assert (
        call(trained, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "3"})[0] == 404
    )
    assert call(trained, "PredictFunction", "models.json", series_id=SERIES)[0] == 404
    assert _stored(trained, OTHER) == other_before
    assert (
        call(trained, "PredictFunction", "forecast.json", series_id=OTHER, query={"horizon": "3"})[0] == 200
    )
    # And deleting it again is a 404; the id can be used afresh
    assert _delete_series(trained)[0] == 404
    status, fresh = trained.ingest(SERIES, [1_790_000_000 - 1_790_000_000 % HOUR], [1.0])
    assert (status, fresh["revision"], fresh["span"]["observations"]) == (200, 1, 1)


@pytest.mark.parametrize(
    ("service", "operation"),
    [("s3", "DeleteObjects"), ("dynamodb", "TransactWriteItems"), ("dynamodb", "DeleteItem")],
    ids=["objects", "records-and-chunks", "series-record"],
)
def test_a_fault_half_way_is_a_503_and_the_same_delete_finishes_the_job(
    trained: Api, faults: FaultInjector, small_history: Any, service: str, operation: str
) -> None:
    # Given a delete that fails at one of its steps (the SDK retries, then gives up)
    when = (lambda request: b'"SERIES"' in (request.body or b"")) if operation == "DeleteItem" else None
    fault = faults.inject(service, operation, "5xx", when=when)
    status, payload, headers = _delete_series(trained)
    faults.clear()
    assert fault.hits >= 1
    assert (status, payload["error"]) == (503, "service_unavailable"), payload
    assert int(headers["Retry-After"]) > 0
    # Then the series is no longer served nor written, and it is marked as being deleted
    assert (
        call(trained, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "3"})[0] == 404
    )
    stamps, _ = small_history
    status, refused = trained.ingest(SERIES, [int(stamps[-1]) + 7200], [1.0])
    assert (status, refused["error"]) == (409, "series_deleting"), refused
    assert call(trained, "TrainFunction", "train.json", series_id=SERIES)[0] == 404
    # When the same DELETE is sent again, Then it finishes: nothing of the series is left
    status, payload, _ = _delete_series(trained)
    assert status == 200, payload
    assert _stored(trained, SERIES) == {"registry": 0, "chunks": 0, "objects": 0}


def test_a_rollback_while_a_delete_is_unfinished_is_409_and_serves_nothing(
    trained: Api, faults: FaultInjector
) -> None:
    # Given a DELETE that stopped after marking the series and removing CURRENT (S3 failed listing its
    # models), so its versions are still there
    faults.inject("s3", "ListObjectVersions", "5xx")
    assert _delete_series(trained)[0] == 503
    faults.clear()
    # When an earlier version is promoted (a rollback)
    status, payload, _ = call(trained, "TrainFunction", "promote.json", series_id=SERIES, version="1.0.0")
    # Then it is refused as for an ingest (it answered 200 and served the series again while GET said 404)
    assert (status, payload["error"], payload["field"]) == (409, "series_deleting", "series_id"), payload
    assert (
        call(trained, "PredictFunction", "forecast.json", series_id=SERIES, query={"horizon": "3"})[0] == 404
    )
    # And the same DELETE again finishes the job
    assert _delete_series(trained)[0] == 200
    assert _stored(trained, SERIES) == {"registry": 0, "chunks": 0, "objects": 0}


@pytest.mark.parametrize("deletion", ["finished", "begun"])
def test_a_training_that_outlasts_a_delete_leaves_nothing_behind(
    trained: Api,
    canned_training: CannedTraining,
    small_history: Any,
    monkeypatch: pytest.MonkeyPatch,
    deletion: str,
) -> None:
    import lead_ai.forecasting.training.train

    # Given a training of new history, and a DELETE /series that begins while it fits (and finishes, or
    # stops after marking the series)
    add_hour(trained, small_history, 2)
    before = _stored(trained, SERIES)

    def fit_while_the_series_is_deleted(*args: Any, **kwargs: Any) -> Any:
        if deletion == "finished":
            assert _delete_series(trained)[0] == 200
        else:
            assert build_dependencies(settings_for(trained)).catalogue.begin_deletion(SERIES)
        return canned_training(*args, **kwargs)

    monkeypatch.setattr(
        lead_ai.forecasting.training.train, "train_forecaster", fit_while_the_series_is_deleted
    )
    # When the training ends
    status, payload, _ = call(trained, "TrainFunction", "train.json", series_id=SERIES)
    # Then it is a 409 naming the series, and it registered no version and uploaded no object
    assert (status, payload["error"], payload["field"]) == (409, "series_deleting", "series_id"), payload
    if deletion == "finished":
        assert _stored(trained, SERIES) == {"registry": 0, "chunks": 0, "objects": 0}
    else:
        assert _stored(trained, SERIES) == before  # the two versions and objects the DELETE will remove
        # And the same DELETE again finishes the job: nothing of the series is left
        assert _delete_series(trained)[0] == 200
        assert _stored(trained, SERIES) == {"registry": 0, "chunks": 0, "objects": 0}


def test_settings_and_ingests_of_a_series_being_deleted_are_409_series_deleting(
    fast_api: Api, small_history: Any
) -> None:
    # Given a DELETE that stopped after marking the series (the first step), so its record is still there
    assert fast_api.ingest(SERIES, *small_history)[0] == 200
    assert build_dependencies(settings_for(fast_api)).catalogue.begin_deletion(SERIES)
    # When its settings are changed
    body = json.dumps({"timezone": "Europe/Berlin"})
    status, payload, _ = call(fast_api, "IngestFunction", "put-series.json", series_id=SERIES, body=body)
    # Then it is refused as an ingest is, saying to finish the delete (it was a 409 conflict after five
    # attempts, saying the series "kept changing" and to retry, which could never succeed)
    assert (status, payload["error"], payload["field"]) == (409, "series_deleting", "series_id"), payload
    assert f"repeat DELETE /series/{SERIES}" in payload["message"], payload
    status, payload = fast_api.ingest(SERIES, small_history[0][-1:], small_history[1][-1:] + 1)
    assert (status, payload["error"]) == (409, "series_deleting"), payload
    # And so is an ingest that re-sends values already stored (it answered 200 "accepted": 1, and the
    # values went with the series once the DELETE was repeated)
    status, payload = fast_api.ingest(SERIES, small_history[0][-1:], small_history[1][-1:])
    assert (status, payload["error"]) == (409, "series_deleting"), payload
    # And the same DELETE again finishes the job, after which the id can be used afresh
    assert _delete_series(fast_api)[0] == 200
    status, payload, _ = call(fast_api, "IngestFunction", "put-series.json", series_id=SERIES, body=body)
    assert (status, payload["timezone"]) == (200, "Europe/Berlin"), payload
