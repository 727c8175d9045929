"""Small Scores for the preprocessor tests."""

from __future__ import annotations

import numpy as np

from core.music.score import Note, Score, TempoChange, TimeSignature, Track


def line(*notes: tuple[int, int, int], program: int = 0, channel: int = 0, name: str = "") -> Track:
    """A track of (start, duration, pitch) notes at velocity 64."""
    return Track(name or f"program {program}", program, channel, tuple(Note(s, d, p, 64) for s, d, p in notes))


def piece(*tracks: Track, tpb: int = 480, meters=((0, 4, 4),), tempo: int = 500_000) -> Score:
    return Score(tpb, tracks, (TempoChange(0, tempo),), tuple(TimeSignature(*m) for m in meters))


def humanised(rng: np.random.Generator, tracks: int = 3, notes: int = 60, tpb: int = 480, meters=None) -> Score:
    """Random played-in music: onsets near a 16th/triplet grid with jitter, chords, overlaps, repeated
    pitches, staccato and held notes, several tracks, and meter changes (some unsupported)."""
    if meters is None:
        meters = [(0, 4, 4)]
        tick = 0
        for numerator, denominator in [(3, 4), (6, 8), (5, 4), (2, 4), (11, 4), (4, 4)][: int(rng.integers(0, 5))]:
            tick += int(rng.integers(1, 4)) * tpb * 4
            meters.append((tick, numerator, denominator))
    built = []
    for index in range(tracks):
        time = int(rng.integers(0, 2 * tpb))
        chosen = []
        for _ in range(notes):
            step = int(rng.choice([tpb // 4, tpb // 3, tpb // 2, tpb, 2 * tpb, 0, 5 * tpb]))
            time += step + int(rng.integers(-tpb // 12, tpb // 12 + 1))
            time = max(time, 0)
            duration = int(rng.choice([tpb // 8, tpb // 4, tpb // 2, tpb, 3 * tpb // 2, 6 * tpb]))
            duration = max(1, duration + int(rng.integers(-tpb // 10, tpb // 10 + 1)))
            pitch = int(rng.integers(10, 120)) if rng.random() < 0.9 else 60
            chosen.append(Note(time, duration, pitch, int(rng.integers(1, 128))))
        program = int(rng.choice([0, 40, 42, 73, 47, 52, 46]))
        channel = 9 if rng.random() < 0.1 else index
        built.append(Track(f"t{index}", program, channel, tuple(chosen)))
    return Score(tpb, tuple(built), (TempoChange(0, int(rng.choice([250_000, 500_000, 1_000_000]))),),
                 tuple(TimeSignature(*m) for m in meters))  # fmt: skip


def gridded(rng: np.random.Generator, tracks: int = 3, notes: int = 80, tpb: int = 480) -> Score:
    """Random music whose tracks take the vectorised tokeniser path (onsets at least a q*/16 apart, no
    pitch restarted while it sounds) but still hold overlaps, staccato, long rests and chords ending
    at different times, under a few meter changes."""
    meters = [(0, 4, 4), (8 * tpb, 3, 4), (14 * tpb, 6, 8), (26 * tpb, 2, 4), (30 * tpb, 4, 4)]
    step = tpb // 8
    built = []
    for index in range(tracks):
        time = 0
        chosen: list[Note] = []
        for _ in range(notes):
            time += step * int(rng.choice([0, 1, 2, 3, 4, 6, 8, 12, 20]))
            duration = step * int(rng.choice([1, 2, 3, 4, 6, 8, 12, 16])) + int(rng.choice([0, 0, -10, 17]))
            pitch = int(rng.integers(40, 90))
            if any(n.pitch == pitch and n.start + n.duration > time for n in chosen):
                continue
            chosen.append(Note(time, duration, pitch, 64))
        built.append(Track(f"t{index}", [0, 40, 73][index % 3], index, tuple(chosen)))
    return Score(tpb, tuple(built), (TempoChange(0, 500_000),), tuple(TimeSignature(*m) for m in meters))
