"""The series catalogue: one `SERIES` item per series in the registry table (storage.registry_table).

It holds the series' interval (fixed at its first ingest), a revision counter that every ingest bumps,
the span of its observations and the revision its last training used: the schedule trains the series
whose revision moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from lead_ai.domain.isotime import utc_now_iso
from lead_ai.domain.series import SeriesInfo, SeriesSettings
from lead_ai.errors import IntervalMismatchError, VersionConflictError
from lead_ai.storage.dynamo import guarded, is_conditional_failure, n, s, storage_error
from lead_ai.storage.registry_table import SERIES, key, series_from_item


class SeriesCatalogue:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get_series(self, series_id: str) -> SeriesInfo | None:
        response = guarded(
            "reading the series",
            lambda: self._client.get_item(TableName=self._table, Key=key(series_id, SERIES)),
        )
        item = response.get("Item")
        return series_from_item(item) if item else None

    def register_series(
        self, series_id: str, interval_seconds: int, defaults: SeriesSettings | None = None
    ) -> SeriesInfo:
        """Create the series with its interval, or confirm the interval it already has. A series keeps the
        time zone and calendar it has; one without them gets `defaults` (its naive timestamps were read in
        that zone, so a later change of the deployment's defaults must not move it)."""
        settings = ""
        values = {":i": n(interval_seconds), ":zero": n(0)}
        if defaults is not None:
            settings = (
                ", time_zone = if_not_exists(time_zone, :tz)"
                ", holiday_calendar = if_not_exists(holiday_calendar, :h)"
            )
            values |= {":tz": s(defaults.timezone), ":h": s(defaults.holidays)}
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET interval_seconds = if_not_exists(interval_seconds, :i), "
                "revision = if_not_exists(revision, :zero)" + settings,
                ConditionExpression="attribute_not_exists(interval_seconds) OR interval_seconds = :i",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                existing = self.get_series(series_id)
                raise IntervalMismatchError(
                    f"series '{series_id}' uses an interval of "
                    f"{existing.interval_seconds if existing else '?'} s, not {interval_seconds} s",
                    field="interval",
                ) from exc
            raise storage_error("registering the series", exc) from exc
        return series_from_item(response["Attributes"])

    def save_settings(
        self, series_id: str, settings: SeriesSettings, *, expected_revision: int | None, retrain: bool
    ) -> SeriesInfo:
        """Store the series' settings if its revision is still `expected_revision` (None: the series does not
        exist yet); `retrain` bumps the revision so the schedule trains it with the new settings.
        VersionConflictError when an ingest or another change moved the revision meanwhile."""
        values = {
            ":i": n(settings.interval_seconds),
            ":tz": s(settings.timezone),
            ":h": s(settings.holidays),
            ":u": s(utc_now_iso()),
        }
        if expected_revision is None:
            condition = "attribute_not_exists(revision)"
            values[":next"] = n(0)
        else:
            condition = "revision = :expected"
            values[":expected"] = n(expected_revision)
            values[":next"] = n(expected_revision + (1 if retrain else 0))
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET interval_seconds = :i, time_zone = :tz, holiday_calendar = :h, "
                "settings_updated_at = :u, revision = :next",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                raise VersionConflictError(
                    f"series '{series_id}' changed while its settings were saved; retry", field="series_id"
                ) from exc
            raise storage_error("saving the series settings", exc) from exc
        return series_from_item(response["Attributes"])

    def record_ingest(self, series_id: str, first_ts: int, last_ts: int, count: int) -> int:
        """Bump the series revision (so the schedule knows its history changed) and store its span."""
        response = guarded(
            "updating the series",
            lambda: self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET first_ts = :f, last_ts = :l, observation_count = :c, updated_at = :u "
                "ADD revision :one",
                ExpressionAttributeValues={
                    ":f": n(first_ts),
                    ":l": n(last_ts),
                    ":c": n(count),
                    ":u": s(utc_now_iso()),
                    ":one": n(1),
                },
                ReturnValues="UPDATED_NEW",
            ),
        )
        return int(response["Attributes"]["revision"]["N"])

    def record_training_attempt(self, series_id: str, revision: int) -> None:
        """Remember the history revision a training used, so the schedule skips unchanged series."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(series_id, SERIES),
                UpdateExpression="SET trained_revision = :r",
                ConditionExpression="attribute_not_exists(trained_revision) OR trained_revision < :r",
                ExpressionAttributeValues={":r": n(revision)},
            )
        except Exception as exc:
            if not is_conditional_failure(exc):  # a newer revision was recorded already: fine
                raise storage_error("updating the series", exc) from exc

    def series_needing_training(self) -> Iterator[SeriesInfo]:
        """Series whose history changed since they were last trained (for the daily schedule)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#r = :series",
            "ExpressionAttributeNames": {"#r": "record"},
            "ExpressionAttributeValues": {":series": s(SERIES)},
        }
        while True:
            page = guarded("listing series", partial(self._client.scan, **kwargs))
            for item in page.get("Items", []):
                info = series_from_item(item)
                if info.revision > 0 and (info.trained_revision or 0) < info.revision:
                    yield info
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
