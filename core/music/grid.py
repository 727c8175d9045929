"""The editing grid: the note values the composer snaps to (1/4 to 1/32, straight or triplet).

Grid lines start again at every barline, so a grid stays musical across meter changes and in bars
whose length is not a whole number of grid steps (5/8 on a quarter grid: lines at 0, 1/4, 2/4 and
the next barline). A step is a Fraction of ticks (a triplet eighth at 100 ticks a quarter is 66 2/3);
each line is rounded to the nearest tick on its own, so errors never add up along a bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from core.music.score import Bar, Score

DIVISIONS = (4, 8, 16, 32)


@dataclass(frozen=True)
class Grid:
    """``division`` notes to the whole note (4: quarters, 16: sixteenths), three in the time of two
    when ``triplet``."""

    division: int = 16
    triplet: bool = False

    def __post_init__(self) -> None:
        if self.division not in DIVISIONS:
            raise ValueError(f"grid 1/{self.division}: the grid is one of {', '.join(f'1/{d}' for d in DIVISIONS)}")

    @classmethod
    def parse(cls, text: str) -> "Grid":
        """``"1/8"`` or ``"1/8T"`` (as :attr:`name` writes it)."""
        body = text.strip()
        triplet = body.upper().endswith("T")
        body = body[:-1] if triplet else body
        numerator, _, denominator = body.partition("/")
        if numerator != "1" or not denominator.isdigit():
            raise ValueError(f"{text!r} is not a grid (write 1/16 or 1/8T)")
        return cls(int(denominator), triplet)

    @property
    def name(self) -> str:
        return f"1/{self.division}{'T' if self.triplet else ''}"

    def step(self, ticks_per_quarter: int) -> Fraction:
        """Length of one grid step in ticks."""
        step = Fraction(4 * ticks_per_quarter, self.division)
        return step * Fraction(2, 3) if self.triplet else step

    def _step(self, ticks_per_quarter: int) -> Fraction | int:
        """:meth:`step`, as an int where it is whole: the snapping below then does integer
        arithmetic, where Fractions cost ~1 ms a hundred notes (quantizing a 17,000-note movement
        took ~1 s)."""
        step = self.step(ticks_per_quarter)
        return int(step) if step.denominator == 1 else step

    def finer(self) -> "Grid":
        """The next finer grid of the same kind (1/32 stays 1/32)."""
        index = min(DIVISIONS.index(self.division) + 1, len(DIVISIONS) - 1)
        return Grid(DIVISIONS[index], self.triplet)

    def coarser(self) -> "Grid":
        index = max(DIVISIONS.index(self.division) - 1, 0)
        return Grid(DIVISIONS[index], self.triplet)

    # ------------------------------------------------------------------------------ snapping
    def _line(self, bar: Bar, step: Fraction | int, k: int) -> int:
        return min(bar.end, bar.start + round(k * step))

    def floor(self, score: Score, tick: int) -> int:
        """The last grid line at or before ``tick`` (0 for a negative tick)."""
        if tick <= 0:
            return 0
        bar = score.bar_at(tick)
        step = self._step(score.ticks_per_quarter)
        k = (tick - bar.start) // step
        while k > 0 and self._line(bar, step, k) > tick:
            k -= 1
        return self._line(bar, step, k)

    def nearest(self, score: Score, tick: int) -> int:
        """The grid line nearest to ``tick`` (the later one on a tie); the barline after a bar is
        one of its lines."""
        before = self.floor(score, tick)
        after = self.next(score, before)
        return after if tick - before >= after - tick else before

    def next(self, score: Score, tick: int) -> int:
        """The first grid line after ``tick``."""
        if tick < 0:
            return 0
        bar = score.bar_at(tick)
        step = self._step(score.ticks_per_quarter)
        k = (tick - bar.start) // step
        while self._line(bar, step, k) <= tick:
            k += 1
        return self._line(bar, step, k)

    def previous(self, score: Score, tick: int) -> int:
        """The last grid line before ``tick`` (0 at the start of the piece)."""
        return self.floor(score, tick - 1) if tick > 0 else 0


GRIDS: tuple[Grid, ...] = tuple(Grid(d) for d in DIVISIONS) + tuple(Grid(d, True) for d in DIVISIONS)
