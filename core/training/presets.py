"""Training presets: ``resources/presets/NAME.toml``, each with a ``small`` and a ``full`` size.

A preset file has a ``description``, shared ``[network]`` and ``[training]`` tables (keys of
:class:`core.model.network.NetworkConfig` and :class:`core.training.trainer.TrainingConfig`), and per size
``[small.network]``, ``[small.training]``, ``[full.network]``, ``[full.training]`` tables that override
them. ``NAME`` may also be the path of such a file (tests and experiments use their own).

``kl_per_latent_dimension = true`` in a ``[training]`` table says that its ``beta_max`` and
``free_nats`` follow the original MahlerNet, which took both on the KL *averaged* over the latent
dimensions. Our KL is summed over them (see :mod:`core.model.objective`), so the loader turns them into
``beta_max / z_dim`` and ``free_nats * z_dim`` for the size's ``z_dim``: a preset states the paper's
values once instead of a derived pair per size.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import PresetError
from core.model.network import NetworkConfig
from core.training.trainer import TrainingConfig

PRESET_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "presets"
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
        values = {**data.get("training", {}), **sized.get("training", {})}
        if values.pop("kl_per_latent_dimension", False):
            values = _summed_kl(values, network.z_dim)
        training = TrainingConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise PresetError(path, str(error)) from None
    return Preset(path.stem, size, str(data.get("description", "")), network, training)


def _summed_kl(values: dict[str, Any], z_dim: int) -> dict[str, Any]:
    """``beta_max`` and ``free_nats`` given per latent dimension (the original's mean KL) as the same
    loss on our summed KL: ``beta * max(KL / Z - F, 0) = (beta / Z) * max(KL - F * Z, 0)``."""
    defaults = TrainingConfig()
    beta, free = values.get("beta_max", defaults.beta_max), values.get("free_nats", defaults.free_nats)
    return {**values, "beta_max": beta / z_dim, "free_nats": free * z_dim}
