"""A training run in a thread of its own, heard through Qt signals.

:class:`TrainingThread` builds the :class:`core.training.trainer.Trainer` with :func:`core.training.runs.start_run` or
:func:`core.training.runs.resume_run` (the same set-up as ``mahlernet train``) and runs ``fit()``; torch works
in that thread only. The trainer's callbacks become signals, delivered queued to the GUI thread:
step points are gathered and sent at most every :data:`SIGNAL_INTERVAL_S`, so a fast loop cannot flood
the event queue, while epochs, saves and the end are sent at once.

Stop and Cancel follow the CLI's Ctrl-C: :meth:`TrainingThread.stop` finishes the epoch (validation and
checkpoint included), ``stop(now=True)`` returns at once and keeps the last checkpoint. Torch gets one
CPU thread less than the machine has, so that the window always has a core to draw with.

A failure ends the thread with :attr:`TrainingThread.failed` and a one-line reason
(:func:`failure_reason`): a full disk, running out of memory, a missing GPU... Checkpoints are written
atomically, so whatever was saved before the failure is still there and the run can be resumed.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from core.errors import MahlerNetError

log = logging.getLogger(__name__)

SIGNAL_INTERVAL_S = 0.2
NO, AFTER_EPOCH, NOW = 0, 1, 2  # the values of core.training.trainer.Stop, without importing torch here


@dataclass(frozen=True)
class TrainingRequest:
    """A run to start (``dataset_dir`` given) or to resume (``resume=True``)."""

    run_dir: Path
    dataset_dir: Path | None = None
    preset: str | Path = "continuation"
    size: str = "small"
    epochs: int | None = None
    device: str = "auto"  # auto, cpu or cuda
    init_from: Path | None = None
    extra_info: dict[str, Any] = field(default_factory=dict)
    resume: bool = False


@dataclass(frozen=True)
class StepPoint:
    """One optimizer step: ``x`` in epochs (2.5 = half-way through the third) and the metrics of its
    batch (``loss``, ``pitch_accuracy``...)."""

    x: float
    step: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class Snapshot:
    """Where the run stands, for the line above the curves."""

    epoch: int
    epochs: int
    batch: int
    batches: int
    step: int
    events_per_second: float
    elapsed_s: float
    eta_s: float | None

    @property
    def fraction(self) -> float:
        """How much of the whole run is done (0..1)."""
        within = self.batch / self.batches if self.batches else 0.0
        return min(1.0, max(0.0, (self.epoch - 1 + within) / max(self.epochs, 1)))


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``stopped`` is finished, early, requested (Stop) or now (Cancel)."""

    run_dir: Path
    stopped: str
    epochs_done: int
    best_epoch: int
    best_loss: float


def torch_threads(cpus: int | None = None) -> int:
    """CPU threads for training: all but one, at least one."""
    return max(1, (cpus if cpus is not None else os.cpu_count() or 1) - 1)


def _out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def failure_reason(error: BaseException) -> str:
    """One line for the composer: what went wrong, and that what was saved is kept."""
    kept = "Epochs saved before are kept: Resume goes on from there."
    if isinstance(error, MahlerNetError):
        return str(error)
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return f"The disk is full: a checkpoint could not be written{where}. {kept}"
    if _out_of_memory(error):
        return f"Out of memory: try the small size or the CPU, or close other programs. {kept}"
    if isinstance(error, OSError):
        return f"{error.filename or 'A file'}: {error.strerror or error}. {kept}"
    detail = (str(error).splitlines() or [""])[0][:160]
    return f"Training stopped on an error ({type(error).__name__}: {detail}). {kept}"


class TrainingThread(QThread):
    """Runs one :class:`TrainingRequest` (see the module docstring). Start with ``start()``."""

    began = Signal(object, object)  # run folder, records so far (a resumed run has some)
    hardware = Signal(str)  # what it trains on: "x86_64 CPU, 1 threads, torch ..."
    steps = Signal(object)  # list[StepPoint]
    snapshot = Signal(object)  # Snapshot
    epoch_done = Signal(object)  # the epoch's record: {"epoch", "train": {...}, "val": {...}, ...}
    saved = Signal(str)  # "best" or "last"
    outcome = Signal(object)  # Outcome
    failed = Signal(str)  # one-line reason

    def __init__(self, request: TrainingRequest, threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.threads = threads or torch_threads()
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._asked = NO
        self._pending: list[StepPoint] = []
        self._sums: np.ndarray | None = None  # the trainer's running sums of the epoch after the last step
        self._last_signal = 0.0

    def stop(self, now: bool = False) -> None:
        """Finish the epoch and save, or (``now``) stop at the next step keeping the last checkpoint.
        Safe to call from any thread, before the trainer exists too."""
        with self._lock:
            self._asked = max(self._asked, NOW if now else AFTER_EPOCH)
            trainer = self._trainer
        if trainer is not None:
            trainer.request_stop(now=now)

    @property
    def stop_asked(self) -> int:
        return self._asked

    # ------------------------------------------------------------------------- in the thread
    def run(self) -> None:  # noqa: D102 - QThread's entry point
        from app.torch_preload import preload_torch_libraries

        preload_torch_libraries()
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            trainer = self._build()
            with self._lock:
                self._trainer = trainer
                asked = self._asked
            saved = trainer.state.get("totals")  # a run resumed within an epoch has sums already
            self._sums = np.asarray(saved, dtype=float) if saved is not None else None
            if asked:
                trainer.request_stop(now=asked == NOW)
            self.began.emit(trainer.run_dir, _copy_records(trainer.records))
            result = trainer.fit()
            self._flush()
            outcome = Outcome(trainer.run_dir, result.stopped, result.epochs_done, result.best_epoch, result.best_loss)
            self.outcome.emit(outcome)
        except BaseException as error:  # every failure is told, none is lost in the thread
            if not isinstance(error, (MahlerNetError, OSError, MemoryError)) and not _out_of_memory(error):
                log.exception("training failed")
            self._flush()
            self.failed.emit(failure_reason(error))
        finally:
            with self._lock:
                self._trainer = None
            torch.set_num_threads(previous)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def _build(self) -> Any:
        from core.training.runs import resume_run, start_run

        request = self.request
        if request.resume:
            return resume_run(request.run_dir, request.device, [self._hear], request.epochs)
        if request.dataset_dir is None:
            raise ValueError("a new run needs its dataset folder")
        return start_run(
            request.run_dir, request.dataset_dir, request.preset, request.size, request.epochs, request.device,
            request.init_from, request.extra_info, [self._hear],
        )  # fmt: skip

    def _hear(self, progress: Any) -> int:
        """The trainer's callback (in this thread): turn its Progress into signals."""
        kind = progress.kind
        batch = progress.batches if kind == "epoch" else progress.batch  # an epoch's end: all its batches done
        snapshot = Snapshot(
            progress.epoch, progress.epochs, batch, progress.batches, progress.global_step,
            progress.events_per_second, progress.elapsed_s, progress.eta_s,
        )  # fmt: skip
        if kind == "step":
            x = progress.epoch - 1 + progress.batch / max(progress.batches, 1)
            self._pending.append(StepPoint(x, progress.global_step, self._batch_metrics(progress)))
            now = time.monotonic()
            if now - self._last_signal >= SIGNAL_INTERVAL_S:
                self._last_signal = now
                self._flush()
                self.snapshot.emit(snapshot)
        elif kind == "start":
            self.hardware.emit(progress.message)
        elif kind == "epoch":
            self._flush()
            trainer = self._trainer
            if trainer is not None and trainer.records["epochs"]:
                self.epoch_done.emit(dict(trainer.records["epochs"][-1]))
            self.snapshot.emit(snapshot)
        elif kind == "save":
            self.saved.emit(progress.message)
        return self._asked

    def _batch_metrics(self, progress: Any) -> dict[str, float]:
        """The step's own metrics, not the epoch's running means (which jump when an epoch starts):
        the difference of the trainer's running sums before and after the step, and its batch loss."""
        from core.model.objective import Totals

        trainer = self._trainer
        sums = trainer.state.get("totals") if trainer is not None else None
        if sums is None:
            return dict(progress.metrics)
        current = np.asarray(sums, dtype=float)
        same_epoch = self._sums is not None and progress.batch > 1 and self._sums.shape == current.shape
        previous = self._sums if same_epoch else 0.0
        self._sums = current
        metrics = Totals(trainer.model.config.properties, current - previous).metrics(1.0)
        if trainer.records["steps"]:
            metrics["loss"] = float(trainer.records["steps"][-1]["loss"])
        return metrics

    def _flush(self) -> None:
        if self._pending:
            points, self._pending = self._pending, []
            self.steps.emit(points)


def _copy_records(records: dict[str, list]) -> dict[str, list]:
    return {"steps": list(records.get("steps", [])), "epochs": [dict(e) for e in records.get("epochs", [])]}
