"""Background tasks: progress, result, errors and cancel reach the GUI thread, which keeps ticking."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QTimer

from app.workers import Task
from core.errors import Cancelled, MidiFileError


PATIENCE_MS = 60_000  # how long what must happen is waited for: reached only when something is broken


class GatedJob:
    """A core-like job that computes (pure Python and numpy, holding the interpreter lock often),
    reporting progress and checking for cancel like core functions do, until the test opens its gate.
    It records the thread it ran on; ``running`` is set once it has started. A job that was never
    let go gives up after PATIENCE_MS, so a broken Task fails the test instead of hanging it."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.gate = threading.Event()
        self.thread_id: int | None = None
        self.steps = 0

    def __call__(self, progress, cancelled) -> float:
        self.thread_id = threading.get_ident()
        rng = np.random.default_rng(0)
        total = 0.0
        self.running.set()
        give_up = time.monotonic() + PATIENCE_MS / 1000
        while not self.gate.is_set() and time.monotonic() < give_up:
            if cancelled():
                raise Cancelled("stopped")
            for _ in range(20_000):  # pure-Python work as in a sampling loop
                total += 1e-9
            total += float(np.sort(rng.standard_normal(2_000))[1_000])
            self.steps += 1
            progress(0.5, f"step {self.steps}")
        progress(1.0, "done")
        return total


def test_the_job_runs_off_the_gui_thread_which_keeps_ticking_while_it_computes(qtbot):
    """The GUI thread's timer keeps firing while the job is provably still computing: the job only
    ends when the test opens its gate, which it does from a timer tick (how long the GUI thread waits
    between ticks on a given machine is a figure of benchmarks/startup.py, not a test)."""
    job = GatedJob()
    ticks_while_running: list[int] = []

    def tick() -> None:
        if job.running.is_set() and not job.gate.is_set():
            ticks_while_running.append(job.steps)
            if len(ticks_while_running) == 20:
                job.gate.set()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    fractions: list[float] = []
    results: list[float] = []
    task = Task(job, name="noise")
    task.progress.connect(lambda fraction, message: fractions.append(fraction))
    task.result.connect(results.append)
    with qtbot.waitSignal(task.finished, timeout=PATIENCE_MS):
        task.start()
    timer.stop()

    assert len(ticks_while_running) == 20  # the GUI thread ticked 20 times while the job computed
    assert job.thread_id is not None and job.thread_id != threading.get_ident()
    assert results and np.isfinite(results[0])
    assert fractions[0] == 0.5 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert isinstance(task.elapsed_s, float) and not task.is_running  # how long it took is recorded


def test_cancel_stops_the_job_early_and_drops_its_result(qtbot):
    job = GatedJob()  # never opened: only cancel ends it
    reached: list[float] = []
    outcome: list[str] = []
    task = Task(job)
    task.progress.connect(lambda fraction, _message: (reached.append(fraction), task.cancel()))
    task.result.connect(lambda _value: outcome.append("result"))
    task.cancelled.connect(lambda: outcome.append("cancelled"))
    with qtbot.waitSignal(task.finished, timeout=PATIENCE_MS):
        task.start()
    assert outcome == ["cancelled"]
    assert reached and max(reached) == 0.5  # it never got to the end


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
    with qtbot.waitSignal(task.finished, timeout=PATIENCE_MS):
        pass
    assert outcome == ["cancelled"]


def test_errors_arrive_as_the_exception_raised(qtbot):
    errors: list[Exception] = []

    def broken(progress, cancelled):
        raise MidiFileError("song.mid", "not a MIDI file")

    task = Task(broken)
    task.error.connect(errors.append)
    with qtbot.waitSignal(task.finished, timeout=PATIENCE_MS):
        task.start()
    assert isinstance(errors[0], MidiFileError)
    assert str(errors[0]) == "song.mid: not a MIDI file"
    assert not task.is_running
