"""How `make test` hands the test files to its pytest-xdist workers (tests/conftest.py picks this scheduler
for `--dist loadfile`).

xdist's loadfile gives each worker a file at a time, the files with most tests first. The slowest files
have few tests (the demo end to end: 2 tests, ~55 s; the contract test: 1 test, ~50 s), so they came last,
and the run ended on one worker while the other idled. Here the files measured slowest go first, longest
first (the rest as xdist orders them), and files that share a session fixture too costly to set up on both
workers go to one worker together.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from xdist.scheduler import LoadFileScheduling

# Files by their tests' wall time, longest first (the sum of --durations on 2026-12-03, a lightly loaded
# 2-core host, seconds in brackets): each is handed out before any file not named here.
SLOWEST_FIRST = (
    "tests/faults/test_forecast_trust.py",  # (103) real trainings: forecast trust is about them
    "tests/fleet/test_pooled_model.py",  # (96)
    "tests/e2e/test_lead_flow.py",  # (72) the demo, end to end
    "tests/fleet/test_fan_out.py",  # (53) the 200-series fan-out
    "tests/e2e/test_api_contract.py",  # (53) schemathesis
    "tests/integration/test_handlers.py",  # (46, and test_trained_series.py's 14: SAME_WORKER)
    "tests/e2e/test_serve.py",  # (41, with test_dashboard_browser.py: SAME_WORKER)
    "tests/integration/test_local_calendars.py",  # (36)
    "tests/integration/test_staffing_route.py",  # (23)
    "tests/faults/test_versions.py",  # (22)
    "tests/faults/test_hostile_input.py",  # (21)
)

# file -> the file whose worker runs it too, for a costly set-up both would otherwise make: `lead-ai serve`
# with its trained series, a session fixture (tests/e2e/conftest.py, ~16 s); the same 60-day history
# trained (~12 s), fitted once a session by replaying_trainings (tests/conftest.py).
SAME_WORKER = {
    "tests/e2e/test_dashboard_browser.py": "tests/e2e/test_serve.py",
    "tests/integration/test_trained_series.py": "tests/integration/test_handlers.py",
}


class FileScheduling(LoadFileScheduling):
    """xdist's loadfile with SLOWEST_FIRST's order and SAME_WORKER's groups."""

    workqueue: OrderedDict[str, dict[str, bool]]  # scope -> {nodeid: done}, built by schedule()

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        path = super()._split_scope(nodeid)
        return SAME_WORKER.get(path, path)

    def _assign_work_unit(self, node: Any) -> None:
        # schedule() builds the whole work queue (xdist's order) before it hands out the first unit
        if not self._ordered:
            self.workqueue = OrderedDict(sorted(self.workqueue.items(), key=lambda unit: _rank(unit[0])))
            self._ordered = True
        super()._assign_work_unit(node)


def _rank(scope: str) -> int:
    """A scope's place: SLOWEST_FIRST's in its order, every other after them (in xdist's order: the sort
    is stable)."""
    return SLOWEST_FIRST.index(scope) if scope in SLOWEST_FIRST else len(SLOWEST_FIRST)
