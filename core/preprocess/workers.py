"""Running preprocessing jobs in worker processes, for the per-piece and the sharded datasets alike."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from core import blas
from core.errors import Cancelled

Job = TypeVar("Job")
Result = TypeVar("Result")


def run_in_workers(
    function: Callable[[Job], Result], work: Iterable[Job], jobs: int, cancel: Callable[[], bool] | None = None, chunksize: int = 1
) -> Iterator[Result]:
    """``function`` of each job of ``work``, yielded as each finishes: in this process for one job,
    otherwise in a pool of ``jobs`` worker processes (forked where the system can, so that workers
    start without importing the project again), each with NumPy's BLAS on one thread (:mod:`core.blas`:
    two workers with two BLAS threads each ran ~25% slower on two cores). ``cancel()`` returning True
    stops with :class:`Cancelled`; the pool is always torn down, also when the caller stops early."""
    if jobs == 1:
        for job in work:
            if cancel and cancel():
                raise Cancelled("preprocessing cancelled")
            with blas.one_thread():
                result = function(job)
            yield result
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(jobs, initializer=blas.one_thread_from_now) as pool:
        try:
            for result in pool.imap_unordered(function, work, chunksize=chunksize):
                if cancel and cancel():
                    raise Cancelled("preprocessing cancelled")
                yield result
        finally:
            pool.terminate()
