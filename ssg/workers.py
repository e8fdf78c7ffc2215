"""Running many small tasks (parse a document, render a page) in forked processes or in this one."""
from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterator

# Below this many tasks a process pool costs more (start-up, pickling) than it saves.
POOL_THRESHOLD = 48

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)

# Set only inside a pool's worker processes, by their initializer: a forked worker inherits the state
# without pickling it, and the state goes with the process. The calling process never sets it.
_state_of_this_worker: Any = None


def run_tasks(function: Callable[[Any, Any], Any], state: Any, tasks: list, jobs: int | None) -> Iterator:
    """Yield function(state, task) for each task, in any order: in a pool of forked processes when there
    are enough tasks, else in this process. Nothing keeps `state` once the tasks are done."""
    if not tasks:
        return
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(tasks) >= POOL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")  # workers inherit the state; nothing big is pickled
        chunks = max(1, min(64, len(tasks) // (jobs * 8)))
        with context.Pool(jobs, initializer=_start_worker, initargs=(state,)) as pool:
            yield from pool.imap_unordered(_Call(function), tasks, chunksize=chunks)
        return
    for task in tasks:
        yield function(state, task)


def _start_worker(state: Any) -> None:
    global _state_of_this_worker
    _state_of_this_worker = state


class _Call:
    """function(state, task) in a worker; picklable as long as the function is a module-level name."""

    def __init__(self, function: Callable[[Any, Any], Any]):
        self.function = function

    def __call__(self, task: Any) -> Any:
        return self.function(_state_of_this_worker, task)
