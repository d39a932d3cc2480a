"""The blend margin (TrainingSettings.blend_margin): a blend of both losses is served only when it beats the
better single loss by more than the margin; otherwise the single loss is, and the final fit is one model."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from lead_ai.forecasting.training.backtest import _single_loss_if_close
from lead_ai.forecasting.training.settings import TrainingSettings

BLEND = {"squared_error": 0.5, "absolute_error": 0.5}


KeyOf = Callable[[dict[str, float], float], tuple[float, float, float]]


def scorer(single_squared: float, single_absolute: float, blend: float) -> KeyOf:
    """Backtest keys (MASE) of each candidate, as backtest.evaluate's candidate_key gives them."""

    def key_of(weights: dict[str, float], weight_naive: float) -> tuple[float, float, float]:
        if weights == {"squared_error": 1.0}:
            key = single_squared
        elif weights == {"absolute_error": 1.0}:
            key = single_absolute
        else:
            key = blend
        return key, key, key

    return key_of


@pytest.mark.parametrize(
    ("squared", "absolute", "blend", "served"),
    [
        (1.00, 0.99, 0.985, {"absolute_error": 1.0}),  # the blend wins by 0.5 %: the better single loss
        (0.98, 0.99, 0.975, {"squared_error": 1.0}),
        (1.00, 0.99, 0.950, BLEND),  # the blend wins by 4 %: it is served
        (math.nan, math.nan, 0.950, BLEND),  # no single loss could be scored: the blend stays
    ],
)
def test_a_blend_is_served_only_when_it_beats_the_better_single_loss_by_the_margin(
    squared: float, absolute: float, blend: float, served: dict[str, float]
) -> None:
    # Given the default margin and a blend chosen on the backtest
    margin = TrainingSettings().blend_margin
    assert margin == 0.02
    # When the margin rule looks at the single losses on the same windows
    chosen = _single_loss_if_close(BLEND, 0.0, blend, margin, scorer(squared, absolute, blend))
    # Then the blend is kept only if it wins by more than the margin
    assert chosen == served
