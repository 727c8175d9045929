"""A Score (or a tick range of it) as a list of timed MIDI messages, ready to send.

Both the real-time player and the offline renderer play from this list, so what is heard live and
what is written to a WAV file are the same. The list is "clean": within the range every note-on has
its note-off, a note held across the start of the range sounds from the start (and the last value of
each controller before the start, e.g. a held sustain pedal, is sent there), notes are cut at the end
of the range, and overlapping notes of the same pitch on the same channel are re-struck instead of
being cut short by the earlier note's note-off.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from core.score import Score


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


def midi_events(score: Score, start: int = 0, end: int | None = None) -> list[MidiEvent]:
    """The messages that play ``score`` from tick ``start`` to ``end`` (default: the end of the
    music), sorted by tick and kind. Program changes for every track come first, at ``start``."""
    end = score.end_tick if end is None else end
    if start < 0 or end < start:
        raise ValueError(f"not a valid tick range: {start}-{end}")
    raw: list[MidiEvent] = []
    for track in score.tracks:
        raw.append(MidiEvent(start, Kind.PROGRAM, track.channel, track.program, 0))
        chased: dict[int, int] = {}
        for control in track.controls:
            if control.tick < start:
                chased[control.number] = control.value
            elif control.tick < end:
                raw.append(MidiEvent(control.tick, Kind.CONTROL, track.channel, control.number, control.value))
        raw += [MidiEvent(start, Kind.CONTROL, track.channel, n, v) for n, v in sorted(chased.items())]
        for note in track.notes:
            if note.start >= end or note.end <= start:
                continue
            on = max(note.start, start)
            off = min(note.end, end)
            if off <= on:
                continue
            raw.append(MidiEvent(on, Kind.NOTE_ON, track.channel, note.pitch, note.velocity))
            raw.append(MidiEvent(off, Kind.NOTE_OFF, track.channel, note.pitch, 0))
    raw.sort()
    return _restrike_overlaps(raw)


def _restrike_overlaps(events: list[MidiEvent]) -> list[MidiEvent]:
    """Keep a count of sounding copies of each (channel, pitch): a second note-on re-strikes the key
    (note-off, then note-on) and only the last note-off releases it."""
    sounding: dict[tuple[int, int], int] = {}
    clean: list[MidiEvent] = []
    for event in events:
        key = (event.channel, event.data1)
        if event.kind == Kind.NOTE_ON:
            if sounding.get(key, 0) > 0:
                clean.append(MidiEvent(event.tick, Kind.NOTE_OFF, event.channel, event.data1, 0))
            sounding[key] = sounding.get(key, 0) + 1
            clean.append(event)
        elif event.kind == Kind.NOTE_OFF:
            sounding[key] -= 1
            if sounding[key] == 0:
                clean.append(event)
        else:
            clean.append(event)
    return clean


def timed_events(score: Score, start: int = 0, end: int | None = None) -> list[TimedEvent]:
    """:func:`midi_events` with each message's time in seconds from ``start``, by the tempo map."""
    origin = score.seconds_at(start)
    return [TimedEvent(score.seconds_at(e.tick) - origin, e) for e in midi_events(score, start, end)]


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
