"""Versions: no new one for unchanged history, GET /models in pages, expired rejected and failed versions
pruned with their objects. Issue #10: "training again on unchanged history: a new version each time
(4 trainings, 4 versions, 1.6 MB); GET /models unpaginated"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lead_ai_dev.local.invoke import forget_loaded_handlers
from tests.conftest import Api
from tests.faults.conftest import SERIES, CannedTraining, add_hour, call
from tests.faults.support import FaultInjector, assert_consistent, plain_client

pytestmark = pytest.mark.faults


def _train(api: Api) -> tuple[int, Any]:
    status, payload, _ = call(api, "TrainFunction", "train.json", series_id=SERIES)
    return status, payload


def _models(api: Api, **query: str) -> tuple[int, Any]:
    status, payload, _ = call(api, "PredictFunction", "models.json", series_id=SERIES, query=query)
    return status, payload


# ------------------------------------------------------------------------------------ unchanged history


def test_training_unchanged_history_four_times_makes_one_version(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    fast_api.ingest(SERIES, *small_history)
    # When the series is trained four times without new observations
    answers = [_train(fast_api) for _ in range(4)]
    # Then the first trains (201) and the others answer the current version (200, trained false)
    assert [(status, p["version"], p["trained"], p["current"]) for status, p in answers] == [
        (201, "1.0.0", True, True),
        *[(200, "1.0.0", False, True)] * 3,
    ]
    assert canned_training.calls == 1
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert (len(state.versions), len(state.objects)) == (1, 1)
    # When a setting the model depends on changes (the horizon), Then it trains again
    fast_api.overrides["LEAD_AI_MAX_HORIZON"] = "12"
    forget_loaded_handlers()
    status, payload = _train(fast_api)
    assert (status, payload["trained"]) == (201, True)


def test_training_again_after_a_rejection_or_a_rollback_answers_the_version_of_that_history(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    # Given 1.0.0 current, and 1.1.0 trained on one more hour and rejected (it did worse)
    canned_training.mase = [0.7, 0.8]
    fast_api.ingest(SERIES, *small_history)
    assert _train(fast_api)[0] == 201
    add_hour(fast_api, small_history)
    status, rejected = _train(fast_api)
    assert (status, rejected["version"], rejected["status"]) == (201, "1.1.0", "rejected"), rejected
    # When the unchanged series is trained again (twice)
    answers = [_train(fast_api) for _ in range(2)]
    # Then each answers the rejected version of this history (200, trained false, not current): a copy
    # of it would be rejected the same way; nothing is fitted and no version is added
    for status, payload in answers:
        assert (status, payload["version"], payload["status"], payload["trained"], payload["current"]) == (
            200, "1.1.0", "rejected", False, False,
        )  # fmt: skip
    assert canned_training.calls == 2
    assert len(assert_consistent(fast_api.stack.names, SERIES).versions) == 2
    # When 1.1.0 is promoted and then rolled back to 1.0.0, Then training again still makes nothing:
    # the rollback stands until new observations arrive
    assert call(fast_api, "TrainFunction", "promote.json", series_id=SERIES, version="1.1.0")[0] == 200
    assert call(fast_api, "TrainFunction", "promote.json", series_id=SERIES, version="1.0.0")[0] == 200
    status, payload = _train(fast_api)
    assert (status, payload["version"], payload["trained"], payload["current"]) == (
        200,
        "1.1.0",
        False,
        False,
    )
    assert fast_api.forecast(SERIES, 3)[1]["model_version"] == "1.0.0"


# ------------------------------------------------------------------------------------ pagination


@pytest.fixture
def five_versions(fast_api: Api, small_history: Any, canned_training: CannedTraining) -> Api:
    canned_training.mase = [0.9, 0.8, 0.7, 0.6, 0.5]
    fast_api.ingest(SERIES, *small_history)
    for k in range(5):
        if k:
            add_hour(fast_api, small_history, k)
        assert _train(fast_api)[0] == 201
    return fast_api


def test_models_come_in_pages_newest_first(five_versions: Api) -> None:
    # When the versions are read two at a time, following next_token
    pages, token = [], None
    while True:
        status, page = _models(five_versions, limit="2", **({"next_token": token} if token else {}))
        assert status == 200, page
        pages.append([v["version"] for v in page["versions"]])
        assert page["current_version"] == "1.4.0"
        token = page["next_token"]
        if token is None:
            break
    # Then every version comes once, newest first, in pages of at most two
    assert pages == [["1.4.0", "1.3.0"], ["1.2.0", "1.1.0"], ["1.0.0"]]
    # And without a limit, one page holds them all (the default is 50)
    status, everything = _models(five_versions)
    assert status == 200
    assert [v["version"] for v in everything["versions"]] == ["1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]
    assert everything["next_token"] is None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "two", "1.5", " "])
def test_a_bad_limit_is_400_naming_limit(five_versions: Api, limit: str) -> None:
    status, payload = _models(five_versions, limit=limit)
    assert (status, payload["field"]) == (400, "limit"), payload


def test_a_token_this_api_did_not_give_for_this_series_is_400_naming_next_token(five_versions: Api) -> None:
    status, page = _models(five_versions, limit="2")
    assert status == 200
    token = page["next_token"]
    forged = [
        "garbage!",
        "eyJzIjoieCJ9",  # {"s":"x"}
        token[:-3],
        token + "AAAA",
        "x" * 500,
    ]
    other = call(
        five_versions, "PredictFunction", "models.json", series_id="other", query={"next_token": token}
    )
    assert (other[0], other[1]["field"]) == (400, "next_token"), other[1]
    for raw in forged:
        status, payload = _models(five_versions, next_token=raw)
        assert (status, payload["field"]) == (400, "next_token"), (raw, payload)
        assert raw not in payload["message"]


@pytest.mark.parametrize("with_token", [False, True])
def test_a_series_that_does_not_exist_is_404_with_or_without_a_page_token(api: Api, with_token: bool) -> None:
    # Given no series "ghost", and a well-formed token scoped to it (anyone can make one: it is opaque,
    # not signed) or none
    from lead_ai.api.pagination import encode_token

    query = {"next_token": str(encode_token("VERSION#000001.000000.000000", scope="ghost"))}
    # When its versions are listed
    status, payload, _ = call(
        api, "PredictFunction", "models.json", series_id="ghost", query=query if with_token else None
    )
    # Then both answers are the same 404 naming the series (a token gave an empty 200 page)
    assert (status, payload["error"], payload["field"]) == (404, "series_not_found", "series_id"), payload


@pytest.mark.parametrize("with_token", [False, True])
def test_a_pool_never_trained_is_404_with_or_without_a_page_token(api: Api, with_token: bool) -> None:
    # Given no pooled model ever trained for a group, and a well-formed token scoped to its pool, or none
    from lead_ai.api.pagination import encode_token

    pool_id = "pool:1h:UTC:none"
    query = {"next_token": str(encode_token("VERSION#000001.000000.000000", scope=pool_id))}
    # When the pool's versions are listed
    status, payload, _ = call(
        api, "PredictFunction", "pool-models.json", pool_id=pool_id, query=query if with_token else None
    )
    # Then both answers are the same 404 naming the pool (a token gave an empty 200 page)
    assert (status, payload["error"], payload["field"]) == (404, "model_not_found", "pool_id"), payload


def test_a_token_past_the_last_page_of_a_series_is_an_empty_page(five_versions: Api) -> None:
    # Given a token after the oldest version of a series that exists (e.g. the versions were pruned)
    from lead_ai.api.pagination import encode_token

    token = str(encode_token("VERSION#000000.000000.000001", scope=SERIES))
    # When the page after it is asked, Then it is an empty last page, not a 404
    status, page = _models(five_versions, next_token=token)
    assert (status, page["versions"], page["next_token"]) == (200, [], None), page


# ------------------------------------------------------------------------------------ pruning


def _backdate(api: Api, versions: list[str], days: int, promoted: tuple[str, ...] = ("1.0.0",)) -> None:
    when = (
        (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    for version in versions:
        record = "VERSION#" + "{:06d}.{:06d}.{:06d}".format(*map(int, version.split(".")))
        fields = {"created_at": when} | ({"promoted_at": when} if version in promoted else {})
        plain_client("dynamodb").update_item(
            TableName=api.stack.names["RegistryTable"],
            Key={"series_id": {"S": SERIES}, "record": {"S": record}},
            UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in fields),
            ExpressionAttributeValues={f":{k}": {"S": v} for k, v in fields.items()},
        )


def test_a_training_prunes_the_series_expired_rejected_and_failed_versions_with_their_objects(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, faults: FaultInjector
) -> None:
    # Given 1.0.0 (verified, current at first), 1.1.0 (rejected), 1.2.0 (failed: S3 refused the upload),
    # 1.3.0 (rejected, then promoted by hand: current), all created 40 days ago; and 1.4.0, rejected today
    canned_training.mase = [0.7, 0.9, 0.8, 0.95, 0.99, 0.98]
    fast_api.ingest(SERIES, *small_history)
    statuses = []
    for k in range(5):
        if k:
            add_hour(fast_api, small_history, k)
        if k == 2:
            faults.inject("s3", "PutObject", "5xx")
        statuses.append(_train(fast_api)[0])
        faults.clear()
    assert statuses == [201, 201, 503, 201, 201]
    assert call(fast_api, "TrainFunction", "promote.json", series_id=SERIES, version="1.3.0")[0] == 200
    _backdate(fast_api, ["1.0.0", "1.1.0", "1.2.0", "1.3.0"], days=40)
    before = assert_consistent(fast_api.stack.names, SERIES)
    assert {v: i["status"] for v, i in before.versions.items()} == {
        "1.0.0": "verified",
        "1.1.0": "rejected",
        "1.2.0": "failed",
        "1.3.0": "rejected",
        "1.4.0": "rejected",
    }
    # When the series is trained again (retention: 30 days, the template's default)
    add_hour(fast_api, small_history, 5)
    assert _train(fast_api)[0] == 201
    # Then its expired rejected and failed versions are gone, with the rejected one's object; the current
    # (rejected but promoted) version, the verified one and the young rejected ones are kept
    after = assert_consistent(fast_api.stack.names, SERIES)
    assert sorted(after.versions) == ["1.0.0", "1.3.0", "1.4.0", "1.5.0"]
    assert len(after.objects) == len(before.objects) - 1 + 1  # 1.1.0's object went, 1.5.0's came
    assert after.current is not None and after.current["version"] == "1.3.0"
    # And the versions list says the same
    status, models = _models(fast_api)
    assert status == 200
    assert [v["version"] for v in models["versions"]] == ["1.5.0", "1.4.0", "1.3.0", "1.0.0"]


def test_replaced_versions_past_retention_go_but_the_serving_fallback_stays(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    # Given a series retrained four times, each version promoted over the one before (the daily schedule's
    # way), the first three created and promoted 40 days ago
    canned_training.mase = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    fast_api.ingest(SERIES, *small_history)
    for k in range(4):
        if k:
            add_hour(fast_api, small_history, k)
        status, payload = _train(fast_api)
        assert status == 201 and payload["current"] is True, payload
    old = ["1.0.0", "1.1.0", "1.2.0"]
    _backdate(fast_api, old, days=40, promoted=tuple(old))
    before = assert_consistent(fast_api.stack.names, SERIES)
    # When it is trained again (retention: 30 days)
    add_hour(fast_api, small_history, 4)
    status, payload = _train(fast_api)
    assert status == 201 and payload["version"] == "1.4.0" and payload["current"] is True, payload
    # Then the replaced versions past retention are gone with their objects (1.2.0 too: the newest
    # verified version besides the current, serving's fallback, is 1.3.0, which is young)
    after = assert_consistent(fast_api.stack.names, SERIES)
    assert sorted(after.versions) == ["1.3.0", "1.4.0"]
    assert len(after.objects) == len(before.objects) - 3 + 1
    # And when the young versions are old too, the newest besides the current stays: serving's fallback
    _backdate(fast_api, ["1.3.0", "1.4.0"], days=40, promoted=("1.3.0", "1.4.0"))
    add_hour(fast_api, small_history, 5)
    status, payload = _train(fast_api)
    assert (status, payload["version"], payload["current"]) == (201, "1.5.0", True), payload
    assert sorted(assert_consistent(fast_api.stack.names, SERIES).versions) == ["1.4.0", "1.5.0"]


def test_a_pruned_version_whose_object_cannot_be_deleted_is_kept_pruning_and_goes_at_the_next_pruning(
    fast_api: Api, small_history: Any, canned_training: CannedTraining, faults: FaultInjector
) -> None:
    # Given 1.0.0 (current), 1.1.0 (rejected) and 1.2.0 (pending: its training died before it decided),
    # all created 40 days ago
    canned_training.mase = [0.7, 0.9, 0.8, 0.8]
    fast_api.ingest(SERIES, *small_history)
    for k in range(2):
        if k:
            add_hour(fast_api, small_history, k)
        assert _train(fast_api)[0] == 201
    spec = assert_consistent(fast_api.stack.names, SERIES).versions["1.1.0"]["feature_spec"]
    plain_client("dynamodb").put_item(
        TableName=fast_api.stack.names["RegistryTable"],
        Item={
            "series_id": {"S": SERIES},
            "record": {"S": "VERSION#000001.000002.000000"},
            "version": {"S": "1.2.0"},
            "status": {"S": "pending"},
            "created_at": {"S": "2026-01-01T00:00:00.000Z"},
            "feature_spec": {"S": spec},
        },
    )
    _backdate(fast_api, ["1.0.0", "1.1.0", "1.2.0"], days=40)
    rejected_object = assert_consistent(fast_api.stack.names, SERIES).versions["1.1.0"]["s3_key"]
    # When the series is trained again while S3 refuses to delete objects
    faults.inject("s3", "DeleteObject", "5xx")
    add_hour(fast_api, small_history, 2)
    assert _train(fast_api)[0] == 201
    faults.clear()
    # Then the old pending record is gone, and 1.1.0 is kept with its object, marked pruning: nothing
    # serves it, and GET /models says so
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert {v: i["status"] for v, i in state.versions.items()} == {
        "1.0.0": "verified",
        "1.1.0": "pruning",
        "1.3.0": "rejected",
    }
    assert any(o["Key"] == rejected_object for o in state.objects)
    status, models = _models(fast_api)
    assert status == 200 and {v["version"]: v["status"] for v in models["versions"]}["1.1.0"] == "pruning"
    # And a rollback to it is refused
    assert call(fast_api, "TrainFunction", "promote.json", series_id=SERIES, version="1.1.0")[0] == 409
    # And the next training deletes its object and its record
    add_hour(fast_api, small_history, 3)
    assert _train(fast_api)[0] == 201
    state = assert_consistent(fast_api.stack.names, SERIES)
    assert "1.1.0" not in state.versions
    assert not any(o["Key"] == rejected_object for o in state.objects)


def test_a_queued_training_of_an_up_to_date_series_trains_nothing_and_clears_it(
    fast_api: Api, small_history: Any, canned_training: CannedTraining
) -> None:
    from tests.fleet.conftest import Fleet

    fleet = Fleet(fast_api)
    # Given a trained series that the catalogue still lists as due (its training's bookkeeping was lost)
    fast_api.ingest(SERIES, *small_history)
    assert _train(fast_api)[0] == 201
    plain_client("dynamodb").update_item(
        TableName=fast_api.stack.names["RegistryTable"],
        Key={"series_id": {"S": SERIES}, "record": {"S": "SERIES"}},
        UpdateExpression="SET #due = :due REMOVE trained_revision",
        ExpressionAttributeNames={"#due": "due"},
        ExpressionAttributeValues={":due": {"S": "DUE"}},
    )
    # When the daily plan runs and the worker drains the queue, twice
    first = fleet.plan()
    fleet.drain()
    second = fleet.plan()
    # Then the first run queued it and the worker skipped it as unchanged (no fit, no version); the
    # second run finds nothing due
    assert first["queued"] == 1 and second["queued"] == 0
    assert canned_training.calls == 1
    assert len(assert_consistent(fast_api.stack.names, SERIES).versions) == 1
