"""Run long core work off the GUI thread and hear about it through Qt signals.

Core functions that take a while (generation, decoding an interpolation, loading a model) report
progress through a callback and check a cancel callback now and then; they know nothing of Qt. A
:class:`Task` runs such a function in Qt's global thread pool and turns its callbacks into signals
that arrive in the GUI thread:

    task = Task(lambda progress, cancelled: core_function(args, progress=progress, should_stop=cancelled))
    task.progress.connect(bar.set_fraction)      # (fraction 0..1, message)
    task.result.connect(show)                    # the function's return value
    task.error.connect(report)                   # the exception it raised
    task.cancelled.connect(...)                  # it stopped because cancel() was called
    task.finished.connect(...)                   # always last, once
    task.start()
    ...
    task.cancel()

The job receives ``progress(fraction, message)`` and ``cancelled() -> bool``; the lambda maps them onto
the keyword names of the core function it calls. Raising :class:`core.errors.Cancelled` (or returning
after cancel() was called) ends the task as cancelled, and a result that comes after a cancel is
dropped, so a cancelled generation never shows up in the piece. Progress signals are throttled so a
tight loop that reports every step cannot flood the GUI thread's event queue.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from core.errors import Cancelled, MahlerNetError

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]
CancelledFn = Callable[[], bool]
Job = Callable[[ProgressFn, CancelledFn], Any]

PROGRESS_INTERVAL_S = 0.03  # at most ~33 progress signals a second reach the GUI thread


class Task(QObject):
    """One background run of a job (see the module docstring). Lives in the GUI thread; its job runs
    in a pool thread. A Task runs once."""

    progress = Signal(float, str)
    result = Signal(object)
    error = Signal(object)
    cancelled = Signal()
    finished = Signal()

    # Emitted in the pool thread and delivered queued to this object, which lives in the GUI thread:
    # so the public signals above are always emitted in the GUI thread, whatever is connected to them.
    _progress_from_job = Signal(float, str)
    _done_from_job = Signal(str, object)

    _running: set["Task"] = set()  # keeps running tasks alive until they finish

    def __init__(self, job: Job, name: str = "task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._job = job
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._started = False
        self._last_progress = 0.0
        self.elapsed_s: float | None = None
        self._progress_from_job.connect(self.progress, Qt.ConnectionType.QueuedConnection)
        self._done_from_job.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------------------- control
    def start(self, pool: QThreadPool | None = None) -> "Task":
        if self._started:
            raise RuntimeError(f"{self.name} was already started")
        self._started = True
        Task._running.add(self)
        (pool or QThreadPool.globalInstance()).start(_Runner(self))
        return self

    def cancel(self) -> None:
        """Ask the job to stop; it stops at its next check of ``cancelled()``."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def is_running(self) -> bool:
        return self._started and not self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has returned (True) or the timeout passed (False). Signals still
        arrive through the event loop afterwards."""
        return self._done.wait(timeout_s)

    @classmethod
    def cancel_all(cls, wait_s: float = 2.0) -> None:
        """Cancel every running task and wait (a little) for them: used when the app closes."""
        tasks = list(cls._running)
        for task in tasks:
            task.cancel()
        deadline = time.monotonic() + wait_s
        for task in tasks:
            task.wait(max(0.0, deadline - time.monotonic()))

    # ----------------------------------------------------------------------- in the pool thread
    def _report(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._emit_from_job(self._progress_from_job, float(min(max(fraction, 0.0), 1.0)), message)

    def _emit_from_job(self, signal, *args: object) -> None:
        """Emit from the pool thread; when the Task itself is gone (its window closed, the app quit
        while the job ran), there is no one left to tell, and the news is dropped quietly."""
        try:
            signal.emit(*args)
        except RuntimeError:  # "Signal source has been deleted"
            log.debug("%s ended after its owner was deleted", self.name)

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            value = self._job(self._report, self.is_cancelled)
        except Cancelled:
            outcome, payload = "cancelled", None
        except Exception as error:  # every failure is reported, none is lost in a thread
            if not isinstance(error, MahlerNetError):
                log.exception("%s failed", self.name)
            outcome, payload = "error", error
        else:
            outcome, payload = ("cancelled", None) if self._cancel.is_set() else ("result", value)
        self.elapsed_s = time.perf_counter() - started
        self._done.set()
        self._emit_from_job(self._done_from_job, outcome, payload)

    # ----------------------------------------------------------------------- back in the GUI thread
    def _on_done(self, outcome: str, payload: object) -> None:
        if outcome == "result":
            self.result.emit(payload)
        elif outcome == "error":
            self.error.emit(payload)
        else:
            self.cancelled.emit()
        Task._running.discard(self)
        self.finished.emit()


class _Runner(QRunnable):
    """The pool's handle on a Task (QRunnable is not a QObject, so the Task holds the signals)."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self._task._run()
