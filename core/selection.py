"""Which bars the composer picked: the seed bars and the context bar(s), by bar number (from 1).

The generation panels read their bar numbers from one :class:`BarSelection`; the ruler of the piano
roll makes new ones as the composer drags. It is immutable (changing the selection makes a new one)
and says itself in words, e.g. ``"seed: bars 9-10, context: bar 8"``, so the status bar, the panels
and the CLI describe a selection the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


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
