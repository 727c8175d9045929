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

from core.music.score import Note, NoteColumns, note_rows


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
        table = note_rows(notes)
        return cls.of_columns(NoteColumns(*table[np.argsort(table[:, 0], kind="stable")].T))

    @classmethod
    def of_columns(cls, notes: NoteColumns) -> "NoteIndex":
        """Index a track's :attr:`~core.music.score.Track.note_columns` (sorted by start already),
        without making its notes."""
        rows = np.stack([notes.start, notes.end, notes.pitch, notes.velocity])
        return cls.of_rows(rows, int(notes.duration.max(initial=0)))

    @classmethod
    def of_rows(cls, rows: np.ndarray, max_duration: int) -> "NoteIndex":
        """An index over ``rows`` (4 x n: starts, ends, pitches, velocities), whose rows it views."""
        index = cls(rows[0], rows[1], rows[2], rows[3], max_duration)
        object.__setattr__(index, "_rows", rows)
        return index

    @property
    def rows(self) -> np.ndarray:
        """The four columns as one 4 x n array (so an edit copies them in one operation)."""
        rows = self.__dict__.get("_rows")
        if rows is None:
            rows = np.stack([self.starts, self.ends, self.pitches, self.velocities])
            object.__setattr__(self, "_rows", rows)
        return rows

    def __len__(self) -> int:
        return len(self.starts)

    def note(self, position: int) -> Note:
        """The note at ``position`` of the index."""
        start = int(self.starts[position])
        return Note(start, int(self.ends[position]) - start, int(self.pitches[position]), int(self.velocities[position]))

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
        if not len(notes):
            return np.zeros(0, dtype=np.int64)
        table = note_rows(notes)
        los = self.starts.searchsorted(table[:, 0], side="left").tolist()
        his = self.starts.searchsorted(table[:, 0], side="right").tolist()
        ends, pitches, velocities = self.ends, self.pitches, self.velocities
        taken: set[int] = set()
        found = []
        for (start, duration, pitch, velocity), lo, hi in zip(table.tolist(), los, his):
            end = start + duration
            position = next(
                (
                    j
                    for j in range(lo, hi)
                    if j not in taken and ends[j] == end and pitches[j] == pitch and velocities[j] == velocity
                ),
                None,
            )
            if position is None:
                raise KeyError(Note(start, duration, pitch, velocity))
            taken.add(position)
            found.append(position)
        return np.asarray(sorted(found), dtype=np.int64)

    def spliced(self, removed_at: np.ndarray, added: Sequence[Note]) -> tuple["NoteIndex", np.ndarray]:
        """The index without the notes at ``removed_at`` (sorted positions) and with ``added`` put
        in order; also where the added notes went, as :func:`splice_list` wants it (for each added
        note, sorted by start, the number of kept notes before it)."""
        rows = _without(self.rows, removed_at)
        if not len(added):
            return NoteIndex.of_rows(rows, self.max_duration), np.zeros(0, dtype=np.int64)  # still a bound
        table = note_rows(added)
        table = table[np.argsort(table[:, 0], kind="stable")]
        at = rows[0].searchsorted(table[:, 0], side="right")
        table[:, 1] += table[:, 0]  # durations to ends
        longest = max(self.max_duration, int((table[:, 1] - table[:, 0]).max()))
        return NoteIndex.of_rows(_with(rows, at, table.T), longest), at


def splice_rows(rows: np.ndarray, removed_at: np.ndarray, at: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Any k x n array kept in an index's order, edited as :meth:`NoteIndex.spliced` edits the index
    (``at`` as it returns it; ``new`` k x len(at))."""
    kept = _without(rows, removed_at)
    return _with(kept, at, new) if len(at) else kept


def _without(rows: np.ndarray, removed_at: np.ndarray) -> np.ndarray:
    """``rows`` (k x n) without the columns at ``removed_at`` (sorted): one concatenation of the
    slices between them (cheaper than fancy indexing, which costs per element)."""
    if not len(removed_at):
        return rows
    bounds = [-1] + removed_at.tolist() + [rows.shape[1]]
    return np.concatenate([rows[:, a + 1 : b] for a, b in zip(bounds, bounds[1:]) if b > a + 1] or [rows[:, :0]], axis=1)


def _with(rows: np.ndarray, at: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``rows`` with column ``new[:, i]`` put before column ``at[i]`` (``at`` sorted)."""
    pieces = []
    begin = 0
    for i, position in enumerate(at.tolist()):
        if position > begin:
            pieces.append(rows[:, begin:position])
        pieces.append(new[:, i : i + 1])
        begin = position
    pieces.append(rows[:, begin:])
    return np.concatenate(pieces, axis=1)


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
