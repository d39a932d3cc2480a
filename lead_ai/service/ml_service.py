"""MLService: the use cases of one series (ingest, train, forecast, list and promote models).

A thin facade with the seed's API: each method calls one use-case module of this package, which holds
the logic. Results are value types; lead_ai.api.responses turns them into the API's JSON.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from lead_ai.domain.models import ModelVersion
from lead_ai.domain.series import ObservationBatch, SeriesInfo, SeriesSettings
from lead_ai.service import deletion, promotion, serving, training
from lead_ai.service import ingest as ingest_case
from lead_ai.service.deletion import RangeDeletion, SeriesDeletion
from lead_ai.service.dependencies import Dependencies, build_dependencies
from lead_ai.service.ingest import IngestOutcome
from lead_ai.service.serving import Forecast, ModelList
from lead_ai.service.training import TrainingOutcome
from lead_ai.storage.series_writes import UNREAD, Unread

__all__ = ["MLService", "build_dependencies"]


class MLService:
    """Use cases for one series."""

    MIN_TRAINING_POINTS = 1000  # the default; LEAD_AI_MIN_TRAINING_POINTS overrides it

    def __init__(self, series_id: str, deps: Dependencies) -> None:
        self.series_id = series_id
        self._deps = deps
        self._series_seen: SeriesInfo | Unread | None = UNREAD  # what interval() read; ingest starts from it

    @cached_property
    def min_training_points(self) -> int:
        return self._deps.settings.min_training_points or self.MIN_TRAINING_POINTS

    def settings(self) -> SeriesSettings:
        """The series' interval, time zone and holiday calendar (the defaults for a new series)."""
        info = self._deps.catalogue.get_series(self.series_id)
        self._series_seen = info  # ingest starts from this read instead of reading the series again
        defaults = self._deps.settings.series_defaults
        return SeriesSettings.of(info, defaults) if info is not None else defaults

    def ingest(self, batch: ObservationBatch) -> IngestOutcome:
        return ingest_case.ingest(self._deps, self.series_id, batch, self._series_seen)

    def train(self) -> TrainingOutcome:
        """Fit, export to ONNX, upload and verify, register; promote only if it beats the champion."""
        return training.train_series(self._deps, self.series_id, self.min_training_points)

    def forecast(self, horizon: int, level: float = 0.8) -> Forecast:
        return serving.forecast(self._deps, self.series_id, horizon, level)

    async def predict_workload(self, horizon: int) -> list[dict[str, Any]]:
        """The seed's API: the next `horizon` intervals as rows {timestamp, value, lower, upper}."""
        return serving.forecast_rows(self.forecast(horizon))

    def list_models(self, limit: int = 50, after: str | None = None) -> ModelList:
        return serving.list_models(self._deps, self.series_id, limit, after)

    def delete_observations(self, first_ts: int, last_ts: int) -> RangeDeletion:
        """Remove the observations from first_ts to last_ts (inclusive); the series will be retrained."""
        return deletion.delete_observations(self._deps, self.series_id, first_ts, last_ts)

    def delete(self) -> SeriesDeletion:
        """Remove the series, its observations and every model (records and S3 objects)."""
        return deletion.delete_series(self._deps, self.series_id)

    def promote(self, version: str) -> ModelVersion:
        """Make `version` current (e.g. a rollback); atomic against concurrent trainings."""
        return promotion.promote_version(self._deps, self.series_id, version)
