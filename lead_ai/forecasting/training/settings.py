"""What a training is given (series on a grid, settings) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lead_ai.domain.calendars import parse_calendar
from lead_ai.domain.localtime import parse_timezone
from lead_ai.forecasting.calibration import SLOT_SHRINK

LOSSES = ("squared_error", "absolute_error")
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # weight of the squared-error model tried by loss="auto"
# Shares of the seasonal naive tried in what is served (0 and 1 always are: see backtest.py). Partial
# shares were measured on the bike/taxi validation split: they won 3 of 7 bike h=24 backtests by 3-4 %
# and lost on those origins' test windows (bike h=24 MASE 0.719 against 0.706 without them; taxi
# unchanged), so the naive is served alone or not at all. The graph and the backtest support any share.
NAIVE_WEIGHTS = (0.0, 1.0)


@dataclass(frozen=True)
class SeriesData:
    """A series on a regular grid: values[i] is at first_timestamp + i * interval_seconds (NaN = missing)."""

    series_id: str
    values: np.ndarray
    first_timestamp: int
    interval_seconds: int = 3600

    def __post_init__(self) -> None:
        arr = np.asarray(self.values, dtype=np.float64).reshape(-1)
        object.__setattr__(self, "values", arr)
        if self.interval_seconds <= 0:
            raise ValueError(f"series {self.series_id!r}: interval_seconds must be > 0")
        if np.isinf(arr).any():
            raise ValueError(f"series {self.series_id!r}: values must be finite or NaN")

    @property
    def last_timestamp(self) -> int:
        return int(self.first_timestamp + (self.values.shape[0] - 1) * self.interval_seconds)

    @property
    def n_observed(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))


@dataclass(frozen=True)
class TrainingSettings:
    max_horizon: int = 168
    min_points: int = 1000
    backtest_origins: int = 14  # more origins, more regimes in the calibration residuals
    backtest_stride: int | None = None  # default: max(a day, max_horizon // 2)
    level: float = 0.8
    # A model of one series gets intervals as wide as each local slot of the day's own errors
    # (calibration.slot_factors_of); a model over several series (a pool, a global model) keeps one width
    # per step: their daily shapes differ, and one factor per slot fits none of them (docs/accuracy.md)
    slot_intervals: bool = True
    # ... and, with slot_intervals, per local slot of the *week*: each of the 7 x season_day factors
    # counts n / (n + week_shrink) against its slot of the day's (~14 residuals each in a backtest of 14
    # origins); None: per slot of the day only. With slot_cross_fit the step quantiles are widened by
    # how far the factors of the *other* origins miss on each (calibration.cross_fit_widening): factors
    # taken from the residuals they divide flatter them. Chosen on `make bench-interval-shape` (50
    # validation windows): MSIS -3.9 % bike, -2.1 % taxi, weekends no longer the worse-covered days;
    # without the widening overall coverage fell 1-2 points (docs/accuracy.md, "A factor per slot of
    # the week")
    week_shrink: float | None = SLOT_SHRINK
    slot_cross_fit: bool = True
    # A served day's value is the sum of its steps moved by the backtest's median daily error per unit of
    # the day's usual volume (training.daily, forecasting.usual_volume); False: the sum alone, which is 0
    # on a sparse series whose hours' medians are 0. Chosen on `make bench-sparse-daily`'s validation
    # windows (docs/accuracy.md, "Daily totals of sparse series")
    daily_per_usual: bool = True
    # A day's interval is as wide as the root of its usual volume says (training.daily): a quiet weekend's
    # narrower than a busy weekday's; False: as wide as its count of steps, every full day alike. Chosen
    # on `make bench-sparse-daily`'s validation windows (docs/accuracy.md); pools keep False
    daily_per_root_usual: bool = True
    seed: int = 0
    max_rows: int = 200_000  # training rows (origin, step) sampled over all series
    # ... and at most this many from one series: the cost of a per-series training (issue 12). Chosen on
    # the bike/taxi validation split (docs/pooled-model-and-cost.md): 200,000 -> 60,000 with the margin
    # below cut a 1-year training's CPU to ~1/3, MASE within noise (x1.017, se 0.021 over 28 windows);
    # 40,000 and 30,000 were cheaper and measurably worse (x1.043 and x1.048, ~2.4 se).
    max_rows_per_series: int = 60_000
    backtest_row_share: float = 0.5  # the backtest models' rows, as a share of the final model's
    # A blend of both losses is served only if it beats the better single loss by this share of its
    # backtest MASE; otherwise the single loss is, and the final model fits one model instead of two
    # (alone: validation MASE x0.999, se 0.009; 24 CPU-s of 36).
    blend_margin: float = 0.02
    max_iter: int = 250
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    # Early stopping on a held-out share of the training rows (scikit-learn's own: the loss on
    # `validation_fraction` of the rows, stopping after `n_iter_no_change` rounds without improvement)
    early_stopping: bool = False
    validation_fraction: float = 0.1
    n_iter_no_change: int = 10
    # "auto": backtest both losses and their blends, keep the best; poisson/gamma are mis-converted
    loss: str = "auto"
    target_opset: int = 17
    ml_opset: int = 3  # what skl2onnx converts to; the export then declares 5 (TreeEnsemble, see _export)
    parity_rows: int = 64
    parity_rtol: float = 1e-4
    n_threads: int = 1  # OpenMP threads per fit (1: see FINDINGS, busy-waiting on a shared machine)
    # Independent fits (one per loss) run side by side on this many Python threads: scikit-learn's
    # histogram GBM releases the GIL in its Cython loops, so two fits on two cores took 9.7 s instead of
    # 18.1 s for identical models, with no OpenMP team to busy-wait (TrainFunction has ~1.7 vCPUs).
    parallel_fits: int = 2
    yearly_min_days: float = 400.0  # history (days) from which the day of the year becomes a feature
    holidays: str = "none"  # the market's holiday calendar (FeatureSpec.holidays): "none", "US", "DE-BY"
    timezone: str = "UTC"  # the IANA zone whose local day the calendar features follow (FeatureSpec.timezone)
    naive_weights: tuple[float, ...] = NAIVE_WEIGHTS
    # Training reads the history after its last gap longer than this (history.recent_contiguous): four
    # weeks, the feature window, so nothing before such a gap could ever be in a window after it.
    max_gap_days: float = 28.0
    # A history too short for max_horizon trains a shorter one, the longest that leaves this many
    # backtest origins (or one): a daily series of six weeks gets a model, answering fewer days.
    min_backtest_origins: int = 4
    spec_overrides: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def losses(self) -> tuple[str, ...]:
        """The losses fitted: both for "auto" (the backtest chooses their blend), else the one given."""
        return LOSSES if self.loss == "auto" else (self.loss,)

    def __post_init__(self) -> None:
        if self.max_horizon < 1:
            raise ValueError("max_horizon must be >= 1")
        if self.min_points < 1:
            raise ValueError("min_points must be >= 1")
        if self.backtest_origins < 1:
            raise ValueError("backtest_origins must be >= 1")
        if self.parallel_fits < 1:
            raise ValueError("parallel_fits must be >= 1")
        if not 0.0 < self.level < 1.0:
            raise ValueError("level must be within (0, 1)")
        object.__setattr__(self, "holidays", parse_calendar(self.holidays))
        parse_timezone(self.timezone)
        if any(not 0.0 <= w <= 1.0 for w in self.naive_weights):
            raise ValueError(f"naive_weights must lie within [0, 1], got {self.naive_weights}")
        if self.max_gap_days <= 0:
            raise ValueError("max_gap_days must be > 0")
        if self.loss not in ("auto", *LOSSES):
            raise ValueError(
                f"loss {self.loss!r} is not supported (ONNX conversion is only exact for "
                "squared_error and absolute_error)"
            )


@dataclass(frozen=True)
class TrainingResult:
    onnx_bytes: bytes
    feature_spec: dict[str, Any]
    metrics: dict[str, float]
    library_versions: dict[str, str]
    n_points: int
    training_start: int
    training_end: int
    note: str | None = None  # for the version record, e.g. why the seasonal naive is what is served
