"""What the composer picked: bars (the seed and the context, by bar number from 1) and notes.

The generation panels read their bar numbers from one :class:`BarSelection`; the ruler of the piano
roll makes new ones as the composer drags. It is immutable (changing the selection makes a new one)
and says itself in words, e.g. ``"seed: bars 9-10, context: bar 8"``, so the status bar, the panels
and the CLI describe a selection the same way.

A :class:`NoteSelection` is the set of notes the piano roll's edits act on: (track index, note)
pairs. Notes are values (a Score is immutable), so an edit that moves notes returns the selection of
the moved notes as well (see ``core.music.edits.NoteEdit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Iterator

from core.music.score import Note


@dataclass(frozen=True)
class BarRange:
    """Bars ``first`` to ``last``, both included, numbered from 1."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first < 1 or self.last < self.first:
            raise ValueError(f"bars {self.first}-{self.last}: not a valid range (bars are numbered from 1)")

    @classmethod
    def spanning(cls, a: int, b: int) -> "BarRange":
        """The range between two bars given in either order (as a drag gives them)."""
        return cls(min(a, b), max(a, b))

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, bar: object) -> bool:
        return isinstance(bar, int) and self.first <= bar <= self.last

    def __iter__(self):
        return iter(range(self.first, self.last + 1))

    @property
    def text(self) -> str:
        """``"bar 8"`` or ``"bars 9-10"``."""
        return f"bar {self.first}" if self.first == self.last else f"bars {self.first}-{self.last}"


@dataclass(frozen=True)
class BarSelection:
    """The seed bars (what to continue from, or the two ends of an interpolation) and the context
    bars (what the model hears before the seed). Either may be absent."""

    seed: BarRange | None = None
    context: BarRange | None = None

    @property
    def is_empty(self) -> bool:
        return self.seed is None and self.context is None

    def with_seed(self, a: int, b: int | None = None) -> "BarSelection":
        """A selection whose seed spans bars ``a`` to ``b`` (either order); context bars inside the
        new seed are dropped, since a bar cannot be both."""
        seed = BarRange.spanning(a, a if b is None else b)
        return BarSelection(seed, _without(self.context, seed))

    def with_context(self, a: int, b: int | None = None) -> "BarSelection":
        """A selection whose context spans bars ``a`` to ``b``; seed bars inside it are dropped."""
        context = BarRange.spanning(a, a if b is None else b)
        return BarSelection(_without(self.seed, context), context)

    def without_context(self) -> "BarSelection":
        return BarSelection(self.seed, None)

    def clamped(self, bar_count: int) -> "BarSelection":
        """The selection limited to bars 1..``bar_count`` (a piece got shorter after an undo)."""
        return BarSelection(_clamp(self.seed, bar_count), _clamp(self.context, bar_count))

    def continuation_start(self) -> int | None:
        """The bar where new music goes when continuing: the bar after the seed."""
        return None if self.seed is None else self.seed.last + 1

    def interpolation_bars(self) -> tuple[int, int] | None:
        """Bar A and bar B for an interpolation: the ends of a seed of two or more bars, or the
        context bar and the seed bar when the seed is one bar; ``None`` when neither applies."""
        if self.seed is not None and self.seed.count > 1:
            return self.seed.first, self.seed.last
        if self.seed is not None and self.context is not None:
            return self.context.last, self.seed.first
        return None

    def describe(self) -> str:
        """The selection in words: ``"seed: bars 9-10, context: bar 8"``."""
        parts = []
        if self.seed is not None:
            parts.append(f"seed: {self.seed.text}")
        if self.context is not None:
            parts.append(f"context: {self.context.text}")
        return ", ".join(parts) if parts else "no bars selected"


def _without(bars: BarRange | None, taken: BarRange) -> BarRange | None:
    """``bars`` less the bars of ``taken``; where ``taken`` cuts it in two, the part before is kept
    (context comes before the seed in a piece)."""
    if bars is None or bars.last < taken.first or bars.first > taken.last:
        return bars
    if bars.first < taken.first:
        return BarRange(bars.first, taken.first - 1)
    if bars.last > taken.last:
        return BarRange(taken.last + 1, bars.last)
    return None


def _clamp(bars: BarRange | None, bar_count: int) -> BarRange | None:
    if bars is None or bars.first > bar_count:
        return None
    return BarRange(bars.first, min(bars.last, bar_count))


@dataclass(frozen=True)
class NoteSelection:
    """Selected notes as (track index, note) pairs. Identical notes of one track (a doubled note)
    are one entry, and an edit acts on one of them."""

    pairs: frozenset[tuple[int, Note]] = field(default_factory=frozenset)

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, Note]]) -> "NoteSelection":
        return cls(frozenset((int(track), Note(*note)) for track, note in pairs))

    @classmethod
    def of_track(cls, track: int, notes: Iterable[Note]) -> "NoteSelection":
        return cls(frozenset((track, note) for note in notes))

    def __len__(self) -> int:
        return len(self.pairs)

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __contains__(self, pair: object) -> bool:
        return pair in self.pairs

    def __iter__(self) -> Iterator[tuple[int, Note]]:
        return iter(self.pairs)

    @cached_property
    def by_track(self) -> dict[int, tuple[Note, ...]]:
        """The selected notes of each track, sorted (as in ``Track.notes``)."""
        tracks: dict[int, list[Note]] = {}
        for track, note in self.pairs:
            tracks.setdefault(track, []).append(note)
        return {track: tuple(sorted(notes)) for track, notes in sorted(tracks.items())}

    @property
    def tracks(self) -> tuple[int, ...]:
        return tuple(self.by_track)

    def union(self, other: "NoteSelection") -> "NoteSelection":
        return NoteSelection(self.pairs | other.pairs)

    def difference(self, other: "NoteSelection") -> "NoteSelection":
        return NoteSelection(self.pairs - other.pairs)

    def toggled(self, other: "NoteSelection") -> "NoteSelection":
        """``other`` added, or taken away when all of it is selected already (Shift+click)."""
        if other.pairs <= self.pairs:
            return self.difference(other)
        return self.union(other)

    @property
    def start(self) -> int | None:
        """The earliest start tick of a selected note (None when nothing is selected)."""
        return min((note.start for _track, note in self.pairs), default=None)

    @property
    def end(self) -> int | None:
        """The latest end tick of a selected note."""
        return max((note.end for _track, note in self.pairs), default=None)

    def describe(self) -> str:
        """``"3 notes in 2 tracks"``."""
        count = len(self.pairs)
        if count == 0:
            return "no notes selected"
        tracks = len(self.by_track)
        return f"{count} note{'s' * (count != 1)}" + (f" in {tracks} tracks" if tracks > 1 else "")
