"""Options of the encoder and the report it gives about one file.

The original rejected a whole file for one long rest, one unplaceable offset or 5% of notes it could
not quantise. Here nothing is rejected for such local trouble: what cannot be represented is dropped,
counted under a reason in the :class:`FileReport`, and the rest of the file is kept. A file is skipped
only when nothing at all can be encoded (no notes, only drums, only unsupported meters ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from core.representation.instruments import MAHLERNET, InstrumentTable

# Reasons a note (or part of one) is dropped. Keys of FileReport.dropped.
DRUMS = "drum channel"  # the instrument table has no drum class
DRUM_KEY = "drum key outside the GM percussion keys 35-81"
IGNORED_PROGRAM = "program ignored by the instrument table"
UNSUPPORTED_METER = "in a bar of an unsupported meter"
RETRIGGERED = "retriggered after sounding too long"
DUPLICATE = "duplicate of the previous note"
ZERO_LENGTH = "zero length after tokenisation"
NORMALISED_AWAY = "quantised to nothing"
NO_FITTING_CLASS = "no duration class fits near its start"
NO_CHANNEL = "more than 15 instruments at once"
UNPLACEABLE_OFFSET = "onset not expressible as an offset class"
EMPTY_RANGE = "meter section left without notes"

# Why a whole file is skipped before encoding.
TOO_LARGE = "too large to encode"

# Things changed but kept. Keys of FileReport.trimmed.
SPLIT_AT_METER = "split at a meter change"
SPLIT_LONG = "split at barlines (longer than a class or crossing a barline)"
RESAMPLED = "times resampled to a resolution that holds every class"
HELD_TOO_LONG = "held longer than 64 quarters (never released?): cut there"


@dataclass(frozen=True)
class EncodeOptions:
    """How a Score is encoded.

    ``original_meters_only`` keeps only the original MahlerNet's 15 meters (other meters then cut the
    piece into chunks, as the original did); the default accepts every meter of :mod:`meters`.
    """

    instruments: InstrumentTable = MAHLERNET
    original_meters_only: bool = False

    def describe(self) -> dict[str, object]:
        return {"instruments": self.instruments.name, "original_meters_only": self.original_meters_only}


@dataclass(frozen=True)
class FileReport:
    """What happened to one file: ``status`` is "ok" or "skipped" (then ``reason`` says why)."""

    source: str
    status: str
    reason: str = ""
    notes_in: int = 0
    notes_kept: int = 0
    chunks: int = 0
    bars: int = 0
    events: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    trimmed: dict[str, int] = field(default_factory=dict)
    meters: dict[str, int] = field(default_factory=dict)  # encoded bars per meter
    instruments: dict[str, int] = field(default_factory=dict)  # note events per instrument class name

    @property
    def notes_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        """One line: "ok: 32 bars, 410 events; dropped 3 (quantised to nothing 3)" or the skip reason."""
        if self.status != "ok":
            return f"skipped: {self.reason}"
        line = f"ok: {self.bars} bars, {self.events} events"
        if self.dropped:
            detail = ", ".join(f"{reason} {count}" for reason, count in sorted(self.dropped.items()))
            line += f"; dropped {self.notes_dropped} ({detail})"
        if self.trimmed:
            detail = ", ".join(f"{reason} {count}" for reason, count in sorted(self.trimmed.items()))
            line += f"; changed: {detail}"
        return line

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "notes_in": self.notes_in,
            "notes_kept": self.notes_kept,
            "chunks": self.chunks,
            "bars": self.bars,
            "events": self.events,
            "dropped": dict(sorted(self.dropped.items())),
            "trimmed": dict(sorted(self.trimmed.items())),
            "meters": dict(sorted(self.meters.items())),
            "instruments": dict(sorted(self.instruments.items())),
        }

    @classmethod
    def from_json(cls, data: dict) -> "FileReport":
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


class Tally:
    """Counts of dropped and changed things while one file is encoded (private to the encoder)."""

    def __init__(self) -> None:
        self.dropped: Counter[str] = Counter()
        self.trimmed: Counter[str] = Counter()

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] += count

    def trim(self, reason: str, count: int = 1) -> None:
        if count:
            self.trimmed[reason] += count
