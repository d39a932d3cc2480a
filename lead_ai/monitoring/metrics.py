"""Powertools Metrics (CloudWatch EMF) singleton, and the analytics sink the ModelTracker publishes to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics()


class AnalyticsService(Protocol):
    """Where tracking events go: version registered / promoted / rejected, artifact corrupt, ..."""

    def track(self, event: str, series_id: str, values: Mapping[str, float] | None = None) -> None: ...


class MetricsAnalytics:
    """Publishes each tracking event as an EMF metric (count 1) plus its numeric values (e.g. MASE)."""

    def __init__(self, sink: Metrics = metrics) -> None:
        self._metrics = sink

    def track(self, event: str, series_id: str, values: Mapping[str, float] | None = None) -> None:
        self._metrics.add_metric(name=event, unit=MetricUnit.Count, value=1)
        for name, value in (values or {}).items():
            if isinstance(value, int | float) and value == value:  # skip NaN: EMF rejects it
                self._metrics.add_metric(name=f"{event}.{name}", unit=MetricUnit.NoUnit, value=float(value))
