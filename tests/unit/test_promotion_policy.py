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


# ----------------------------------------------------------------------------------- the pooled model

POOL = "pool:1h:UTC:none"


def pool_version(v: str, metrics: dict[str, float]) -> ModelVersion:
    spec: dict[str, Any] = {"max_horizon": 24, "interval_seconds": 3600, "extra": {"scope": "pool"}}
    return ModelVersion(POOL, v, Status.VERIFIED, "2026-11-01T00:00:00Z", spec, metrics, {})


def test_a_series_own_model_takes_over_from_the_pool_only_when_it_beats_it_on_the_same_windows() -> None:
    # Given a young series served by the pool, and its first model of its own scored on its windows
    pool = pool_version("1.3.0", {"mase": 0.4})
    scored = Comparison("1.3.0", pool_id=POOL)
    wins = version("1.0.0", {"mase": 0.7, "challenger_mase": 0.7, "champion_mase": 0.8})
    loses = version("1.0.0", {"mase": 0.7, "challenger_mase": 0.7, "champion_mase": 0.65})
    # Then it takes over when it beats the pool, and the record says by how much
    promote, reason = decide(wins, pool, scored)
    assert promote and reason == (
        f"takes over from the pooled model {POOL} 1.3.0: backtest MASE 0.7000 against its 0.8000 on the "
        "same windows"
    )
    # and is rejected when it does not: the pool keeps serving the series
    reason = why_not_promoted(loses, pool, scored)
    assert reason == (
        f"backtest MASE 0.7000 does not beat the pooled model {POOL} 1.3.0 (0.6500) on the same backtest "
        "windows"
    )


def test_a_pool_that_could_not_be_scored_gives_way_with_the_reason() -> None:
    pool = pool_version("1.3.0", {"mase": 0.1})
    scored = Comparison("1.3.0", "its artifact could not be read", POOL)
    promote, reason = decide(version("1.0.0", {"mase": 0.9}), pool, scored)
    assert (
        promote and reason == f"takes over from the pooled model {POOL} 1.3.0: its artifact could not be read"
    )


def test_a_pool_comparison_never_judges_a_series_own_champion() -> None:
    # Given a candidate scored against the pool while another training gave the series its own 1.3.0
    own = version("1.3.0", {"mase": 0.2})
    candidate = version("1.4.0", {"mase": 0.9, "challenger_mase": 0.9, "champion_mase": 2.0})
    # Then the pool's score is not taken for the series' own champion's (the same version string): the
    # recorded figures decide, as for any champion that changed while the candidate trained
    assert Comparison("1.3.0", pool_id=POOL).names(own) is False
    decision = decide(candidate, own, Comparison("1.3.0", pool_id=POOL))
    assert decision.promote is False
    assert decision.reason is not None and "each on its own backtest windows" in decision.reason
    better = version("1.4.0", {"mase": 0.1, "challenger_mase": 0.1, "champion_mase": 2.0})
    assert decide(better, own, Comparison("1.3.0", pool_id=POOL)).promote is True
