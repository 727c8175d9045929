"""Finding and loading models in the background, and which device they run on.

``core.model.checkpoints`` needs torch, which takes a second or two to import: nothing here imports it at app
start. :class:`ModelService` runs the search as a background :class:`Task` once the window is up (its
heaviest native part without the interpreter lock, see :mod:`app.torch_preload`), loads the model a
picker shows in the background too, and reports through signals; the status bar and the pickers
listen.

Where it looks: the project's ``models/`` folder and the user's data folder, as the CLI does
(:func:`core.model.checkpoints.default_model_folders`), or the folders the caller names (tests, ``main.py
--models``). :meth:`ModelService.refresh` searches again (a model was trained or copied in).

A generation job gets the model through :meth:`ModelService.model_loader`: a function to call in the
worker thread, which returns the loaded model at once or loads it there first (a composer may press
Continue before the background load has finished). Loaded models are kept per file and device, and
loaded again when their file changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from app.workers import CancelledFn, ProgressFn, Task
from core.errors import ModelNotFoundError

if TYPE_CHECKING:
    from core.model.attributes import MeasuredEffect
    from core.model.checkpoints import ModelInfo


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    summary: str
    kind: str
    problem: str = ""  # why it cannot be used ("" = it can)
    instruments: str = "mahlernet"  # its instrument table (core.representation.instruments): the class names
    chords: bool = False  # it hears chords (a chord-conditioned model: it can arrange)
    attribute_vectors: bool = False  # NAME.attributes.safetensors lies beside it: the sliders can steer it
    attribute_effects: tuple["MeasuredEffect", ...] = ()  # what each vector was measured to do (its card's table)


@dataclass(frozen=True)
class ModelScan:
    """What the background search found: the models, where it looked and the devices torch can use."""

    models: tuple[ModelEntry, ...]
    cuda: bool
    cuda_name: str = ""
    problems: tuple[str, ...] = field(default=())
    folders: tuple[Path, ...] = field(default=())


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to generate: its network (a ``core.model.network.MahlerNet``) and card, where it came
    from and the device it sits on."""

    name: str
    path: Path
    device: str
    network: Any
    card: dict
    stamp: tuple[int, int] | None  # the file's (mtime_ns, size) when it was loaded

    @property
    def kind(self) -> str:
        return str(self.card.get("kind", "?"))


GPU_TEXT = "GPU (latent code) + CPU (decoder)"


def resolve_device(asked: str, cuda: bool) -> tuple[str, str]:
    """The torch device for the setting ``asked`` (auto/cpu/gpu) and a few words on it for the
    status bar: ``("cuda", GPU_TEXT)``, ``("cpu", "CPU (no GPU found)")``...

    The words say what really runs where: on a GPU only the latent code (the model's torch layers
    between the encoders and the decoder) is computed there; the encoders and the decoder's step
    loop run on the CPU in NumPy whatever the device (:class:`core.generation.sampler.Sampler`:
    at a few rows a step, the CPU is faster than a round trip to the GPU)."""
    if asked == "cpu":
        return "cpu", "CPU"
    if cuda:
        return "cuda", GPU_TEXT
    return "cpu", "CPU (no GPU found)" if asked == "gpu" else "CPU"


def scan_models(folders: Sequence[Path] | None, progress: ProgressFn, cancelled: CancelledFn) -> ModelScan:
    """Import torch and the checkpoint registry, and list the models in ``folders`` (default: the
    bundled ones and the user's)."""
    progress(0.05, "loading torch")
    from app.torch_preload import preload_torch_libraries, quiet_imports

    with quiet_imports():
        preload_torch_libraries()
        import torch

        from core.model.checkpoints import default_model_folders, find_models
        from core.generation import continue_piece  # noqa: F401  (imported now, not at the first Continue)
        # Imported now, not on the GUI thread at the first Open (~25 ms): the MIDI reader, and
        # numpy.ma, which NumPy imports at the first call of np.unique.
        import core.midi.files  # noqa: F401
        import numpy.ma  # noqa: F401

    progress(0.6, "looking for models")

    searched = [Path(f) for f in (folders if folders is not None else default_model_folders())]
    entries = tuple(_entry(m) for m in find_models(searched))
    cuda = bool(torch.cuda.is_available())
    name = torch.cuda.get_device_name(0) if cuda else ""
    progress(1.0, "done")
    return ModelScan(entries, cuda, name, unlisted(searched, entries), tuple(searched))


def _entry(found: "ModelInfo") -> ModelEntry:
    """The picker's view of a model the search found."""
    from core.model.attributes import measured_effects, vectors_path

    network = found.card.get("network") or {}
    return ModelEntry(
        found.name, found.path, found.summary(), found.kind, found.problem, str(network.get("instruments", "mahlernet")),
        bool(network.get("chords", False)), vectors_path(found.path).is_file(), tuple(measured_effects(found.card).values()),
    )  # fmt: skip


def unlisted(folders: Sequence[Path], found: Sequence[ModelEntry]) -> tuple[str, ...]:
    """One line for each weights file at the top of a model folder that the search could not list
    (its card is missing or unreadable), so that a damaged bundled model is named, not just absent.
    Training checkpoints (``last``) and a model's attribute vectors are not models."""
    from core.model.attributes import is_vectors_file

    listed = {entry.path for entry in found}
    problems = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for weights in sorted(folder.glob("*.safetensors")):
            if weights not in listed and weights.stem != "last" and not is_vectors_file(weights):
                card = weights.with_suffix(".json").name
                problems.append(f"{weights}: not listed, its model card {card} is missing or unreadable")
    return tuple(problems)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class ModelService(QObject):
    """Knows the models found and the loaded ones; everything slow happens in tasks."""

    scanned = Signal(object)  # ModelScan
    loaded = Signal(str, object)  # model name, LoadedModel
    load_failed = Signal(str, str)  # model name, one-line reason

    def __init__(self, parent: QObject | None = None, folders: Sequence[Path] | None = None) -> None:
        """``folders``: where to look for models (default: the bundled folder and the user's)."""
        super().__init__(parent)
        self.folders = [Path(f) for f in folders] if folders is not None else None
        self.scan: ModelScan | None = None
        self.device_setting = "auto"
        # Two locks, so that the GUI thread's look-ups never wait for a load (one held it for the
        # whole ~1.2 s load of a model, freezing the window at start-up): loads happen in worker
        # threads one at a time under the first; the second guards the dict for a look-up or an insert.
        self._load_lock = threading.Lock()
        self._loaded_lock = threading.Lock()
        self._loaded: dict[tuple[Path, str], LoadedModel] = {}
        self._task: Task | None = None
        self._rescan = False
        self.scanning = False

    @property
    def device(self) -> str:
        return resolve_device(self.device_setting, bool(self.scan and self.scan.cuda))[0]

    def device_text(self) -> str:
        if self.scan is None:
            return f"{self.device_setting} (checking…)" if self.scanning else self.device_setting
        return resolve_device(self.device_setting, self.scan.cuda)[1]

    # ----------------------------------------------------------------------------- searching
    def start_scan(self) -> Task | None:
        """Look for models in the background (``scanned`` follows). During a search, asking again
        searches once more when it ends."""
        if self.scanning:
            self._rescan = True
            return None
        self.scanning = True
        folders = self.folders
        task = Task(
            lambda progress, cancelled: scan_models(folders, progress, cancelled), name="model scan", parent=self
        )
        task.result.connect(self._on_scan)
        task.error.connect(lambda error: self._on_scan(ModelScan((), False, "", (str(error),))))
        self._task = task
        return task.start()

    def refresh(self) -> Task | None:
        """Search the model folders again, for a model trained or copied in since; the pickers and the
        status bar follow through ``scanned``. Models already loaded stay loaded unless their file
        changed. This is the method to call when the set of models may have changed."""
        return self.start_scan()

    def _on_scan(self, scan: ModelScan) -> None:
        self.scan = scan
        self.scanning = False
        self.scanned.emit(scan)
        if self._rescan:
            self._rescan = False
            self.start_scan()

    def entry(self, name: str) -> ModelEntry | None:
        if self.scan is None:
            return None
        return next((m for m in self.scan.models if m.name == name), None)

    # ------------------------------------------------------------------------------- loading
    def loaded_model(self, name: str) -> LoadedModel | None:
        """The model ``name`` on the current device, if it is loaded and its file unchanged."""
        entry = self.entry(name)
        if entry is None:
            return None
        with self._loaded_lock:
            loaded = self._loaded.get((entry.path, self.device))
        return loaded if loaded is not None and loaded.stamp == _stamp(entry.path) else None

    def model_loader(self, name: str) -> Callable[[], LoadedModel]:
        """A function for a worker thread that returns model ``name`` on the current device, loading
        it first where needed; it raises a one-line ``MahlerNetError`` for a model that is not there
        or cannot be read."""
        entry = self.entry(name)
        device = self.device

        def load() -> LoadedModel:
            if entry is None:
                where = "the model search has not finished" if self.scan is None else "it is not in the model folders"
                raise ModelNotFoundError(f"no model named {name!r}: {where}")
            return self.load_now(entry, device)

        return load

    def load_now(self, entry: ModelEntry, device: str) -> LoadedModel:
        """Load ``entry`` on ``device`` in the calling thread (or give back the loaded one)."""
        from core.model.checkpoints import load_model

        stamp = _stamp(entry.path)
        with self._load_lock:
            with self._loaded_lock:
                cached = self._loaded.get((entry.path, device))
            if cached is not None and cached.stamp == stamp:
                return cached
            network, card = load_model(entry.path, device=device)
            loaded = LoadedModel(entry.name, entry.path, device, network, card, stamp)
            with self._loaded_lock:
                self._loaded[(entry.path, device)] = loaded
            return loaded

    def load(self, name: str) -> Task | None:
        """Load ``name`` in the background (no-op if it is loaded or unknown)."""
        entry = self.entry(name)
        if entry is None or self.loaded_model(name) is not None:
            return None
        device = self.device

        def job(progress: ProgressFn, cancelled: CancelledFn) -> LoadedModel:
            progress(0.2, f"loading {name}")
            return self.load_now(entry, device)

        task = Task(job, name=f"load {name}", parent=self)
        task.result.connect(lambda value: self.loaded.emit(name, value))
        task.error.connect(lambda error: self.load_failed.emit(name, str(error)))
        return task.start()
