"""A piece's bars as the model sees them, found by the composer's bar numbers.

The preprocessor encodes a whole Score once (:func:`core.preprocess.encode.encode_score`); each encoded
bar records the tick where it starts, so a bar number of the Score (from 1) leads to its events. Three
things make the two grids differ, and :class:`PieceBars` hides them:

* A Score bar may hold several *encoded bars*: the representation reads 8/4 as two 4/4 bars, 10/4 as
  five 2/4 bars (the original's numerator reduction). :meth:`PieceBars.parts` lists them.
* Leading silence and bars past the last note are not encoded; they are empty bars (pauses).
* Bars in a meter the representation cannot express are not encoded; asking for one is an error.

Encodings are cached per Score object (Scores are immutable), so generating again from the same piece
does not encode it again: encoding costs ~6 us of CPU a note (``benchmarks/preprocess.py
--breakdown``: ~2.4 s for the corpus's 397,708 notes), ~0.1 s for a quartet movement of 17,000 notes,
about what continuing it by 8 bars costs (``benchmarks/generate.py``).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from fractions import Fraction

from core.errors import GenerationError
from core.generation.bars import BarPlan, Carry, carry_after, pause_fill
from core.preprocess.encode import encode_score
from core.preprocess.report import EncodeOptions
from core.representation.instruments import MAHLERNET, InstrumentTable
from core.representation.events import EncodedPiece, EventArrays
from core.music.score import Score

CARRY_BARS = 6  # encoded bars looked back to find notes still sounding at a barline


@dataclass(frozen=True)
class BarPart:
    """One encoded bar of a Score bar: where it starts (Score ticks) and how it is decoded."""

    number: int  # the Score bar (from 1)
    part: int  # 0 for the first encoded bar of that Score bar
    start: int  # tick of the Score
    plan: BarPlan
    numerator: int  # the Score bar's time signature (8/4 even where the plan reads 4/4)
    denominator: int


class PieceBars:
    """The encoded bars of one Score (see the module docstring)."""

    def __init__(self, score: Score, piece: EncodedPiece | None):
        self.score = score
        self.piece = piece
        self._index: dict[int, int] = {}
        if piece is not None and piece.bar_start_tick is not None:
            self._index = {int(tick): index for index, tick in enumerate(piece.bar_start_tick)}

    # ------------------------------------------------------------------------------- the grid
    def parts(self, number: int) -> list[BarPart]:
        """The encoded bars that make up Score bar ``number``."""
        if number < 1:
            raise GenerationError(f"bar {number}: bars are numbered from 1")
        bar = self.score.bar(number)
        tpq = self.score.ticks_per_quarter
        full = BarPlan.of(bar.numerator, bar.denominator)
        whole = Fraction(bar.length, tpq)
        parts = []
        done = Fraction(0)
        index = 0
        while done < whole:
            plan = BarPlan.of(bar.numerator, bar.denominator, min(whole - done, full.quarters))
            start = bar.start + round(done * tpq)
            parts.append(BarPart(number, index, start, plan, bar.numerator, bar.denominator))
            done += full.quarters
            index += 1
        return parts

    def sequence(self, first: int, last: int) -> list[BarPart]:
        """The encoded bars of Score bars ``first`` to ``last`` in order."""
        return [part for number in range(first, last + 1) for part in self.parts(number)]

    # ----------------------------------------------------------------------------- the events
    def events(self, part: BarPart) -> EventArrays:
        """The events of an encoded bar (an empty bar where nothing was encoded)."""
        index = self._index.get(part.start)
        if index is None:
            return pause_fill(part.plan, self.carry_into(part))
        return self.piece.bar_events(index)  # type: ignore[union-attr]

    def opens_chunk(self, part: BarPart) -> bool:
        """True where the model's data starts a new stretch of music (the START context): the first bar
        of the piece, a bar after one in a meter the representation cannot express, or a bar the
        encoder put at the start of a new chunk. Silent bars before a bar do not break the stretch."""
        previous = self.previous(part)
        if previous is None:
            return True
        index = self._index.get(part.start)
        if index is None or self.piece is None or index == 0:
            return False
        return bool(self.piece.has_start_context(index)) and previous.start in self._index

    def previous(self, part: BarPart) -> BarPart | None:
        """The encoded bar before ``part``; None at the start of the piece or after an unsupported meter."""
        if part.part > 0:
            return self.parts(part.number)[part.part - 1]
        if part.number == 1:
            return None
        try:
            return self.parts(part.number - 1)[-1]
        except GenerationError:
            return None

    def carry_into(self, part: BarPart) -> Carry:
        """Notes of the piece still sounding at the barline where ``part`` starts."""
        chain: list[BarPart] = []
        previous = self.previous(part)
        while previous is not None and len(chain) < CARRY_BARS:
            chain.append(previous)
            previous = self.previous(previous)
        carry = Carry.silent(1)
        for earlier in reversed(chain):
            index = self._index.get(earlier.start)
            if index is None:
                carry = carry.shifted(earlier.plan.grid_length)
            else:
                carry = carry_after(self.piece.bar_events(index), earlier.plan, carry)  # type: ignore[union-attr]
        return carry


_CACHE: dict[tuple[int, str], tuple["weakref.ref[Score]", PieceBars]] = {}
_LOCK = threading.Lock()


def piece_bars(score: Score, table: InstrumentTable = MAHLERNET) -> PieceBars:
    """The :class:`PieceBars` of ``score`` encoded with instrument ``table`` (the model's: a drum
    model hears the drums), encoded once per Score object and table. Without the bars' chord
    labels: generation takes a chord model's chords from the composer's progression, never from the
    piece (labelling them was 77 of the 141 ms of encoding a 1,100-bar quartet movement)."""
    key = (id(score), table.name)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0]() is score:
            return cached[1]
    encoded = encode_score(score, EncodeOptions(instruments=table), chords=False).piece
    bars = PieceBars(score, encoded)
    with _LOCK:
        for stale in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[stale]
        _CACHE[key] = (weakref.ref(score), bars)
    return bars
