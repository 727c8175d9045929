"""Time signatures and the duration set of a range (spec 1.3), extended past the original's 15 meters.

All classes are measured in a *normalised quarter* q*: the beat unit chosen so that a bar is a few q*
long. :func:`meter_for` turns a time signature into a :class:`Meter`: how many real quarter notes a q*
spans, how long a bar is (in units of 1/24 q*), which classes may be used and the longest one.

The original's 15 meters (``original_only=True`` keeps exactly these): a numerator divisible by 12, 9,
6, 4 or 2 is first reduced to that number (8/4 is read as two 4/4 bars, 10/4 as five 2/4 bars);
2, 3, 4 are simple (q* = the denominator's note: half, quarter or eighth), 6, 9, 12 compound (q* = the
dotted beat, and only triplet-based classes). Classes are those shorter than a bar plus one q*.

Beyond the original (the default):

* denominator 16 in the same two families (q* = a sixteenth, or a dotted eighth in 6/16, 9/16, 12/16);
* one-beat bars n = 1 (the 1/4 and 1/8 pick-up bars scores are full of): q* = the denominator's note,
  a bar of one q*;
* any other numerator (5/4, 7/8, 11/8, 5/16 ...) whose bar lasts at most 8 quarter notes: q* is a
  quarter note for denominators 4 and 8 and an eighth for 16, so a 7/8 bar is 3.5 q* and a 5/4 bar 5 q*.

Bars longer than the longest class (39/8 q*: 5/4, 7/4, 11/8 ... 15/8, 11/16 ...) are cut into
*segments* of 4 q* from the barline plus a shorter last segment (5/4 = 4 + 1, 7/4 = 4 + 3, 15/8 =
4 + 3.5). Everything that the original does at barlines happens at segment boundaries as well: long
notes are split (and re-articulated) there, long rests are covered by pauses that stop there, and an
empty bar is one pause per segment. Beats still count the q*/2 grid from the barline, so positions
beyond 3.5 q* have no beat (there are 8 beat classes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from core.errors import UnsupportedMeterError
from core.representation.events import N_BEATS
from core.representation.vocabulary import CLASSES, HALF_BEAT_UNITS, MAX_CLASS_UNITS, UNITS_PER_QUARTER, class_of_units

MAX_BAR_QUARTERS = 8  # the longest bar of a meter beyond the original's, in quarter notes
SEGMENT_UNITS = 4 * UNITS_PER_QUARTER  # long bars are cut every 4 q*
MAX_TICKS_PER_QUARTER = 32767  # what a MIDI file (and a Score) can hold
WORKING_DIVISOR = 96  # ticks per quarter must be a multiple of this for every class to be whole ticks


@dataclass(frozen=True)
class Meter:
    """A time signature as the representation sees it.

    ``numerator``/``denominator`` are the meter of one encoded bar (after the original's numerator
    reduction, so 8/4 gives 4/4); ``quarters_per_qstar`` is how many real quarter notes one q* spans.
    """

    numerator: int
    denominator: int
    quarters_per_qstar: Fraction
    compound: bool
    bar_units: int
    classes: tuple[int, ...]
    original: bool  # one of the original's 15 meters
    segments: tuple[int, ...] = field(default=())  # segment lengths of one bar, in units

    @property
    def key(self) -> tuple[int, int]:
        return (self.numerator, self.denominator)

    @property
    def text(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def max_class(self) -> int:
        return self.classes[-1]

    @property
    def max_units(self) -> int:
        return CLASSES[self.classes[-1]].units

    @property
    def bar_class(self) -> int | None:
        """The class of a whole bar, or None for bars longer than the longest class."""
        return class_of_units(self.bar_units) if self.bar_units <= self.max_units else None

    @property
    def bar_quarters(self) -> Fraction:
        return Fraction(self.bar_units, UNITS_PER_QUARTER) * self.quarters_per_qstar

    def unit_ticks(self, ticks_per_quarter: int) -> int:
        """Ticks of one unit (1/24 q*) at a resolution that is a multiple of :data:`WORKING_DIVISOR`."""
        ticks = Fraction(ticks_per_quarter) * self.quarters_per_qstar / UNITS_PER_QUARTER
        if ticks.denominator != 1:
            raise ValueError(f"{ticks_per_quarter} ticks per quarter cannot hold the classes of {self.text}")
        return int(ticks)

    def beat_of(self, position_units: int) -> int:
        """Beat class of a position (units from the barline): k on the q*/2 grid, -1 off it or past 7."""
        position = position_units % self.bar_units
        if position % HALF_BEAT_UNITS:
            return -1
        beat = position // HALF_BEAT_UNITS
        return beat if beat < N_BEATS else -1


def _reduce(numerator: int) -> int:
    return next((d for d in (12, 9, 6, 4, 2) if numerator % d == 0), numerator)


@lru_cache(maxsize=None)
def meter_for(numerator: int, denominator: int, original_only: bool = False) -> Meter:
    """The :class:`Meter` of a time signature, or :class:`UnsupportedMeterError`."""
    text = f"{numerator}/{denominator}"
    if numerator < 1 or denominator not in (2, 4, 8, 16) or (original_only and denominator == 16):
        raise UnsupportedMeterError(f"meter {text}: the denominator must be 2, 4, 8 or 16")
    reduced = _reduce(numerator)
    note = Fraction(4, denominator)  # the denominator's note value in quarters
    if reduced in (2, 3, 4):
        compound, qstar, bar, original = False, note, Fraction(reduced), True
    elif reduced in (6, 9, 12) and denominator != 2:
        compound, qstar, bar, original = True, 3 * note, Fraction(reduced, 3), True
    elif original_only:
        raise UnsupportedMeterError(f"meter {text} is not one of the original MahlerNet's 15 meters")
    elif reduced == 1:
        compound, qstar, bar, original = False, note, Fraction(1), False
    else:
        if numerator * note > MAX_BAR_QUARTERS:
            raise UnsupportedMeterError(f"meter {text}: a bar is longer than {MAX_BAR_QUARTERS} quarter notes")
        qstar = Fraction(1, 2) if denominator == 16 else Fraction(1)
        compound, bar, original = False, numerator * note / qstar, False
    bar_units = int(bar * UNITS_PER_QUARTER)
    limit = bar_units + UNITS_PER_QUARTER  # classes shorter than a bar plus one q*
    classes = tuple(c.index for c in CLASSES if c.units < limit and (not compound or c.is_triplet_based))
    if bar_units <= MAX_CLASS_UNITS:
        segments: tuple[int, ...] = (bar_units,)
    else:
        full, rest = divmod(bar_units, SEGMENT_UNITS)
        segments = (SEGMENT_UNITS,) * full + ((rest,) if rest else ())
    numerator_out = reduced if original else numerator
    return Meter(numerator_out, denominator, qstar, compound, bar_units, classes, original, segments)


def is_supported(numerator: int, denominator: int, original_only: bool = False) -> bool:
    try:
        meter_for(numerator, denominator, original_only)
    except UnsupportedMeterError:
        return False
    return True


def bar_units(numerator: int, denominator: int) -> int:
    """Length of an encoded bar of this meter in units of 1/24 q* (what the network counts in)."""
    return meter_for(numerator, denominator).bar_units


def working_resolution(ticks_per_quarter: int) -> int:
    """A resolution at which every class of every meter is a whole number of ticks: the smallest
    multiple of ``ticks_per_quarter`` that is a multiple of 96 (96, 480, 960 stay; 100 becomes 2400,
    120 becomes 480), or, when that passes the 32,767 a MIDI file can hold, the multiple of 96
    nearest to ``ticks_per_quarter`` (times are then rounded to its ticks). The original never
    resampled, so its class lengths were truncated at such resolutions."""
    from math import gcd

    exact = ticks_per_quarter * (WORKING_DIVISOR // gcd(ticks_per_quarter, WORKING_DIVISOR))
    if exact <= MAX_TICKS_PER_QUARTER:
        return exact
    return min(MAX_TICKS_PER_QUARTER // WORKING_DIVISOR, max(1, round(ticks_per_quarter / WORKING_DIVISOR))) * WORKING_DIVISOR
