"""The adapters every use case needs, built once per container (at init, outside the handler)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from lead_ai.config import Settings, get_settings
from lead_ai.monitoring.metrics import AnalyticsService, MetricsAnalytics
from lead_ai.storage.artifacts import ArtifactStore
from lead_ai.storage.catalogue import SeriesCatalogue
from lead_ai.storage.observations import HistoryStore
from lead_ai.storage.registry import ModelTracker
from lead_ai.storage.series_writes import SeriesWriter

if TYPE_CHECKING:
    from lead_ai.service.model_cache import ModelCache
    from lead_ai.storage.queue import TrainingQueue


class Dependencies:
    """Each adapter is built on first use and kept for the container's life."""

    def __init__(self, settings: Settings, analytics: AnalyticsService) -> None:
        self.settings = settings
        self.analytics = analytics

    @cached_property
    def history(self) -> HistoryStore:
        from lead_ai.storage.clients import client

        return HistoryStore(client("dynamodb"), self.settings.observations_table)

    @cached_property
    def writer(self) -> SeriesWriter:
        from lead_ai.storage.clients import client

        return SeriesWriter(
            client("dynamodb"), self.settings.observations_table, self.settings.registry_table
        )

    @cached_property
    def catalogue(self) -> SeriesCatalogue:
        from lead_ai.storage.clients import client

        return SeriesCatalogue(client("dynamodb"), self.settings.registry_table)

    @cached_property
    def tracker(self) -> ModelTracker:
        from lead_ai.storage.clients import client

        return ModelTracker(client("dynamodb"), self.settings.registry_table, self.analytics)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from lead_ai.storage.clients import client

        return ArtifactStore(client("s3"), self.settings.bucket)

    @cached_property
    def training_queue(self) -> TrainingQueue:
        # Only the planner sends to SQS (its layer has the whole SDK; the prediction layer's has no SQS).
        from lead_ai.errors import ConfigurationError
        from lead_ai.storage.clients import client
        from lead_ai.storage.queue import TrainingQueue

        if not self.settings.training_queue_url:
            raise ConfigurationError("LEAD_AI_TRAINING_QUEUE_URL is required to queue trainings")
        return TrainingQueue(client("sqs"), self.settings.training_queue_url)

    @cached_property
    def cache(self) -> ModelCache:
        # Only the prediction function pays for onnxruntime.
        from functools import partial

        from lead_ai.service.model_cache import ModelCache
        from lead_ai.service.pooling import series_start, serving_pool

        return ModelCache(
            self.tracker,
            self.artifacts,
            self.history,
            self.analytics,
            ttl_seconds=self.settings.registry_ttl_seconds,
            pool_of=partial(serving_pool, self),
            series_start=partial(series_start, self),
        )


def build_dependencies(
    settings: Settings | None = None,
    analytics: AnalyticsService | None = None,
    *,
    uses_s3: bool = True,
    serves_forecasts: bool = False,
) -> Dependencies:
    """Build the container's adapters now (at init, outside the handler), S3 only where it is used."""
    deps = Dependencies(settings or get_settings(), analytics or MetricsAnalytics())
    _ = deps.history, deps.catalogue, deps.tracker, deps.writer
    if uses_s3:
        _ = deps.artifacts
    if serves_forecasts:
        _ = deps.cache
    return deps
