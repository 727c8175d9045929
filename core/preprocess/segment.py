"""Segmentation into chunks and meter sections (spec 2.4), unification (2.6) and finalisation (2.7).

The tokens are cut at time signatures into *sections*. Consecutive sections of a *chunk* follow each
other in chunk time; a chunk is an independent stretch of music (its first bar has the START context).
A chunk ends at an unsupported meter, at a section left without notes, at a section of pure rest, or at
the end of the file. Leading silence of a chunk is removed in whole bars, and a section whose length is
not a whole number of its bars is padded with rest up to the next barline, so every section spans
whole bars.

Fixes against the original (spec section 6): unification counts how many notes of a chord share a
duration (item 5; the original's counts never grew, so only pairs were unified), the channel check
keeps the latest end of a channel (item 5; the original overwrote it), and sections merged because
they share a meter keep ends before starts at the same tick (item 4; the rows do that for every
section, see :mod:`vectors`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.preprocess import report as reasons
from core.preprocess.normalize import SectionNotes, normalizer_for
from core.preprocess.report import Tally
from core.preprocess.tokenize import MeterSection, Tokens
from core.representation.meters import Meter
from core.representation.vocabulary import CLASS_UNITS, CLASSES

CHANNELS = 15  # MIDI channels an output can use (the drum channel excluded)
_UNITS = np.array(CLASS_UNITS, np.int64)
_SINGLE = np.array([c.is_single for c in CLASSES])


@dataclass
class SectionEvents:
    """The notes of one section (or of several merged ones of the same meter) of a chunk: one entry
    per partial, times in chunk ticks, sorted by (time, pitch, instrument)."""

    meter: Meter
    unit: int  # ticks per 1/24 q*
    start: int  # chunk ticks
    time: np.ndarray
    end_time: np.ndarray
    pitch: np.ndarray
    instrument: np.ndarray
    duration: np.ndarray  # class
    velocity: np.ndarray
    end: int = 0  # chunk ticks, set when the chunk is closed
    anchors: list[tuple[int, int]] = field(default_factory=list)  # (chunk tick, file tick) mapping restarts

    @property
    def bar_ticks(self) -> int:
        return self.meter.bar_units * self.unit


@dataclass
class Chunk:
    sections: list[SectionEvents]

    @property
    def end(self) -> int:
        return self.sections[-1].end


def build_chunks(tokens: Tokens, sections: list[MeterSection], unit_of: dict, tally: Tally) -> list[Chunk]:
    """Chunks of a file: ``tokens`` sorted by start, ``sections`` its meter map, ``unit_of[meter]`` the
    ticks per 1/24 q* of each supported meter at the working resolution."""
    starts = tokens.start
    chunks: list[Chunk] = []
    current: list[SectionEvents] = []
    offset = 0

    def close() -> None:
        nonlocal current
        if current:
            chunks.append(_close_chunk(current))
        current = []

    for index, section in enumerate(sections):
        file_start = section.tick
        file_end = sections[index + 1].tick if index + 1 < len(sections) else None
        if file_end == file_start:
            continue
        low = int(np.searchsorted(starts, file_start, side="left"))
        high = len(starts) if file_end is None else int(np.searchsorted(starts, file_end, side="left"))
        meter = section.meter
        if meter is None:
            tally.drop(reasons.UNSUPPORTED_METER, high - low)
            close()
            continue
        if low == high:
            if not section.default:
                close()
            continue
        unit = unit_of[meter]
        bar = meter.bar_units * unit
        if not current:
            origin = file_start + (int(starts[low]) - file_start) // bar * bar
            offset = -origin
            chunk_start = 0
        else:
            origin = file_start
            chunk_start = file_start + offset
        notes = normalizer_for(meter, unit).normalize(tokens, low, high, origin)
        tally.drop(reasons.NO_FITTING_CLASS, notes.failed)
        tally.drop(reasons.NORMALISED_AWAY, notes.zero)
        tally.trim(reasons.SPLIT_LONG, notes.split)
        classes = unify(notes, tokens)
        events = finalize(notes, classes, tokens, meter, unit, chunk_start, tally)
        if events is None:
            close()
            continue
        events.anchors.append((chunk_start, origin))
        current.append(events)
        if file_end is not None:
            span = file_end - origin
            if span % bar:
                offset += bar - span % bar
    close()
    return chunks


def _close_chunk(sections: list[SectionEvents]) -> Chunk:
    """Set section ends (the last one rounded up to its next barline) and merge same-meter neighbours."""
    merged: list[SectionEvents] = []
    for section in sections:
        if merged and merged[-1].meter == section.meter and merged[-1].unit == section.unit:
            merged[-1] = _merge(merged[-1], section)
        else:
            merged.append(section)
    for this, following in zip(merged, merged[1:]):
        this.end = following.start
    last = merged[-1]
    final = int(last.end_time.max())
    bar = last.bar_ticks
    last.end = last.start + -(-(final - last.start) // bar) * bar
    return Chunk(merged)


def _merge(first: SectionEvents, second: SectionEvents) -> SectionEvents:
    columns = {
        name: np.concatenate([getattr(first, name), getattr(second, name)])
        for name in ("time", "end_time", "pitch", "instrument", "duration", "velocity")
    }
    order = np.lexsort((columns["instrument"], columns["pitch"], columns["time"]))
    columns = {name: values[order] for name, values in columns.items()}
    return SectionEvents(first.meter, first.unit, first.start, anchors=first.anchors + second.anchors, **columns)


def unify(notes: SectionNotes, tokens: Tokens) -> np.ndarray:
    """Partial classes after giving the notes of a chord (same track, same start) the duration most
    of them share, when it is within 25% (a basic value) or 12.5% (a tie) of their own (spec 2.6,
    with counts that work). Returns the new ``part_class``."""
    classes = notes.part_class
    if len(notes.token) < 2 or not notes.chords:
        return classes
    parts = np.bincount(notes.part_note, minlength=len(notes.token))
    first_part = np.concatenate([[0], np.cumsum(parts)[:-1]])
    single = np.flatnonzero(parts == 1)
    if len(single) < 2:
        return classes
    track = tokens.track[notes.token[single]]
    start = notes.part_start[first_part[single]]
    cls = classes[first_part[single]]
    order = np.lexsort((single, start, track))
    track, start, cls, members = track[order], start[order], cls[order], single[order]
    same = (track[1:] == track[:-1]) & (start[1:] == start[:-1])
    differs = same & (cls[1:] != cls[:-1])
    if not np.any(differs):
        return classes
    classes = classes.copy()
    group_start = np.concatenate([[True], ~same])
    group_id = np.cumsum(group_start) - 1
    for group in np.unique(group_id[1:][differs]).tolist():
        positions = np.flatnonzero(group_id == group)
        chord = members[positions].tolist()
        own_classes = [int(classes[first_part[m]]) for m in chord]
        counts = Counter(own_classes)
        shared = [c for c in dict.fromkeys(own_classes) if 2 * counts[c] >= len(chord)]
        basic = [c for c in shared if _SINGLE[c]]
        other = [c for c in shared if not _SINGLE[c]]
        for member, own in zip(chord, own_classes):
            length = CLASS_UNITS[own]
            new = next((c for c in basic if 4 * abs(CLASS_UNITS[c] - length) <= length), None)
            if new is None:
                new = next((c for c in other if 8 * abs(CLASS_UNITS[c] - length) <= length), own)
            classes[first_part[member]] = new
    return classes


def finalize(
    notes: SectionNotes,
    classes: np.ndarray,
    tokens: Tokens,
    meter: Meter,
    unit: int,
    chunk_start: int,
    tally: Tally,
) -> SectionEvents | None:
    """The partials of the notes that find an output channel (spec 2.7), in chunk ticks; None when no
    note is left. Each partial is its own note (long notes are re-articulated at barlines)."""
    if len(notes.token) == 0:
        return None
    note_token = notes.token
    instrument = tokens.instrument[note_token]
    keep_part = np.ones(len(classes), bool)
    if np.count_nonzero(np.bincount(instrument, minlength=CHANNELS + 1)) > CHANNELS:
        kept_notes = _channel_check(notes, classes, tokens, unit)
        tally.drop(reasons.NO_CHANNEL, int(len(note_token) - kept_notes.sum()))
        keep_part = kept_notes[notes.part_note]
        if not keep_part.any():
            return None
    part_token = note_token[notes.part_note[keep_part]]
    time = chunk_start + notes.part_start[keep_part]
    duration = classes[keep_part]
    pitch = tokens.pitch[part_token]
    instrument = tokens.instrument[part_token]
    order = np.lexsort((instrument, pitch, time))
    time, duration, pitch, instrument = time[order], duration[order], pitch[order], instrument[order]
    return SectionEvents(
        meter=meter,
        unit=unit,
        start=chunk_start,
        time=time,
        end_time=time + _UNITS[duration] * unit,
        pitch=pitch,
        instrument=instrument,
        duration=duration,
        velocity=tokens.velocity[part_token][order],
    )


def _channel_check(notes: SectionNotes, classes: np.ndarray, tokens: Tokens, unit: int) -> np.ndarray:
    """Which notes find one of 15 output channels: an instrument without a channel takes the channel
    that is free earliest, if it is free by the note's start; the channel stays busy until the latest
    end of its notes (the original kept the end of the last note only)."""
    count = len(notes.token)
    first_part = np.searchsorted(notes.part_note, np.arange(count), side="left")
    last_part = np.searchsorted(notes.part_note, np.arange(count), side="right") - 1
    starts = notes.part_start[first_part].tolist()
    ends = (notes.part_start[last_part] + _UNITS[classes[last_part]] * unit).tolist()
    pitches = tokens.pitch[notes.token].tolist()
    instruments = tokens.instrument[notes.token].tolist()
    channel_of: dict[int, int] = {}
    holder: list[int | None] = [None] * CHANNELS
    busy = [0] * CHANNELS
    kept = np.zeros(count, bool)
    for note in sorted(range(count), key=lambda n: (starts[n], pitches[n])):
        channel = channel_of.get(instruments[note])
        if channel is None:
            channel = min(range(CHANNELS), key=busy.__getitem__)
            if busy[channel] > starts[note]:
                continue
            previous = holder[channel]
            if previous is not None:
                del channel_of[previous]
            holder[channel] = instruments[note]
            channel_of[instruments[note]] = channel
        busy[channel] = max(busy[channel], ends[note])
        kept[note] = True
    return kept
