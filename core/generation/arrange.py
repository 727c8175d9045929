"""Arrange a chord progression: one bar per chord slot, decoded from one held latent code.

A chord-conditioned model (``network.chords``, see :mod:`core.harmony.conditioning`) hears the
chords of each half bar. :func:`arrange` lays the progression out on bars (one or two chords a
bar), holds one z for all of them and decodes bar after bar, so the texture z carries (instruments,
rhythm) stays while the harmony follows the chords. z is drawn from the model's prior (each
variation its own) or encoded from a bar of a piece (``style_bar``: every variation starts from it
and differs only in sampling); with ``interpolate_to`` z moves in a straight line from that bar's
code to another bar's over the progression. The controls' ``latent_shift`` (the attribute sliders)
moves the held z, or both ends of the move.

An arrangement keeps its band: unless the composer names the instruments, only the style bar's
instruments may play (``style_bar``), or, for a z from the prior, each variation's first bar that
plays fixes the instruments of all its later bars (:func:`band_of`), the way a continuation keeps
its seed's. Variations with different bands decode in groups, each under its own allowed
instruments; the sampler's per-row noise streams make that the same as decoding them together. A context model hears the bars it has just decoded
(START before the first), as in a continuation. Notes sounding over a barline carry into the next
bar.

:func:`chord_tone_share` and :func:`texture_overlap` measure what the arrangement should do: notes
on the chord tones of their slot, and the same instruments and onsets from bar to bar.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from core.errors import GenerationError
from core.generation.bars import MAX_EVENTS, BarPlan, Carry
from core.generation.controls import Controls
from core.generation.engine import Cancel, LineBar, Progress, check_cancel, context_summaries, encode_bars, evaluating, report
from core.generation.history import BarPart, piece_bars
from core.generation.interpolation import mix
from core.generation.latent import prior_z, shifted
from core.generation.engine import standard_normal
from core.generation.placement import TrackMap, place
from core.generation.sampler import Sampler, make_streams
from core.harmony.conditioning import slots_of
from core.harmony.labels import Chord
from core.harmony.templates import VOCABULARY, chord_tones
from core.model.network import MahlerNet
from core.representation.events import EventArrays
from core.music.score import DEFAULT_TEMPO, Score, TempoChange, TimeSignature

MAX_CHORDS = 256
TICKS_PER_QUARTER = 480


@dataclass(frozen=True)
class ArrangedVariation:
    index: int
    seed: int
    bars: tuple[EventArrays, ...]
    score: Score  # the arrangement alone, from tick 0
    attempts: tuple[int, ...]


@dataclass(frozen=True)
class Arrangement:
    """What :func:`arrange` made: ``slots`` (bars, 2) chord indices, one Score per variation."""

    chords: tuple[Chord, ...]
    slots: np.ndarray
    meter: tuple[int, int]
    bar_ticks: int
    variations: tuple[ArrangedVariation, ...]
    seconds: float

    def slot_chords(self) -> list[tuple[Chord, Chord]]:
        return [(VOCABULARY[int(a)], VOCABULARY[int(b)]) for a, b in self.slots]


def arrange(
    model: MahlerNet,
    chords: Sequence[Chord],
    *,
    chords_per_bar: int = 1,
    meter: tuple[int, int] | None = None,
    source: Score | None = None,
    style_bar: int | None = None,
    interpolate_to: int | None = None,
    variations: int = 1,
    controls: Controls = Controls(),
    max_events: int = MAX_EVENTS,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Arrangement:
    """Decode the progression ``chords`` (see the module docstring)."""
    began = time.perf_counter()
    if not model.config.chords:
        raise GenerationError("this model does not hear chords: arrange needs a chord-conditioned model (e.g. classical-arranger)")
    if not 1 <= len(chords) <= MAX_CHORDS:
        raise GenerationError(f"{len(chords)} chords: give 1 to {MAX_CHORDS}")
    if not 1 <= variations <= 16:
        raise GenerationError(f"{variations} variations: ask for 1 to 16")
    if (style_bar is None) != (source is None):
        raise GenerationError("a style bar needs its piece and a piece needs the style bar (--from FILE --bar K)")
    if interpolate_to is not None and style_bar is None:
        raise GenerationError("--interpolate-to moves from the style bar of a piece: give --from FILE --bar K too")
    try:
        slots = slots_of(list(chords), chords_per_bar)
    except ValueError as error:
        raise GenerationError(str(error)) from None
    bars_of = piece_bars(source) if source is not None else None
    style_parts: list[BarPart] = []
    if bars_of is not None and style_bar is not None:
        for number in (style_bar, interpolate_to):
            if number is not None:
                if not 1 <= number <= source.bar_count:  # type: ignore[union-attr]
                    raise GenerationError(f"bar {number}: the piece has bars 1-{source.bar_count}")  # type: ignore[union-attr]
                style_parts.append(bars_of.parts(number)[0])
    if meter is None:
        meter = (style_parts[0].numerator, style_parts[0].denominator) if style_parts else (4, 4)
    plan = BarPlan.of(*meter)
    tpq = source.ticks_per_quarter if source is not None else TICKS_PER_QUARTER
    bar_ticks = round(plan.quarters * tpq)
    if style_parts and controls.instruments is None:  # the style bar's instruments, as a continuation keeps its seed's
        played = {int(i) for part in style_parts for i in bars_of.events(part).instrument if i >= 0}  # type: ignore[union-attr]
        if played:
            controls = dataclasses.replace(controls, instruments=frozenset(played))
    rows = variations
    streams = make_streams(controls.seed, rows)
    bands: list[frozenset[int] | None] = [controls.instruments] * rows
    samplers: dict[frozenset[int] | None, Sampler] = {}
    count = len(slots)
    decoded_bars: list[list[EventArrays]] = [[] for _ in range(rows)]
    attempts: list[list[int]] = [[] for _ in range(rows)]
    lines: list[list[LineBar]] = [[] for _ in range(rows)]
    carry = Carry.silent(rows)
    with evaluating(model):
        codes = _style_codes(model, bars_of, style_parts)
        if codes is not None:  # the composer's attribute sliders move the held code (both ends of a move)
            codes = [shifted(code, controls) for code in codes]
        device = next(model.parameters()).device
        for index in range(count):
            check_cancel(cancel)
            report(progress, index, count)
            summary = context_summaries(model, lines)
            if codes is None:
                if index == 0:
                    held = prior_z(model, summary, standard_normal(streams, 0, model.config.z_dim, device), controls)
                z = held
            else:
                t = index / (count - 1) if count > 1 and len(codes) > 1 else 0.0
                z = mix(codes[0], codes[-1], t, slerp=False).unsqueeze(0).expand(rows, -1)
            chords_now = torch.from_numpy(np.repeat(slots[index : index + 1].astype(np.int64), rows, axis=0))
            state = model.initial_state(z, summary, chords_now)
            events, carry, tries = _decode_by_band(model, controls, max_events, samplers, bands, state, plan, carry, streams, index + 1, cancel)
            for row in range(rows):
                decoded_bars[row].append(events[row])
                attempts[row].append(tries[row])
                lines[row].append(LineBar(events[row], index == 0))
                if bands[row] is None:
                    bands[row] = band_of(events[row])
    report(progress, count, count)
    base = Score(tpq, (), (TempoChange(0, source.tempo_at(style_parts[0].start) if style_parts else DEFAULT_TEMPO),),
                 (TimeSignature(0, *meter),), title=source.title if source is not None else "")  # fmt: skip
    parts = [BarPart(i + 1, 0, i * bar_ticks, plan, meter[0], meter[1]) for i in range(count)]
    tracks = TrackMap(source if source is not None else base, table=model.config.instrument_table)
    results = []
    for row in range(rows):
        placed = place(base, parts, decoded_bars[row], tracks.fresh())
        score = placed.fragment
        results.append(ArrangedVariation(row, controls.seed + row, tuple(decoded_bars[row]), score, tuple(attempts[row])))
    return Arrangement(tuple(chords), slots, meter, bar_ticks, tuple(results), time.perf_counter() - began)


def band_of(events: EventArrays) -> frozenset[int] | None:
    """The instrument classes that play in a decoded bar (None when it is silent: the band is still open)."""
    played = frozenset(int(i) for i in events.instrument if i >= 0)
    return played or None


def _decode_by_band(  # type: ignore[no-untyped-def]
    model: MahlerNet, controls: Controls, max_events: int, samplers: dict, bands: list[frozenset[int] | None],
    state, plan: BarPlan, carry: Carry, streams, bar: int, cancel: Cancel | None,
) -> tuple[list[EventArrays], Carry, list[int]]:
    """One bar per row, the rows grouped by their band (allowed instruments, None = the controls'),
    each group under a sampler allowing only its band; results back in row order."""
    rows = len(bands)
    events: list[EventArrays | None] = [None] * rows
    carries: list[Carry | None] = [None] * rows
    tries = [0] * rows
    for band in dict.fromkeys(bands):
        group = [row for row in range(rows) if bands[row] == band]
        if band not in samplers:
            samplers[band] = Sampler(model, controls if band is None else dataclasses.replace(controls, instruments=band), max_events)
        index = torch.tensor(group)
        sub_state = type(state)(state.h[:, index], state.c[:, index], state.condition[index])
        decoded = samplers[band].decode(sub_state, [plan] * len(group), carry.take(group), [streams[r] for r in group], bar, cancel=cancel)
        for position, row in enumerate(group):
            events[row] = decoded.events[position]
            carries[row] = decoded.carry.take([position])
            tries[row] = decoded.attempts[position]
    return [e for e in events if e is not None], Carry.stack([c for c in carries if c is not None]), tries


def _style_codes(model: MahlerNet, bars_of, parts: list[BarPart]) -> list[torch.Tensor] | None:  # type: ignore[no-untyped-def]
    """The posterior means of the style bar(s), each under the context of the bars before it."""
    if not parts:
        return None
    codes = []
    for part in parts:
        line: list[LineBar] = []
        walk, previous = part, bars_of.previous(part)
        while model.config.use_context and previous is not None and len(line) < model.config.context_bars and not bars_of.opens_chunk(walk):
            line.insert(0, LineBar(bars_of.events(previous), bars_of.opens_chunk(previous)))
            walk, previous = previous, bars_of.previous(previous)
        summary = context_summaries(model, [line])
        mu, _ = encode_bars(model, [bars_of.events(part)], summary)
        codes.append(mu[0])
    return codes


# ------------------------------------------------------------------------------------ measures
def chord_tone_share(arrangement: Arrangement, variation: int = 0) -> float:
    """Share of the notes' duration whose pitch class is a tone of the chord of the half bar where
    the note starts (notes over no chord left out); 0 when no note sounds."""
    score = arrangement.variations[variation].score
    half = arrangement.bar_ticks // 2
    inside = total = 0
    slots = arrangement.slot_chords()
    for track in score.tracks:
        for note in track.notes:
            bar, into = divmod(note.start, arrangement.bar_ticks)
            if bar >= len(slots):
                continue
            chord = slots[bar][0 if into < half else 1]
            if chord.is_none:
                continue
            total += note.duration
            inside += note.duration * (note.pitch % 12 in chord_tones(chord))
    return inside / total if total else 0.0


def texture_overlap(arrangement: Arrangement, variation: int = 0) -> tuple[float, float]:
    """(share of bars after the first that play exactly the first bar's tracks, mean onset-pattern
    overlap of each bar with the first: |common onsets| / |onsets of the larger|)."""
    score = arrangement.variations[variation].score
    count = len(arrangement.slots)
    instruments: list[set[str]] = [set() for _ in range(count)]
    onsets: list[set[int]] = [set() for _ in range(count)]
    for track in score.tracks:
        for note in track.notes:
            bar, into = divmod(note.start, arrangement.bar_ticks)
            if bar < count:
                instruments[bar].add(track.name)
                onsets[bar].add(into)
    if count < 2:
        return 1.0, 1.0
    same = sum(instruments[i] == instruments[0] for i in range(1, count)) / (count - 1)
    overlaps = [len(onsets[i] & onsets[0]) / max(len(onsets[i]), len(onsets[0]), 1) for i in range(1, count)]
    return same, float(np.mean(overlaps))
