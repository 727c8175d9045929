"""Run a few independent jobs at once: this thread takes the first, one helper thread the others.

Generation encodes each new bar's context with two LSTMs that share nothing (the encoder's forward and
backward directions, :class:`core.network.Encoder`). Each is a chain of small products over one
weight matrix that fits a core's cache, so two cores finish both in about the time of one, where a
single core would stream both matrices through its cache in turn.

The helper thread never makes things worse than running the jobs in order: a job it has not started
by the time this thread has finished its own is taken back and run here, so a machine whose other
cores are busy (the GUI, the audio, a training run) loses only the hand-over (tens of microseconds).
torch releases the GIL inside its operations, so the two threads truly overlap.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

import torch

Result = TypeVar("Result")

_helper: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


def side_by_side(jobs: Sequence[Callable[[], Result]]) -> list[Result]:
    """The results of ``jobs`` in order, the first run on this thread and the others on the helper
    (or here, when the helper has not started them by then). Torch's inference mode, which is per
    thread, is carried over to the helper."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    inference = torch.is_inference_mode_enabled()
    futures: list[Future[Result]] = [_pool().submit(_run, job, inference) for job in jobs[1:]]
    results = [jobs[0]()]
    for job, future in zip(jobs[1:], futures):
        results.append(job() if future.cancel() else future.result())
    return results


def _run(job: Callable[[], Result], inference: bool) -> Result:
    with torch.inference_mode(inference):
        return job()


def _pool() -> ThreadPoolExecutor:
    global _helper
    with _helper_lock:
        if _helper is None:
            # One torch thread in the helper, as in the caller (core.generation.engine.evaluating).
            _helper = ThreadPoolExecutor(1, thread_name_prefix="generation-helper", initializer=torch.set_num_threads, initargs=(1,))
        return _helper
