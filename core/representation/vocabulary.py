"""The 60 offset/duration classes of MahlerNet (spec 1.2): lengths, tie compositions and the facts the
normaliser needs about each class.

Every length here is counted in *units* of 1/24 of a normalised quarter (q*, see :mod:`meters`): the
common grid of duple values (multiples of 1/8 q* = 3 units) and triplet values (multiples of 1/6 q* =
4 units). Class ``c`` is ``floor(c / 12)`` q* plus a fraction taken from a table of twelve, so the
classes are 0, every multiple of 1/8 q* and every multiple of 1/6 q* below five q*.

Each class is also a tie of *basic values* (whole to 32nd, duple ``d*`` and triplet ``t*``). The tie
only matters to the normaliser: its largest component sets the grid a note is snapped to, some
components are excluded by the playing strategy, and a few ties may only start at given positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.representation.events import N_DURATIONS

UNITS_PER_QUARTER = 24  # units per q*: 1/24 q* is the finest grid of the vocabulary
HALF_BEAT_UNITS = UNITS_PER_QUARTER // 2  # the q*/2 grid of beats and of short pauses

# Basic note values in units. d = duple (whole .. 32nd), t = triplet (triplet whole .. triplet 16th).
BASIC_UNITS: dict[str, int] = {
    "d1": 96, "d2": 48, "d4": 24, "d8": 12, "d16": 6, "d32": 3,
    "t1": 64, "t2": 32, "t4": 16, "t8": 8, "t16": 4,
}  # fmt: skip
TRIPLET_VALUES = frozenset(v for v in BASIC_UNITS if v.startswith("t"))

# Fraction of a q* added to floor(c / 12) q*, in units: 0, 1/8, 1/6, 1/4, 1/3, 3/8, 1/2, 5/8, 2/3, 3/4, 5/6, 7/8.
_FRACTION_UNITS = (0, 3, 4, 6, 8, 9, 12, 15, 16, 18, 20, 21)

# (tie composition, frequency class, placement rule) per class, in class order. The placement rule of
# a note *duration*: "any"; "never"; or (M, R) in units: the normalised start s must satisfy
# |R - (s mod M)| <= 1/16 q* (no wrap-around). Classes holding t16 are never durations (t16 is always
# excluded by the normaliser) but remain valid offsets.
_TABLE: tuple[tuple[str, int, object], ...] = (
    ("", 0, "any"), ("d32", 0, "any"), ("t16", 1, "any"), ("d16", 0, "any"),
    ("t8", 1, "any"), ("d32+d16", 1, "any"), ("d8", 0, "any"), ("d32+d8", 2, (12, 9)),
    ("t4", 1, "any"), ("d16+d8", 1, "any"), ("t16+t4", 8, "any"), ("d32+d16+d8", 3, "never"),
    ("d4", 0, "any"), ("d32+d4", 2, (24, 21)), ("t16+t8+t4", 8, "any"), ("d16+d4", 2, (24, 18)),
    ("t8+d4", 3, "any"), ("d32+d16+d4", 4, "never"), ("d8+d4", 1, "any"), ("d32+d8+d4", 4, "never"),
    ("t8+t2", 6, (8, 8)), ("d16+d8+d4", 3, (12, 6)), ("t16+t8+t2", 10, "any"), ("d32+d16+d8+d4", 5, "never"),
    ("d2", 0, "any"), ("d32+d2", 2, (48, 45)), ("t16+t4+t2", 8, "any"), ("d16+d2", 2, (48, 42)),
    ("t8+t4+t2", 8, "any"), ("d32+d16+d2", 4, "never"), ("d8+d2", 2, "any"), ("d32+d8+d2", 4, "never"),
    ("t1", 8, (12, 8)), ("d16+d8+d2", 4, (12, 6)), ("t16+t1", 12, "any"), ("d32+d16+d8+d2", 5, "never"),
    ("d4+d2", 1, "any"), ("d32+d4+d2", 4, (24, 21)), ("t16+t8+t1", 12, "any"), ("d16+d4+d2", 4, (24, 18)),
    ("t4+t1", 12, (24, 16)), ("d32+d16+d4+d2", 5, "never"), ("d8+d4+d2", 3, "any"), ("d32+d8+d4+d2", 5, "any"),
    ("t8+t4+t1", 12, (12, 4)), ("d16+d8+d4+d2", 5, (12, 6)), ("t16+t8+t4+t1", 14, "never"),
    ("d32+d16+d8+d4+d2", 5, "never"),
    ("d1", 0, "any"), ("d32+d1", 2, (96, 93)), ("t16+t2+t1", 8, "any"), ("d16+d1", 2, (96, 90)),
    ("t8+t2+t1", 8, (24, 16)), ("d32+d16+d1", 4, "never"), ("d8+d1", 2, (96, 84)), ("d32+d8+d1", 4, "never"),
    ("t4+t2+t1", 12, "any"), ("d16+d8+d1", 4, "never"), ("t16+t4+t2+t1", 12, "never"),
    ("d32+d16+d8+d1", 5, "never"),
)  # fmt: skip


@dataclass(frozen=True)
class TimeClass:
    """One offset/duration class."""

    index: int
    units: int  # length in 1/24 q*
    components: tuple[str, ...]  # tie of basic values, shortest first
    frequency: int  # normaliser penalty: 0 = most common
    placement: object  # "any", "never" or (modulus units, remainder units)

    @property
    def length(self) -> Fraction:
        """Length in q*."""
        return Fraction(self.units, UNITS_PER_QUARTER)

    @property
    def is_triplet_based(self) -> bool:
        """True for the "T" classes (multiples of 1/6 q*), usable in compound meters: even indices."""
        return self.units % 4 == 0

    @property
    def is_single(self) -> bool:
        """True for a single basic value (the "basic" classes 1, 2, 3, 4, 6, 8, 12, 24, 32, 48)."""
        return len(self.components) == 1

    @property
    def largest_units(self) -> int:
        return max((BASIC_UNITS[c] for c in self.components), default=0)


def _build() -> tuple[TimeClass, ...]:
    classes = []
    for index, (tie, frequency, placement) in enumerate(_TABLE):
        units = UNITS_PER_QUARTER * (index // 12) + _FRACTION_UNITS[index % 12]
        components = tuple(tie.split("+")) if tie else ()
        if sum(BASIC_UNITS[c] for c in components) != units:
            raise AssertionError(f"class {index}: tie {tie} does not add up to {units} units")
        if "t16" in components:
            placement = "never" if placement == "never" else "t16"
        classes.append(TimeClass(index, units, components, frequency, placement))
    return tuple(classes)


CLASSES: tuple[TimeClass, ...] = _build()
assert len(CLASSES) == N_DURATIONS
CLASS_UNITS: tuple[int, ...] = tuple(c.units for c in CLASSES)
CLASS_UNITS_ARRAY = np.array(CLASS_UNITS, np.int64)  # the same, to index with arrays of classes
CLASS_UNITS_ARRAY.flags.writeable = False
CLASS_OF_UNITS: dict[int, int] = {c.units: c.index for c in CLASSES}
MAX_CLASS_UNITS = CLASS_UNITS[-1]  # 39/8 q*


def class_units(index: int) -> int:
    """Length of class ``index`` in units of 1/24 q*."""
    return CLASS_UNITS[index]


def class_of_units(units: int) -> int | None:
    """The class of exactly ``units`` units, or None when no class has that length."""
    return CLASS_OF_UNITS.get(units)
