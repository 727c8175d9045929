"""Model files: safetensors weights with a JSON model card, training checkpoints, and the registry.

A **model** is ``NAME.safetensors`` (the network's tensors; its header metadata holds the card) with
``NAME.json`` beside it (the same card, for people and for listing models without opening weights).
The card names the file format, the representation version, the network config, the preset, the
dataset summary, metrics, epochs, hardware and time. A **training checkpoint** (``last.safetensors``
of a run) holds in one file the model tensors (``model/...``), the optimizer's tensors
(``optimizer/...``), the random generators' states (``rng/...``) and, in its metadata, the card and
the trainer's JSON state, so that one atomic rename saves all of it.

Every file is written to a temporary name and renamed, so a crash never leaves half a checkpoint.
Loading never unpickles anything (no ``torch.load``): a file that is not a safetensors file of this
format, or of another representation version, raises :class:`CheckpointError` naming the file.

The **registry** lists the models found in a list of folders: the project's ``models/`` and the
user's data folder (:func:`user_data_folder`, where the app keeps its training runs too). A run folder
counts as one model (its ``best`` weights).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from core.errors import CheckpointError, ModelNotFoundError
from core.network import MahlerNet, NetworkConfig
from core.representation.events import REPRESENTATION_VERSION

FORMAT = "mahlernet-model"
FORMAT_VERSION = 1
PROJECT_MODELS = Path(__file__).resolve().parents[1] / "models"


# ----------------------------------------------------------------------------------- writing
def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:  # a full disk, say: the file at `path` stays as it was, no half file is left
        temporary.unlink(missing_ok=True)
        raise


def _card_json(card: dict[str, Any]) -> str:
    return json.dumps(card, indent=2, sort_keys=False)


def make_card(model: MahlerNet, **fields: Any) -> dict[str, Any]:
    """A model card: format, representation version, kind, network config, plus ``fields``."""
    card = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "representation_version": REPRESENTATION_VERSION,
        "kind": "continuation" if model.config.use_context else "interpolation",
        "parameters": model.parameter_count(),
        "network": model.config.to_dict(),
    }
    card.update(fields)
    return card


def save_model(path: str | Path, model: MahlerNet, card: dict[str, Any], half: bool = False) -> Path:
    """Write ``path`` (.safetensors) and its ``.json`` card; ``half`` stores float tensors as fp16."""
    path = Path(path)
    card = dict(card, dtype="float16" if half else "float32")
    tensors = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        tensors[name] = (tensor.half() if half and tensor.is_floating_point() else tensor).contiguous()
    text = _card_json(card)
    write_atomically(path, save_tensors(tensors, metadata={"card": text}))
    write_atomically(path.with_suffix(".json"), (text + "\n").encode())
    return path


def save_training_state(
    path: str | Path, model: MahlerNet, optimizer: torch.optim.Optimizer, trainer_state: dict[str, Any], card: dict[str, Any]
) -> None:
    """One file with everything ``--resume`` needs (see the module docstring)."""
    tensors = {f"model/{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    scalars: dict[str, Any] = {}
    for index, state in optimizer_state["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{index}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}/{key}"] = value
    tensors["rng/cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for device, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{device}"] = state
    metadata = {
        "card": _card_json(card),
        "trainer": json.dumps(trainer_state),
        "optimizer": json.dumps({"param_groups": optimizer_state["param_groups"], "scalars": scalars}),
    }
    write_atomically(Path(path), save_tensors(tensors, metadata=metadata))


# ----------------------------------------------------------------------------------- reading
def _read(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such model file")
    try:
        data = path.read_bytes()
        tensors = load_tensors(data)
        header_size = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + header_size]).get("__metadata__") or {}
    except (SafetensorError, ValueError, UnicodeDecodeError, OSError) as error:
        raise CheckpointError(path, f"not a safetensors model file ({str(error).splitlines()[0][:80]})") from None
    return tensors, metadata


def _check_card(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    try:
        card = json.loads(metadata["card"])
    except (KeyError, ValueError):
        raise CheckpointError(path, "safetensors file without a MahlerNet model card") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise CheckpointError(path, "not a MahlerNet model")
    if card.get("representation_version") != REPRESENTATION_VERSION:
        raise CheckpointError(
            path, f"made for representation version {card.get('representation_version')}, this program uses {REPRESENTATION_VERSION}"
        )
    return card


def _build(path: Path, card: dict[str, Any], state: dict[str, torch.Tensor], device: str | torch.device) -> MahlerNet:
    try:
        model = MahlerNet(NetworkConfig.from_dict(card["network"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(path, f"model card with a bad network config ({error})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(path, f"weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(path, f"tensor {name} has shape {tuple(tensor.shape)}, expected {tuple(expected[name].shape)}")
    model.load_state_dict({name: tensor.to(expected[name].dtype) for name, tensor in state.items()})
    return model.to(device).eval()


def read_card(path: str | Path) -> dict[str, Any]:
    """The card of a model or checkpoint file (validated)."""
    path = Path(path)
    _, metadata = _read(path)
    return _check_card(path, metadata)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[MahlerNet, dict[str, Any]]:
    """The network of a model file or training checkpoint (in eval mode, float32) and its card."""
    path = Path(path)
    tensors, metadata = _read(path)
    card = _check_card(path, metadata)
    if "trainer" in metadata:  # a training checkpoint: the model's tensors are under model/
        tensors = {k.removeprefix("model/"): v for k, v in tensors.items() if k.startswith("model/")}
    return _build(path, card, tensors, device), card


@dataclass(frozen=True)
class TrainingState:
    model: MahlerNet
    card: dict[str, Any]
    trainer: dict[str, Any]
    optimizer: dict[str, Any]  # a state dict for Optimizer.load_state_dict
    rng: dict[str, torch.Tensor]


def load_training_state(path: str | Path, device: str | torch.device = "cpu") -> TrainingState:
    path = Path(path)
    tensors, metadata = _read(path)
    card = _check_card(path, metadata)
    if "trainer" not in metadata or "optimizer" not in metadata:
        raise CheckpointError(path, "a model file, not a training checkpoint")
    model = _build(path, card, {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}, device)
    try:
        optimizer_meta = json.loads(metadata["optimizer"])
        state: dict[int, dict[str, Any]] = {}
        for key, tensor in tensors.items():
            if key.startswith("optimizer/"):
                _, index, name = key.split("/", 2)
                state.setdefault(int(index), {})[name] = tensor
        for key, value in optimizer_meta["scalars"].items():
            index, name = key.split("/", 1)
            state.setdefault(int(index), {})[name] = value
        optimizer = {"state": state, "param_groups": optimizer_meta["param_groups"]}
        trainer = json.loads(metadata["trainer"])
    except (KeyError, ValueError) as error:
        raise CheckpointError(path, f"damaged training state ({error})") from None
    rng = {k[4:]: v for k, v in tensors.items() if k.startswith("rng/")}
    return TrainingState(model, card, trainer, optimizer, rng)


def export_model(source: str | Path, destination: str | Path, half: bool = True) -> Path:
    """Copy a model (or the model of a training checkpoint) to a shippable file, fp16 by default."""
    model, card = load_model(source)
    return save_model(destination, model, card, half=half)


# ----------------------------------------------------------------------------------- registry
def user_data_folder() -> Path:
    """Where the user's models and runs live: ``$MAHLERNET_DATA``, else ``MahlerNet Studio`` in the
    platform's data folder, the one Qt calls ``GenericDataLocation`` (``$XDG_DATA_HOME`` or
    ``~/.local/share`` on Linux, ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on
    Windows), so that the app and the CLI always look in the same place."""
    if os.environ.get("MAHLERNET_DATA"):
        return Path(os.environ["MAHLERNET_DATA"])
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "MahlerNet Studio"


def default_model_folders() -> list[Path]:
    return [PROJECT_MODELS, user_data_folder()]


@dataclass(frozen=True)
class ModelInfo:
    """One model found by :func:`find_models`; ``card`` is the JSON card beside its weights."""

    name: str
    path: Path
    card: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.card.get("kind", "?"))

    def summary(self) -> str:
        card = self.card
        metrics = card.get("metrics") or {}
        accuracy = metrics.get("val_pitch_accuracy", metrics.get("pitch_accuracy"))
        evaluated = ((card.get("evaluation") or {}).get("properties") or {}).get("pitch") or {}
        accuracy = evaluated.get("teacher_forced_accuracy", accuracy)  # `mahlernet evaluate`'s, where the card has it
        parts = [
            self.kind,
            f"preset {card.get('preset', '?')}/{card.get('size', '?')}",
            f"{card.get('parameters', 0) / 1e6:.1f}M params",
            f"{card.get('epochs', '?')} epochs",
        ]
        if accuracy is not None:
            parts.append(f"pitch acc {100 * accuracy:.1f}%")
        return ", ".join(parts)


def find_models(folders: list[Path] | None = None, depth: int = 3) -> list[ModelInfo]:
    """Every model card with its weights under ``folders`` (up to ``depth`` levels), sorted by name.

    Cards that cannot be read are skipped (a broken model must not hide the others); loading such a
    model later raises :class:`CheckpointError`. Training checkpoints (``last``) are not listed.
    """
    found: dict[Path, ModelInfo] = {}
    for folder in folders if folders is not None else default_model_folders():
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for level in range(depth + 1):
            for card_path in sorted(folder.glob("/".join(["*"] * level + ["*.json"]))):
                weights = card_path.with_suffix(".safetensors")
                if card_path.stem == "last" or not weights.is_file() or weights in found:
                    continue
                try:
                    card = json.loads(card_path.read_text())
                except (OSError, ValueError):
                    continue
                if not isinstance(card, dict) or card.get("format") != FORMAT:
                    continue
                name = card_path.parent.name if card_path.stem == "best" else card_path.stem
                found[weights] = ModelInfo(name=str(card.get("name") or name), path=weights, card=card)
    return sorted(found.values(), key=lambda info: (info.name, str(info.path)))


def resolve_model(name_or_path: str | Path, folders: list[Path] | None = None) -> Path:
    """A model file given its path, its run folder, or its name in the registry."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "best.safetensors").is_file():
        return path / "best.safetensors"
    if path.suffix == ".safetensors" or path.exists():
        return path
    for info in find_models(folders):
        if info.name == str(name_or_path):
            return info.path
    raise ModelNotFoundError(f"no model named {name_or_path!r} (see `mahlernet models`)")
