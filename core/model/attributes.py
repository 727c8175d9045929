"""Attribute vectors: directions in a model's latent space that make bars denser, higher, fuller ...

MusicVAE's recipe (Roberts et al., 2018, section 5.3): encode many bars, take the mean latent code
(posterior mean) of the bars in the top quartile of an attribute and subtract the mean code of the
bottom quartile. Adding that vector to a bar's code before decoding moves the attribute; an amount
of 1 adds one vector's length, -1 takes it away.

The attributes, each a number measured on one bar's events (:func:`bar_attributes`; times in units
of 1/24 of the meter's normalised quarter q*, see :mod:`core.representation.meters`):

==========  =================================================================================
name        what it measures
==========  =================================================================================
density     notes per q* of the bar
register    the mean MIDI pitch of the notes
polyphony   the mean number of the bar's notes sounding at each distinct onset
busyness    the share of distinct onsets that fall off the q* beats (rhythmic busyness)
stepwise    the share of the top voice's moves (highest note of each onset) of at most 2 semitones
duration    the mean log2 of the notes' durations in q* (long notes against short ones)
==========  =================================================================================

An attribute that a bar cannot have (the register of a silent bar, the motion of a one-onset top
voice) is NaN and leaves that bar out of that attribute's figures.

The vectors of a model live beside its weights, as ``NAME.attributes.safetensors``: one float32
tensor (z_dim,) per attribute. ``scripts/attribute_vectors.py`` computes them and measures them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from core.errors import CheckpointError, GenerationError
from core.representation.events import LOWEST_PITCH, EventArrays
from core.representation.vocabulary import CLASS_UNITS_ARRAY, UNITS_PER_QUARTER

ATTRIBUTES = ("density", "register", "polyphony", "busyness", "stepwise", "duration")
DESCRIPTIONS = {
    "density": "note density (notes per beat)",
    "register": "register (mean pitch)",
    "polyphony": "polyphony (notes sounding together)",
    "busyness": "rhythmic busyness (share of off-beat onsets)",
    "stepwise": "stepwise motion of the top voice",
    "duration": "note length (long against short notes)",
}
IN_WORDS = {
    "density": "note density",
    "register": "register",
    "polyphony": "polyphony",
    "busyness": "busyness",
    "stepwise": "stepwise motion",
    "duration": "note length",
}
STEP = 2  # semitones: a top-voice move this small or smaller is a step
FILE_FORMAT = "mahlernet-attributes"
FILE_VERSION = "1"
MAX_AMOUNT = 10.0


def bar_attributes(events: EventArrays, bar_units: int) -> np.ndarray:
    """The six attributes (order of :data:`ATTRIBUTES`) of one bar lasting ``bar_units`` units."""
    values = np.full(len(ATTRIBUTES), np.nan)
    onset = np.cumsum(CLASS_UNITS_ARRAY[np.asarray(events.offset, np.int64)]) if len(events) else np.zeros(0, np.int64)
    is_note = (~events.is_pause) & (events.pitch >= 0)
    starts = onset[is_note]
    pitches = events.pitch[is_note].astype(np.int64) + LOWEST_PITCH
    lengths = CLASS_UNITS_ARRAY[events.duration[is_note].astype(np.int64)]
    values[0] = len(pitches) / max(bar_units / UNITS_PER_QUARTER, 1e-9)
    if not len(pitches):
        return values
    values[1] = float(pitches.mean())
    times = np.unique(starts)
    sounding = [(starts <= t) & (starts + lengths > t) for t in times]
    values[2] = float(np.mean([s.sum() for s in sounding]))
    values[3] = float(np.mean(times % UNITS_PER_QUARTER != 0))
    top = np.array([pitches[starts == t].max() for t in times])
    if len(top) > 1:
        values[4] = float(np.mean(np.abs(np.diff(top)) <= STEP))
    values[5] = float(np.mean(np.log2(np.maximum(lengths, 1) / UNITS_PER_QUARTER)))
    return values


OWN_GOAL = 1.0  # standard deviations a vector should move its own attribute by (issue #18's goal)
OTHERS_SHARE = 0.5  # ... while every other attribute moves by less than this share of that
SIDE_EFFECT = 0.25  # standard deviations: a smaller move of another attribute is not worth a composer's word


def moves_alone(own: float, others: Iterable[float]) -> bool:
    """Whether a vector moved its own attribute by at least :data:`OWN_GOAL` standard deviations while
    every other attribute moved by less than :data:`OTHERS_SHARE` of that (MusicVAE's measure)."""
    moved = [abs(float(v)) for v in others]
    if not all(np.isfinite(moved)):  # an attribute that could not be measured proves nothing
        return False
    return bool(own >= OWN_GOAL and max(moved, default=0.0) < OTHERS_SHARE * abs(own))


@dataclass(frozen=True)
class MeasuredEffect:
    """What adding one attribute vector did to held-out bars: one row of the table in the model's card
    (``attributes.change_sd``), the mean change of every attribute in standard deviations of that
    attribute over the test bars, at ``amount`` vector lengths. The sliders show it, so that a composer
    knows that (say) more stepwise motion also comes with busier rhythm in this model."""

    name: str
    amount: float
    bars: int
    change: tuple[tuple[str, float], ...]  # (attribute, change in SD), in the order of ATTRIBUTES

    @property
    def own(self) -> float:
        return dict(self.change).get(self.name, 0.0)

    def side_effects(self, at_least: float = SIDE_EFFECT) -> list[tuple[str, float]]:
        """The other attributes that moved by ``at_least`` standard deviations or more, largest first."""
        moved = [(n, v) for n, v in self.change if n != self.name and abs(v) >= at_least]
        return sorted(moved, key=lambda item: -abs(item[1]))

    def describe(self) -> str:
        """One or two sentences for a slider's tooltip, e.g. "Measured on 200 held-out bars at +1.5
        (SD: the spread of an attribute over real bars): note density +0.45 SD; it also moved
        polyphony +0.50 SD, note length -0.33 SD." """
        text = (
            f"Measured on {self.bars} held-out bars at {self.amount:+g} (SD: the spread of an attribute over real bars): "
            f"{IN_WORDS.get(self.name, self.name)} {self.own:+.2f} SD"
        )
        side = self.side_effects()
        if not side:
            return text + f"; nothing else by {SIDE_EFFECT:g} SD or more."
        moved = ", ".join(f"{IN_WORDS.get(n, n)} {v:+.2f} SD" for n, v in side)
        return text + f"; it also moved {moved}."


def measured_effects(card: Mapping[str, object]) -> dict[str, MeasuredEffect]:
    """The measured effect of each attribute vector, from a model card's ``attributes`` entry
    (written by ``scripts/attribute_vectors.py``); {} for a card without one. The entry only informs
    the sliders, so a row that is not a table of numbers is left out rather than refused."""
    entry = card.get("attributes")
    if not isinstance(entry, Mapping) or not isinstance(entry.get("change_sd"), Mapping):
        return {}
    try:
        amount, bars = float(entry.get("amount", 0.0)), int(entry.get("test_bars", 0))
    except (TypeError, ValueError):
        return {}
    effects = {}
    for name, row in entry["change_sd"].items():
        if not isinstance(row, Mapping):
            continue
        try:
            change = tuple((str(other), float(value)) for other, value in row.items())
        except (TypeError, ValueError):
            continue
        if all(np.isfinite(v) for _, v in change):
            effects[str(name)] = MeasuredEffect(str(name), amount, bars, change)
    return effects


@dataclass(frozen=True)
class AttributeVectors:
    """One latent direction per attribute, for one model (``vectors[i]`` belongs to ``names[i]``)."""

    names: tuple[str, ...]
    vectors: np.ndarray  # (attributes, z_dim) float32

    def __post_init__(self) -> None:
        vectors = np.asarray(self.vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(self.names):
            raise ValueError(f"{len(self.names)} attribute names need as many vectors, got shape {vectors.shape}")
        object.__setattr__(self, "vectors", vectors)
        object.__setattr__(self, "names", tuple(self.names))

    @property
    def z_dim(self) -> int:
        return int(self.vectors.shape[1])

    def vector(self, name: str) -> np.ndarray:
        return self.vectors[self.names.index(name)]

    def shift(self, amounts: Mapping[str, float]) -> np.ndarray:
        """The latent offset (z_dim,) for ``amounts`` (attribute name -> vector lengths)."""
        total = np.zeros(self.z_dim, np.float32)
        for name, amount in amounts.items():
            if name not in self.names:
                raise GenerationError(f"unknown attribute {name!r} (known: {', '.join(self.names)})")
            total += np.float32(amount) * self.vector(name)
        return total

    def save(self, path: str | Path) -> None:
        """Write as safetensors (one tensor per attribute; never pickle), atomically."""
        import torch  # noqa: PLC0415
        from safetensors.torch import save as save_tensors  # noqa: PLC0415

        from core.model.checkpoints import write_atomically  # noqa: PLC0415

        tensors = {name: torch.from_numpy(self.vectors[i].copy()) for i, name in enumerate(self.names)}
        metadata = {"format": FILE_FORMAT, "version": FILE_VERSION, "names": ",".join(self.names)}
        write_atomically(Path(path), save_tensors(tensors, metadata=metadata))

    @classmethod
    def load(cls, path: str | Path) -> "AttributeVectors":
        """Read a file written by :meth:`save`; anything else raises :class:`CheckpointError`."""
        from safetensors import SafetensorError  # noqa: PLC0415
        from safetensors.numpy import load as load_arrays  # noqa: PLC0415

        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CheckpointError(path, f"cannot read the attribute vectors ({error.strerror or error})") from None
        try:
            arrays = load_arrays(data)
            metadata = _metadata(data)
        except (SafetensorError, ValueError) as error:
            raise CheckpointError(path, f"not an attribute-vector file ({str(error).splitlines()[0][:80]})") from None
        if metadata.get("format") != FILE_FORMAT:
            raise CheckpointError(path, "not an attribute-vector file (no mahlernet-attributes header)")
        names = tuple(n for n in metadata.get("names", "").split(",") if n)
        if not names or any(n not in arrays for n in names):
            raise CheckpointError(path, "the attribute-vector file lists vectors it does not hold")
        shapes = {arrays[n].shape for n in names}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise CheckpointError(path, "the attribute vectors do not all have one shape (z_dim,)")
        vectors = np.stack([arrays[n] for n in names]).astype(np.float32)
        if not np.isfinite(vectors).all():
            raise CheckpointError(path, "the attribute vectors hold NaN or infinite values")
        return cls(names, vectors)


def _metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file held in ``data``."""
    import json  # noqa: PLC0415

    if len(data) < 8:
        raise ValueError("file too short")
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError("bad metadata")
    return metadata


VECTORS_SUFFIX = ".attributes.safetensors"


def vectors_path(model_path: str | Path) -> Path:
    """Where the attribute vectors of the model file ``model_path`` live: ``NAME.attributes.safetensors``."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}{VECTORS_SUFFIX}")


def is_vectors_file(path: str | Path) -> bool:
    """Whether ``path`` is named as a model's attribute vectors are (a weights file, but not a model)."""
    return Path(path).name.endswith(VECTORS_SUFFIX)


def load_for_model(model_path: str | Path) -> AttributeVectors:
    """The attribute vectors beside ``model_path``; :class:`GenerationError` when it has none."""
    path = vectors_path(model_path)
    if not path.exists():
        raise GenerationError(
            f"{Path(model_path).name} has no attribute vectors ({path.name}); compute them with scripts/attribute_vectors.py"
        )
    return AttributeVectors.load(path)


def parse_amounts(texts: Iterable[str], known: Sequence[str] = ATTRIBUTES) -> dict[str, float]:
    """``["density=+1.5", "register=-1"]`` -> ``{"density": 1.5, "register": -1.0}``; a name given twice
    adds up. Unknown names and amounts that are not numbers raise :class:`GenerationError`."""
    amounts: dict[str, float] = {}
    for text in texts:
        name, sign, value = text.partition("=")
        name = name.strip().lower()
        if not sign:
            raise GenerationError(f"attribute {text!r}: write NAME=AMOUNT, e.g. density=+1.5")
        if name not in known:
            raise GenerationError(f"unknown attribute {name!r} (known: {', '.join(known)})")
        try:
            amount = float(value)
        except ValueError:
            raise GenerationError(f"attribute {text!r}: the amount {value.strip()!r} is not a number") from None
        if not abs(amount) <= MAX_AMOUNT:
            raise GenerationError(f"attribute {text!r}: use an amount from -{MAX_AMOUNT:g} to {MAX_AMOUNT:g}")
        amounts[name] = amounts.get(name, 0.0) + amount
    return amounts


def latent_shift(vectors: AttributeVectors, amounts: Mapping[str, float]) -> tuple[float, ...] | None:
    """The offset for :attr:`Controls.latent_shift` (None when every amount is 0)."""
    if not any(amounts.values()):
        return None
    return tuple(float(x) for x in vectors.shift(amounts))


def model_latent_shift(model_path: str | Path, amounts: Mapping[str, float]) -> tuple[float, ...] | None:
    """:func:`latent_shift` with the vectors beside ``model_path`` (:func:`load_for_model`), read only
    when an amount is not 0: what the app's sliders and the CLI's ``--attribute`` both ask for."""
    if not any(amounts.values()):
        return None
    return latent_shift(load_for_model(model_path), amounts)
