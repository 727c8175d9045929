"""Random but plausible encoded pieces for network and training tests.

Bars of 4/4 or 3/4 with onsets on an eighth grid, chords sorted by ascending pitch, held notes that
cross barlines (so active pitches carry over), closing pauses and the odd empty bar. The columns obey
the event contract: offsets from the previous onset (the first from the barline), duration class 0
only for pauses, beats on the q*/2 grid, active sets excluding the event itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.model.features import CLASS_UNITS, beats_of
from core.representation.events import N_INSTRUMENTS, N_PITCHES, VELOCITY_BINS, EncodedPiece, EventArrays

_CLASS_OF_UNITS = {int(units): index for index, units in enumerate(CLASS_UNITS.tolist())}
_NOTE_DURATIONS = (6, 12, 18, 24, 36, 48)  # eighth .. whole


def random_piece(rng: np.random.Generator, bars: int = 8, meter: int = 4, chunks: int = 1, source: str = "") -> EncodedPiece:
    bar_length = meter * 24
    rows: list[tuple[int, int, int, int, int, int]] = []  # offset, duration, pitch, instrument, beat, velocity
    actives: list[tuple[np.ndarray, np.ndarray]] = []
    sounding: list[tuple[int, int, int]] = []  # (end, pitch, instrument) in absolute units
    bounds = [0]
    instruments = rng.choice(N_INSTRUMENTS, size=2, replace=False)
    for bar in range(bars):
        bar_start = bar * bar_length
        previous_time = 0
        if rng.random() < 0.05:  # an empty bar is one pause reaching the barline
            onsets = []
        else:
            grid = np.arange(0, bar_length, 12)
            onsets = sorted(rng.choice(grid, size=rng.integers(1, len(grid) // 2 + 1), replace=False).tolist())
            if 0 not in onsets and rng.random() < 0.7:
                onsets = [0] + onsets
        for time in onsets:
            chord = sorted(rng.choice(np.arange(20, 80), size=rng.integers(1, 4), replace=False).tolist())
            duration = int(rng.choice(_NOTE_DURATIONS))
            for position, pitch in enumerate(chord):
                instrument = int(instruments[position % 2])
                absolute = bar_start + time
                active_p, active_i = np.zeros(N_PITCHES, bool), np.zeros(N_INSTRUMENTS, bool)
                for end, p, i in sounding:
                    if end > absolute:
                        active_p[p], active_i[i] = True, True
                offset = time - previous_time if position == 0 else 0
                beat = int(beats_of(torch.tensor(time), torch.tensor(bar_length)))
                rows.append((_CLASS_OF_UNITS[offset], duration, pitch, instrument, beat, int(rng.integers(VELOCITY_BINS))))
                actives.append((active_p, active_i))
                sounding.append((absolute + int(CLASS_UNITS[duration]), pitch, instrument))
            previous_time = time
        if not onsets or rng.random() < 0.3:  # a pause that reaches the barline closes the bar
            active_p, active_i = np.zeros(N_PITCHES, bool), np.zeros(N_INSTRUMENTS, bool)
            for end, p, i in sounding:
                if end > bar_start + bar_length:
                    active_p[p], active_i[i] = True, True
            rows.append((_CLASS_OF_UNITS[bar_length - previous_time], 0, -1, -1, 0, -1))
            actives.append((active_p, active_i))
        bounds.append(len(rows))
    columns = np.array(rows, dtype=np.int16).reshape(-1, 6)
    events = EventArrays(
        offset=columns[:, 0],
        duration=columns[:, 1],
        pitch=columns[:, 2],
        instrument=columns[:, 3],
        beat=columns[:, 4],
        velocity=columns[:, 5],
        is_pause=columns[:, 2] < 0,
        active_pitches=np.array([a for a, _ in actives]),
        active_instruments=np.array([b for _, b in actives]),
    )
    chunk = np.minimum(np.arange(bars) * chunks // bars, chunks - 1)
    return EncodedPiece(
        events=events,
        bar_bounds=np.array(bounds),
        bar_chunk=chunk,
        bar_numerator=np.full(bars, meter),
        bar_denominator=np.full(bars, 4),
        bar_tempo=np.full(bars, 500_000),
        source=source,
    )


def random_pieces(count: int, bars: int = 8, seed: int = 0) -> list[EncodedPiece]:
    rng = np.random.default_rng(seed)
    return [
        random_piece(rng, bars=bars, meter=int(rng.choice([3, 4])), chunks=1 + index % 2, source=f"piece{index}")
        for index in range(count)
    ]


def write_dataset(folder: Path, count: int, bars: int = 8, seed: int = 0) -> Path:
    """Save ``count`` random pieces as ``.npz`` files in ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, piece in enumerate(random_pieces(count, bars, seed)):
        piece.save(folder / f"piece{index:03d}.npz")
    return folder
