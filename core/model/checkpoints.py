"""Model files: safetensors weights with a JSON model card, training checkpoints, and the registry.

A **model** is ``NAME.safetensors`` (the network's tensors; its header metadata holds the card) with
``NAME.json`` beside it (the same card, for people and for listing models without opening weights).
The card names the file format, the representation version, the network config, the preset, the
dataset summary, metrics, epochs, hardware and time. A **training checkpoint** (``last.safetensors``
of a run) holds in one file the model tensors (``model/...``), the optimizer's tensors
(``optimizer/...``), the random generators' states (``rng/...``) and, in its metadata, the card and
the trainer's JSON state, so that one atomic rename saves all of it.

Every file is written to a temporary name and renamed, so a crash never leaves half a checkpoint.
Loading never unpickles anything (no ``torch.load``) and trusts nothing before checking it
(:mod:`core.model.card_checks`): the file's size, the header's JSON, the card's network config, every
tensor's shape against that config (before any tensor is read) and every value (no NaN or infinity).
A file that fails raises :class:`CheckpointError` naming the file and the reason.

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

from core.model.card_checks import MAX_CARD_BYTES, MAX_MODEL_BYTES, CardError, network_config, parse_card
from core.errors import CheckpointError, ModelNotFoundError
from core.model.network import MahlerNet, NetworkConfig
from core.representation.events import REPRESENTATION_VERSION

FORMAT = "mahlernet-model"
FORMAT_VERSION = 1
PROJECT_MODELS = Path(__file__).resolve().parents[2] / "models"


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


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files an interrupted :func:`write_atomically` left in ``folder`` (a kill
    between the write and the rename) and return them."""
    stale = sorted(Path(folder).glob(".*.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _card_json(card: dict[str, Any]) -> str:
    return json.dumps(card, indent=2, sort_keys=False)


def make_card(model: MahlerNet, **fields: Any) -> dict[str, Any]:
    """A model card: format, representation version, kind, network config, plus ``fields``."""
    card = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "representation_version": REPRESENTATION_VERSION,
        "kind": "arranger" if model.config.chords else ("continuation" if model.config.use_context else "interpolation"),
        "parameters": model.parameter_count(),
        "network": model.config.to_dict(),
    }
    card.update(fields)
    return card


def save_model(path: str | Path, model: MahlerNet, card: dict[str, Any], half: bool = False) -> Path:
    """Write ``path`` (.safetensors) and its ``.json`` card; ``half`` stores float tensors as fp16."""
    path = Path(path)
    card = dict(card, dtype="float16" if half else "float32")
    if model.config.chords:  # a chord-conditioned model is an arranger whatever its card said before
        card["kind"] = "arranger"
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
def _read_header(path: Path) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    """The tensors' shapes and the metadata of a safetensors file, read without its data: the file's
    size and its header's size and nesting are checked before anything is parsed."""
    if not path.is_file():
        raise CheckpointError(path, "no such model file")
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise CheckpointError(path, f"{size:,} bytes: larger than any model ({MAX_MODEL_BYTES:,} at most)")
        with open(path, "rb") as handle:
            header_size = int.from_bytes(handle.read(8), "little")
            if size < 8 or not 2 <= header_size <= min(size - 8, 4 * MAX_CARD_BYTES):
                raise CheckpointError(path, "not a safetensors model file (bad header length)")
            header = parse_card(handle.read(header_size).decode("utf-8"))
    except CardError as error:
        raise CheckpointError(path, f"not a safetensors model file ({error})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(path, f"not a safetensors model file ({str(error).splitlines()[0][:80]})") from None
    metadata = header.pop("__metadata__", None) or {}
    try:
        shapes = {str(name): tuple(int(d) for d in entry["shape"]) for name, entry in header.items()}
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(path, "not a safetensors model file (bad tensor entries)") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(path, "not a safetensors model file (bad metadata)")
    return shapes, metadata


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_tensors(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as error:
        raise CheckpointError(path, f"damaged model file ({str(error).splitlines()[0][:80]})") from None


def _check_card(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    if not isinstance(metadata.get("card"), str):
        raise CheckpointError(path, "safetensors file without a MahlerNet model card")
    try:
        card = parse_card(metadata["card"])
    except CardError as error:
        raise CheckpointError(path, str(error)) from None
    if card.get("format") != FORMAT:
        raise CheckpointError(path, "not a MahlerNet model")
    if card.get("representation_version") != REPRESENTATION_VERSION:
        raise CheckpointError(
            path, f"made for representation version {card.get('representation_version')}, this program uses {REPRESENTATION_VERSION}"
        )
    return card


def _config(path: Path, card: dict[str, Any]) -> NetworkConfig:
    try:
        return network_config(card.get("network"))
    except CardError as error:
        raise CheckpointError(path, str(error)) from None


def _check_shapes(path: Path, config: NetworkConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """The weights in the file are exactly those of ``config``'s network: checked on a network built on
    the meta device, which allocates nothing, before any tensor is read."""
    with torch.device("meta"):
        expected = {name: tuple(t.shape) for name, t in MahlerNet(config).state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    if missing or extra:
        raise CheckpointError(path, f"weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, shape in shapes.items():
        if shape != expected[name]:
            raise CheckpointError(path, f"tensor {name} has shape {shape}, expected {expected[name]}")


def _build(path: Path, config: NetworkConfig, state: dict[str, torch.Tensor], device: str | torch.device) -> MahlerNet:
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(path, f"tensor {name} has NaN or infinite values")
    model = MahlerNet(config)
    expected = model.state_dict()
    model.load_state_dict({name: tensor.to(expected[name].dtype) for name, tensor in state.items()})
    return model.to(device).eval()


def _load(path: Path, device: str | torch.device) -> tuple[MahlerNet, dict[str, Any], dict[str, torch.Tensor], dict[str, str]]:
    """Model, card, every tensor and the metadata of a model file or training checkpoint, each part
    checked before the next is read."""
    shapes, metadata = _read_header(path)
    card = _check_card(path, metadata)
    config = _config(path, card)
    checkpoint = "trainer" in metadata  # a training checkpoint: the model's tensors are under model/
    _check_shapes(path, config, {k.removeprefix("model/"): v for k, v in shapes.items() if k.startswith("model/") or not checkpoint})
    tensors = _read_tensors(path)
    state = {k.removeprefix("model/"): v for k, v in tensors.items() if k.startswith("model/") or not checkpoint}
    return _build(path, config, state, device), card, tensors, metadata


def read_card(path: str | Path) -> dict[str, Any]:
    """The card of a model or checkpoint file (validated, network config included)."""
    path = Path(path)
    _, metadata = _read_header(path)
    card = _check_card(path, metadata)
    _config(path, card)
    return card


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[MahlerNet, dict[str, Any]]:
    """The network of a model file or training checkpoint (in eval mode, float32) and its card."""
    model, card, _, _ = _load(Path(path), device)
    return model, card


@dataclass(frozen=True)
class TrainingState:
    model: MahlerNet
    card: dict[str, Any]
    trainer: dict[str, Any]
    optimizer: dict[str, Any]  # a state dict for Optimizer.load_state_dict
    rng: dict[str, torch.Tensor]


def load_training_state(path: str | Path, device: str | torch.device = "cpu") -> TrainingState:
    path = Path(path)
    model, card, tensors, metadata = _load(path, device)
    if "trainer" not in metadata or "optimizer" not in metadata:
        raise CheckpointError(path, "a model file, not a training checkpoint")
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
    problem: str = ""  # why the model cannot be used ("" = it can)

    @property
    def kind(self) -> str:
        return str(self.card.get("kind", "?"))

    @property
    def usable(self) -> bool:
        return not self.problem

    def summary(self) -> str:
        if self.problem:
            return f"cannot be used: {self.problem}"
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

    A card that cannot be read or holds a bad network config is listed with its ``problem`` (a broken
    model must neither hide the others nor disappear without a word); its weights are only checked
    when it is loaded. Training checkpoints (``last``) and JSON files of other kinds are not listed.
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
                info = _model_info(card_path, weights)
                if info is not None:
                    found[weights] = info
    return sorted(found.values(), key=lambda info: (info.name, str(info.path)))


def _model_info(card_path: Path, weights: Path) -> ModelInfo | None:
    """The registry's entry for one card (None for a JSON file that is not a model card)."""
    name = card_path.parent.name if card_path.stem == "best" else card_path.stem
    try:
        if card_path.stat().st_size > MAX_CARD_BYTES:
            raise CardError(f"model card of {card_path.stat().st_size:,} bytes (at most {MAX_CARD_BYTES:,})")
        card = parse_card(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, CardError) as error:
        return ModelInfo(name=name, path=weights, card={}, problem=f"{card_path.name}: {error}")
    if card.get("format") != FORMAT:
        return None
    name = str(card.get("name") or name)
    try:
        network_config(card.get("network"))
    except CardError as error:
        return ModelInfo(name=name, path=weights, card=card, problem=f"{card_path.name}: {error}")
    if card.get("representation_version") != REPRESENTATION_VERSION:
        problem = f"made for representation version {card.get('representation_version')}, this program uses {REPRESENTATION_VERSION}"
        return ModelInfo(name=name, path=weights, card=card, problem=problem)
    return ModelInfo(name=name, path=weights, card=card)


def resolve_model(name_or_path: str | Path, folders: list[Path] | None = None) -> Path:
    """A model file given its path, its run folder, or its name in the registry."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "best.safetensors").is_file():
        return path / "best.safetensors"
    if path.suffix == ".safetensors" or path.exists():
        return path
    for info in find_models(folders):
        if info.name == str(name_or_path):
            if info.problem:
                raise CheckpointError(info.path, info.problem)
            return info.path
    raise ModelNotFoundError(f"no model named {name_or_path!r} (see `mahlernet models`)")
