"""tests/scheduling.py, `make test`'s pytest-xdist scheduler, driven as xdist drives it with two fake workers:
every test runs exactly once, the slowest files are handed out first, SAME_WORKER's files share a worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from tests.scheduling import SAME_WORKER, SLOWEST_FIRST, FileScheduling


@dataclass(eq=False)
class _Worker:
    """What the scheduler sees of an xdist worker: it is sent indexes into its own collection."""

    name: str
    collection: list[str]
    pending: list[int] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> Any:
        return SimpleNamespace(id=self.name)

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.pending += indexes

    def send_runtest_all(self) -> None:
        self.pending += range(len(self.collection))

    def shutdown(self) -> None:
        self.shutting_down = True


def _config() -> Any:
    options = {"tx": ["2*popen"], "numprocesses": 2}
    return SimpleNamespace(getvalue=options.get, option=SimpleNamespace(loadscopereorder=True))


def _collection() -> list[str]:
    """Many quick files with more tests than the slow ones, then SLOWEST_FIRST's files, in path order."""
    quick = [f"tests/unit/test_quick_{i}.py::test_{j}" for i in range(6) for j in range(20)]
    slow = [f"{path}::test_{j}" for path in sorted({*SLOWEST_FIRST, *SAME_WORKER}) for j in range(2)]
    return sorted(quick + slow)


def _run(scheduler: FileScheduling, workers: list[_Worker]) -> list[tuple[str, str]]:
    """Let the workers run what they are sent, one test at a time in turn: (worker, test) in run order."""
    order: list[tuple[str, str]] = []
    while any(w.pending for w in workers):
        for worker in workers:
            if worker.pending:
                index = worker.pending.pop(0)
                worker.ran.append(worker.collection[index])
                order.append((worker.name, worker.collection[index]))
                scheduler.mark_test_complete(worker, index)
    return order


def test_every_test_runs_once_the_slowest_files_first_and_shared_files_on_one_worker() -> None:
    scheduler = FileScheduling(_config())
    workers = [_Worker("gw0", _collection()), _Worker("gw1", _collection())]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, worker.collection)
    scheduler.schedule()
    order = _run(scheduler, workers)
    # Every collected test ran, once
    assert sorted(test for _, test in order) == _collection()
    # The slowest files were started in SLOWEST_FIRST's order, before any other file (a SAME_WORKER file
    # starts with its partner's)
    started = list(
        dict.fromkeys(SAME_WORKER.get(path, path) for path in (t.split("::")[0] for _, t in order))
    )
    assert started[: len(SLOWEST_FIRST)] == list(SLOWEST_FIRST)
    # And each file ran on one worker, a SAME_WORKER file on its partner's
    worker_of: dict[str, str] = {}
    for name, test in order:
        assert worker_of.setdefault(test.split("::")[0], name) == name, test
    for path, partner in SAME_WORKER.items():
        assert worker_of[path] == worker_of[partner]
