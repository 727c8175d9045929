"""Finding and loading models in the background, and which device they run on.

``core.checkpoints`` needs torch, which takes seconds to import: nothing here imports it at app start.
:class:`ModelService` runs the search (and later each load) as a background :class:`Task`, after the
window is up, and reports through signals; the status bar and the model pickers listen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import CancelledFn, ProgressFn, Task


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    summary: str
    kind: str


@dataclass(frozen=True)
class ModelScan:
    """What the background search found: the models and the devices torch can use."""

    models: tuple[ModelEntry, ...]
    cuda: bool
    cuda_name: str = ""
    problems: tuple[str, ...] = field(default=())


def resolve_device(asked: str, cuda: bool) -> tuple[str, str]:
    """The torch device for the setting ``asked`` (auto/cpu/gpu) and a few words on it for the
    status bar: ``("cuda", "GPU")``, ``("cpu", "CPU (no GPU found)")``..."""
    if asked == "cpu":
        return "cpu", "CPU"
    if cuda:
        return "cuda", "GPU"
    return "cpu", "CPU (no GPU found)" if asked == "gpu" else "CPU"


def scan_models(progress: ProgressFn, cancelled: CancelledFn) -> ModelScan:
    """Import torch and the checkpoint registry, and list the models (bundled and the user's)."""
    progress(0.1, "loading torch")
    import torch

    progress(0.6, "looking for models")
    problems: list[str] = []
    entries: list[ModelEntry] = []
    try:
        from core.checkpoints import find_models

        entries = [ModelEntry(m.name, m.path, m.summary(), m.kind) for m in find_models()]
    except ImportError as error:  # the registry module is missing from this build
        problems.append(f"model registry unavailable: {error}")
    cuda = bool(torch.cuda.is_available())
    name = torch.cuda.get_device_name(0) if cuda else ""
    progress(1.0, "done")
    return ModelScan(tuple(entries), cuda, name, tuple(problems))


class ModelService(QObject):
    """Knows the models found and the loaded ones; everything slow happens in tasks."""

    scanned = Signal(object)  # ModelScan
    loaded = Signal(str, object)  # model name, (network, card)
    load_failed = Signal(str, str)  # model name, one-line reason

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scan: ModelScan | None = None
        self.device_setting = "auto"
        self._loaded: dict[tuple[str, str], Any] = {}
        self._task: Task | None = None
        self.scanning = False

    @property
    def device(self) -> str:
        return resolve_device(self.device_setting, bool(self.scan and self.scan.cuda))[0]

    def device_text(self) -> str:
        if self.scan is None:
            return f"{self.device_setting} (checking…)" if self.scanning else self.device_setting
        return resolve_device(self.device_setting, self.scan.cuda)[1]

    def start_scan(self) -> Task:
        self.scanning = True
        task = Task(scan_models, name="model scan", parent=self)
        task.result.connect(self._on_scan)
        task.error.connect(lambda error: self._on_scan(ModelScan((), False, "", (str(error),))))
        self._task = task
        return task.start()

    def _on_scan(self, scan: ModelScan) -> None:
        self.scan = scan
        self.scanning = False
        self.scanned.emit(scan)

    def entry(self, name: str) -> ModelEntry | None:
        if self.scan is None:
            return None
        return next((m for m in self.scan.models if m.name == name), None)

    def loaded_model(self, name: str) -> Any | None:
        """(network, card) of ``name`` on the current device, if loaded."""
        return self._loaded.get((name, self.device))

    def load(self, name: str) -> Task | None:
        """Load ``name`` in the background (no-op if it is loaded or unknown)."""
        entry = self.entry(name)
        if entry is None or self.loaded_model(name) is not None:
            return None
        device = self.device

        def job(progress: ProgressFn, cancelled: CancelledFn) -> Any:
            from core.checkpoints import load_model

            progress(0.2, f"loading {name}")
            return load_model(entry.path, device=device)

        task = Task(job, name=f"load {name}", parent=self)
        task.result.connect(lambda value: self._on_loaded(name, device, value))
        task.error.connect(lambda error: self.load_failed.emit(name, str(error)))
        return task.start()

    def _on_loaded(self, name: str, device: str, value: Any) -> None:
        self._loaded[(name, device)] = value
        self.loaded.emit(name, value)
