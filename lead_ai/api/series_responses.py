"""The JSON of the series resource (`GET` / `PUT /series/{id}`) and of the staffing plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lead_ai.api.responses import pool_fit_body, span_body
from lead_ai.domain.intervals import interval_name
from lead_ai.service.series import SeriesView

if TYPE_CHECKING:  # the staffing code loads with the staffing route only
    from lead_ai.service.staffing import SeriesStaffing


def series_body(view: SeriesView) -> dict[str, Any]:
    info, settings, current = view.info, view.settings, view.current
    model: dict[str, Any] | None = None
    if current is not None:
        spec = current.feature_spec
        model = {
            "version": current.version,
            "status": current.status,
            "promoted_at": current.promoted_at,
            # what the served model was trained with: until it is retrained, forecasts follow these
            "interval": interval_name(int(spec.get("interval_seconds", settings.interval_seconds))),
            "timezone": spec.get("timezone", "UTC"),
            "holidays": spec.get("holidays", "none"),
            "max_horizon": spec.get("max_horizon"),
            "model_scope": "pool" if view.pool_id else "series",
        }
        if view.pool_id is not None:
            model["pool_id"] = view.pool_id
    return {
        "series_id": info.series_id,
        "interval": interval_name(settings.interval_seconds),
        "timezone": settings.timezone,
        "holidays": settings.holidays,
        "open_hours": settings.open_hours,
        "open_days": settings.open_days,
        "span": span_body(info.span),
        "revision": info.revision,
        "trained_revision": info.trained_revision,
        "training_due": info.training_due,
        "current_model": model,
    }


def staffing_body(answer: SeriesStaffing) -> dict[str, Any]:
    body: dict[str, Any] = {
        "series_id": answer.series_id,
        "model_version": answer.model_version,
        "model_scope": "pool" if answer.pool_id else "series",
        "interval": interval_name(answer.interval_seconds),
        "timezone": answer.timezone,
        "origin": answer.origin,
        "assumptions": answer.plan.assumptions,
        "plan": answer.plan.plan,
        "daily": answer.plan.daily,
        "leads_after_closing": answer.plan.leads_after_closing,
    }
    if answer.fallback_from is not None:
        body["fallback_from_version"] = answer.fallback_from
    if answer.pool_id is not None:
        body["pool_id"] = answer.pool_id
    if answer.pool_fit is not None:
        body["pool_fit"] = pool_fit_body(answer.pool_fit)
    return body
