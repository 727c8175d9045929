"""Small Scores of known chords for the harmony tests."""

from __future__ import annotations

from core.harmony.labels import Chord
from core.harmony.templates import INTERVALS
from core.music.score import Note, Score, TimeSignature, Track

TICKS = 480
BAR = 4 * TICKS


def voiced(chord: Chord, inversion: int = 0, low: int = 48) -> list[int]:
    """The chord's tones stacked upwards from ``low``, its ``inversion``-th tone in the bass."""
    assert chord.root is not None and chord.quality is not None
    classes = [(chord.root + step) % 12 for step in INTERVALS[chord.quality]]
    classes = classes[inversion:] + classes[:inversion]
    pitches, pitch = [], low
    for pitch_class in classes:
        while pitch % 12 != pitch_class:
            pitch += 1
        pitches.append(pitch)
    return pitches


def block_chords(chords: list[list[int]], length: int = BAR, meter: tuple[int, int] = (4, 4)) -> Score:
    """A Score holding each pitch list as one block chord of ``length`` ticks, one after another."""
    notes = [Note(index * length, length, pitch, 80) for index, pitches in enumerate(chords) for pitch in pitches]
    return Score(TICKS, (Track("piano", notes=tuple(notes)),), time_signatures=(TimeSignature(0, *meter),))
