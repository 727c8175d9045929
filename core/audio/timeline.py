"""A Score (or a tick range of it) as a list of timed MIDI messages, ready to send.

Both the real-time player and the offline renderer play from this list, so what is heard live and
what is written to a WAV file are the same. The list is "clean": within the range every note-on has
its note-off, a note held across the start of the range sounds from the start (and the last value of
each controller before the start, e.g. a held sustain pedal, is sent there), notes are cut at the end
of the range, and overlapping notes of the same pitch on the same channel are re-struck instead of
being cut short by the earlier note's note-off.

Speed: the messages are made lazily (a heap merge of per-track streams, each reading its track's
note columns a chunk at a time, never its Note objects), so the player starts on the first while
later ones are still unmade: play() to the first note of a 96,000-note piece started in the middle
takes ~0.7 ms (median; ~6 ms when the notes were walked as objects, and ~0.9 s when the whole list
was built first; ``benchmarks/audio.py``, figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import sys
from collections.abc import Iterable, Iterator
from enum import IntEnum
from typing import NamedTuple

from core.music.score import Score, Track


class Kind(IntEnum):
    """Kinds of message, in the order they are sent when they fall on the same tick."""

    NOTE_OFF = 0
    PROGRAM = 1
    CONTROL = 2
    NOTE_ON = 3


class MidiEvent(NamedTuple):
    """One message at a tick. ``data1``/``data2``: pitch and velocity, program and 0, or controller
    number and value."""

    tick: int
    kind: Kind
    channel: int
    data1: int
    data2: int


class TimedEvent(NamedTuple):
    """A message at ``seconds`` after the start of the range."""

    seconds: float
    event: MidiEvent


def iter_midi_events(score: Score, start: int = 0, end: int | None = None) -> Iterator[MidiEvent]:
    """The messages that play ``score`` from tick ``start`` to ``end`` (default: the end of the
    music), in order of tick and kind, made lazily (see the module docstring). Program changes for every track, and the controllers in force, come first, at ``start``."""
    end = score.end_tick if end is None else end
    if start < 0 or end < start:
        raise ValueError(f"not a valid tick range: {start}-{end}")
    prelude: list[_Pending] = []
    streams: list[Iterable[_Pending]] = [prelude]
    for track in score.tracks:
        prelude.append((MidiEvent(start, Kind.PROGRAM, track.channel, track.program, 0), 0))
        first_control = bisect.bisect_left(track.controls, start, key=lambda c: c.tick)
        chased = {c.number: c.value for c in track.controls[:first_control]}
        prelude += [(MidiEvent(start, Kind.CONTROL, track.channel, n, v), 0) for n, v in sorted(chased.items())]
        first_note = int(track.note_columns.start.searchsorted(start, side="left"))
        streams += [
            _held(track, first_note, start, end),
            heapq.merge(_controls(track, first_control, end), _onsets(track, first_note, end), key=_order),
        ]
    prelude.sort(key=_order)  # programs of all tracks, then the controllers in force
    return _with_note_offs(heapq.merge(*streams, key=_order))


_Pending = tuple[MidiEvent, int]  # a message and, for a note-on, the tick of its note-off


def _order(pending: _Pending) -> tuple[int, int]:
    return pending[0].tick, pending[0].kind


def _controls(track: Track, first: int, end: int) -> Iterator[_Pending]:
    for control in itertools.islice(track.controls, first, None):
        if control.tick >= end:
            return
        yield MidiEvent(control.tick, Kind.CONTROL, track.channel, control.number, control.value), 0


def _held(track: Track, first: int, start: int, end: int) -> list[_Pending]:
    """The notes of ``track`` before note ``first`` that still sound at ``start``, struck there."""
    if start >= end:
        return []
    notes = track.note_columns
    ends = notes.end[:first]
    sounding = ends > start
    pitches, velocities = notes.pitch[:first][sounding].tolist(), notes.velocity[:first][sounding].tolist()
    return [
        (MidiEvent(start, Kind.NOTE_ON, track.channel, pitch, velocity), min(off, end))
        for pitch, velocity, off in zip(pitches, velocities, ends[sounding].tolist())
    ]


ONSET_CHUNK = 256  # notes turned from columns into messages at a time, so that a play starts at once


def _onsets(track: Track, first: int, end: int) -> Iterator[_Pending]:
    notes = track.note_columns
    for low in range(first, len(notes), ONSET_CHUNK):
        part = slice(low, low + ONSET_CHUNK)
        columns = (notes.start[part], notes.pitch[part], notes.velocity[part], notes.end[part])
        for tick, pitch, velocity, off in zip(*(column.tolist() for column in columns)):
            if tick >= end:
                return
            yield MidiEvent(tick, Kind.NOTE_ON, track.channel, pitch, velocity), min(off, end)


def _with_note_offs(pending: Iterator[_Pending]) -> Iterator[MidiEvent]:
    """Insert each note's note-off at its time, keeping a count of sounding copies of every
    (channel, pitch): a later note-on re-strikes the key (note-off, then note-on), copies that start
    together strike once, and only the last note-off of overlapping copies releases the key."""
    offs: list[tuple[int, int, int]] = []  # heap of (tick, channel, pitch)
    sounding: dict[tuple[int, int], int] = {}

    def release_until(tick: int) -> Iterator[MidiEvent]:
        while offs and offs[0][0] <= tick:
            off_tick, channel, pitch = heapq.heappop(offs)
            key = (channel, pitch)
            sounding[key] -= 1
            if sounding[key] == 0:
                yield MidiEvent(off_tick, Kind.NOTE_OFF, channel, pitch, 0)

    struck_at: dict[tuple[int, int], int] = {}  # tick of each key's latest note-on
    onsets: list[_Pending] = []  # the note-ons of one tick, held back until the tick is complete

    def strike() -> list[MidiEvent]:
        restrikes, ons = [], []
        for event, off_tick in onsets:
            key = (event.channel, event.data1)
            count = sounding.get(key, 0)
            sounding[key] = count + 1
            heapq.heappush(offs, (off_tick, event.channel, event.data1))
            if count and struck_at[key] == event.tick:
                continue  # the same key twice at the same instant: one strike
            if count:
                restrikes.append(MidiEvent(event.tick, Kind.NOTE_OFF, event.channel, event.data1, 0))
            struck_at[key] = event.tick
            ons.append(event)
        onsets.clear()
        return restrikes + ons  # note-offs before note-ons, also within one tick

    for event, off_tick in pending:
        if onsets and event.tick != onsets[0][0].tick:
            yield from strike()
        yield from release_until(event.tick)  # note-offs come first at a tick
        if event.kind == Kind.NOTE_ON:
            onsets.append((event, off_tick))
        else:
            yield event
    yield from strike()
    yield from release_until(sys.maxsize)


def midi_events(score: Score, start: int = 0, end: int | None = None) -> list[MidiEvent]:
    """:func:`iter_midi_events` as a list."""
    return list(iter_midi_events(score, start, end))


def iter_timed_events(score: Score, start: int = 0, end: int | None = None) -> Iterator[TimedEvent]:
    """:func:`iter_midi_events` with each message's time in seconds from ``start``, by the tempo map."""
    origin = score.seconds_at(start)
    seconds_at = score.seconds_at
    for event in iter_midi_events(score, start, end):
        yield TimedEvent(seconds_at(event.tick) - origin, event)


def timed_events(score: Score, start: int = 0, end: int | None = None) -> list[TimedEvent]:
    """:func:`iter_timed_events` as a list."""
    return list(iter_timed_events(score, start, end))


def range_seconds(score: Score, start: int, end: int) -> float:
    """Length in seconds of the tick range ``start``-``end``."""
    return score.seconds_at(end) - score.seconds_at(start)


def bar_range(score: Score, first: int | None = None, last: int | None = None) -> tuple[int, int]:
    """Tick range of bars ``first`` to ``last`` (numbered from 1, inclusive). ``first`` defaults to
    bar 1 and ``last`` to the end of the music (so a range that starts inside the piece ends with it)."""
    if first is not None and first < 1:
        raise ValueError(f"bar {first}: bars are numbered from 1")
    if last is not None and first is not None and last < first:
        raise ValueError(f"bars {first}-{last}: the last bar comes before the first")
    start = score.bar(first).start if first else 0
    end = score.bar(last).end if last else max(score.end_tick, start)
    return start, end
