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
they share a meter keep ends before starts at the same tick (item 4).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from core.preprocess import report as reasons
from core.preprocess.normalize import NormalizedNote, normalizer_for
from core.preprocess.report import Tally
from core.preprocess.tokenize import MeterSection, Token
from core.representation.meters import Meter
from core.representation.vocabulary import CLASSES

CHANNELS = 15  # MIDI channels an output can use (the drum channel excluded)

# An event: (time in chunk ticks, 0 = end / 1 = start, pitch, instrument, class, velocity, note id).
Event = tuple[int, int, int, int, int, int, int]


@dataclass
class SectionEvents:
    """The events of one section (or of several merged ones of the same meter) of a chunk."""

    meter: Meter
    unit: int  # ticks per 1/24 q*
    start: int  # chunk ticks
    origin: int  # working ticks of the file at chunk time ``start``
    events: list[Event]
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


def build_chunks(tokens: list[Token], sections: list[MeterSection], unit_of: dict, tally: Tally) -> list[Chunk]:
    """Chunks of a file: ``tokens`` sorted by start, ``sections`` its meter map, ``unit_of[meter]`` the
    ticks per 1/24 q* of each supported meter at the working resolution."""
    starts = [t.start for t in tokens]
    chunks: list[Chunk] = []
    current: list[SectionEvents] = []
    offset = 0
    note_ids = 0

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
        low = bisect.bisect_left(starts, file_start)
        high = len(tokens) if file_end is None else bisect.bisect_left(starts, file_end)
        section_tokens = tokens[low:high]
        meter = section.meter
        if meter is None:
            tally.drop(reasons.UNSUPPORTED_METER, len(section_tokens))
            close()
            continue
        if not section_tokens:
            if not section.default:
                close()
            continue
        unit = unit_of[meter]
        bar = meter.bar_units * unit
        if not current:
            origin = file_start + (section_tokens[0].start - file_start) // bar * bar
            offset = -origin
            chunk_start = 0
        else:
            origin = file_start
            chunk_start = file_start + offset
        failed: list[Token] = []
        zero: list[Token] = []
        notes = normalizer_for(meter, unit).normalize(section_tokens, origin, failed, zero)
        tally.drop(reasons.NO_FITTING_CLASS, len(failed))
        tally.drop(reasons.NORMALISED_AWAY, len(zero))
        tally.trim(reasons.SPLIT_LONG, sum(1 for n in notes if len(n.partials) > 1))
        notes = unify(notes)
        events, note_ids = finalize(notes, chunk_start, unit, note_ids, tally)
        if not events:
            close()
            continue
        current.append(SectionEvents(meter, unit, chunk_start, origin, events, anchors=[(chunk_start, origin)]))
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
            previous = merged[-1]
            previous.events = sorted(previous.events + section.events, key=_event_order)
            previous.anchors.extend(section.anchors)
        else:
            merged.append(section)
    for this, following in zip(merged, merged[1:]):
        this.end = following.start
    last = merged[-1]
    final = max(e[0] for e in last.events)
    bar = last.bar_ticks
    last.end = last.start + -(-(final - last.start) // bar) * bar
    return Chunk(merged)


def _event_order(event: Event) -> tuple[int, int, int, int, int]:
    return (event[0], event[1], event[2], event[3], event[6])


def unify(notes: list[NormalizedNote]) -> list[NormalizedNote]:
    """Give the notes of a chord (same track, same start) the duration most of them share, when it is
    within 25% (a basic value) or 12.5% (a tie) of their own (spec 2.6, with working counts)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for position, note in enumerate(notes):
        if len(note.partials) == 1:
            groups.setdefault((note.track, note.start), []).append(position)
    result = list(notes)
    for members in groups.values():
        if len(members) < 2:
            continue
        classes = [notes[m].partials[0][1] for m in members]
        if len(set(classes)) == 1:
            continue
        counts = Counter(classes)
        shared = [c for c in dict.fromkeys(classes) if 2 * counts[c] >= len(members)]
        basic = [c for c in shared if CLASSES[c].is_single]
        other = [c for c in shared if not CLASSES[c].is_single]
        for member, own in zip(members, classes):
            length = CLASSES[own].units
            new = next((c for c in basic if 4 * abs(CLASSES[c].units - length) <= length), None)
            if new is None:
                new = next((c for c in other if 8 * abs(CLASSES[c].units - length) <= length), own)
            if new != own:
                note = notes[member]
                result[member] = NormalizedNote([(note.start, new)], note.pitch, note.instrument, note.track, note.velocity)
    return result


def finalize(
    notes: list[NormalizedNote], chunk_start: int, unit: int, first_id: int, tally: Tally
) -> tuple[list[Event], int]:
    """Start/end events of the notes that find an output channel (spec 2.7); returns them and the
    next free note id. Each partial is its own note (long notes are re-articulated at barlines)."""
    channel_of: dict[int, int] = {}
    holder: list[int | None] = [None] * CHANNELS
    busy = [0] * CHANNELS
    events: list[Event] = []
    note_id = first_id
    for note in sorted(notes, key=lambda n: (n.start, n.pitch)):
        start = note.start
        end = note.partials[-1][0] + CLASSES[note.partials[-1][1]].units * unit
        channel = channel_of.get(note.instrument)
        if channel is None:
            channel = min(range(CHANNELS), key=busy.__getitem__)
            if busy[channel] > start:
                tally.drop(reasons.NO_CHANNEL)
                continue
            if holder[channel] is not None:
                del channel_of[holder[channel]]  # type: ignore[arg-type]
            holder[channel] = note.instrument
            channel_of[note.instrument] = channel
        busy[channel] = max(busy[channel], end)
        for position, index in note.partials:
            time = chunk_start + position
            length = CLASSES[index].units * unit
            events.append((time, 1, note.pitch, note.instrument, index, note.velocity, note_id))
            events.append((time + length, 0, note.pitch, note.instrument, index, note.velocity, note_id))
            note_id += 1
    events.sort(key=_event_order)
    return events, note_id
