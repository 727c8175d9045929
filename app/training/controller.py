"""What the Training window does, without the widgets: prepare a folder, start, stop, resume a run.

:class:`TrainingController` keeps the state the window shows (the prepared music and its report, the
run in progress) and does the work in the background: preparing runs ``core.preprocess`` in a
:class:`app.workers.Task`, training runs in a :class:`TrainingThread`, and a first Task imports torch
and looks for the models a run may be fine-tuned from. Its signals arrive in the GUI thread.

Runs go to ``<data folder>/runs/NAME`` and prepared music to ``<data folder>/datasets/``
(:mod:`core.training.runs`), so that a finished run is a model the pickers and ``mahlernet models`` list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QObject, Signal

from app.training.worker import Outcome, TrainingRequest, TrainingThread
from app.workers import CancelledFn, ProgressFn, Task
from core.training import runs
from core.errors import MahlerNetError
from core.preprocess.summary import DatasetReport
from core.training.runs import RunSummary

KINDS = ("continuation", "interpolation")
DEVICES = {"auto": "auto", "cpu": "cpu", "gpu": "cuda"}
SMALL_DATASET_BARS = 2_000  # below this, fine-tuning is the better start (the window says so)


@dataclass(frozen=True)
class TrainingChoice:
    """What the form asks for. ``epochs`` None: the preset's; ``base_model``: fine-tune from it."""

    name: str
    kind: str = "continuation"
    size: str = "small"
    epochs: int | None = None
    device: str = "auto"  # auto, cpu, gpu
    base_model: Path | None = None


@dataclass(frozen=True)
class BaseModel:
    """A model a run may start from."""

    name: str
    path: Path
    kind: str
    bundled: bool
    summary: str


@dataclass(frozen=True)
class Setup:
    """What the background start-up found: models to fine-tune from, and whether there is a GPU."""

    models: tuple[BaseModel, ...]
    cuda: bool
    cuda_name: str = ""


@dataclass(frozen=True)
class Ended:
    """How the last run ended: its outcome, or the reason it failed."""

    outcome: Outcome | None
    reason: str = ""


def find_setup(
    model_folders: Sequence[Path] | None, data_folder: Path, progress: ProgressFn, cancelled: CancelledFn
) -> Setup:
    """Import torch and the trainer (off the GUI thread) and list the models of ``model_folders`` and
    the data folder."""
    progress(0.1, "loading torch")
    from app.torch_preload import preload_torch_libraries

    preload_torch_libraries()
    import torch

    import core.training.runs  # noqa: F401 - what a run imports, imported now rather than when Train is pressed
    import core.training.trainer  # noqa: F401
    from core.model.checkpoints import PROJECT_MODELS, default_model_folders, find_models

    progress(0.5, "warming up the optimizer")
    # Building the first optimizer imports torch._dynamo (about 1.5 s of Python holding the interpreter
    # lock in long slices): done here, while the window opens, it does not stall a run's first seconds.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])

    folders = list(model_folders) if model_folders is not None else default_model_folders()
    if all(Path(f).resolve() != data_folder.resolve() for f in folders):
        folders.append(data_folder)
    found = []
    for info in find_models(folders):
        if info.problem:  # a broken model cannot be fine-tuned; `mahlernet models` and the pickers name it
            continue
        bundled = PROJECT_MODELS in info.path.parents
        found.append(BaseModel(info.name, info.path, info.kind, bundled, info.summary()))
    found.sort(key=lambda m: (not m.bundled, m.name.casefold()))
    cuda = bool(torch.cuda.is_available())
    return Setup(tuple(found), cuda, torch.cuda.get_device_name(0) if cuda else "")


def prepare_music(midi_folder: Path, dataset_dir: Path, progress: ProgressFn, cancelled: CancelledFn) -> DatasetReport:
    """Encode ``midi_folder`` into ``dataset_dir`` (only what changed since last time) and report.
    One worker process per CPU but one, so that the window keeps a core."""
    from core.preprocess.dataset import preprocess_folder
    from core.preprocess.summary import read_dataset_report

    def report(done: int, total: int, name: str) -> None:
        progress(done / max(total, 1), f"{done} of {total} files" + (f": {name}" if name else ""))

    jobs = max(1, (os.cpu_count() or 1) - 1)
    preprocess_folder(midi_folder, dataset_dir, jobs=jobs, progress=report, cancel=cancelled)
    return read_dataset_report(dataset_dir)


class TrainingController(QObject):
    setup_ready = Signal(object)  # Setup
    prepare_progress = Signal(float, str)
    prepared = Signal(object)  # DatasetReport
    prepare_ended = Signal()  # after prepared, a problem or a cancel
    problem = Signal(str)  # one-line reason something could not be done
    training_started = Signal(object)  # TrainingRequest
    began = Signal(object, object)  # run folder, records so far
    hardware = Signal(str)
    steps = Signal(object)  # list[StepPoint]
    snapshot = Signal(object)  # Snapshot
    epoch_done = Signal(object)  # epoch record
    saved = Signal(str)
    training_ended = Signal(object)  # Ended
    runs_changed = Signal()  # a run was made, renamed or deleted: model lists should look again

    def __init__(
        self,
        data_folder: Path,
        presets: dict[str, str | Path] | None = None,
        model_folders: Sequence[Path] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``presets``: kind -> preset name or .toml file (tests use tiny ones); ``model_folders``:
        where to look for models to fine-tune (default: the bundled ones and the data folder)."""
        super().__init__(parent)
        self.data_folder = Path(data_folder)
        self.runs_dir = runs.runs_folder(self.data_folder)
        self.presets: dict[str, str | Path] = dict(presets or {kind: kind for kind in KINDS})
        self.model_folders = list(model_folders) if model_folders is not None else None
        self.setup: Setup | None = None
        self.midi_folder: Path | None = None
        self.report: DatasetReport | None = None
        self.prepare_task: Task | None = None
        self.thread: TrainingThread | None = None
        self.request: TrainingRequest | None = None
        self.ended: Ended | None = None  # how the last run ended (None while one trains)

    # ------------------------------------------------------------------------------- set-up
    def start_setup(self) -> Task:
        folders, data = self.model_folders, self.data_folder
        job = lambda progress, cancelled: find_setup(folders, data, progress, cancelled)  # noqa: E731
        task = Task(job, name="training set-up", parent=self)
        task.result.connect(self._on_setup)
        task.error.connect(lambda error: self.problem.emit(f"Looking for models failed: {error}"))
        return task.start()

    def _on_setup(self, setup: Setup) -> None:
        self.setup = setup
        self.setup_ready.emit(setup)

    def base_models(self, kind: str) -> list[BaseModel]:
        return [m for m in (self.setup.models if self.setup else ()) if m.kind == kind]

    def taken_names(self) -> list[str]:
        """Names a run may not take: the models that are not runs of the data folder."""
        models = self.setup.models if self.setup else ()
        return [m.name for m in models if self.runs_dir not in m.path.parents]

    def run_names(self) -> list[str]:
        """The run folders' names (a new run may not take one, whatever its case)."""
        return [p.name for p in self.runs_dir.iterdir()] if self.runs_dir.is_dir() else []

    def suggested_name(self, folder: Path) -> str:
        return runs.unique_name(Path(folder).name, self.runs_dir, self.taken_names() + self.run_names())

    # ------------------------------------------------------------------------------- prepare
    @property
    def preparing(self) -> bool:
        return self.prepare_task is not None

    def prepare(self, folder: str | Path) -> Task | None:
        """Prepare the MIDI files of ``folder`` in the background; ``prepared`` brings the report."""
        if self.prepare_task is not None:
            self.problem.emit("A folder is being prepared already.")
            return None
        folder = Path(folder)
        dataset = runs.dataset_folder_for(folder, self.data_folder)
        self.midi_folder, self.report = folder, None
        job = lambda progress, cancelled: prepare_music(folder, dataset, progress, cancelled)  # noqa: E731
        task = Task(job, name="prepare music", parent=self)
        task.progress.connect(self.prepare_progress)
        task.result.connect(self._on_prepared)
        task.error.connect(lambda error: self.problem.emit(_reason(error)))
        task.cancelled.connect(lambda: self.problem.emit("Preparing was cancelled."))
        task.finished.connect(self._on_prepare_finished)
        self.prepare_task = task
        return task.start()

    def cancel_prepare(self) -> None:
        if self.prepare_task is not None:
            self.prepare_task.cancel()

    def _on_prepared(self, report: DatasetReport) -> None:
        self.report = report
        self.prepared.emit(report)

    def _on_prepare_finished(self) -> None:
        self.prepare_task = None
        self.prepare_ended.emit()

    # ------------------------------------------------------------------------------ training
    @property
    def training(self) -> bool:
        return self.thread is not None

    def train(self, choice: TrainingChoice) -> TrainingThread | None:
        """Start a new run on the prepared music (``problem`` says why not, when it cannot)."""
        reason = self._cannot_train(choice)
        if reason:
            self.problem.emit(reason)
            return None
        assert self.report is not None and self.midi_folder is not None
        name = runs.check_name(choice.name)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        extra = {"midi_folder": str(self.midi_folder), "kind": choice.kind}
        if choice.base_model is not None:
            names = [m.name for m in self.base_models(choice.kind) if m.path == choice.base_model]
            extra["fine_tuned_from"] = names[0] if names else ""
        request = TrainingRequest(
            run_dir=self.runs_dir / name, dataset_dir=self.report.folder, preset=self.presets[choice.kind],
            size=choice.size, epochs=choice.epochs, device=DEVICES[choice.device], init_from=choice.base_model,
            extra_info=extra,
        )  # fmt: skip
        return self._start(request)

    def _cannot_train(self, choice: TrainingChoice) -> str:
        if self.thread is not None:
            return "A model is training already: stop it first."
        if self.report is None:
            return "Choose and prepare a folder of MIDI files first."
        if not self.report.usable:
            return "The prepared folder has no usable bars: nothing to train on."
        try:
            name = runs.check_name(choice.name)
        except MahlerNetError as error:
            return str(error)
        if name.casefold() in {t.casefold() for t in self.taken_names() + self.run_names()}:
            return f"{name}: a model of this name exists already; choose another name."
        if choice.device == "gpu" and self.setup is not None and not self.setup.cuda:
            return "No GPU (CUDA) was found on this computer: choose Auto or CPU."
        if choice.kind not in self.presets:
            return f"unknown kind of model {choice.kind!r}"
        return ""

    def resume(self, run: RunSummary, device: str = "auto") -> TrainingThread | None:
        """Go on with a stopped run from its last saved epoch."""
        if self.thread is not None:
            self.problem.emit("A model is training already: stop it first.")
            return None
        if not run.resumable:
            self.problem.emit(f"{run.name} is {run.status_text()}: there is nothing to resume.")
            return None
        return self._start(TrainingRequest(run_dir=run.path, device=DEVICES.get(device, "auto"), resume=True))

    def _start(self, request: TrainingRequest) -> TrainingThread:
        thread = TrainingThread(request, parent=self)
        for signal in ("began", "hardware", "steps", "snapshot", "epoch_done", "saved"):
            getattr(thread, signal).connect(getattr(self, signal))
        thread.outcome.connect(self._on_outcome)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self.thread, self.request, self.ended = thread, request, None
        thread.start()
        self.training_started.emit(request)
        return thread

    def stop(self, now: bool = False) -> None:
        """Stop: finish the epoch and save. ``now`` (Cancel): stop at once, keep the last checkpoint."""
        if self.thread is not None:
            self.thread.stop(now=now)

    def _on_outcome(self, outcome: Outcome) -> None:
        self.ended = Ended(outcome)

    def _on_failed(self, reason: str) -> None:
        self.ended = Ended(None, reason)

    def _on_thread_finished(self) -> None:
        thread, self.thread = self.thread, None
        ended = self.ended or Ended(None, "Training ended without a word (see the log).")
        if thread is not None:
            thread.deleteLater()
        self.training_ended.emit(ended)
        self.runs_changed.emit()

    # ------------------------------------------------------------------------------ closing
    def shutdown(self, timeout_s: float | None = None) -> bool:
        """Cancel preparing and stop training now, and wait for both (the app is closing); True when
        everything stopped within ``timeout_s`` (None: wait as long as it takes)."""
        if self.prepare_task is not None:
            self.prepare_task.cancel()
            self.prepare_task.wait(timeout_s)
        thread = self.thread
        if thread is None:
            return True
        thread.stop(now=True)
        return thread.wait() if timeout_s is None else thread.wait(int(timeout_s * 1000))


def _reason(error: object) -> str:
    if isinstance(error, MahlerNetError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.filename or 'a file'}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"
