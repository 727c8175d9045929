"""Interpolate between two bars: decode points on the way from bar A's latent code to bar B's.

Both bars are encoded (their posterior means ``mu``) and ``steps`` points ``t = 0, 1/(S-1), ..., 1`` are
decoded, both ends included: ``t = 0`` reconstructs A and ``t = 1`` reconstructs B, so a slider can move
from one to the other. Points lie on the straight line between the codes (``linear``) or on the great
circle (``slerp``, which keeps the norm that a Gaussian latent expects; straight when the angle is
below 1.75e-5 rad, as in the original).

Context models, which the original refused here (spec 5.5, section 6 item 11), decode every point
under one fixed context: the bar(s) before A (``context="before"``) or the START token
(``context="start"``); both A and B are encoded under that same context, so the ends reconstruct
their bars as the decoder will hear them. Context-free models ignore ``context``.

All points are decoded in one batch. By default decoding is greedy (temperature 0), so the same
request gives the same bars; with temperatures above 0, point ``i`` samples with seed ``seed + i``.
Each point is decoded ``candidates`` times (the controls' bar and seeded samples) and the bar whose
own code comes back nearest to the point is kept (:mod:`core.generation.round_trip`): the ends
reconstruct A and B more faithfully (note F1 0.715 -> ~0.745 on validation works at 8 candidates).
A point decodes in bar A's meter for ``t < 0.5`` and in bar B's from there on. The controls'
``latent_shift`` (attribute vectors) is added to both ends' codes before the points are mixed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from core.music import edits
from core.errors import GenerationError
from core.generation.bars import MAX_EVENTS, Carry
from core.generation.controls import Controls, Temperatures
from core.generation.engine import Cancel, LineBar, Progress, check_cancel, context_summaries, encode_bars, evaluating, report
from core.generation.history import BarPart, piece_bars
from core.generation.latent import shifted
from core.generation.placement import GhostNote, Placed, TrackMap, place, tempo_map
from core.generation.round_trip import decode_nearest
from core.generation.sampler import Sampler, make_streams
from core.model.network import MahlerNet
from core.representation.events import EventArrays
from core.music.score import Score

MAX_STEPS = 64
CANDIDATES = 8  # decoded bars per point, the one the model reads back nearest to it kept (round_trip.py)
MAX_CANDIDATES = 32
SLERP_MIN_ANGLE = 1.75e-5
CONTEXTS = ("before", "start")


@dataclass(frozen=True)
class InterpolationStep:
    t: float
    events: EventArrays
    placed: Placed  # one bar as a fragment from tick 0
    attempts: int

    @property
    def fragment(self) -> Score:
        return self.placed.fragment


@dataclass(frozen=True)
class Interpolation:
    """The result of :func:`interpolate`; ``score`` is the input, unchanged."""

    score: Score
    bar_a: int
    bar_b: int
    slerp: bool
    context: str  # "before", "start" or "none" (a context-free model)
    part_a: BarPart
    part_b: BarPart
    steps: tuple[InterpolationStep, ...]
    seconds: float

    def ghost_notes(self, index: int, at_bar: int) -> tuple[GhostNote, ...]:
        """Step ``index``'s notes placed at the start of bar ``at_bar`` of the piece."""
        return self.steps[index].placed.ghost_notes(self.score.bar(at_bar).start)

    def insert(self, index: int, at_bar: int, mode: str = "insert") -> Score:
        """The piece with step ``index`` put in at bar ``at_bar`` (``"insert"`` moves the rest later;
        ``"replace"`` clears the notes starting in that bar and lays the step over it)."""
        fragment = self.steps[index].fragment
        if mode == "insert":
            return edits.insert_bars(self.score, at_bar, fragment, bars=1)
        if mode == "replace":
            return edits.overlay(edits.clear_bars(self.score, at_bar, at_bar), fragment, self.score.bar(at_bar).start)
        raise GenerationError(f"unknown insertion mode {mode!r} (use insert or replace)")

    def sequence(self) -> Score:
        """Bar A, every decoded step, then bar B, one after another (what the CLI writes)."""
        from core.generation.placement import join  # noqa: PLC0415

        a = self.score.slice_ticks(self.part_a.start, self.part_a.start + _part_ticks(self.score, self.part_a))
        b = self.score.slice_ticks(self.part_b.start, self.part_b.start + _part_ticks(self.score, self.part_b))
        fragments = [a] + [s.fragment for s in self.steps] + [b]
        lengths = [_part_ticks(self.score, self.part_a)]
        for step in self.steps:
            part = self.part_a if step.t < 0.5 else self.part_b
            lengths.append(_part_ticks(self.score, part))
        lengths.append(_part_ticks(self.score, self.part_b))
        return join(fragments, lengths)


def _part_ticks(score: Score, part: BarPart) -> int:
    return round(part.plan.quarters * score.ticks_per_quarter)


def points(steps: int) -> list[float]:
    """``steps`` evenly spaced points from 0 to 1, both included."""
    return [i / (steps - 1) for i in range(steps)]


def mix(a: torch.Tensor, b: torch.Tensor, t: float, slerp: bool) -> torch.Tensor:
    """The point at ``t`` between latent codes ``a`` and ``b`` (1-D)."""
    if slerp:
        cosine = torch.dot(a, b) / (a.norm() * b.norm()).clamp(min=1e-12)
        angle = math.acos(max(-1.0, min(1.0, float(cosine))))
        if angle >= SLERP_MIN_ANGLE:
            return (math.sin((1 - t) * angle) * a + math.sin(t * angle) * b) / math.sin(angle)
    return (1 - t) * a + t * b


def interpolate(
    model: MahlerNet,
    score: Score,
    bar_a: int,
    bar_b: int,
    steps: int,
    *,
    slerp: bool = False,
    context: str = "before",
    controls: Controls = Controls(temperatures=Temperatures.greedy()),
    candidates: int = CANDIDATES,
    max_events: int = MAX_EVENTS,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Interpolation:
    """Decode ``steps`` bars between bar ``bar_a`` and bar ``bar_b`` (see the module docstring). Where a
    Score bar holds several encoded bars (8/4 read as 4/4 + 4/4), its first one is used."""
    began = time.perf_counter()
    if not 2 <= steps <= MAX_STEPS:
        raise GenerationError(f"{steps} steps: ask for 2 to {MAX_STEPS} (both ends included)")
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise GenerationError(f"{candidates} candidates per step: ask for 1 to {MAX_CANDIDATES}")
    if context not in CONTEXTS:
        raise GenerationError(f"context {context!r}: use 'before' (the bar before A) or 'start'")
    for what, number in (("bar A", bar_a), ("bar B", bar_b)):
        if number < 1:
            raise GenerationError(f"{what} = {number}: bars are numbered from 1")
    bars_of = piece_bars(score, model.config.instrument_table)
    part_a, part_b = bars_of.parts(bar_a)[0], bars_of.parts(bar_b)[0]
    events_a, events_b = bars_of.events(part_a), bars_of.events(part_b)
    line: list[LineBar] = []
    carry = Carry.silent(1)
    used = "none" if not model.config.use_context else context
    if context == "before" and model.config.use_context:
        walk: list[BarPart] = []
        part = part_a
        while len(walk) < model.config.context_bars and not bars_of.opens_chunk(part):
            previous = bars_of.previous(part)
            if previous is None:
                break
            walk.insert(0, previous)
            part = previous
        line = [LineBar(bars_of.events(p), bars_of.opens_chunk(p)) for p in walk]
    if context == "before":
        carry = bars_of.carry_into(part_a)
    ts = points(steps)
    streams = make_streams(controls.seed, steps)
    sampler = Sampler(model, controls, max_events)
    report(progress, 0, 1)
    check_cancel(cancel)
    with evaluating(model):
        summary = context_summaries(model, [line])
        pair = None if summary is None else summary.expand(2, -1)
        mu, _ = encode_bars(model, [events_a, events_b], pair)
        mu = shifted(mu, controls)
        z = torch.stack([mix(mu[0], mu[1], t, slerp) for t in ts])
        plans = [(part_a if t < 0.5 else part_b).plan for t in ts]
        summaries = None if summary is None else summary.expand(steps, -1)
        decoded = decode_nearest(model, sampler, z, summaries, plans, carry.repeat(steps), streams, candidates, cancel)
    report(progress, 1, 1)
    tracks = TrackMap(score, (min(bar_a, bar_b), max(bar_a, bar_b)), model.config.instrument_table)
    results = []
    for index, t in enumerate(ts):
        part = part_a if t < 0.5 else part_b
        tempos = tempo_map(score, part.start, part.start + 1)
        placed = place(score, [part], [decoded.events[index]], tracks.fresh(), tempos)
        results.append(InterpolationStep(t, decoded.events[index], placed, decoded.attempts[index]))
    return Interpolation(score, bar_a, bar_b, slerp, used, part_a, part_b, tuple(results), time.perf_counter() - began)
