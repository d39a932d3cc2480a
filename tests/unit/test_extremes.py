"""Isolated extremes (a typo, a bot burst) in the one feature path (features.extreme_limits / clean_windows),
in the training targets, and their effect on a real model's forecast; a sustained level shift is kept."""

from __future__ import annotations

import numpy as np
import pytest

from lead_ai.forecasting.extremes import EXTREME_FACTOR, clean_windows, extreme_limits
from lead_ai.forecasting.feature_spec import default_spec
from lead_ai.forecasting.features import build_rows, prepare_window
from lead_ai.forecasting.inference import OnnxForecaster
from lead_ai.forecasting.training.rows import rows_for_pairs
from lead_ai.forecasting.training.train import SeriesData, TrainingSettings, train_forecaster
from tests.conftest import HISTORY_END, lead_history

SPEC = default_spec(3600, 24)
START = int(HISTORY_END.timestamp()) - 60 * 86400


def _window(seed: int = 0) -> np.ndarray:
    _, values = lead_history(30, seed=seed)
    return prepare_window(values.astype(float), SPEC)


@pytest.mark.parametrize("position", [1, 2, 30, 300, 671, 672])
def test_one_value_1000_times_the_median_is_replaced_by_its_slots_median(position: int) -> None:
    # Given four weeks of hourly lead counts with one value 1,000x the median at some position
    window = _window()
    spiked = window.copy()
    spiked[-position] = 1000 * np.median(window)
    # When the window is cleaned
    clean = clean_windows(spiked[None], SPEC)[0]
    # Then only that slot changed, to the median of the same hour on the window's other days
    changed = np.flatnonzero(clean != spiked)
    assert changed.tolist() == [SPEC.window - position]
    same_hour = np.delete(spiked[(SPEC.window - position) % 24 :: 24], (SPEC.window - position) // 24)
    assert clean[-position] == np.median(same_hour)


def test_ordinary_windows_sparse_ones_dead_windows_and_level_shifts_are_left_alone() -> None:
    # Given windows that hold no isolated extreme
    ordinary = _window(seed=1)
    sparse = np.zeros(SPEC.window)
    sparse[[5, 200, 600]] = 1.0  # mostly zeros with a few ones
    dead = np.zeros(SPEC.window)
    constant = np.full(SPEC.window, 4.0)
    shifted = ordinary.copy()
    shifted[-5 * 24 :] *= 10  # the level jumps tenfold for the last five days
    gappy = ordinary.copy()
    gappy[::5] = np.nan
    windows = np.stack([ordinary, sparse, dead, constant, shifted, gappy])
    # When cleaned / Then nothing changes (NaN stays NaN)
    np.testing.assert_array_equal(clean_windows(windows, SPEC), windows)
    assert clean_windows(windows, SPEC) is windows  # no copy when there is nothing to clean


def test_a_typo_in_a_sparse_series_is_caught_and_up_to_k_minus_1_extremes_per_window() -> None:
    # Given a sparse 0/1 series with one typo, and an ordinary window with a burst of 7 bot hours
    sparse = np.zeros(SPEC.window)
    sparse[[5, 200, 600]] = 1.0
    sparse[400] = 1e12
    burst = _window(seed=2)
    burst[100:107] = 1e9
    cleaned = clean_windows(np.stack([sparse, burst]), SPEC)
    # Then the typo is gone (the ones are their own reference), and so is the whole burst
    assert cleaned[0].max() == 1.0 and cleaned[0][[5, 200, 600]].tolist() == [1.0, 1.0, 1.0]
    assert cleaned[1].max() < 100
    # and the limit is EXTREME_FACTOR times the 8th largest |value| of four weeks of hours
    magnitudes = np.sort(np.abs(burst[~np.isnan(burst)]))
    assert extreme_limits(burst[None])[0] == EXTREME_FACTOR * magnitudes[-8]


def test_an_extreme_target_does_not_train_the_model() -> None:
    # Given a history with a typo of 1e12, and training pairs whose target is that slot
    _, counts = lead_history(30, seed=3)
    values = counts.astype(float)
    values[-100] = 1e12
    t = np.array([values.size - 110, values.size - 101, values.size - 300])
    h = np.array([10, 1, 5])
    # When the rows are built / Then the typo's targets are NaN (dropped), the others are y / level
    _, target, level = rows_for_pairs(values, START, SPEC, t, h)
    assert np.isnan(target[:2]).all()
    assert target[2] == pytest.approx(values[t[2] + h[2]] / level[2])


@pytest.fixture(scope="module")
def model() -> tuple[OnnxForecaster, np.ndarray, int]:
    stamps, counts = lead_history(60, seed=11)
    values = counts.astype(float)
    settings = TrainingSettings(max_horizon=24, min_points=200)
    result = train_forecaster([SeriesData("s", values, int(stamps[0]))], settings)
    return OnnxForecaster.from_bytes(result.onnx_bytes), values, int(stamps[-1])


@pytest.mark.parametrize("position", [1, 2, 12, 24, 100, 400, 672])
def test_one_extreme_anywhere_in_the_last_four_weeks_barely_moves_the_next_24_hours(
    model: tuple[OnnxForecaster, np.ndarray, int], position: int
) -> None:
    forecaster, values, last = model
    clean = forecaster.predict(values, last, 24).value
    recent = values[-SPEC.window :]
    # Given one value 1,000x the series' median at `position` slots from the end (1 = the newest hour)
    spiked = values.copy()
    spiked[-position] = 1000 * np.median(recent)
    # When forecasting the next 24 hours
    out = forecaster.predict(spiked, last, 24).value
    # Then they change by less than 25 % and stay within 3x the series' own range of the last 4 weeks
    assert np.abs(out - clean).sum() < 0.25 * clean.sum()
    assert out.max() <= 3 * recent.max()


def test_a_level_shift_sustained_for_days_is_followed(model: tuple[OnnxForecaster, np.ndarray, int]) -> None:
    forecaster, values, last = model
    # Given the level doubled for the last five days, up to an origin on a Saturday noon
    values, last = values[:-48], last - 48 * 3600
    clean = forecaster.predict(values, last, 24).value
    shifted = values.copy()
    shifted[-5 * 24 :] *= 2
    # When forecasting / Then no slot was treated as an extreme, and the forecast moves up with the
    # shift, by more than any single extreme may move it (25 %)
    window = prepare_window(shifted, forecaster.spec)
    np.testing.assert_array_equal(clean_windows(window[None], forecaster.spec)[0], window)
    out = forecaster.predict(shifted, last, 24).value
    assert out.sum() > 1.25 * clean.sum()


def test_cleaning_is_part_of_the_rows_serving_and_training_build() -> None:
    # Given a window with a typo in its newest slot
    window = _window(seed=4)
    spiked = window.copy()
    spiked[-1] = 1e9
    steps = np.arange(1, 25)
    # When rows are built from it / Then they are the rows of the cleaned window
    X, level = build_rows(spiked[None], np.array([START]), np.zeros(24, np.intp), steps, SPEC)
    Xc, lc = build_rows(
        clean_windows(spiked[None], SPEC), np.array([START]), np.zeros(24, np.intp), steps, SPEC
    )
    np.testing.assert_array_equal(X, Xc)
    assert level[0] == lc[0] < 100
