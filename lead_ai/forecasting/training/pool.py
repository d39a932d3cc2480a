"""The pooled model: one forecaster for the series of a group that are too young for a model of their own.

It is the same global forecaster as a per-series training (rows from `build_rows`, one model per loss,
a blend with the seasonal naive, ONNX export, parity), with two differences in what it is fitted and
judged on:
  * it is fitted on the *members'* newest `history_days` (56 days by default): about half of its rows then
    come from origins whose four-week window is partly empty, as a new team's is;
  * its blend and its intervals are chosen and calibrated on *held-out* series that are not members,
    each cut to what a new team has: origins from `new_min_points` (14 days) up to `new_max_points`
    (the minimum history of a model of its own), `stride` apart, each forecasting the full horizon.
    The members' own windows never enter the calibration, so the intervals are as wide as the pool's
    errors on series it has not seen, which is what it serves.
No refit follows: the models scored on the held-out series are the models exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from lead_ai.errors import InsufficientHistoryError
from lead_ai.forecasting.feature_spec import FeatureSpec
from lead_ai.forecasting.training.backtest import (
    Champion,
    backtest_cases,
    backtest_stride,
    evaluate,
)
from lead_ai.forecasting.training.daily import daily_table
from lead_ai.forecasting.training.export import export_onnx
from lead_ai.forecasting.training.fit import blend_of, fit_each
from lead_ai.forecasting.training.rows import final_rows
from lead_ai.forecasting.training.settings import SeriesData, TrainingResult, TrainingSettings
from lead_ai.forecasting.training.train import (
    feature_spec_for,
    recent_part,
    training_result,
    verify_parity,
    with_calendar,
)

POOL_SCOPE = {"scope": "pool"}  # FeatureSpec.extra of a pooled model: its artifact says what it is


def train_pool_forecaster(
    members: Sequence[SeriesData],
    held_out: Sequence[SeriesData],
    settings: TrainingSettings,
    *,
    new_min_points: int,
    history_days: float = 56.0,
    champion: Champion | None = None,
) -> TrainingResult:
    """Fit on the members, choose the blend and calibrate on the held-out series' young windows, export.

    `settings.min_points` is the history a model of its own needs (the upper end of the held-out
    windows); `new_min_points` the history from which the pool serves a series (the lower end). With a
    champion (the pool being served), it is scored on the same held-out windows."""
    if not members or not held_out:
        raise ValueError("a pool needs members and held-out series")
    interval = members[0].interval_seconds
    if any(s.interval_seconds != interval for s in [*members, *held_out]):
        raise ValueError("all series of a pool must share one interval")
    if {s.series_id for s in members} & {s.series_id for s in held_out}:
        raise ValueError("a held-out series cannot be a member of the pool")
    keep = round(history_days * 86_400 / interval)
    members = [_newest(recent_part(s, settings), keep) for s in members]
    spec = feature_spec_for(members, interval, settings)
    spec = FeatureSpec.from_dict({**spec.to_dict(), "extra": POOL_SCOPE})
    young, plan, first, stride = young_windows(
        [recent_part(s, settings) for s in held_out], spec, settings, new_min_points
    )
    if not young:
        raise InsufficientHistoryError(
            f"no held-out series has {settings.min_points + spec.max_horizon} slots to calibrate the pool on"
        )
    spec = with_calendar(spec, [*members, *young])
    cases = backtest_cases(young, plan, first, stride, spec)

    rows = final_rows(members, spec, settings)
    fitted = fit_each(rows, settings, settings.losses)
    # Factors per slot of the day at most: a small group's pool (one held-out series, so a backtest of one
    # series) takes that team's hours, which a young team's fit then reads by its hour of the day
    # (forecasting.local_fit); with more held-out series, one width per step
    backtest = evaluate(fitted, young, cases, spec, replace(settings, week_shrink=None), champion)
    assert backtest.origins is not None
    # A day's interval per step: the root of the usual volume was chosen on teams' own models only
    daily_coverage, calibration = daily_table(backtest, spec, replace(settings, daily_per_root_usual=False))
    model = blend_of(fitted, backtest.weights)  # the models just scored: no refit
    onnx_bytes = export_onnx(model, spec, calibration, settings, backtest.weight_naive)
    parity = verify_parity(model, onnx_bytes, members, rows.X, spec, settings, backtest.weight_naive)

    metrics = dict(backtest.metrics)
    metrics |= {
        "daily_coverage": daily_coverage,
        "parity_max_abs_error": parity,
        "training_rows": float(rows.X.shape[0]),
        "pool_members": float(len(members)),
        "pool_held_out": float(len(young)),
    }
    return training_result(onnx_bytes, spec, metrics, members)


def can_calibrate(s: SeriesData, settings: TrainingSettings, new_min_points: int) -> bool:
    """Whether a held-out series has a young window to calibrate on after its last long gap: the history
    from which the pool serves, and a horizon of actuals after it (young_windows, at most its horizon)."""
    return recent_part(s, settings).values.shape[0] >= new_min_points + settings.max_horizon


def young_windows(
    held_out: Sequence[SeriesData],
    spec: FeatureSpec,
    settings: TrainingSettings,
    new_min_points: int,
) -> tuple[list[SeriesData], list[int], list[int], int]:
    """Each held-out series cut to its newest `settings.min_points + horizon` slots, with the origins a
    young series has: the first after `new_min_points` slots, then every `stride` while the history is
    shorter than settings.min_points and the horizon's actuals exist. (cut series, origins per series,
    first origin per series, stride); series with no such origin are left out."""
    H = spec.max_horizon
    stride = backtest_stride(spec, settings)
    first = max(new_min_points, spec.season_day + 1) - 1
    cut, plan, starts = [], [], []
    for s in held_out:
        n = s.values.shape[0]
        length = min(n, settings.min_points + H)
        part = _newest(s, length)
        last = min(settings.min_points - 1, length - 1 - H)
        if last < first:
            continue
        cut.append(part)
        plan.append(1 + (last - first) // stride)
        starts.append(first)
    return cut, plan, starts, stride


def _newest(s: SeriesData, slots: int) -> SeriesData:
    n = s.values.shape[0]
    if n <= slots:
        return s
    first = s.first_timestamp + (n - slots) * s.interval_seconds
    return SeriesData(s.series_id, s.values[n - slots :], first, s.interval_seconds)
