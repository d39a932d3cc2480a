"""The demo's teams (lead_ai_dev/local/demo.py): enough established teams, each with enough history, for
its group's pooled model to be trained (tests/e2e/test_lead_flow.py runs the demo itself)."""

from __future__ import annotations

from lead_ai.domain.intervals import DAY_SECONDS
from lead_ai.domain.pools import PoolKey, split_pool
from lead_ai_dev.local.demo import _teams
from lead_ai_dev.local.template import Template
from tests.conftest import ROOT

HOUR = 3600


def test_the_demos_established_teams_make_a_pool_at_the_templates_minimum_history() -> None:
    # Given the template's minimum history for a model of its own, and the demo's established teams
    min_points = int(Template(ROOT / "template.yaml").parameter_default("MinTrainingPoints"))
    teams = _teams("demo-leads", 90, seed=7)
    # Then every one of them has enough hourly history for a model of its own
    assert all(team.days * DAY_SECONDS // HOUR >= min_points for team in teams)
    # and, all of the template's default group, they are enough for the pool: members and a held-out one
    split = split_pool(PoolKey(HOUR, "UTC", "none").pool_id, [team.series_id for team in teams])
    assert split.members and split.held_out
    assert sorted(split.members + split.held_out) == sorted(team.series_id for team in teams)
    # and they are distinct series with their own generated data
    assert len({team.series_id for team in teams}) == len({team.seed for team in teams}) == len(teams)
