"""Generated events -> notes on the piece's own tracks, as a Score fragment that starts at tick 0.

Each generated note has an instrument class. :class:`TrackMap` decides which track of the piece gets
it: a class the piece already plays goes to the piece's track of that class (preferring tracks that
play in the bars the composer picked; where several do, such as first and second violins, the one
whose pitches lie nearest); a class the piece does not play gets a new track named after the class,
with the class's output program and a free channel (the drum class of a drum model: channel 10, where
the piece's drum tracks are its tracks of that class). The fragment's tracks copy the name, program and
channel of the tracks they join, so :func:`core.music.edits.insert_bars` and :func:`core.music.edits.overlay`
merge them into those tracks.

Times and velocities come from the representation's own decoder
(:func:`core.representation.decode.decode_bar`): the fragment uses the piece's ticks per quarter, the
piece's meter for each bar and the piece's tempo. Nothing here changes the input Score.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from core.generation.history import BarPart
from core.representation.decode import DEFAULT_VELOCITY, decode_bar
from core.representation.events import EventArrays
from core.representation.instruments import MAHLERNET, InstrumentTable
from core.music.score import DRUM_CHANNEL, Note, Score, TempoChange, TimeSignature, Track


class GhostNote(NamedTuple):
    """A generated note where it would sound in the piece: ``track`` is the index of the piece's track
    it joins, or None for a track the piece does not have yet (named ``name``, playing ``program``)."""

    track: int | None
    name: str
    program: int
    note: Note


@dataclass(frozen=True)
class Target:
    """A track that receives generated notes: a piece track (``index``) or a new one (``index`` None)."""

    index: int | None
    template: Track  # name, program and channel to give the fragment's track (no notes)


class TrackMap:
    """Instrument class -> the track that gets its notes (see the module docstring)."""

    def __init__(self, score: Score, focus: tuple[int, int] | None = None, table: InstrumentTable = MAHLERNET):
        self.score = score
        self.table = table
        start, end = (score.bar(focus[0]).start, score.bar(focus[1]).end) if focus else (0, 0)
        self._candidates: dict[int, list[tuple[int, float, bool]]] = {}  # class -> (track, centre pitch, plays in focus)
        for index, track in enumerate(score.tracks):
            cls = table.class_of_track(track)  # drum tracks only where the table has a drum class
            notes = track.note_columns
            if cls is None or not len(notes):
                continue
            first, last = notes.start.searchsorted([start, end]).tolist()  # notes are sorted by start
            focused = notes.pitch[first:last]
            pitches = focused if len(focused) else notes.pitch
            self._candidates.setdefault(cls, []).append((index, float(np.median(pitches)), bool(len(focused))))
        for index, track in enumerate(score.tracks):
            cls = table.class_of_track(track)
            if cls is not None and not track.note_count and cls not in self._candidates:
                self._candidates[cls] = [(index, 60.0, False)]
        self._new: dict[int, Target] = {}
        # Piece tracks chosen per (class, pitch), shared by the fresh copies: a Track is checked on
        # creation, which cost more than decoding the note when it was made for every note.
        self._chosen: dict[tuple[int, int], Target] = {}

    def fresh(self) -> "TrackMap":
        """The same map with no new tracks handed out yet (each variation gets its own, so that its
        tracks do not depend on the variations decoded beside it)."""
        other = copy.copy(self)
        other._new = {}
        return other

    def target(self, instrument: int, pitch: int) -> Target:
        """Where a note of class ``instrument`` and MIDI ``pitch`` goes."""
        candidates = self._candidates.get(instrument)
        if candidates:
            chosen = self._chosen.get((instrument, pitch))
            if chosen is None:
                focused = [c for c in candidates if c[2]] or candidates
                index = min(focused, key=lambda c: (abs(c[1] - pitch), c[0]))[0]
                track = self.score.tracks[index]
                chosen = self._chosen[(instrument, pitch)] = Target(index, Track(track.name, track.program, track.channel))
            return chosen
        target = self._new.get(instrument)
        if target is None:
            program = self.table.output_program(instrument)
            channel = DRUM_CHANNEL if self.table.is_drum(instrument) else self._free_channel()
            target = Target(None, Track(self.table.class_name(instrument), program, channel))
            self._new[instrument] = target
        return target

    def _free_channel(self) -> int:
        used = {t.channel for t in self.score.tracks} | {t.template.channel for t in self._new.values()}
        free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
        return free[0] if free else 15


@dataclass(frozen=True)
class Placed:
    """A fragment (a Score from tick 0) and, per fragment track, the piece track it joins (or None)."""

    fragment: Score
    targets: tuple[int | None, ...]

    def ghost_notes(self, at_tick: int) -> tuple[GhostNote, ...]:
        """The fragment's notes moved to start at ``at_tick`` of the piece, with their target tracks."""
        notes = []
        for track, target in zip(self.fragment.tracks, self.targets):
            for note in track.notes:
                notes.append(GhostNote(target, track.name, track.program, note._replace(start=note.start + at_tick)))
        return tuple(sorted(notes, key=lambda g: (g.note.start, g.note.pitch)))


def place(
    score: Score,
    parts: Sequence[BarPart],
    bars: Sequence[EventArrays],
    tracks: TrackMap,
    tempos: Sequence[TempoChange] | None = None,
) -> Placed:
    """``bars`` (one per part) as notes on the piece's tracks, in a fragment that starts at the first
    part's barline: each bar keeps its distance from the first in the piece's grid (one part: tick 0).
    A time signature is written where a Score bar begins in a meter other than the one before;
    ``tempos`` (fragment ticks) defaults to the piece's tempo at the first part."""
    tpq = score.ticks_per_quarter
    notes: dict[tuple[str, int, int], list[Note]] = {}
    templates: dict[tuple[str, int, int], Target] = {}
    meters: list[TimeSignature] = []
    origin = parts[0].start if parts else 0
    for part, events in zip(parts, bars):
        start = part.start - origin
        if part.part == 0 and (not meters or (meters[-1].numerator, meters[-1].denominator) != (part.numerator, part.denominator)):
            meters.append(TimeSignature(start, part.numerator, part.denominator))
        meter = part.plan.meter
        for note in decode_bar(events, meter.numerator, meter.denominator, tpq, start, DEFAULT_VELOCITY):
            target = tracks.target(note.instrument, note.pitch)
            key = (target.template.name, target.template.program, target.template.channel)
            templates[key] = target
            notes.setdefault(key, []).append(Note(note.start, note.duration, note.pitch, note.velocity))
    fragment_tracks = []
    targets = []
    for key, target in templates.items():
        fragment_tracks.append(dataclasses.replace(target.template, notes=tuple(_without_overlaps(notes[key]))))
        targets.append(target.index)
    if tempos is None:
        tempos = (TempoChange(0, score.tempo_at(parts[0].start)),) if parts else ()
    fragment = Score(
        ticks_per_quarter=tpq,
        tracks=tuple(fragment_tracks),
        tempos=tuple(tempos),
        time_signatures=tuple(meters),
        key_signatures=_key_at(score, parts[0].start) if parts else (),
        title=score.title,
    )
    return Placed(fragment, tuple(targets))


def tempo_map(score: Score, start: int, end: int) -> tuple[TempoChange, ...]:
    """The piece's tempo from ``start`` to ``end`` as a map that starts at tick 0."""
    inside = [TempoChange(t.tick - start, t.us_per_quarter) for t in score.tempos if start < t.tick < end]
    return (TempoChange(0, score.tempo_at(start)), *inside)


def _key_at(score: Score, tick: int) -> tuple:
    key = score.key_signature_at(tick)
    return () if key is None else (dataclasses.replace(key, tick=0),)


def _without_overlaps(notes: list[Note]) -> list[Note]:
    """Notes of one track where a pitch struck again while it sounds is cut at the new onset (and of
    two at the same onset the longer is kept), so that no MIDI file holds overlapping equal notes."""
    by_pitch: dict[int, list[Note]] = {}
    for note in sorted(notes):
        kept = by_pitch.setdefault(note.pitch, [])
        if kept and kept[-1].start == note.start:
            if note.duration > kept[-1].duration:
                kept[-1] = note
            continue
        if kept and kept[-1].end > note.start:
            kept[-1] = kept[-1]._replace(duration=note.start - kept[-1].start)
        kept.append(note)
    return sorted(n for kept in by_pitch.values() for n in kept)


def join(fragments: Sequence[Score], lengths: Sequence[int]) -> Score:
    """Fragments one after another (``lengths`` in ticks), merging tracks with the same name, program
    and channel; meter and tempo maps follow each fragment."""
    if not fragments:
        return Score()
    tpq = fragments[0].ticks_per_quarter
    merged: dict[tuple[str, int, int], list[Note]] = {}
    meters: list[TimeSignature] = []
    tempos: list[TempoChange] = []
    offset = 0
    for fragment, length in zip(fragments, lengths):
        for track in fragment.tracks:
            key = (track.name, track.program, track.channel)
            merged.setdefault(key, []).extend(n._replace(start=n.start + offset) for n in track.notes)
        for meter in fragment.time_signatures or (TimeSignature(0, 4, 4),):
            shifted = dataclasses.replace(meter, tick=meter.tick + offset)
            if not meters or (meters[-1].numerator, meters[-1].denominator) != (shifted.numerator, shifted.denominator):
                meters.append(shifted)
        for tempo in fragment.tempos:
            if not tempos or tempos[-1].us_per_quarter != tempo.us_per_quarter:
                tempos.append(TempoChange(tempo.tick + offset, tempo.us_per_quarter))
        offset += length
    tracks = tuple(Track(name, program, channel, tuple(notes)) for (name, program, channel), notes in merged.items())
    return Score(tpq, tracks, tuple(tempos), tuple(meters), fragments[0].key_signatures, fragments[0].title)
