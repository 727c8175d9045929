"""Reconstruct a bar: encode it (with its context) into z, decode z, and compare with the original.

This is the original's ``recon`` (spec 5.5): a quick check of what a model has learnt. ``greedy`` (the
default) decodes from the posterior mean with temperature 0; otherwise z is drawn from the posterior
and decoding samples with the given temperatures and seed.

Accuracy per property (offset, duration, pitch, instrument, velocity, and "event" for all of them at
once) is the number of steps that match the original at the same position, over the original's
length: missing or extra events count against it. A pause matches a pause (no pitch = no pitch).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.generation.bars import MAX_EVENTS
from core.generation.controls import Controls, Temperatures
from core.generation.engine import Cancel, LineBar, Progress, check_cancel, context_summaries, encode_bars, evaluating, report
from core.generation.history import BarPart, piece_bars
from core.generation.placement import Placed, TrackMap, join, place, tempo_map
from core.generation.sampler import Sampler, make_streams
from core.errors import GenerationError
from core.model.network import MahlerNet
from core.representation.events import PROPERTIES, EventArrays
from core.music.score import Score

COMPARED = PROPERTIES


@dataclass(frozen=True)
class Reconstruction:
    """The result of :func:`reconstruct`; ``score`` is the input, unchanged."""

    score: Score
    bar: int
    part: BarPart
    original: EventArrays
    decoded: EventArrays
    accuracy: dict[str, float]
    placed: Placed  # the reconstruction as a one-bar fragment
    seconds: float

    def pair(self) -> Score:
        """The original bar followed by its reconstruction (what the CLI writes)."""
        length = round(self.part.plan.quarters * self.score.ticks_per_quarter)
        original = self.score.slice_ticks(self.part.start, self.part.start + length)
        return join([original, self.placed.fragment], [length, length])

    def describe(self) -> str:
        """One line: the accuracy per property in percent."""
        parts = [f"{name} {100 * value:.1f}%" for name, value in self.accuracy.items()]
        return f"bar {self.bar}: {len(self.original)} events, reconstructed {len(self.decoded)}; accuracy " + ", ".join(parts)


def accuracy(original: EventArrays, decoded: EventArrays, velocity: bool = True) -> dict[str, float]:
    """Per-property accuracy of ``decoded`` against ``original`` (see the module docstring)."""
    common = min(len(original), len(decoded))
    total = max(len(original), 1)
    names = COMPARED if velocity else COMPARED[:4]
    result = {}
    together = np.ones(common, bool)
    for name in names:
        same = getattr(original, name)[:common] == getattr(decoded, name)[:common]
        together &= same
        result[name] = float(np.count_nonzero(same)) / total
    result["event"] = float(np.count_nonzero(together)) / total
    return result


def reconstruct(
    model: MahlerNet,
    score: Score,
    bar: int,
    *,
    greedy: bool = True,
    controls: Controls = Controls(temperatures=Temperatures.greedy()),
    max_events: int = MAX_EVENTS,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Reconstruction:
    """Encode bar ``bar`` of ``score`` with its context and decode it again (see the module docstring).
    Where a Score bar holds several encoded bars (8/4 read as 4/4 + 4/4), its first one is used."""
    began = time.perf_counter()
    if bar < 1:
        raise GenerationError(f"bar {bar}: bars are numbered from 1")
    bars_of = piece_bars(score, model.config.instrument_table)
    part = bars_of.parts(bar)[0]
    original = bars_of.events(part)
    line: list[LineBar] = []
    walk = part
    while len(line) < model.config.context_bars and not bars_of.opens_chunk(walk):
        previous = bars_of.previous(walk)
        if previous is None:
            break
        line.insert(0, LineBar(bars_of.events(previous), bars_of.opens_chunk(previous)))
        walk = previous
    if greedy:
        controls = dataclasses.replace(controls, temperatures=Temperatures.greedy())
    streams = make_streams(controls.seed, 1)
    sampler = Sampler(model, controls, max_events)
    report(progress, 0, 1)
    check_cancel(cancel)
    with evaluating(model):
        summary = context_summaries(model, [line])
        mu, logvar = encode_bars(model, [original], summary)
        if greedy:
            z = mu
        else:
            noise = streams[0].normal(0, mu.shape[1]).to(mu.device)
            z = mu + torch.exp(0.5 * logvar) * noise
        state = model.initial_state(z, summary)
        decoded = sampler.decode(state, [part.plan], bars_of.carry_into(part), streams, cancel=cancel)
    report(progress, 1, 1)
    events = decoded.events[0]
    tempos = tempo_map(score, part.start, part.start + 1)
    placed = place(score, [part], [events], TrackMap(score, (bar, bar), model.config.instrument_table), tempos)
    scores = accuracy(original, events, model.config.use_velocity)
    return Reconstruction(score, bar, part, original, events, scores, placed, time.perf_counter() - began)
