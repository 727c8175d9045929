"""Fast lookup of the notes inside a time window, for drawing only what is visible.

A :class:`NoteIndex` holds one group of notes (e.g. one track, or the notes of one track in one
velocity band) as numpy columns sorted by start tick. Since no note is longer than ``max_duration``,
every note that overlaps ticks ``[t0, t1)`` starts in ``[t0 - max_duration, t1)``: two binary searches
give that slice, a vector test drops the few that end before ``t0``. Qt-free.

An edit changes a few notes of a track: :meth:`NoteIndex.spliced` takes those out and puts the new
ones in (a binary search each and one copy of the columns), and :func:`splice_list` does the same to
a list kept in the index's order (the painter's rectangles), so a 50,000-note track is not indexed
again for a one-note edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")

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

    # ------------------------------------------------------------------------------- editing
    def positions_of(self, notes: Sequence[Note]) -> np.ndarray:
        """Where each of ``notes`` is in the index (a doubled note is found once for each time it is
        asked for); ``KeyError`` for a note the index does not hold."""
        taken: set[int] = set()
        found = []
        for note in notes:
            start, duration, pitch, velocity = note
            lo = int(self.starts.searchsorted(start, side="left"))
            hi = int(self.starts.searchsorted(start, side="right"))
            match = np.flatnonzero(
                (self.ends[lo:hi] == start + duration) & (self.pitches[lo:hi] == pitch) & (self.velocities[lo:hi] == velocity)
            )
            position = next((lo + int(j) for j in match if lo + int(j) not in taken), None)
            if position is None:
                raise KeyError(note)
            taken.add(position)
            found.append(position)
        return np.asarray(sorted(found), dtype=np.int64)

    def spliced(self, removed_at: np.ndarray, added: Sequence[Note]) -> tuple["NoteIndex", np.ndarray]:
        """The index without the notes at ``removed_at`` (sorted positions) and with ``added`` put
        in order; also where the added notes went (positions in the new index's order of insertion,
        as :func:`splice_list` wants them: indices into the kept notes, sorted)."""
        keep = np.ones(len(self.starts), dtype=bool)
        keep[removed_at] = False
        starts, ends = self.starts[keep], self.ends[keep]
        pitches, velocities = self.pitches[keep], self.velocities[keep]
        if len(added):
            table = np.asarray(added, dtype=np.int64).reshape(-1, 4)
            table = table[np.argsort(table[:, 0], kind="stable")]
            at = starts.searchsorted(table[:, 0], side="right")
            starts = np.insert(starts, at, table[:, 0])
            ends = np.insert(ends, at, table[:, 0] + table[:, 1])
            pitches = np.insert(pitches, at, table[:, 2])
            velocities = np.insert(velocities, at, table[:, 3])
            longest = max(self.max_duration, int(table[:, 1].max()))
        else:
            at = np.zeros(0, dtype=np.int64)
            longest = self.max_duration  # still a bound: the window stays a superset
        return NoteIndex(starts, ends, pitches, velocities, longest), at


def sorted_by_start(notes: Sequence[Note]) -> list[Note]:
    """``notes`` in the order :meth:`NoteIndex.spliced` inserts them (by start, stable)."""
    return sorted(notes, key=lambda n: n[0])


def splice_list(items: list[T], removed_at: np.ndarray, insert_at: np.ndarray, new: Sequence[T]) -> list[T]:
    """``items`` without the entries at ``removed_at`` and with ``new[i]`` put before the
    ``insert_at[i]``-th of the kept entries (``insert_at`` sorted, as numpy.insert takes it)."""
    kept: list[T] = []
    begin = 0
    for position in removed_at.tolist():
        kept.extend(items[begin:position])
        begin = position + 1
    kept.extend(items[begin:])
    if not len(new):
        return kept
    result: list[T] = []
    begin = 0
    for position, item in zip(insert_at.tolist(), new):
        result.extend(kept[begin:position])
        result.append(item)
        begin = position
    result.extend(kept[begin:])
    return result
