"""Background tasks: progress, result, errors and cancel reach the GUI thread, which keeps ticking."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QTimer

from app.workers import Task
from core.errors import Cancelled, MidiFileError


def smooth_noise(steps: int, progress, cancelled) -> float:
    """A core-like slow job: step by step numeric work (Python and numpy, holding the GIL often),
    reporting progress and checking for cancel like core functions do."""
    rng = np.random.default_rng(0)
    total = 0.0
    for step in range(steps):
        if cancelled():
            raise Cancelled("stopped")
        values = rng.standard_normal(20_000)
        for _ in range(100_000):  # pure-Python work as in a sampling loop
            total += 1e-9
        total += float(np.sort(values)[10_000])
        progress((step + 1) / steps, f"step {step + 1} of {steps}")
    return total


def test_result_and_progress_arrive_and_the_event_loop_ticks_while_the_job_runs(qtbot):
    """The job runs in another thread and, while it provably has not finished (it waits on an event
    only the test sets), the GUI thread's timer keeps firing. No wall-clock figure is asserted."""
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(len(ticks)))
    timer.start()

    release = threading.Event()
    job_threads: list[int] = []

    def gated_job(progress, cancelled) -> float:
        job_threads.append(threading.get_ident())
        total = smooth_noise(3, progress, cancelled)  # real work, reporting progress
        release.wait(timeout=60)  # still running until the test says so
        progress(1.0, "done")
        return total

    fractions: list[float] = []
    results: list[float] = []
    task = Task(gated_job, name="gated")
    task.progress.connect(lambda fraction, message: fractions.append(fraction))
    task.result.connect(results.append)
    task.start()
    try:
        qtbot.waitUntil(lambda: bool(fractions), timeout=60_000)
        ticks_while_blocked = len(ticks)
        qtbot.waitUntil(lambda: len(ticks) >= ticks_while_blocked + 5, timeout=60_000)
        assert task.is_running and not release.is_set(), "the ticks above came while the job ran"
    finally:
        release.set()
    with qtbot.waitSignal(task.finished, timeout=60_000):
        pass
    timer.stop()

    assert job_threads and job_threads[0] != threading.get_ident(), "the job ran off the GUI thread"
    assert results and np.isfinite(results[0])
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert task.elapsed_s is not None and task.elapsed_s >= 0


def test_cancel_stops_the_job_early_and_drops_its_result(qtbot):
    reached: list[float] = []
    outcome: list[str] = []
    task = Task(lambda progress, cancelled: smooth_noise(10_000, progress, cancelled))
    task.progress.connect(lambda fraction, _message: (reached.append(fraction), task.cancel()))
    task.result.connect(lambda _value: outcome.append("result"))
    task.cancelled.connect(lambda: outcome.append("cancelled"))
    with qtbot.waitSignal(task.finished, timeout=30_000):
        task.start()
    assert outcome == ["cancelled"]
    assert max(reached) < 0.5


def test_a_result_after_cancel_counts_as_cancelled(qtbot):
    outcome: list[str] = []

    def ignores_cancel(progress, cancelled):
        while not cancelled():
            time.sleep(0.005)
        return "late result"

    task = Task(ignores_cancel)
    task.result.connect(lambda _value: outcome.append("result"))
    task.cancelled.connect(lambda: outcome.append("cancelled"))
    task.start()
    QTimer.singleShot(50, task.cancel)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert outcome == ["cancelled"]


def test_errors_arrive_as_the_exception_raised(qtbot):
    errors: list[Exception] = []

    def broken(progress, cancelled):
        raise MidiFileError("song.mid", "not a MIDI file")

    task = Task(broken)
    task.error.connect(errors.append)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        task.start()
    assert isinstance(errors[0], MidiFileError)
    assert str(errors[0]) == "song.mid: not a MIDI file"
    assert not task.is_running
