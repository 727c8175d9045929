"""The tables of a prepared dataset that batching reads: where each bar's events lie (:class:`BarTable`)
and the store those events are read from (:class:`EventStore`: in memory, or memory-mapped shards).

They live with preprocessing, which writes them, so that both the per-piece and the sharded datasets
(:mod:`core.preprocess.shards`) can build them without importing the model's batching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from core.representation.events import EncodedPiece, EventArrays

INT_COLUMNS = ("offset", "duration", "pitch", "instrument", "beat", "velocity")  # the integer event columns a batch holds


class EventStore(Protocol):
    """Where a :class:`PairSet` reads its events: all in memory (:class:`InMemoryEvents`), or in
    memory-mapped shards read on demand (:class:`core.preprocess.shards.ShardedEvents`)."""

    def __len__(self) -> int: ...

    def take(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The events at ``index`` (any shape): each integer column of ``INT_COLUMNS`` (any integer
        type) and ``active_pitches``/``active_instruments`` as booleans of shape ``index.shape + (width,)``."""
        ...


@dataclass(frozen=True)
class InMemoryEvents:
    """An :class:`EventStore` over one :class:`EventArrays` in memory."""

    events: EventArrays

    def __len__(self) -> int:
        return len(self.events)

    def take(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {name: getattr(self.events, name)[index] for name in (*INT_COLUMNS, "active_pitches", "active_instruments")}


@dataclass(frozen=True)
class BarTable:
    """Per bar of a dataset: where its events lie in the event store, whether it opens its chunk
    (its context is then the START token), its meter and the index of its piece."""

    start: np.ndarray  # int64: first event
    stop: np.ndarray  # int64: one past the last event
    opens: np.ndarray  # bool
    numerator: np.ndarray
    denominator: np.ndarray
    piece: np.ndarray  # int64: index into the dataset's sources

    @classmethod
    def of_pieces(cls, pieces: Sequence[EncodedPiece]) -> "BarTable":
        """The bars of ``pieces`` laid end to end, as :meth:`EventArrays.concatenate` lays their events."""
        parts, offset = [], 0
        for number, piece in enumerate(pieces):
            bounds = piece.bar_bounds + offset
            chunk = piece.bar_chunk
            opens = np.concatenate([[True], chunk[1:] != chunk[:-1]]) if piece.bar_count else np.zeros(0, bool)
            parts.append((bounds[:-1], bounds[1:], opens, piece.bar_numerator, piece.bar_denominator, np.full(piece.bar_count, number)))
            offset += len(piece.events)
        return cls.concatenate(parts)

    @classmethod
    def concatenate(cls, parts: Sequence[tuple[np.ndarray, ...]]) -> "BarTable":
        """A table from ``(start, stop, opens, numerator, denominator, piece)`` column tuples."""
        types = (np.int64, np.int64, bool, np.int64, np.int64, np.int64)
        columns = [np.concatenate([np.asarray(p[i], t) for p in parts]) if parts else np.zeros(0, t) for i, t in enumerate(types)]
        return cls(*columns)
