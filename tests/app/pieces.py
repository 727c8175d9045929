"""Small real pieces for the app tests, written with the project's own MIDI writer."""

from __future__ import annotations

from pathlib import Path

from core.midi.files import write_midi
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

TPQ = 480
BAR = 4 * TPQ


def quartet(bars: int = 12) -> Score:
    """Four tracks over ``bars`` bars of 4/4 with a change to 3/4 at bar 9 (so the grid has work)."""
    three_four_from = 8 * BAR
    starts = [b * BAR for b in range(8)] + [three_four_from + b * 3 * TPQ for b in range(bars - 8)]
    melody = [Note(s + q * TPQ, TPQ, 72 + (i + q) % 7, 60 + 10 * q) for i, s in enumerate(starts) for q in range(3)]
    harmony = [Note(s, 2 * TPQ, 64 + i % 5, 70) for i, s in enumerate(starts)]
    bass = [Note(s, 3 * TPQ, 40 + i % 4, 90) for i, s in enumerate(starts)]
    drums = [Note(s + q * TPQ, TPQ // 4, 36 + q % 2 * 2, 100) for s in starts for q in range(3)]
    return Score(
        TPQ,
        (
            Track("Violin", 40, 0, melody),
            Track("Viola", 41, 1, harmony),
            Track("Cello", 42, 2, bass),
            Track("Drums", 0, 9, drums),
        ),
        (TempoChange(0, 500_000),),
        (TimeSignature(0, 4, 4), TimeSignature(three_four_from, 3, 4)),
        title="Quartet",
    )


def write_quartet(folder: Path, name: str = "quartet.mid") -> Path:
    path = folder / name
    write_midi(quartet(), path)
    return path
