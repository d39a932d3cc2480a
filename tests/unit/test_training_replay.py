"""tests/conftest.py's replaying_trainings: what it leaves out of a training's key is what a fit does not
read, and what it replays is the result a real fit gives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import lead_history, replaying_trainings

pytestmark = pytest.mark.slow


def _series(name: str, days: int = 12, seed: int = 3) -> Any:
    from lead_ai.forecasting.training.train import SeriesData

    stamps, values = lead_history(days, seed=seed)
    return [SeriesData(name, values.astype(float), int(stamps[0]), 3600)]


def _settings() -> Any:
    from lead_ai.forecasting.training.train import TrainingSettings

    return TrainingSettings(max_horizon=24, min_points=200, max_iter=20, backtest_origins=4)


def test_a_series_model_does_not_depend_on_the_series_name() -> None:
    from lead_ai.forecasting.training.train import train_forecaster

    # When the same values are trained under two names
    one = train_forecaster(_series("acme-inbound"), _settings())
    other = train_forecaster(_series("other-series"), _settings())
    # Then the results are equal, the ONNX bytes too (so the replay may leave the name out of its key)
    assert one == other and one.onnx_bytes == other.onnx_bytes


def test_a_replayed_training_is_the_first_fit_of_the_same_input_and_a_new_input_is_fitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import lead_ai.forecasting.training.train as train

    fits: list[str] = []
    real = train.train_forecaster

    def counted(series: Any, settings: Any = None, champion: Any = None) -> Any:
        fits.append(series[0].series_id)
        return real(series, settings, champion)

    monkeypatch.setattr(train, "train_forecaster", counted)
    with replaying_trainings():  # (values no other test trains: seed 41)
        # When the same values are trained twice, under two names, then with their last hour changed
        first = train.train_forecaster(_series("replay-a", seed=41), _settings())
        again = train.train_forecaster(_series("replay-b", seed=41), _settings())
        changed = _series("replay-a", seed=41)
        changed[0].values[-1] += 1
        other = train.train_forecaster(changed, _settings())
    # Then the first input was fitted once and replayed (an equal copy), the changed one fitted
    assert fits == ["replay-a", "replay-a"]
    assert again == first and again is not first
    assert other != first
    # and once the context is left, a training is real again
    assert train.train_forecaster is counted
