"""Generation: continue a piece, interpolate between bars, reconstruct a bar (spec section 5, fixed).

The public API the app and the CLI call:

* :func:`continue_piece` -> :class:`Continuation` (its ``variations``; ``ghost_notes(i)``,
  ``insert(i)``, ``continued(i)``);
* :func:`interpolate` -> :class:`Interpolation` (its ``steps``; ``ghost_notes(i, at_bar)``,
  ``insert(i, at_bar)``, ``sequence()``);
* :func:`reconstruct` -> :class:`Reconstruction` (``accuracy``, ``pair()``);
* :class:`Controls` and :class:`Temperatures` (per-property temperature, allowed instruments,
  playable-range clamp, seed), :data:`PLAYABLE_RANGES`, :func:`instrument_classes`;
* :func:`default_model_path` / :func:`load_for`: the model a job uses when none is named.

Every long function takes ``progress(done, total)`` and ``cancel() -> bool`` callbacks (cancel raises
:class:`core.errors.Cancelled`) and never changes the Score or model it is given.
"""

from core.generation.continuation import Continuation, Variation, continue_piece
from core.generation.controls import PLAYABLE_RANGES, Controls, Temperatures, instrument_classes, playable
from core.generation.interpolation import Interpolation, InterpolationStep, interpolate
from core.generation.models import default_model_path, load_for
from core.generation.placement import GhostNote
from core.generation.reconstruction import Reconstruction, accuracy, reconstruct

__all__ = [
    "PLAYABLE_RANGES",
    "Continuation",
    "Controls",
    "GhostNote",
    "Interpolation",
    "InterpolationStep",
    "Reconstruction",
    "Temperatures",
    "Variation",
    "accuracy",
    "continue_piece",
    "default_model_path",
    "instrument_classes",
    "interpolate",
    "load_for",
    "playable",
    "reconstruct",
]
