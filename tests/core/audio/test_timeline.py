"""Score -> timed MIDI messages: ordering, ranges, held notes, controller chase, re-striking."""

from __future__ import annotations

import random

import pytest

from core.audio.timeline import Kind, MidiEvent, bar_range, iter_timed_events, midi_events, range_seconds, timed_events
from core.music.score import ControlChange, Note, NoteColumns, Score, TempoChange, TimeSignature, Track

from tests.core.audio.helpers import make_score


def test_programs_first_then_notes_in_time_order_with_offs_before_ons():
    score = make_score({("a", 40, 0): [(0, 480, 60, 90), (480, 480, 62, 80)], ("b", 0, 1): [(240, 240, 48, 70)]})
    events = midi_events(score)
    assert events[:2] == [MidiEvent(0, Kind.PROGRAM, 0, 40, 0), MidiEvent(0, Kind.PROGRAM, 1, 0, 0)]
    assert [(e.tick, e.kind, e.data1) for e in events[2:]] == [
        (0, Kind.NOTE_ON, 60), (240, Kind.NOTE_ON, 48), (480, Kind.NOTE_OFF, 60), (480, Kind.NOTE_OFF, 48),
        (480, Kind.NOTE_ON, 62), (960, Kind.NOTE_OFF, 62),
    ]


def test_range_cuts_notes_and_sounds_held_notes_from_the_start():
    score = make_score({("a", 0, 0): [(0, 1920, 60, 90), (960, 480, 64, 90), (1900, 100, 67, 90)]})
    events = midi_events(score, 480, 1920)
    notes = [(e.tick, e.kind, e.data1) for e in events if e.kind in (Kind.NOTE_ON, Kind.NOTE_OFF)]
    assert notes == [
        (480, Kind.NOTE_ON, 60), (960, Kind.NOTE_ON, 64), (1440, Kind.NOTE_OFF, 64),
        (1900, Kind.NOTE_ON, 67), (1920, Kind.NOTE_OFF, 60), (1920, Kind.NOTE_OFF, 67),
    ]


def test_controllers_in_force_at_the_start_are_sent_there():
    track = Track("p", 0, 2, (Note(0, 2000, 60, 80),), (ControlChange(0, 64, 127), ControlChange(100, 7, 90),
                                                       ControlChange(1000, 64, 0)))
    score = Score(480, (track,))
    controls = [(e.tick, e.data1, e.data2) for e in midi_events(score, 500) if e.kind == Kind.CONTROL]
    assert controls == [(500, 7, 90), (500, 64, 127), (1000, 64, 0)]


def test_overlapping_same_pitch_is_restruck_and_released_once():
    score = make_score({("a", 0, 0): [(0, 960, 60, 90)], ("b", 0, 0): [(480, 960, 60, 70)]})
    notes = [(e.tick, e.kind) for e in midi_events(score) if e.kind in (Kind.NOTE_ON, Kind.NOTE_OFF)]
    assert notes == [(0, Kind.NOTE_ON), (480, Kind.NOTE_OFF), (480, Kind.NOTE_ON), (1440, Kind.NOTE_OFF)]
    on = sum(1 for e in midi_events(score) if e.kind == Kind.NOTE_ON)
    off = sum(1 for e in midi_events(score) if e.kind == Kind.NOTE_OFF)
    assert on == off


def test_seconds_follow_the_tempo_map():
    tempos = (TempoChange(0, 500_000), TempoChange(960, 1_000_000))  # 120 bpm, then 60 bpm from beat 3
    score = make_score({("a", 0, 0): [(0, 480, 60, 90), (960, 480, 62, 90), (1440, 480, 64, 90)]}, tempos)
    ons = [t.seconds for t in timed_events(score) if t.event.kind == Kind.NOTE_ON]
    assert ons == pytest.approx([0.0, 1.0, 2.0])
    assert [t.seconds for t in timed_events(score, 960) if t.event.kind == Kind.NOTE_ON] == pytest.approx([0.0, 1.0])
    assert range_seconds(score, 0, 1920) == pytest.approx(3.0)


def test_bar_range_follows_the_meter_map():
    score = make_score({("a", 0, 0): [(0, 480 * 12, 60, 90)]}, time_signatures=(TimeSignature(0, 3, 4),))
    assert bar_range(score, 2, 3) == (1440, 4320)
    assert bar_range(score, 2) == (1440, 480 * 12)
    assert bar_range(score) == (0, 480 * 12)
    with pytest.raises(ValueError):
        bar_range(score, 0)
    with pytest.raises(ValueError):
        bar_range(score, 3, 2)


def test_bad_range_is_refused():
    score = make_score({("a", 0, 0): [(0, 480, 60, 90)]})
    with pytest.raises(ValueError):
        midi_events(score, 400, 100)


def test_duplicate_notes_strike_once():
    score = make_score({("a", 0, 0): [(0, 480, 60, 90), (0, 960, 60, 90)], ("b", 0, 0): [(0, 240, 60, 80)]})
    notes = [(e.tick, e.kind) for e in midi_events(score) if e.kind in (Kind.NOTE_ON, Kind.NOTE_OFF)]
    assert notes == [(0, Kind.NOTE_ON), (960, Kind.NOTE_OFF)]


def test_messages_are_in_order_and_balanced_for_a_dense_random_piece():
    rng = random.Random(1)
    parts = {(f"t{t}", t, t): [(rng.randrange(0, 19200), rng.randrange(1, 2000), rng.randrange(40, 46), 80)
                                for _ in range(200)] for t in range(3)}
    score = make_score(parts)
    for start, end in [(0, None), (4000, 12000)]:
        events = midi_events(score, start, end)
        keys = [(e.tick, e.kind) for e in events]
        assert keys == sorted(keys)
        depth: dict[tuple[int, int], int] = {}
        for e in events:
            if e.kind in (Kind.NOTE_ON, Kind.NOTE_OFF):
                key = (e.channel, e.data1)
                depth[key] = depth.get(key, 0) + (1 if e.kind == Kind.NOTE_ON else -1)
                assert depth[key] in (0, 1)  # a key is never struck twice without a release
        assert all(v == 0 for v in depth.values())


def test_a_long_track_is_played_whole_from_its_middle_without_making_its_notes():
    """Note-ons come from the track's columns a chunk at a time (ONSET_CHUNK): across chunks, from a
    start in the middle, every note is struck once at its time and the one held is struck at the
    start; a track as a reader makes it (columns only) never makes its Note objects for that."""
    notes = [Note(i * 100, 150, 60 + i % 12, 80) for i in range(1000)]  # each overlaps the next
    track = Track.from_checked("a", 0, 0, NoteColumns.of(notes))
    score = Score(480, (track,), (TempoChange(0, 500_000),))
    start, end = 25_050, 90_000
    onsets = [(e.tick, e.data1) for e in midi_events(score, start, end) if e.kind == Kind.NOTE_ON]
    assert onsets == [(start, 60 + 250 % 12)] + [(i * 100, 60 + i % 12) for i in range(251, 900)]
    assert "notes" not in track.__dict__


def test_the_first_message_of_a_big_piece_is_made_without_walking_the_piece(monkeypatch):
    """Messages are made lazily: the first one of a range in the middle of a 96,000-note piece costs a
    few messages per track, not one per note (how long it takes is a figure of benchmarks/audio.py)."""
    rng = random.Random(2)
    parts = {(f"t{t}", t, t): [(rng.randrange(0, 800_000), 240, rng.randrange(40, 90), 80) for _ in range(6000)]
             for t in range(16)}
    score = make_score(parts)  # 96,000 notes
    made: list[int] = []

    class CountedEvent(MidiEvent):
        __slots__ = ()

        def __new__(cls, *fields):
            made.append(1)
            return super().__new__(cls, *fields)

    monkeypatch.setattr("core.audio.timeline.MidiEvent", CountedEvent)
    first = next(iter_timed_events(score, 400_000))
    assert first.seconds == 0.0 and first.event.kind == Kind.PROGRAM
    held = sum(n.start < 400_000 < n.end for t in score.tracks for n in t.notes)
    assert len(made) <= 16 * 4 + held, len(made)  # per track: its program, its held notes, the next onset
