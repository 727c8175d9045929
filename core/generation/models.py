"""Which model a generation job uses when the composer names none.

Continue and reconstruct want a *continuation* model (context on); interpolate wants an *interpolation*
model (context off). The bundled ``classical-<kind>`` model is preferred, then any other model of that
kind in the bundled folder, then the user's own models of that kind (see
:func:`core.model.checkpoints.find_models`). Without one, :class:`ModelNotFoundError` says so in one line.
"""

from __future__ import annotations

from pathlib import Path

from core.model.checkpoints import PROJECT_MODELS, default_model_folders, find_models, load_model, resolve_model
from core.errors import ModelNotFoundError
from core.model.network import MahlerNet

KINDS = ("continuation", "interpolation")


def default_model_path(kind: str, folders: list[Path] | None = None) -> Path:
    """The model file a job of ``kind`` uses by default."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    folders = default_model_folders() if folders is None else folders
    found = [m for m in find_models(folders) if m.kind == kind and m.usable]
    if not found:
        raise ModelNotFoundError(
            f"no {kind} model is installed (none bundled in models/ or trained by you); "
            "train one with `mahlernet train` or name one with --model"
        )

    def rank(info) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
        bundled = PROJECT_MODELS in info.path.parents
        return (0 if info.name == f"classical-{kind}" else 1, 0 if bundled else 1, info.name)

    return min(found, key=rank).path


def model_path_for(kind: str, name: str | None = None, folders: list[Path] | None = None) -> Path:
    """The model file :func:`load_for` loads for ``kind`` and ``name``."""
    return resolve_model(name, folders) if name else default_model_path(kind, folders)


def load_for(kind: str, name: str | None = None, device: str = "cpu", folders: list[Path] | None = None) -> tuple[MahlerNet, dict]:
    """The model named ``name`` (a path, run folder or registry name), or the default for ``kind``."""
    return load_model(model_path_for(kind, name, folders), device)
