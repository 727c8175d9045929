"""The output chain, defined once: offset -> beat -> duration -> pitch -> instrument -> velocity.

Every decoder step of MahlerNet ends in this chain (spec 3): the offset head reads the top decoder
output alone; the beat follows from the offset (the onset's place in the bar, which the caller knows);
each later head also reads the one-hots of every value chosen before it. What "chosen" means is the
only thing that differs between the places that run the chain:

* teacher-forced training (:meth:`core.model.network.MahlerNet.chain_logits`) takes the true values and keeps
  every head's logits;
* scheduled sampling (:func:`core.training.scheduled_sampling.sample_events`) samples each value from its
  softmax, at every step of a bar at once;
* generation (:class:`core.generation.sampler.Sampler`, which free-running evaluation runs too) samples
  each value under the composer's rules (meter, ranges, chords ascending), one step at a time.

So they all call :func:`run_chain` with their own ``pick`` and ``beat_of``, over a :class:`Heads`: the
network's heads (:class:`NetworkHeads`, torch) or the NumPy tables of the fast decoder
(:class:`core.generation.fast.step.FastDecoder`). Neither can take the chain in another order, skip
the beat, or condition a head on something else.

A pause (duration 0) has no pitch, instrument or velocity, but the chain still runs to the end for it
(rows of a batch are not split): the caller replaces those values with "none" afterwards
(:func:`silence_pauses`).
"""

from __future__ import annotations

from typing import Callable, Generic, Mapping, Protocol, Sequence, TypeVar

import torch

from core.representation.events import N_BEATS, PROPERTIES, PROPERTY_SIZES

Values = TypeVar("Values")  # an integer array of one value per row (torch.Tensor or np.ndarray)
Logits = TypeVar("Logits")

# What each head reads besides the top decoder output, in the chain's order.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "offset": (),
    "duration": ("offset", "beat"),
    "pitch": ("offset", "beat", "duration"),
    "instrument": ("offset", "beat", "duration", "pitch"),
    "velocity": ("offset", "beat", "duration", "pitch", "instrument"),
}
CHAIN_INPUT_SIZES = {**PROPERTY_SIZES, "beat": N_BEATS}  # the one-hot width of each value a head reads
AFTER_PAUSE = ("pitch", "instrument", "velocity")  # "none" for a pause


def head_slices(properties: Sequence[str]) -> tuple[dict[str, slice], int]:
    """Each head's columns where the logits of ``properties`` lie side by side, and the total width."""
    slices, start = {}, 0
    for name in properties:
        slices[name] = slice(start, start + PROPERTY_SIZES[name])
        start += PROPERTY_SIZES[name]
    return slices, start


class Heads(Protocol[Values, Logits]):
    """The output heads of one decoder step (or of every step of a bar) as one backend computes them."""

    def logits(self, name: str) -> Logits:
        """Logits of head ``name`` given every value :meth:`take` was given this step."""
        ...

    def take(self, name: str, value: Values) -> None:
        """``value`` is the chain's choice of ``name`` (a property or "beat"); later heads read it."""
        ...


Pick = Callable[[str, Logits, Mapping[str, Values]], Values]


def run_chain(
    heads: Heads, pick: Pick, beat_of: Callable[[Values], Values], properties: Sequence[str] = PROPERTIES
) -> dict[str, Values]:
    """Run the chain once: for each property in order, ``pick(name, logits, values so far)`` chooses
    its value from its head's logits (sampling under rules, or the truth); right after the offset,
    ``beat_of(offset)`` gives the beat. Returns every property's value and the beat."""
    values: dict[str, Values] = {}
    for name in properties:
        value = pick(name, heads.logits(name), values)
        values[name] = value
        heads.take(name, value)
        if name == "offset":
            values["beat"] = beat = beat_of(value)
            heads.take("beat", beat)
    return values


class NetworkHeads(Generic[Values]):
    """The chain on :class:`core.model.network.MahlerNet`'s own heads (torch): ``top`` is the top decoder
    output, (B, H) for one step or (B, L, H) for a bar; ``previous_pitch`` switches on the network's
    same-step mask (chords go upwards) where the model has it; ``valid`` marks the steps a batch-normalised
    head takes its statistics from in training."""

    def __init__(self, model, top: torch.Tensor, previous_pitch: torch.Tensor | None = None, valid: torch.Tensor | None = None):
        self.model, self.top, self.previous_pitch, self.valid = model, top, previous_pitch, valid
        self.values: dict[str, torch.Tensor] = {}

    def logits(self, name: str) -> torch.Tensor:
        model, top, valid, given = self.model, self.top, self.valid, self.values
        if name == "offset":
            return model.offset_logits(top, valid)
        offset, beat = given["offset"], given["beat"]
        if name == "duration":
            return model.duration_logits(top, offset, beat, valid)
        if name == "pitch":
            return model.pitch_logits(top, offset, beat, given["duration"], self.previous_pitch, valid)
        if name == "instrument":
            return model.instrument_logits(top, offset, beat, given["duration"], given["pitch"], valid)
        return model.velocity_logits(top, offset, beat, given["duration"], given["pitch"], given["instrument"], valid)

    def take(self, name: str, value: torch.Tensor) -> None:
        self.values[name] = value


def silence_pauses(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``values`` with the pitch, instrument and velocity of every pause (duration 0) set to -1."""
    pause = values["duration"] == 0
    return {name: torch.where(pause, torch.full_like(v, -1), v) if name in AFTER_PAUSE else v for name, v in values.items()}
