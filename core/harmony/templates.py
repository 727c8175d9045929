"""Chord templates: which pitch classes each quality holds, and the vocabulary of all chords.

The vocabulary is fixed (no chord first, then 12 roots x 10 qualities, root-major order), so a
chord's index can be stored in a dataset and its one-hot fed to a network.
"""

from __future__ import annotations

import numpy as np

from core.harmony.labels import NO_CHORD, QUALITIES, Chord

# Intervals above the root, in semitones.
INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "sus4": (0, 5, 7),
}
assert tuple(INTERVALS) == QUALITIES

VOCABULARY: tuple[Chord, ...] = (NO_CHORD,) + tuple(Chord(root, q) for root in range(12) for q in QUALITIES)
CHORD_INDEX: dict[Chord, int] = {chord: index for index, chord in enumerate(VOCABULARY)}
QUALITY_INDEX: dict[str, int] = {quality: index for index, quality in enumerate(QUALITIES)}


def chord_tones(chord: Chord) -> frozenset[int]:
    """The pitch classes of a chord (empty for no chord)."""
    if chord.root is None or chord.quality is None:
        return frozenset()
    return frozenset((chord.root + interval) % 12 for interval in INTERVALS[chord.quality])


def template_matrix() -> np.ndarray:
    """(len(VOCABULARY), 12) float: 1 on each chord's tones (all zero for no chord)."""
    matrix = np.zeros((len(VOCABULARY), 12))
    for index, chord in enumerate(VOCABULARY):
        for pitch_class in chord_tones(chord):
            matrix[index, pitch_class] = 1.0
    return matrix


def quality_from_intervals(intervals: frozenset[int]) -> str | None:
    """The quality whose intervals above the root are exactly ``intervals``, else None."""
    for quality, steps in INTERVALS.items():
        if frozenset(steps) == intervals:
            return quality
    return None
