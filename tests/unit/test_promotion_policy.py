"""The promotion policy (lead_ai.service.promotion.decide): which version is served."""

from __future__ import annotations

from typing import Any

import pytest

from lead_ai.domain.models import ModelVersion, Status
from lead_ai.service.promotion import Comparison, decide, why_not_promoted


def version(v: str, metrics: dict[str, float], horizon: int = 24) -> ModelVersion:
    spec: dict[str, Any] = {"max_horizon": horizon, "interval_seconds": 3600}
    return ModelVersion("s", v, Status.VERIFIED, "2026-11-01T00:00:00Z", spec, metrics, {})


def test_the_first_version_is_always_promoted_even_without_a_mase() -> None:
    # Given a first model whose backtest has no MASE (a dead series) / Then it is served
    assert decide(version("1.0.0", {"mae": 0.0}), None) == (True, None)


def test_the_candidate_is_judged_on_the_champions_score_on_the_same_windows_not_its_recorded_one() -> None:
    # Given a champion whose recorded MASE (its own, easy windows) is lower than the candidate's
    champion = version("1.0.0", {"mase": 0.5})
    better = version("1.1.0", {"mase": 0.9, "challenger_mase": 0.9, "champion_mase": 1.2})
    worse = version("1.1.0", {"mase": 0.9, "challenger_mase": 0.9, "champion_mase": 0.85})
    scored = Comparison("1.0.0")
    # Then the candidate wins when it beats the champion on the same windows, and only then
    assert decide(better, champion, scored) == (True, None)
    reason = why_not_promoted(worse, champion, scored)
    assert (
        reason is not None and "0.9000 does not beat the current model 1.0.0 (0.8500) on the same" in reason
    )


def test_without_a_mase_the_same_windows_mae_decides_and_a_tie_keeps_the_champion() -> None:
    champion = version("1.0.0", {})
    scored = Comparison("1.0.0")
    tie = version("1.1.0", {"challenger_mae": 0.0, "champion_mae": 0.0})
    assert decide(tie, champion, scored).promote is False
    assert decide(version("1.1.0", {"challenger_mae": 1.0, "champion_mae": 2.0}), champion, scored).promote


def test_a_champion_that_answers_fewer_steps_loses_with_the_reason() -> None:
    # Given LEAD_AI_MAX_HORIZON raised from 24 to 48 after the champion was trained
    champion = version("1.0.0", {"mase": 0.1}, horizon=24)
    candidate = version("1.1.0", {"mase": 0.9, "challenger_mase": 0.9, "champion_mase": 0.5}, horizon=48)
    # Then the candidate wins whatever the scores, and the record says why
    promote, reason = decide(candidate, champion, Comparison("1.0.0"))
    assert promote and reason is not None and "forecasts 24 steps ahead; this one 48" in reason


def test_a_champion_that_could_not_be_scored_loses_with_the_reason() -> None:
    champion = version("1.0.0", {"mase": 0.1})
    candidate = version("1.1.0", {"mase": 0.9})
    promote, reason = decide(candidate, champion, Comparison("1.0.0", "its artifact could not be read"))
    assert promote and reason == "promoted over 1.0.0: its artifact could not be read"


@pytest.mark.parametrize(("recorded", "promote"), [(0.5, False), (0.95, True)])
def test_a_champion_that_changed_during_training_is_compared_on_recorded_figures(
    recorded: float, promote: bool
) -> None:
    # Given the candidate scored 1.0.0, but 1.1.0 became current meanwhile
    champion = version("1.1.0", {"mase": recorded})
    candidate = version("1.2.0", {"mase": 0.9, "challenger_mase": 0.9, "champion_mase": 2.0})
    # Then the last resort is the recorded figures
    decision = decide(candidate, champion, Comparison("1.0.0"))
    assert decision.promote is promote
    if not promote:
        assert decision.reason is not None and "each on its own backtest windows" in decision.reason
