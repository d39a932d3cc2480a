"""The serving cache: per series, the loaded ONNX model and the newest observations.

A warm request reads nothing while its entry is younger than the TTL; after that, one registry read
(the CURRENT pointer) and one observations query refresh it, and S3 is read only when the current
version changed. When the registry, the observations table or S3 fail, the last good entry keeps
answering; with nothing cached the caller gets a ServiceUnavailableError (HTTP 503).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from lead_ai.domain.intervals import interval_name
from lead_ai.domain.isotime import iso_utc
from lead_ai.domain.models import CurrentModel, ModelVersion, Status, WindowShape
from lead_ai.domain.pools import POOL_MIN_DAYS, is_pool_id, pool_min_points, thin_window_start
from lead_ai.domain.series import SeriesWindow
from lead_ai.errors import (
    ArtifactUnavailableError,
    ModelNotFoundError,
    SeriesNotFoundError,
    ServiceUnavailableError,
    StorageError,
)
from lead_ai.forecasting.inference import OnnxForecaster, OriginRows
from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import AnalyticsService
from lead_ai.storage.artifacts import ArtifactStore
from lead_ai.storage.observations import HistoryStore
from lead_ai.storage.registry import ModelTracker

_MAX_POOLS = 16


class ServingState(NamedTuple):
    version: str
    sha256: str
    forecaster: OnnxForecaster
    window: SeriesWindow
    rows: OriginRows  # the window's feature rows for every step: built once per refresh, not per request
    checked_at: float
    fallback_from: str | None = None  # the current version we could not serve, if any
    pool_id: str | None = None  # the pooled model serves the series (it has no model of its own yet)


class _Loaded(NamedTuple):
    forecaster: OnnxForecaster
    version: str
    sha256: str
    fallback_from: str | None


class ModelCache:
    def __init__(
        self,
        tracker: ModelTracker,
        artifacts: ArtifactStore,
        history: HistoryStore,
        analytics: AnalyticsService,
        *,
        ttl_seconds: float,
        max_entries: int = 64,
        clock: Callable[[], float] = time.monotonic,
        pool_of: Callable[[str], tuple[str, CurrentModel]] | None = None,
        series_start: Callable[[str], int | None] | None = None,
    ) -> None:
        self._tracker = tracker
        self._artifacts = artifacts
        self._history = history
        self._analytics = analytics
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        # A series without a CURRENT pointer of its own: the pool serving it and the pool's pointer
        # (service.pooling.serving_pool), or ModelNotFoundError saying why none does.
        self._pool_of = pool_of
        # The time of a series' first stored observation (its span), read only for a window that holds
        # under POOL_MIN_DAYS: whether the series is young or resumed after a gap (_require_days_since_gap)
        self._series_start = series_start
        # Pooled models loaded once per container, whichever series asked first (many series share one)
        self._pools: OrderedDict[tuple[str, str | None, str], OnnxForecaster] = OrderedDict()
        self._entries: OrderedDict[str, ServingState] = OrderedDict()
        # One worker: Lambda runs one request at a time per container; threads start on first use.
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lead-ai-observations")
        # artifacts (key, S3 version id, sha256) that failed verification: two versions may share a
        # digest (retraining unchanged history gives the same bytes), so a digest alone is not enough
        self._bad_artifacts: set[tuple[str, str | None, str]] = set()

    def state(self, series_id: str) -> ServingState:
        now = self._clock()
        entry = self._entries.get(series_id)
        if entry is not None and now - entry.checked_at < self._ttl:
            return entry
        try:
            fresh = self._refresh(series_id, entry, now)
        except (StorageError, ServiceUnavailableError) as exc:
            if entry is None:
                if isinstance(exc, ServiceUnavailableError):
                    raise  # its message says why (e.g. no verified model could be loaded)
                raise ServiceUnavailableError(
                    f"the model or observation store is unavailable and nothing is cached for '{series_id}'; "
                    "retry shortly"
                ) from exc
            logger.warning(
                "serving from the warm cache: a dependency failed",
                extra={"series_id": series_id, "model_version": entry.version, "error": str(exc)},
            )
            self._analytics.track("ServedFromCacheOnOutage", series_id)
            return entry
        self._remember(series_id, fresh)
        return fresh

    def _refresh(self, series_id: str, entry: ServingState | None, now: float) -> ServingState:
        pointer = self._tracker.current(series_id)
        pool_id: str | None = None
        if pointer is None:
            if self._pool_of is None:
                raise ModelNotFoundError(
                    f"series '{series_id}' has no trained model yet: POST /series/{series_id}/train first",
                    field="series_id",
                )
            pool_id, pointer = self._pool_of(series_id)
        served_is_current = entry is not None and (entry.version, entry.sha256) == (
            pointer.version,
            pointer.artifact.sha256,
        )
        unchanged = (
            entry is not None
            and entry.pool_id == pool_id
            and (
                served_is_current
                or entry.fallback_from == pointer.version  # still broken: keep serving the fallback
            )
        )
        if entry is not None and unchanged:
            # A fallback made current (a rollback to the version served) is served as current now
            fallback_from = None if served_is_current else entry.fallback_from
            loaded = _Loaded(entry.forecaster.base, entry.version, entry.sha256, fallback_from)
            spec = loaded.forecaster.spec
            window = self._read_window(series_id, spec.window, spec.interval_seconds)
        else:
            loaded, window = self._load_with_window(series_id, pointer, pool_id)
        self._require_days_since_gap(series_id, window)
        forecaster = loaded.forecaster
        if pool_id is not None:
            # A pooled model is served as its backtest on this series' own last days chose
            # (forecasting.local_fit): refitted with each refresh, as the window moves.
            forecaster = forecaster.fitted_to(window.values, window.last_timestamp)
        rows = forecaster.origin_rows(window.values, window.last_timestamp)
        return ServingState(
            loaded.version, loaded.sha256, forecaster, window, rows, now, loaded.fallback_from, pool_id
        )

    def _require_days_since_gap(self, series_id: str, window: SeriesWindow) -> None:
        """A 404 naming the rule for a series that resumed after a gap with less than POOL_MIN_DAYS of
        history since: every weekly feature of its window would be missing (a model of its own or the
        pool would forecast from a few hours), as for a series younger than that."""
        since = thin_window_start(window.values, window.first_timestamp, window.interval_seconds)
        if since is None or self._series_start is None:
            return
        start = self._series_start(series_id)
        if start is None or start >= since:
            return  # a series whose whole history is in the window: the model was made for it
        observed = window.observed_points
        raise ModelNotFoundError(
            f"series '{series_id}' has {observed} observations since {iso_utc(since)}, after a gap in its "
            f"history: forecasts resume once those span {POOL_MIN_DAYS} days ("
            f"{pool_min_points(window.interval_seconds)} slots at {interval_name(window.interval_seconds)}), "
            "as for a new series",
            field="series_id",
        )

    def _load_with_window(
        self, series_id: str, pointer: CurrentModel, pool_id: str | None = None
    ) -> tuple[_Loaded, SeriesWindow]:
        """Load the pointer's model (or its fallback) and read the window it needs.

        Loading a model (S3 get, onnxruntime session) does not need the observations, and the pointer
        says which window its model reads: the query runs meanwhile, so a cold start waits once."""
        shape = pointer.window
        early = (
            self._background.submit(self._read_window, series_id, shape.slots, shape.interval_seconds)
            if shape is not None
            else None
        )
        loaded = self._load_current_or_fallback(pool_id or series_id, pointer)
        spec = loaded.forecaster.spec
        if early is not None and shape == WindowShape(spec.window, spec.interval_seconds):
            return loaded, early.result()
        # An old pointer without a window, or a fallback version that reads another one.
        return loaded, self._read_window(series_id, spec.window, spec.interval_seconds)

    def _read_window(self, series_id: str, slots: int, interval_seconds: int) -> SeriesWindow:
        window = self._history.latest(series_id, slots, interval_seconds)
        if window is None:
            raise SeriesNotFoundError(f"series '{series_id}' has no observations", field="series_id")
        return window

    def _load_current_or_fallback(self, series_id: str, pointer: CurrentModel) -> _Loaded:
        """`series_id` is the registry key: the series' own, or the pool's id for a pooled model."""
        loaded = self._try_load(series_id, pointer.version, pointer.artifact.sha256, pointer)
        if loaded is not None:
            return _Loaded(loaded, pointer.version, pointer.artifact.sha256, None)
        for candidate in self._tracker.list_versions(series_id):
            if candidate.version == pointer.version or not _servable(candidate):
                continue
            assert candidate.artifact is not None
            loaded = self._try_load(series_id, candidate.version, candidate.artifact.sha256, candidate)
            if loaded is not None:
                logger.error(
                    "current model unusable: serving the newest verified version instead",
                    extra={
                        "series_id": series_id,
                        "model_version": pointer.version,
                        "served_version": candidate.version,
                    },
                )
                self._analytics.track("ModelFallbackServed", series_id)
                return _Loaded(loaded, candidate.version, candidate.artifact.sha256, pointer.version)
        raise ServiceUnavailableError(f"no verified model of '{series_id}' could be loaded; retry shortly")

    def _try_load(
        self, series_id: str, version: str, sha256: str, source: CurrentModel | ModelVersion
    ) -> OnnxForecaster | None:
        if source.artifact is None:
            return None
        identity = (source.artifact.key, source.artifact.version_id, sha256)
        if identity in self._bad_artifacts:
            return None
        if identity in self._pools:
            self._pools.move_to_end(identity)
            return self._pools[identity]
        try:
            data = self._artifacts.get_model(source.artifact)
            forecaster = OnnxForecaster.from_bytes(data)
            if is_pool_id(series_id):
                self._pools[identity] = forecaster
                while len(self._pools) > _MAX_POOLS:
                    self._pools.popitem(last=False)
            return forecaster
        except StorageError:
            raise  # S3 is down or slow: not this artifact's fault (the caller answers from cache or 503)
        except ArtifactUnavailableError as exc:
            # The object is gone or this role may not read it, while S3 answers: try an older version.
            # A deleted object version never comes back; a denied one might, after a policy fix.
            if exc.gone:
                self._bad_artifacts.add(identity)
            logger.error(
                "model artifact is missing or unreadable and will not be served",
                extra={"series_id": series_id, "model_version": version, "error": exc.message},
            )
            self._analytics.track("ModelArtifactUnavailable", series_id)
            return None
        except Exception as exc:  # IntegrityError, or a file onnxruntime / our metadata reader refuses
            self._bad_artifacts.add(identity)
            logger.error(
                "model artifact failed verification and will not be served",
                extra={"series_id": series_id, "model_version": version, "error": str(exc)},
            )
            self._analytics.track("ModelArtifactCorrupt", series_id)
            return None

    def _remember(self, series_id: str, state: ServingState) -> None:
        self._entries[series_id] = state
        self._entries.move_to_end(series_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
        self._pools.clear()
        self._bad_artifacts.clear()


def _servable(version: ModelVersion) -> bool:
    # Rejected versions lost on metrics: they are only served when someone promotes them explicitly.
    return version.artifact is not None and version.status == Status.VERIFIED
