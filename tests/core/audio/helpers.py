"""Small Scores for the audio tests."""

from __future__ import annotations

from core.score import Note, Score, TempoChange, Track


def make_score(notes_by_track, tempos=(TempoChange(0, 500_000),), ticks_per_quarter=480, **fields) -> Score:
    """A Score from {(name, program, channel): [(start, duration, pitch, velocity), ...]}."""
    tracks = tuple(
        Track(name, program, channel, tuple(Note(*n) for n in notes))
        for (name, program, channel), notes in notes_by_track.items()
    )
    return Score(ticks_per_quarter, tracks, tuple(tempos), **fields)
