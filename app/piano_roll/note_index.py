"""Fast lookup of the notes inside a time window, for drawing only what is visible.

A :class:`NoteIndex` holds one group of notes (e.g. one track, or the notes of one track in one
velocity band) as numpy columns sorted by start tick. Since no note is longer than ``max_duration``,
every note that overlaps ticks ``[t0, t1)`` starts in ``[t0 - max_duration, t1)``: two binary searches
give that slice, a vector test drops the few that end before ``t0``. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.score import Note


@dataclass(frozen=True)
class NoteIndex:
    starts: np.ndarray  # int64, sorted
    ends: np.ndarray
    pitches: np.ndarray
    velocities: np.ndarray
    max_duration: int

    @classmethod
    def build(cls, notes: Sequence[Note]) -> "NoteIndex":
        """Index ``notes`` (in any order; Track.notes are already sorted by start)."""
        if len(notes) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty, 0)
        table = np.asarray(notes, dtype=np.int64).reshape(-1, 4)
        order = np.argsort(table[:, 0], kind="stable")
        table = table[order]
        starts = np.ascontiguousarray(table[:, 0])
        durations = table[:, 1]
        return cls(
            starts,
            starts + durations,
            np.ascontiguousarray(table[:, 2]),
            np.ascontiguousarray(table[:, 3]),
            int(durations.max()),
        )

    def __len__(self) -> int:
        return len(self.starts)

    def window(self, t0: float, t1: float) -> tuple[int, int]:
        """The slice ``[lo, hi)`` of notes that start early enough to overlap ``[t0, t1)`` and not
        after it; a superset of the visible notes, exact on the right, at most ``max_duration`` wide
        on the left."""
        lo = int(self.starts.searchsorted(t0 - self.max_duration, side="right"))
        hi = int(self.starts.searchsorted(t1, side="left"))
        return lo, max(lo, hi)

    def visible(self, t0: float, t1: float, low_pitch: int, high_pitch: int) -> np.ndarray:
        """Indices of the notes that overlap ticks ``[t0, t1)`` with a pitch in ``low-high``."""
        lo, hi = self.window(t0, t1)
        ends = self.ends[lo:hi]
        pitches = self.pitches[lo:hi]
        mask = (ends > t0) & (pitches >= low_pitch) & (pitches <= high_pitch)
        return np.flatnonzero(mask) + lo
