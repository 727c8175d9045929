"""Training presets: ``resources/presets/NAME.toml``, each with a ``small`` and a ``full`` size.

A preset file has a ``description``, shared ``[network]`` and ``[training]`` tables (keys of
:class:`core.network.NetworkConfig` and :class:`core.training.TrainingConfig`), and per size
``[small.network]``, ``[small.training]``, ``[full.network]``, ``[full.training]`` tables that override
them. ``NAME`` may also be the path of such a file (tests and experiments use their own).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import PresetError
from core.network import NetworkConfig
from core.training import TrainingConfig

PRESET_FOLDER = Path(__file__).resolve().parents[1] / "resources" / "presets"
SIZES = ("small", "full")


@dataclass(frozen=True)
class Preset:
    name: str
    size: str
    description: str
    network: NetworkConfig
    training: TrainingConfig


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESET_FOLDER.glob("*.toml"))


def load_preset(name: str | Path, size: str = "small") -> Preset:
    """The network and training configs of preset ``name`` at ``size``; :class:`PresetError` if bad."""
    path = Path(name)
    if path.suffix != ".toml":
        path = PRESET_FOLDER / f"{name}.toml"
        if not path.is_file():
            raise PresetError(path, f"no preset named {name!r} (presets: {', '.join(preset_names())})")
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise PresetError(path, "no such preset file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PresetError(path, f"not a readable TOML preset ({error})") from None
    if size not in SIZES:
        raise PresetError(path, f"unknown size {size!r} (use small or full)")
    sized: dict[str, Any] = data.get(size) or {}
    try:
        network = NetworkConfig.from_dict({**data.get("network", {}), **sized.get("network", {})})
        training = TrainingConfig.from_dict({**data.get("training", {}), **sized.get("training", {})})
    except (TypeError, ValueError) as error:
        raise PresetError(path, str(error)) from None
    return Preset(path.stem, size, str(data.get("description", "")), network, training)
