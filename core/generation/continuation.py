"""Continue a piece: N new bars after bar K, in V variations decoded together.

The composer picks bars by number (from 1):

* the **seed** bars ``seed_first..from_bar``: the music to continue; the new bars start at bar
  ``from_bar + 1``. ``from_bar = 0`` generates the opening of a piece from the START context.
* optional **context** bars: what the model hears before the seed (default: the bars just before it in
  the piece). They matter where the seed bar is encoded into z (``seeded``) and for models with more
  context bars than the seed has.

Each new bar is decoded with the previous bar(s) as its context (the model's ``context_bars``), from
the seed on; the first new bar's z is either drawn from the prior or, in ``seeded`` mode, encoded from
the last seed bar (the original's ``z`` unit); every later bar draws a fresh z as the controls' ``latent``
says (:mod:`core.generation.latent`: from the model's prior, which for a model with a learned prior
depends on the bars before). Unless the composer names instruments, only those heard in the seed and
context bars may play (:func:`instruments_heard`). The controls' ``latent_shift`` (attribute
vectors) is added to every new bar's z, the seed's code included. Bars
follow the piece's own bar grid from bar ``from_bar + 1`` on (its meters, including 8/4 read as two 4/4
bars and bars cut short by a meter change), and notes still sounding at a barline stay active in the
next bar.

Variation ``i`` draws all its randomness (z and sampling noise) from a generator seeded with
``seed + i``, so it is the same music whether decoded alone or among others. Progress is reported once
per decoded bar; cancel is checked before every bar.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from core.music import edits
from core.errors import GenerationError
from core.generation.bars import MAX_EVENTS, Carry
from core.generation.controls import Controls
from core.generation.drums import dropped_drums_note
from core.generation.engine import (
    Cancel,
    LineBar,
    Progress,
    check_cancel,
    context_summaries,
    encode_bars,
    evaluating,
    report,
    standard_normal,
)
from core.generation.history import BarPart, PieceBars, piece_bars
from core.generation.latent import decode_bar, shifted
from core.generation.placement import GhostNote, Placed, TrackMap, place, tempo_map
from core.generation.sampler import Sampler, make_streams
from core.model.network import MahlerNet
from core.representation.events import EventArrays
from core.music.score import Score

MAX_BARS = 256
MAX_VARIATIONS = 64


@dataclass(frozen=True)
class Variation:
    """One continuation: its events per encoded bar and the notes as a fragment of the piece."""

    index: int  # 0-based
    seed: int  # the seed that gives this variation alone
    events: tuple[EventArrays, ...]
    placed: Placed
    attempts: tuple[int, ...]  # per bar: 1 = first try; more after empty bars; 0 = became a rest

    @property
    def fragment(self) -> Score:
        """The new bars as a Score starting at tick 0 (the piece's resolution, meter and tempo; tracks
        named, programmed and channelled like the piece tracks they join)."""
        return self.placed.fragment

    @property
    def notes_count(self) -> int:
        return self.fragment.notes_count


@dataclass(frozen=True)
class Continuation:
    """The result of :func:`continue_piece`. The input Score is kept, unchanged, in ``score``."""

    score: Score
    from_bar: int
    bars: int
    parts: tuple[BarPart, ...]
    variations: tuple[Variation, ...]
    seconds: float
    notes: tuple[str, ...] = ()  # one line each, for the composer: what the model could not continue

    @property
    def at_bar(self) -> int:
        """The bar number of the first new bar."""
        return self.from_bar + 1

    @property
    def start_tick(self) -> int:
        """Where the new bars start in the piece."""
        return self.score.bar(self.at_bar).start

    @property
    def length(self) -> int:
        """Length of the new bars in ticks of the piece."""
        return self.score.bar(self.from_bar + self.bars).end - self.start_tick

    def ghost_notes(self, index: int) -> tuple[GhostNote, ...]:
        """Variation ``index``'s notes where they would sound after the seed (piece ticks), each with
        the index of the piece track it would join (None: a new track)."""
        return self.variations[index].placed.ghost_notes(self.start_tick)

    def insert(self, index: int, mode: str = "insert") -> Score:
        """The piece with variation ``index`` put in at bar ``at_bar``: ``"insert"`` moves the rest of
        the piece later; ``"replace"`` clears the notes that start in those bars and lays it over them."""
        fragment = self.variations[index].fragment
        if mode == "insert":
            return edits.insert_bars(self.score, self.at_bar, fragment, bars=self.bars)
        if mode == "replace":
            cleared = edits.clear_bars(self.score, self.at_bar, self.from_bar + self.bars)
            return edits.overlay(cleared, fragment, self.start_tick)
        raise GenerationError(f"unknown insertion mode {mode!r} (use insert or replace)")

    def continued(self, index: int) -> Score:
        """The piece up to the seed's last bar followed by variation ``index`` (what the CLI writes)."""
        fragment = self.variations[index].fragment
        if self.from_bar == 0:
            return fragment
        head = self.score.slice_bars(1, self.from_bar)
        return edits.insert_bars(head, self.at_bar, fragment, bars=self.bars)


def continue_piece(
    model: MahlerNet,
    score: Score,
    from_bar: int,
    bars: int,
    *,
    seed_first: int | None = None,
    context: tuple[int, int] | None = None,
    seeded: bool = False,
    variations: int = 1,
    controls: Controls = Controls(),
    max_events: int = MAX_EVENTS,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Continuation:
    """Continue ``score`` after bar ``from_bar`` by ``bars`` bars, ``variations`` times (see the module
    docstring). ``context`` is a (first, last) range of bars heard before the seed."""
    began = time.perf_counter()
    _check_request(score, from_bar, bars, seed_first, context, seeded, variations)
    table = model.config.instrument_table
    bars_of = piece_bars(score, table)
    seed_parts = bars_of.sequence(seed_first or from_bar, from_bar) if from_bar else []
    line = _history(bars_of, seed_parts, context, model.config.context_bars)
    new_parts = bars_of.sequence(from_bar + 1, from_bar + bars)
    total = len(new_parts)
    rows = variations
    streams = make_streams(controls.seed, rows)
    if controls.instruments is None and line:
        controls = dataclasses.replace(controls, instruments=instruments_heard(line))
    sampler = Sampler(model, controls, max_events)
    device = next(model.parameters()).device
    generated: list[list[EventArrays]] = [[] for _ in range(rows)]
    attempts: list[list[int]] = [[] for _ in range(rows)]
    carry = bars_of.carry_into(new_parts[0]).repeat(rows) if seed_parts else Carry.silent(rows)
    report(progress, 0, total)
    with evaluating(model):
        for position, part in enumerate(new_parts):
            check_cancel(cancel)
            if position == 0:
                summary = context_summaries(model, [line])
                summary = None if summary is None else summary.expand(rows, -1)
            else:
                lines = [line + [LineBar(e) for e in generated[row]] for row in range(rows)]
                summary = context_summaries(model, lines)
            if position == 0 and seeded:
                noise = standard_normal(streams, position, model.config.z_dim, device)
                seed_summary = context_summaries(model, [_seed_context(line)])
                mu, logvar = encode_bars(model, [line[-1].events], seed_summary)
                z = shifted(mu + torch.exp(0.5 * logvar) * noise, controls)
                decoded = sampler.decode(model.initial_state(z, summary), [part.plan] * rows, carry, streams, position, cancel=cancel)
            else:
                decoded = decode_bar(model, sampler, summary, part.plan, carry, streams, position, controls, cancel)
            carry = decoded.carry
            for row in range(rows):
                generated[row].append(decoded.events[row])
                attempts[row].append(decoded.attempts[row])
            report(progress, position + 1, total)
    focus = (seed_first or from_bar, from_bar) if from_bar else None
    tempos = tempo_map(score, new_parts[0].start, score.bar(from_bar + bars).end)
    tracks = TrackMap(score, focus, table)
    results = []
    for row in range(rows):
        placed = place(score, new_parts, generated[row], tracks.fresh(), tempos)
        results.append(Variation(row, controls.seed + row, tuple(generated[row]), placed, tuple(attempts[row])))
    heard = _heard_bars(from_bar, seed_first, context, model.config.context_bars)
    notes = tuple(n for n in [dropped_drums_note(score, table, heard)] if n)
    seconds = time.perf_counter() - began
    return Continuation(score, from_bar, bars, tuple(new_parts), tuple(results), seconds, notes)


def instruments_heard(line: list[LineBar]) -> frozenset[int] | None:
    """The instrument classes that play in the bars of ``line`` (None when none plays: a silent seed
    leaves every instrument open)."""
    heard = {int(i) for bar in line for i in bar.events.instrument if i >= 0}
    return frozenset(heard) if heard else None


def _heard_bars(from_bar: int, seed_first: int | None, context: tuple[int, int] | None, depth: int) -> tuple[int, int] | None:
    """The Score bars the model hears before the new bars (context and seed), None at an opening."""
    if not from_bar:
        return None
    first = seed_first or from_bar
    return (context[0] if context else max(1, first - depth), from_bar)


def _check_request(
    score: Score, from_bar: int, bars: int, seed_first: int | None, context: tuple[int, int] | None, seeded: bool, variations: int
) -> None:
    if from_bar < 0:
        raise GenerationError(f"from bar {from_bar}: bars are numbered from 1 (0 starts a new piece)")
    if not 1 <= bars <= MAX_BARS:
        raise GenerationError(f"{bars} bars: generate from 1 to {MAX_BARS} bars at a time")
    if not 1 <= variations <= MAX_VARIATIONS:
        raise GenerationError(f"{variations} variations: ask for 1 to {MAX_VARIATIONS}")
    if seed_first is not None and not 1 <= seed_first <= max(from_bar, 1):
        raise GenerationError(f"seed bars {seed_first}-{from_bar}: the seed must end at the bar continued from")
    if seeded and from_bar == 0:
        raise GenerationError("seeded mode needs a seed bar to encode (from bar 1 on)")
    if context is not None:
        first, last = context
        if not 1 <= first <= last:
            raise GenerationError(f"context bars {first}-{last}: not a valid range (bars are numbered from 1)")
        if from_bar and last >= (seed_first or from_bar):
            raise GenerationError(f"context bars {first}-{last} must come before the seed bar {seed_first or from_bar}")
    del score


def _history(bars_of: PieceBars, seed_parts: list[BarPart], context: tuple[int, int] | None, depth: int) -> list[LineBar]:
    """The line before the new bars: the context bars (explicit, or the ``depth`` bars before the seed
    in the piece, not past an opening), then the seed; empty at the opening of a piece. Explicit
    context bars are the composer's choice, so no bar of such a line counts as an opening."""
    if not seed_parts:
        return []
    if context is not None:
        parts = bars_of.sequence(context[0], context[1]) + seed_parts
        return [LineBar(bars_of.events(p), False) for p in parts]
    before: list[BarPart] = []
    part = seed_parts[0]
    while len(before) < depth and not bars_of.opens_chunk(part):
        previous = bars_of.previous(part)
        if previous is None:
            break
        before.insert(0, previous)
        part = previous
    return [LineBar(bars_of.events(p), bars_of.opens_chunk(p)) for p in before + seed_parts]


def _seed_context(line: list[LineBar]) -> list[LineBar]:
    """The line before the last seed bar (empty where that bar opens a stretch: the START context)."""
    return [] if line[-1].opens else line[:-1]
