"""Chord labels: a :class:`Chord` (root pitch class and quality, or no chord) and its text.

The canonical label is ``ROOT:QUALITY`` with sharps (``C:maj``, ``F#:min7``) or ``N`` for no
chord; it is what ``mahlernet chords`` prints and what datasets store. :func:`parse_chord` also
reads the shorthand a composer types in a progression (``C``, ``Am``, ``G7``, ``Bbmaj7``,
``F#m7b5``, ``Bdim7``, ``Dsus4``, ``Eb+``), so ``"C G Am F"`` is four chords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import MahlerNetError

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
QUALITIES = ("maj", "min", "dim", "aug", "dom7", "maj7", "min7", "hdim7", "dim7", "sus4")
NO_CHORD_LABEL = "N"

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Shorthand suffixes a composer types, longest first so that "m7b5" wins over "m".
_SUFFIXES = {
    "maj7": "maj7", "M7": "maj7", "m7b5": "hdim7", "ø7": "hdim7", "ø": "hdim7", "hdim7": "hdim7",
    "dim7": "dim7", "o7": "dim7", "dim": "dim", "o": "dim", "min7": "min7", "m7": "min7",
    "min": "min", "m": "min", "aug": "aug", "+": "aug", "sus4": "sus4", "sus": "sus4",
    "dom7": "dom7", "7": "dom7", "maj": "maj", "M": "maj", "": "maj",
}
# The shorthand each quality is written with (the inverse of a subset of _SUFFIXES).
_SHORT = {"maj": "", "min": "m", "dim": "dim", "aug": "aug", "dom7": "7", "maj7": "maj7", "min7": "m7",
          "hdim7": "m7b5", "dim7": "dim7", "sus4": "sus4"}  # fmt: skip
_ROOT = re.compile(r"^([A-Ga-g])([#b♯♭]*)")


class ChordLabelError(MahlerNetError):
    """A chord name that cannot be read (names the text and says what is wrong)."""


@dataclass(frozen=True, order=True)
class Chord:
    """A chord: ``root`` 0-11 (C = 0) and one of :data:`QUALITIES`, or no chord (both None)."""

    root: int | None = None
    quality: str | None = None

    def __post_init__(self) -> None:
        if (self.root is None) != (self.quality is None):
            raise ValueError("a chord has both a root and a quality, or neither (no chord)")
        if self.root is not None and not 0 <= self.root <= 11:
            raise ValueError(f"chord root {self.root} is outside 0-11")
        if self.quality is not None and self.quality not in QUALITIES:
            raise ValueError(f"unknown chord quality {self.quality!r}")

    @property
    def is_none(self) -> bool:
        return self.root is None

    @property
    def label(self) -> str:
        """``ROOT:QUALITY`` with sharps, or ``N``."""
        if self.root is None:
            return NO_CHORD_LABEL
        return f"{PITCH_NAMES[self.root]}:{self.quality}"

    @property
    def short(self) -> str:
        """The shorthand a composer types (``C``, ``F#m7``, ``Bm7b5``, ``N``); :func:`parse_chord` reads it back."""
        if self.root is None:
            return NO_CHORD_LABEL
        return f"{PITCH_NAMES[self.root]}{_SHORT[self.quality or 'maj']}"

    def transposed(self, semitones: int) -> "Chord":
        """The same chord moved by ``semitones`` (no chord stays no chord)."""
        if self.root is None:
            return self
        return Chord((self.root + semitones) % 12, self.quality)

    def __str__(self) -> str:
        return self.label


NO_CHORD = Chord()


def parse_chord(text: str) -> Chord:
    """A :class:`Chord` from a canonical label (``F#:min7``, ``N``) or a shorthand (``F#m7``).

    Raises :class:`ChordLabelError` naming the text for anything else."""
    cleaned = text.strip()
    if cleaned in (NO_CHORD_LABEL, "N.C.", "NC"):
        return NO_CHORD
    match = _ROOT.match(cleaned)
    if match is None:
        raise ChordLabelError(f"chord {text!r}: does not start with a note name A-G")
    root = _LETTERS[match.group(1).upper()]
    for accidental in match.group(2):
        root += 1 if accidental in "#♯" else -1
    rest = cleaned[match.end():]
    if rest.startswith(":"):
        quality = rest[1:]
        if quality not in QUALITIES:
            raise ChordLabelError(f"chord {text!r}: unknown quality {quality!r} (one of {', '.join(QUALITIES)})")
        return Chord(root % 12, quality)
    if rest not in _SUFFIXES:
        raise ChordLabelError(f"chord {text!r}: unknown chord suffix {rest!r} (e.g. m, 7, maj7, m7, dim, dim7, m7b5, aug, sus4)")
    return Chord(root % 12, _SUFFIXES[rest])


def parse_progression(text: str) -> list[Chord]:
    """The chords of a progression typed as names separated by spaces, commas or bars (``|``)."""
    names = [name for name in re.split(r"[\s,|]+", text) if name]
    if not names:
        raise ChordLabelError(f"progression {text!r}: holds no chord")
    return [parse_chord(name) for name in names]
