"""Scheduled sampling: train the decoder on some of its own previous outputs instead of the truth.

MahlerNet's decoder only ever saw ground-truth previous events (teacher forcing), while generation
feeds it its own samples. Scheduled sampling narrows that gap. The probability of feeding a sampled
event follows MusicVAE's inverse-sigmoid schedule, ``1 - k / (k + exp(step / k))`` (capped at
``ceiling``).

The original could not do this in its standard setup: a decoder row also holds the event's beat and
the pitches and instruments sounding at its onset, which depend on everything sampled before. Here
they are recomputed from the mixed sequence (:mod:`core.model.features` timing): onsets are the running sum
of the mixed offsets, beats follow from the onsets, and the sounding set is the notes of the mixed
bar still sounding plus the notes held over from earlier bars (taken from the true data: the true
active set minus the true bar's own sounding notes).

We use the *parallel* variant (Duckworth et al., 2019) rather than MusicVAE's step-by-step loop: a
first teacher-forced pass without gradients gives every step's top decoder output; an event is
sampled at every step from the output chain (each property conditioned on the sampled ones before
it); a random subset replaces the true previous events; the second pass, with gradients, decodes the
mixed inputs. This keeps the fused (cuDNN) LSTM and costs one extra forward pass.
"""

from __future__ import annotations

import math

import torch

from core.model.batching import EventBatch, PairBatch, shift_right
from core.model.features import CLASS_UNITS, beats_of, onset_times, sounding_in_bar
from core.model.output_chain import NetworkHeads, run_chain, silence_pauses


def sampling_probability(step: int, rate: float, ceiling: float = 1.0) -> float:
    """MusicVAE's inverse-sigmoid schedule: the chance of feeding a sampled event at ``step``."""
    if rate <= 0:
        return 0.0
    exponent = step / rate
    probability = 1.0 if exponent > 700 else 1.0 - rate / (rate + math.exp(exponent))
    return min(probability, ceiling)


def _sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    probabilities = torch.softmax(logits.float(), dim=-1)
    flat = torch.multinomial(probabilities.reshape(-1, probabilities.shape[-1]), 1, generator=generator)
    return flat.reshape(probabilities.shape[:-1])


@torch.no_grad()
def sample_events(model, top: torch.Tensor, batch: PairBatch) -> dict[str, torch.Tensor]:
    """An event sampled from the output chain (:func:`core.model.output_chain.run_chain`) at every step of a
    teacher-forced pass ``top``.

    The beat that conditions a sampled event's duration and pitch comes from the true onset of the
    step before it plus the sampled offset; the pitch obeys the network's same-step mask against the
    true previous pitch, as in the teacher-forced pass.
    """
    bar = batch.bar
    units = CLASS_UNITS.to(top.device)
    true_time = onset_times(bar.offset)
    before = true_time - units[bar.offset.clamp(min=0)] * (bar.offset >= 0)
    bar_length = batch.bar_length.unsqueeze(1)
    heads = NetworkHeads(model, top, batch.previous.pitch)
    beat_of = lambda offset: beats_of(before + units[offset], bar_length)  # noqa: E731
    sampled = run_chain(heads, lambda _, logits, __: _sample(logits), beat_of, model.config.properties)
    del sampled["beat"]
    sampled = silence_pauses(sampled)
    if not model.config.use_velocity:
        sampled["velocity"] = bar.velocity  # the network never reads it: the true ones stand
    return sampled


def recompute_context(bar: EventBatch, mixed: dict[str, torch.Tensor], bar_length: torch.Tensor) -> EventBatch:
    """The mixed bar with beats and active sets recomputed from its own onsets (see module doc)."""
    time = onset_times(mixed["offset"])
    beat = beats_of(time, bar_length.unsqueeze(1))
    own_p, own_i = sounding_in_bar(time, mixed["duration"], mixed["pitch"], mixed["instrument"])
    true_p, true_i = sounding_in_bar(onset_times(bar.offset), bar.duration, bar.pitch, bar.instrument)
    held_p = bar.active_pitches & ~true_p
    held_i = bar.active_instruments & ~true_i
    valid = bar.mask
    none = torch.full_like(beat, -1)
    return bar.replace(
        **{name: torch.where(valid, value, none) for name, value in mixed.items()},
        beat=torch.where(valid, beat, none),
        active_pitches=(held_p | own_p) & valid.unsqueeze(-1),
        active_instruments=(held_i | own_i) & valid.unsqueeze(-1),
    )


@torch.no_grad()
def mix(model, top: torch.Tensor, batch: PairBatch, probability: float) -> PairBatch:
    """``batch`` with each previous event replaced by a sampled one with chance ``probability``.

    Steps before the first replaced event keep their true rows exactly; from it on, beats and active
    sets are recomputed. Targets stay true; their chain beats follow the mixed onsets.
    """
    bar = batch.bar
    sampled = sample_events(model, top, batch)
    chosen = (torch.rand(bar.offset.shape, device=top.device) < probability) & bar.mask
    true = {name: getattr(bar, name) for name in sampled}
    mixed = {name: torch.where(chosen, sampled[name], true[name]) for name in sampled}
    recomputed = recompute_context(bar, mixed, batch.bar_length)
    changed = torch.cumsum(chosen.long(), dim=1) > 0  # at or after the first replaced event
    keep = lambda new, old: torch.where(changed.unsqueeze(-1) if new.dim() == 3 else changed, new, old)  # noqa: E731
    inputs = bar.replace(
        **{name: keep(getattr(recomputed, name), getattr(bar, name)) for name in (*sampled, "beat", "active_pitches", "active_instruments")}
    )
    # Chain beat of target t: mixed onset of t - 1 plus the true offset of t.
    units = CLASS_UNITS.to(top.device)
    previous_changed = torch.cat([torch.zeros_like(changed[:, :1]), changed[:, :-1]], dim=1)
    onsets = onset_times(inputs.offset)
    shifted_time = torch.cat([torch.zeros_like(onsets[:, :1]), onsets[:, :-1]], dim=1)
    target_time = shifted_time + units[bar.offset.clamp(min=0)] * (bar.offset >= 0)
    chain_beat = torch.where(previous_changed, beats_of(target_time, batch.bar_length.unsqueeze(1)), batch.chain_beat)
    return PairBatch(
        context=batch.context,
        bar=bar,
        previous=shift_right(inputs),
        chain_beat=torch.where(bar.mask, chain_beat, torch.full_like(chain_beat, -1)),
        bar_length=batch.bar_length,
        chords=batch.chords,
    )
