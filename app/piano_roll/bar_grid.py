"""The bar grid of a piece as numpy columns, for drawing bar and beat lines quickly. Qt-free.

Built once per Score from ``Score.bars()`` (which follows every meter change), and extended past the
end of the music with the last meter so that the roll can show empty bars to continue into. Beats
follow the meter: a beat is one denominator unit, except in compound meters (6/8, 9/8, 12/8, ...)
where it is three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.music.score import Score

EXTRA_BARS = 64  # empty bars shown after the music


@dataclass(frozen=True)
class BarGrid:
    starts: np.ndarray  # int64 tick of each barline; bar n (from 1) is index n - 1
    ends: np.ndarray
    numerators: np.ndarray
    denominators: np.ndarray
    ticks_per_quarter: int

    @classmethod
    def of(cls, score: Score, extra_bars: int = EXTRA_BARS) -> "BarGrid":
        bars = score.bars()
        last = bars[-1]
        full = score.time_signature_at(last.start).bar_ticks(score.ticks_per_quarter)
        starts = [b.start for b in bars] + [last.end + i * full for i in range(extra_bars)]
        ends = [b.end for b in bars] + [last.end + (i + 1) * full for i in range(extra_bars)]
        numerators = [b.numerator for b in bars] + [last.numerator] * extra_bars
        denominators = [b.denominator for b in bars] + [last.denominator] * extra_bars
        return cls(
            np.asarray(starts, dtype=np.int64),
            np.asarray(ends, dtype=np.int64),
            np.asarray(numerators, dtype=np.int64),
            np.asarray(denominators, dtype=np.int64),
            score.ticks_per_quarter,
        )

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def end_tick(self) -> int:
        return int(self.ends[-1])

    def bar_at(self, tick: float) -> int:
        """Number (from 1) of the bar holding ``tick``, clamped to the grid."""
        index = int(np.searchsorted(self.starts, tick, side="right")) - 1
        return min(max(index, 0), self.count - 1) + 1

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Start and end tick of bars ``first``-``last`` (from 1, clamped to the grid)."""
        first = min(max(first, 1), self.count)
        last = min(max(last, first), self.count)
        return int(self.starts[first - 1]), int(self.ends[last - 1])

    def visible(self, t0: float, t1: float) -> np.ndarray:
        """Indices (from 0) of the bars overlapping ticks ``[t0, t1)``."""
        lo = max(0, int(np.searchsorted(self.starts, t0, side="right")) - 1)
        hi = int(np.searchsorted(self.starts, t1, side="left"))
        return np.arange(lo, max(lo, hi))

    def beat_ticks(self, bars: np.ndarray, divisions: int = 1) -> np.ndarray:
        """Ticks of the beats (``divisions`` lines per beat) inside the given bars, barlines left out."""
        if len(bars) == 0:
            return np.zeros(0, dtype=np.float64)
        unit = 4.0 * self.ticks_per_quarter / self.denominators[bars]
        numerators = self.numerators[bars]
        compound = (numerators % 3 == 0) & (numerators > 3) & (self.denominators[bars] >= 8)
        beat = np.where(compound, 3 * unit, unit) / divisions
        lengths = (self.ends[bars] - self.starts[bars]).astype(np.float64)
        counts = np.maximum(1, np.ceil(lengths / beat - 1e-6).astype(np.int64))
        bar_of_line = np.repeat(np.arange(len(bars)), counts)
        step_in_bar = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        ticks = self.starts[bars][bar_of_line] + step_in_bar * beat[bar_of_line]
        return ticks[step_in_bar > 0]

    def beat_length(self, bar_index: int) -> float:
        numerator = int(self.numerators[bar_index])
        denominator = int(self.denominators[bar_index])
        unit = 4.0 * self.ticks_per_quarter / denominator
        return 3 * unit if numerator % 3 == 0 and numerator > 3 and denominator >= 8 else unit

    def meter_changes(self, bars: np.ndarray) -> list[int]:
        """The bars (indices) among ``bars`` where the meter differs from the bar before (and bar 0)."""
        if len(bars) == 0:
            return []
        before = np.maximum(bars - 1, 0)
        changed = (self.numerators[bars] != self.numerators[before]) | (
            self.denominators[bars] != self.denominators[before]
        )
        return bars[changed | (bars == 0)].tolist()


def thinning_step(px_per_bar: float, min_px: float) -> int:
    """Draw every n-th bar (n a power of two) so that drawn bars are at least ``min_px`` apart."""
    step = 1
    while px_per_bar * step < min_px and step < 1 << 20:
        step *= 2
    return step
