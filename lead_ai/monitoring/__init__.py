"""Observability singletons: one Logger, one Metrics, shared by every module and function."""

from lead_ai.monitoring.logger import logger
from lead_ai.monitoring.metrics import metrics

__all__ = ["logger", "metrics"]
