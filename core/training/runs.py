"""Training runs in the user's data folder: where they live, what state each is in, how one starts or
resumes, and renaming and deleting them.

The data folder (:func:`core.model.checkpoints.user_data_folder` unless a caller names another) holds

* ``runs/NAME/``: one folder per run, written by :class:`core.training.trainer.Trainer` (``run.json``,
  ``last.safetensors``, ``best.safetensors`` + ``best.json``, ``records.json``);
* ``datasets/KEY/``: the prepared music of one MIDI folder (``mahlernet preprocess`` output), kept so
  that preparing the same folder again only encodes the files that changed.

The model registry (:func:`core.model.checkpoints.find_models`) finds ``runs/NAME/best.*`` there, so the
best model of a run is the model called NAME everywhere: the app's pickers, ``mahlernet models`` and
``--model NAME``. Renaming a run therefore renames its folder and the name in its cards.

Given the data folder, listing and deleting runs never import torch (the app does both from its GUI
thread): the trainer's state is read from the JSON header of ``last.safetensors`` directly. Renaming
writes through :func:`core.model.checkpoints.write_atomically` (the app has torch loaded by then).
:func:`start_run` and :func:`resume_run` build a :class:`~core.training.trainer.Trainer` the way ``mahlernet
train`` does.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from core.errors import TrainingError

if TYPE_CHECKING:
    from core.training.trainer import Callback, Trainer

RUNS = "runs"
DATASETS = "datasets"
MAX_NAME = 64
NAME_PUNCTUATION = frozenset(" -_.()+,'&")
MAX_HEADER_BYTES = 100_000_000  # a safetensors header larger than this is not one of ours


# ------------------------------------------------------------------------------------ layout
def data_root(data_folder: str | Path | None = None) -> Path:
    if data_folder is not None:
        return Path(data_folder)
    from core.model.checkpoints import user_data_folder  # noqa: PLC0415 - torch only when needed

    return user_data_folder()


def runs_folder(data_folder: str | Path | None = None) -> Path:
    return data_root(data_folder) / RUNS


def dataset_folder_for(midi_folder: str | Path, data_folder: str | Path | None = None) -> Path:
    """Where the prepared music of ``midi_folder`` is kept: ``datasets/<its name>-<8 hex digits>``,
    the digits from its absolute path, so that two folders of the same name do not share one."""
    resolved = Path(midi_folder).expanduser().resolve()
    digest = hashlib.sha1(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in resolved.name)[:40] or "music"
    return data_root(data_folder) / DATASETS / f"{stem}-{digest}"


# ------------------------------------------------------------------------------------- names
def check_name(name: str) -> str:
    """``name`` without surrounding spaces if it can name a run (and its folder), else TrainingError.

    Letters and digits of any script, spaces and ``- _ . ( ) + , ' &``; it starts with a letter or
    digit, is at most 64 characters long and does not end with a dot (Windows drops it)."""
    text = name.strip()
    if not text:
        raise TrainingError("a model needs a name")
    if len(text) > MAX_NAME:
        raise TrainingError(f"{text[:20]}…: a name has at most {MAX_NAME} characters")
    bad = sorted({c for c in text if not (c.isalnum() or c in NAME_PUNCTUATION)})
    if bad:
        raise TrainingError(f"{text}: a name cannot hold {' '.join(repr(c) for c in bad)}")
    if not text[0].isalnum() or text.endswith("."):
        raise TrainingError(f"{text}: a name starts with a letter or digit and does not end with a dot")
    return text


def unique_name(base: str, runs_dir: str | Path, taken: Iterable[str] = ()) -> str:
    """``base`` made into a valid name no run folder and no name in ``taken`` has: "songs", "songs 2"..."""
    cleaned = "".join(c if c.isalnum() or c in NAME_PUNCTUATION else " " for c in base).strip(" .")[: MAX_NAME - 4]
    while cleaned and not cleaned[0].isalnum():
        cleaned = cleaned[1:]
    cleaned = cleaned.rstrip(" .") or "model"
    used = {n.casefold() for n in taken}
    runs_dir = Path(runs_dir)
    candidate, number = cleaned, 1
    while candidate.casefold() in used or (runs_dir / candidate).exists():
        number += 1
        candidate = f"{cleaned} {number}"
    return candidate


# ------------------------------------------------------------------------------------ status
@dataclass(frozen=True)
class RunSummary:
    """What the run list shows about one run folder.

    ``status``: ``new`` (no epoch saved yet), ``stopped`` (can go on), ``early`` (early stopping ended
    it), ``finished`` (all its epochs done). ``best_loss`` is the monitored (validation) loss of the
    best epoch; ``metrics`` the best model's card metrics (``val_pitch_accuracy``...)."""

    name: str
    path: Path
    kind: str
    preset: str
    size: str
    epochs_done: int
    epochs: int
    best_epoch: int
    best_loss: float | None
    status: str
    has_model: bool
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # run.json as written at the start

    @property
    def resumable(self) -> bool:
        return self.status in ("new", "stopped")

    @property
    def model_path(self) -> Path:
        return self.path / "best.safetensors"

    def status_text(self) -> str:
        return {
            "new": "no epoch saved",
            "stopped": f"stopped at {self.epochs_done}/{self.epochs}",
            "early": f"done early ({self.epochs_done}/{self.epochs})",
            "finished": "finished",
        }[self.status]


def read_safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file, reading only its header (no tensors, no torch)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 2 <= size <= MAX_HEADER_BYTES:
                raise ValueError(f"header size {size}")
            header = json.loads(handle.read(size))
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise TrainingError(f"{path}: not a readable checkpoint ({error})") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise TrainingError(f"{path}: cannot be read ({error})") from None
    return data if isinstance(data, dict) else {}


def read_run(run_dir: str | Path) -> RunSummary:
    """The state of one run folder, or :class:`TrainingError` when it holds no readable run."""
    run_dir = Path(run_dir)
    info = _json_file(run_dir / "run.json")
    if not info:
        raise TrainingError(f"{run_dir}: not a run folder (no run.json)")
    training = dict(info.get("training") or {})
    trainer: dict[str, Any] = {}
    last = run_dir / "last.safetensors"
    if last.is_file():
        metadata = read_safetensors_metadata(last)
        try:
            trainer = json.loads(metadata.get("trainer", "{}"))
            training.update((json.loads(metadata.get("card", "{}")).get("training") or {}))
        except ValueError as error:
            raise TrainingError(f"{last}: damaged training state ({error})") from None
    card = _json_file(run_dir / "best.json") if (run_dir / "best.safetensors").is_file() else {}
    epochs = int(training.get("epochs", 0))
    done = int(trainer.get("epoch", 0))
    patience = int(training.get("patience", 0))
    if not trainer:
        status = "new"
    elif done >= epochs:
        status = "finished"
    elif patience and int(trainer.get("bad_epochs", 0)) >= patience:
        status = "early"
    else:
        status = "stopped"
    best_loss = trainer.get("best_loss")
    network = info.get("network") or {}
    return RunSummary(
        name=str(card.get("name") or info.get("name") or run_dir.name),
        path=run_dir,
        kind="continuation" if network.get("use_context", True) else "interpolation",
        preset=str(info.get("preset") or "?"),
        size=str(info.get("size") or "?"),
        epochs_done=done,
        epochs=epochs,
        best_epoch=int(trainer.get("best_epoch", 0)),
        best_loss=float(best_loss) if isinstance(best_loss, (int, float)) and math.isfinite(best_loss) else None,
        status=status,
        has_model=bool(card),
        metrics={k: v for k, v in (card.get("metrics") or {}).items() if isinstance(v, (int, float))},
        info=info,
    )


def list_runs(data_folder: str | Path | None = None) -> list[RunSummary]:
    """Every readable run in the data folder, by name (a damaged run is left out, not fatal)."""
    root = runs_folder(data_folder)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and (folder / "run.json").is_file():
            try:
                found.append(read_run(folder))
            except TrainingError:
                continue
    return sorted(found, key=lambda run: run.name.casefold())


def read_records(run_dir: str | Path) -> dict[str, list]:
    """The run's ``records.json`` (``steps`` and ``epochs``), empty lists when it has none yet."""
    records = _json_file(Path(run_dir) / "records.json")
    return {"steps": list(records.get("steps", [])), "epochs": list(records.get("epochs", []))}


# --------------------------------------------------------------------------- rename, delete
def _renamed_card_file(path: Path, name: str) -> bytes:
    """The bytes of safetensors file ``path`` with the name in its card replaced; tensors untouched."""
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    metadata = header.get("__metadata__") or {}
    card = json.loads(metadata.get("card", "{}"))
    card["name"] = name
    header["__metadata__"] = dict(metadata, card=json.dumps(card, indent=2))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the tensor data 8-byte aligned, as safetensors writes it
    return len(text).to_bytes(8, "little") + text + data[8 + size :]


def rename_run(run_dir: str | Path, new_name: str, taken: Iterable[str] = ()) -> Path:
    """Give the run in ``run_dir`` (and its model) the name ``new_name``; returns its new folder.

    ``taken``: names of other models (bundled ones) it must not clash with. The cards are rewritten
    first and the folder renamed last, each step atomic, so an interruption leaves a usable run."""
    from core.model.checkpoints import write_atomically  # noqa: PLC0415

    run_dir = Path(run_dir)
    run = read_run(run_dir)
    name = check_name(new_name)
    target = run_dir.parent / name
    siblings = [p.name for p in run_dir.parent.iterdir() if p != run_dir]
    others = {t.casefold() for t in [*taken, *siblings]} - {run.name.casefold(), run_dir.name.casefold()}
    if name.casefold() in others or (target.exists() and not os.path.samefile(target, run_dir)):
        raise TrainingError(f"{name}: another model already has this name")
    info = dict(run.info, name=name)
    write_atomically(run_dir / "run.json", (json.dumps(info, indent=2) + "\n").encode())
    for stem in ("best", "last"):
        weights = run_dir / f"{stem}.safetensors"
        if weights.is_file():
            write_atomically(weights, _renamed_card_file(weights, name))
    card_path = run_dir / "best.json"
    if card_path.is_file():
        card = dict(_json_file(card_path), name=name)
        write_atomically(card_path, (json.dumps(card, indent=2) + "\n").encode())
    if target != run_dir:
        run_dir.rename(target)
    return target


def delete_run(run_dir: str | Path) -> None:
    """Delete a run folder and everything in it. Refuses a folder that is not a run (no run.json), so
    that a wrong path can never remove anything else."""
    run_dir = Path(run_dir)
    if run_dir.is_symlink() or not (run_dir / "run.json").is_file():
        raise TrainingError(f"{run_dir}: not a run folder (no run.json); nothing deleted")
    try:
        shutil.rmtree(run_dir)
    except OSError as error:
        raise TrainingError(f"{run_dir}: cannot be deleted ({error.strerror or error})") from None


# ---------------------------------------------------------------------------- start, resume
def start_run(
    run_dir: str | Path,
    dataset_dir: str | Path,
    preset: str | Path = "continuation",
    size: str = "small",
    epochs: int | None = None,
    device: str = "auto",
    init_from: str | Path | None = None,
    extra_info: dict[str, Any] | None = None,
    callbacks: Iterable["Callback"] = (),
    batch_size: int | None = None,
) -> "Trainer":
    """A new run in ``run_dir`` (a new or empty folder) on the prepared music in ``dataset_dir``,
    as ``mahlernet train`` and the Training window start one: the preset's network and training
    configs at ``size``, ``epochs`` and ``batch_size`` if given, and with ``init_from`` (fine-tuning) the network of that
    model. ``run.json`` records where the prepared music is, so that either can resume the run.
    Nothing is left on disk when it cannot start (no usable bars, no such device)."""
    from core.model import checkpoints  # noqa: PLC0415 - torch
    from core.model.batching import dataset_summary, load_pairs  # noqa: PLC0415
    from core.training.distributed import Cluster  # noqa: PLC0415
    from core.model.network import NetworkConfig  # noqa: PLC0415
    from core.training.presets import load_preset  # noqa: PLC0415
    from core.training.trainer import Trainer, TrainingConfig, select_device  # noqa: PLC0415

    run_dir, dataset_dir = Path(run_dir), Path(dataset_dir)
    primary = Cluster.current().primary  # with several training processes, only the first writes files
    existed = run_dir.exists()
    if primary and existed and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise TrainingError(f"{run_dir}: the folder is not empty (a run is there already?); choose another name, or resume it")
    select_device(device)
    chosen = load_preset(preset, size)
    network, training = chosen.network, chosen.training
    if epochs:
        training = training.with_epochs(epochs)
    if batch_size is not None:
        if batch_size < 1:
            raise TrainingError(f"batch size {batch_size}: use at least 1 bar per step")
        training = TrainingConfig.from_dict(dict(training.to_dict(), batch_size=batch_size))
    if init_from is not None:
        network = NetworkConfig.from_dict(checkpoints.read_card(init_from)["network"])
    network = _with_dataset_instruments(network, dataset_dir, init_from is not None)
    if network.instrument_table.has_drums and training.transpose:
        # A drum key is not a pitch: moved by a semitone, a snare becomes a hand clap.
        training = TrainingConfig.from_dict(dict(training.to_dict(), transpose=0))
    pairs = load_pairs(dataset_dir, network.context_bars, training.max_events or None)
    if len(pairs) < 1:
        raise TrainingError(f"{dataset_dir}: no usable bars to train on")
    info = {
        "name": run_dir.name,
        "preset": chosen.name,
        "size": chosen.size,
        "dataset": {"folder": dataset_dir.resolve().name, **pairs.summary(), "manifest": dataset_summary(dataset_dir)},
        "dataset_dir": str(dataset_dir.resolve()),
        **(extra_info or {}),
    }
    try:
        return Trainer.start(run_dir, pairs, network, training, info, device, callbacks, init_from)
    except BaseException:  # no epoch has run: at most run.json was written
        if not primary:
            raise
        if existed:
            (run_dir / "run.json").unlink(missing_ok=True)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _with_dataset_instruments(network: "NetworkConfig", dataset_dir: Path, fine_tuning: bool) -> "NetworkConfig":
    """``network`` set to the instrument table the dataset was encoded with (its manifest), so that a
    model trained on a drum dataset knows its drum class. Fine-tuning keeps the model's table, and
    a dataset of another table is refused: its classes would mean other instruments."""
    import dataclasses  # noqa: PLC0415
    import json  # noqa: PLC0415

    try:
        table = json.loads((dataset_dir / "manifest.json").read_text())["options"]["instruments"]
    except (OSError, ValueError, KeyError, TypeError):
        return network  # a bare folder of pieces: the preset's table
    if table == network.instruments:
        return network
    if fine_tuning:
        raise TrainingError(
            f"{dataset_dir}: encoded with the {table} instrument table, the model with {network.instruments}; "
            f"preprocess again with --instruments {network.instruments}"
        )
    try:
        return dataclasses.replace(network, instruments=table)
    except ValueError as error:
        raise TrainingError(f"{dataset_dir}: {error}") from None


def resume_run(
    run_dir: str | Path,
    device: str = "auto",
    callbacks: Iterable["Callback"] = (),
    epochs: int | None = None,
    dataset_dir: str | Path | None = None,
) -> "Trainer":
    """Go on with the run in ``run_dir`` from its last checkpoint, on ``dataset_dir`` or else the
    prepared music it was started with (``dataset_dir`` in its ``run.json``)."""
    from core.model.batching import load_pairs  # noqa: PLC0415 - torch
    from core.training.trainer import Trainer, read_run_info, select_device  # noqa: PLC0415

    run_dir = Path(run_dir)
    network, training, info = read_run_info(run_dir)
    dataset = dataset_dir or info.get("dataset_dir")
    if not dataset or not Path(dataset).is_dir():
        where = dataset or "unknown folder"
        raise TrainingError(f"{run_dir}: its prepared music ({where}) is gone; prepare the folder again")
    select_device(device)
    pairs = load_pairs(dataset, network.context_bars, training.max_events or None)
    return Trainer.resume(run_dir, pairs, device=device, callbacks=callbacks, epochs=epochs)
