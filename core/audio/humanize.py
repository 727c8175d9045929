"""Humanize: play a quantised score the way a performer would, with micro-timing and shaped dynamics.

Performance RNN's point (Simon and Oore, 2017) is that timing and dynamics are half of what makes a
performance sound like music. No performed MIDI is available offline to this project, so this is a
*parametric* model whose parameters lie within published measurements of piano performance:

=========================  ==========  ===========================================================
deviation (strength 100%)  value       basis
=========================  ==========  ===========================================================
onset jitter               SD 10 ms    motor timing noise of skilled players is of the order of 10 ms
                                       (the Noise rule of the KTH rule system: Friberg, Bresin and
                                       Sundberg, 2006, *Overview of the KTH rule system for musical
                                       performance*); shared by the notes of one onset (a chord)
melody lead                20 ms       the highest note of a chord sounds early: about 30 ms in
                                       Goebl (2001, JASA 110, *Melody lead in piano performance*), of
                                       which part is the louder key's faster hammer; 20 ms kept
melody emphasis            +8 vel.     the same studies: the melody note is played louder
metrical accent            +6 / +3     downbeat / other beats, 0 off the beat, -2 on the smallest
                                       subdivisions (KTH's metrical patterns, scaled to MIDI velocity)
phrase arch                +-6 vel.    a crescendo-diminuendo over each 4-bar phrase (Todd, 1992,
                                       *The dynamics of dynamics*, JASA 91; KTH's Phrase arch rule)
velocity noise             SD 3 vel.   the spread of repeated equal notes
=========================  ==========  ===========================================================

``strength`` (0 to 1) scales every deviation; 0 gives the score back unchanged. Deviations are seeded,
so the same settings always give the same performance.

Guarantees: pitches, durations' order and the order of onsets are kept (a note that started before
another never starts after it: an onset moves by at most 40% of the gap to its neighbouring onsets),
no two notes of one pitch in one track overlap (unless they did as written), velocities stay in 1-127,
and notes outside ``within`` (the composer's own bars, when only new material is to be humanized) are
not touched: not even shortened, since no note inside moves to before the range's start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.errors import AudioError
from core.music.score import Note, Score


@dataclass(frozen=True)
class HumanizeModel:
    """The deviations at strength 1 (see the module docstring for where each figure comes from)."""

    jitter_ms: float = 10.0
    melody_lead_ms: float = 20.0
    melody_velocity: float = 8.0
    downbeat_velocity: float = 6.0
    beat_velocity: float = 3.0
    subdivision_velocity: float = -2.0
    phrase_bars: int = 4
    phrase_velocity: float = 6.0
    velocity_noise: float = 3.0
    max_gap_share: float = 0.4  # an onset moves by at most this share of the gap to its neighbours


def humanize(
    score: Score,
    strength: float,
    *,
    seed: int = 0,
    within: tuple[int, int] | None = None,
    model: HumanizeModel = HumanizeModel(),
) -> Score:
    """``score`` performed with micro-timing and dynamics (see the module docstring). ``within``:
    only notes starting in ticks [start, end) change (None: every note). Drum tracks keep their
    timing but get the dynamics."""
    if not 0.0 <= strength <= 1.0:
        raise AudioError(f"humanize strength {strength:g}: use 0 to 1 (0% to 100%)")
    if strength == 0.0 or not score.notes_count:
        return score
    rng = np.random.default_rng(seed)
    onsets = sorted({n.start for t in score.tracks for n in t.notes})
    jitter = dict(zip(onsets, rng.normal(0.0, model.jitter_ms / 1000.0, len(onsets))))
    limits = _onset_limits(onsets, model.max_gap_share)
    tops = _top_notes(score)
    tracks = []
    for index, track in enumerate(score.tracks):
        notes, kept = [], set()
        noise = rng.normal(0.0, model.velocity_noise, len(track.notes))
        for position, note in enumerate(track.notes):
            if within is not None and not within[0] <= note.start < within[1]:
                notes.append(note)
                kept.add(note)
                continue
            is_top = (index, position) in tops
            velocity = note.velocity + strength * (_accent(score, note.start, model) + _arch(score, note.start, model) + noise[position] + (model.melody_velocity if is_top else 0.0))
            start = note.start
            if not track.is_drum:
                shift = strength * (jitter[note.start] - (model.melody_lead_ms / 1000.0 if is_top else 0.0))
                low, high = limits[note.start]
                earliest = note.start - low if within is None else max(note.start - low, within[0])  # never into the bars kept as written
                moved = score.tick_at(score.seconds_at(note.start) + shift)
                start = int(round(min(max(moved, earliest), note.start + high)))
            notes.append(note._replace(start=max(start, 0), velocity=int(np.clip(round(velocity), 1, 127))))
        tracks.append(dataclasses.replace(track, notes=_without_overlaps(notes, kept)))
    return score.replace(tracks=tuple(tracks))


def _onset_limits(onsets: list[int], share: float) -> dict[int, tuple[float, float]]:
    """Per onset: how far (ticks) it may move earlier and later without passing its neighbours."""
    limits = {}
    for i, tick in enumerate(onsets):
        before = tick - onsets[i - 1] if i else tick  # the first onset may not go below tick 0
        after = onsets[i + 1] - tick if i + 1 < len(onsets) else float("inf")
        limits[tick] = (share * before, share * after if after != float("inf") else 1e9)
    return limits


def _top_notes(score: Score) -> set[tuple[int, int]]:
    """(track, note) of the highest pitched note of each onset that several pitched notes share."""
    by_onset: dict[int, list[tuple[int, int, int]]] = {}
    for t, track in enumerate(score.tracks):
        if track.is_drum:
            continue
        for i, note in enumerate(track.notes):
            by_onset.setdefault(note.start, []).append((note.pitch, t, i))
    return {max(group)[1:] for group in by_onset.values() if len(group) > 1}


def _accent(score: Score, tick: int, model: HumanizeModel) -> float:
    """Metrical accent of an onset: downbeat, beat, subdivision (a 16th or finer), or between."""
    bar = score.bar_at(tick)
    quarters = Fraction(tick - bar.start, score.ticks_per_quarter)
    if quarters == 0:
        return model.downbeat_velocity
    beat = Fraction(3, 2) if bar.denominator == 8 and bar.numerator % 3 == 0 and bar.numerator > 3 else Fraction(4, bar.denominator)
    if quarters % beat == 0:
        return model.beat_velocity
    if quarters % Fraction(1, 2) != 0:
        return model.subdivision_velocity
    return 0.0


def _arch(score: Score, tick: int, model: HumanizeModel) -> float:
    """Phrase arch: -A at a phrase's start and end, +A in its middle (phrases of ``phrase_bars`` bars)."""
    bar = score.bar_at(tick)
    phrase_first = (bar.number - 1) // model.phrase_bars * model.phrase_bars + 1
    start = score.bar(phrase_first).start
    end = score.bar(phrase_first + model.phrase_bars - 1).end
    where = (tick - start) / max(end - start, 1)
    return model.phrase_velocity * (2.0 * np.sin(np.pi * where) - 1.0)


def _without_overlaps(notes: list[Note], kept: AbstractSet[Note] = frozenset()) -> tuple[Note, ...]:
    """The notes sorted, each cut short where the next note of its pitch starts (at least 1 tick);
    the ``kept`` notes (outside ``within``) are never cut."""
    ordered = sorted(notes)
    following: dict[int, int] = {}
    out = []
    for note in reversed(ordered):
        nxt = following.get(note.pitch)
        if nxt is not None and note.start + note.duration > nxt and note not in kept:
            note = note._replace(duration=max(nxt - note.start, 1))
        following[note.pitch] = note.start
        out.append(note)
    return tuple(reversed(out))


@dataclass(frozen=True)
class Performance:
    """How an export plays the piece: as written (strength 0, the default), or humanized at
    ``strength`` over ``bars`` (first, last, numbered from 1, both included; None = every bar).

    An export never changes the composer's notes in the piece itself; this only shapes the copy that
    goes to the file. Setting a strength above 0 is the composer's request to perform the bars it
    names, and the bars outside them play exactly as written.
    """

    strength: float = 0.0
    bars: tuple[int, int] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise AudioError(f"humanize strength {self.strength:g}: use 0 to 1 (0% to 100%)")
        if self.bars is not None and not 1 <= self.bars[0] <= self.bars[1]:
            raise AudioError(f"humanize bars {self.bars[0]}-{self.bars[1]}: not a range of bars numbered from 1")

    def apply(self, score: Score) -> Score:
        """``score`` as this performance plays it (``score`` itself when the strength is 0)."""
        if self.strength == 0.0:
            return score
        within = None
        if self.bars is not None:
            first, last = self.bars
            within = (score.bar(first).start, score.bar(last).end)
        return humanize(score, self.strength, seed=self.seed, within=within)


def strength_of(percent: float) -> float:
    """A 0-100% control value as a strength 0-1."""
    return min(max(percent / 100.0, 0.0), 1.0)


__all__ = ["HumanizeModel", "Performance", "humanize", "strength_of"]
