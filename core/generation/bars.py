"""Bars as the sampler sees them: the plan of a bar (meter, length), the notes sounding across a
barline, and padded event batches for the encoders.

Times inside a bar are counted in *units* of 1/24 q* (see :mod:`core.representation.meters`); q*
depends on the meter, so across barlines times are counted on a *grid* of 96 ticks per quarter note,
in which a unit of every supported meter is a whole number of ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
import torch

from core.model.batching import EventBatch
from core.errors import GenerationError, UnsupportedMeterError
from core.representation.events import N_INSTRUMENTS, N_PITCHES, EventArrays
from core.representation.meters import WORKING_DIVISOR, Meter, meter_for
from core.representation.vocabulary import CLASS_UNITS, CLASS_UNITS_ARRAY, CLASSES, class_of_units

GRID = WORKING_DIVISOR  # grid ticks per quarter note
MAX_EVENTS = 192  # events per bar before the sampler closes it (the paper's data peaks at 158)
_DURATION_NEVER = frozenset(c.index for c in CLASSES if c.index and c.placement in ("never", "t16"))


@dataclass(frozen=True)
class BarPlan:
    """One bar to decode: its meter and its length in units (shorter than the meter's bar only where a
    meter change cuts a bar short)."""

    meter: Meter
    units: int

    @classmethod
    def of(cls, numerator: int, denominator: int, quarters: Fraction | None = None) -> "BarPlan":
        """The plan of a bar of ``numerator/denominator`` lasting ``quarters`` quarter notes (default:
        a full bar); :class:`GenerationError` for a meter the representation cannot express."""
        try:
            meter = meter_for(numerator, denominator)
        except UnsupportedMeterError as error:
            raise GenerationError(f"cannot generate in {numerator}/{denominator}: {error}") from None
        if quarters is None:
            units = meter.bar_units
        else:
            units = int(Fraction(quarters) / meter.quarters_per_qstar * 24)
            units = max(1, min(units, meter.bar_units))
        return cls(meter, units)

    @property
    def grid_per_unit(self) -> int:
        return self.meter.unit_ticks(GRID)

    @property
    def grid_length(self) -> int:
        return self.units * self.grid_per_unit

    @property
    def quarters(self) -> Fraction:
        return Fraction(self.units, 24) * self.meter.quarters_per_qstar

    def offset_mask(self) -> np.ndarray:
        """(60,) bool: offset classes of this meter."""
        mask = np.zeros(len(CLASSES), bool)
        mask[list(self.meter.classes)] = True
        return mask

    def duration_mask(self) -> np.ndarray:
        """(60,) bool: duration classes a note of this meter may have (the meter's classes less those
        the representation never produces as a duration), plus 0 (a pause)."""
        mask = self.offset_mask()
        mask[list(_DURATION_NEVER)] = False
        return mask

    def beat_table(self, length: int) -> np.ndarray:
        """(length,) beat class of every time from the barline (the barline at the end is beat 0)."""
        table = np.array([self.meter.beat_of(t) for t in range(length)], np.int64)
        if self.units < length:
            table[self.units] = 0
        return table


@dataclass(frozen=True)
class Carry:
    """Notes sounding across a barline, per row: for each pitch and instrument class, the grid tick
    (after the barline) until which it sounds, 0 when silent. A note ending at the barline is over."""

    pitch_end: np.ndarray  # (B, 96) int64
    instrument_end: np.ndarray  # (B, 23) int64

    @classmethod
    def silent(cls, rows: int) -> "Carry":
        return cls(np.zeros((rows, N_PITCHES), np.int64), np.zeros((rows, N_INSTRUMENTS), np.int64))

    @property
    def rows(self) -> int:
        return len(self.pitch_end)

    def repeat(self, rows: int) -> "Carry":
        """A one-row carry copied for ``rows`` rows."""
        return Carry(np.repeat(self.pitch_end[:1], rows, 0), np.repeat(self.instrument_end[:1], rows, 0))

    def take(self, rows: Sequence[int]) -> "Carry":
        index = np.asarray(rows, np.int64)
        return Carry(self.pitch_end[index], self.instrument_end[index])

    @classmethod
    def stack(cls, carries: Sequence["Carry"]) -> "Carry":
        return cls(np.concatenate([c.pitch_end for c in carries]), np.concatenate([c.instrument_end for c in carries]))

    def sounding(self) -> np.ndarray:
        """(B,) bool: whether anything sounds on past the barline in each row."""
        return (self.pitch_end > 0).any(1)

    def shifted(self, ticks: int | np.ndarray) -> "Carry":
        """What still sounds ``ticks`` grid ticks later (per row, or one figure for all) when nothing
        new starts: the carry past a bar of length ``ticks``."""
        ticks = np.reshape(ticks, (-1, 1))
        return Carry(np.maximum(self.pitch_end - ticks, 0), np.maximum(self.instrument_end - ticks, 0))


ACTIVE_WIDTH = N_PITCHES + N_INSTRUMENTS  # an active set: the pitches, then the instrument classes
_CLASS_COLUMNS = np.array([0, N_PITCHES])  # where a (pitch, instrument) pair's columns start


class NotesSounding:
    """The active-note bookkeeping of generation, kept in one place: per row, the grid tick (from the
    barline of the bar being decoded) until which each pitch and instrument class sounds, 0 when
    silent. A note sounds at a tick before its end (a note ending exactly there is over, spec 1.7).

    The sampler books each accepted note as it is decoded (:meth:`add`, one per row per step) and
    reads the active sets at every onset (:meth:`at`); :func:`carry_after` books a whole bar of one row
    (:meth:`add_bar`); :meth:`carry` gives what sounds on into the next bar."""

    DISCARD = ACTIVE_WIDTH  # column of :attr:`ends` that takes the writes of rows adding nothing

    def __init__(self, carry: Carry):
        self.ends = np.zeros((carry.rows, ACTIVE_WIDTH + 1), np.int64)
        self.ends[:, :N_PITCHES] = carry.pitch_end
        self.ends[:, N_PITCHES:ACTIVE_WIDTH] = carry.instrument_end
        self._rows = np.arange(carry.rows)[:, None]

    def at(self, ticks: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(rows, :data:`ACTIVE_WIDTH`) bool: what sounds at each row's tick (``ticks``: (rows,)); a
        one-row bookkeeping also answers for several ticks (n,) at once, (n, :data:`ACTIVE_WIDTH`)."""
        return np.greater(self.ends[:, :ACTIVE_WIDTH], ticks[:, None], out=out)

    def add(self, adding: np.ndarray, pitch_instrument: np.ndarray, end: np.ndarray) -> None:
        """Book one note on each row where ``adding``: its (pitch, instrument) classes, (rows, 2), sound
        until ``end`` (rows,) ticks, or longer where they already did."""
        written = np.where(adding[:, None], pitch_instrument + _CLASS_COLUMNS, self.DISCARD)
        self.ends[self._rows, written] = np.maximum(self.ends[self._rows, written], end[:, None])

    def add_bar(self, events: EventArrays, grid_per_unit: int) -> None:
        """Book every note of one bar of ``events`` (a one-row bookkeeping)."""
        notes = (events.pitch >= 0) & (events.duration > 0)
        end = (onset_units(events) + CLASS_UNITS_ARRAY[np.maximum(events.duration.astype(np.int64), 0)]) * grid_per_unit
        np.maximum.at(self.ends[0], events.pitch[notes].astype(np.int64), end[notes])
        played = notes & (events.instrument >= 0)
        np.maximum.at(self.ends[0], N_PITCHES + events.instrument[played].astype(np.int64), end[played])

    def carry(self, grid_length: int | np.ndarray) -> Carry:
        """What sounds on past the barline at ``grid_length`` ticks (per row, or one figure for all)."""
        return Carry(self.ends[:, :N_PITCHES], self.ends[:, N_PITCHES:ACTIVE_WIDTH]).shifted(grid_length)


def carry_after(events: EventArrays, plan: BarPlan, carry: Carry | None = None) -> Carry:
    """The notes still sounding after a bar of ``events`` (one row), given what sounded into it."""
    sounding = NotesSounding(carry.take([0]) if carry is not None else Carry.silent(1))
    sounding.add_bar(events, plan.grid_per_unit)
    return sounding.carry(plan.grid_length)


def onset_units(events: EventArrays) -> np.ndarray:
    """Onset of every event of a bar in units from its barline (the running sum of the offsets)."""
    lengths = CLASS_UNITS_ARRAY[np.maximum(events.offset.astype(np.int64), 0)]
    return np.cumsum(lengths)


def pause_fill(plan: BarPlan, carry: Carry | None = None) -> EventArrays:
    """An empty bar: pauses up to the barline (one per segment of a long bar; a bar cut short by a
    meter change gets the fewest pauses that add up to it)."""
    pieces: list[int] = []
    remaining = plan.units
    for segment in plan.meter.segments:
        if remaining <= 0:
            break
        length = min(segment, remaining)
        pieces.extend(_as_classes(length))
        remaining -= length
    n = len(pieces)
    times = np.cumsum([CLASS_UNITS[c] for c in pieces])
    active = NotesSounding(carry if carry is not None else Carry.silent(1)).at(times * plan.grid_per_unit)
    return EventArrays(
        offset=np.array(pieces),
        duration=np.zeros(n),
        pitch=np.full(n, -1),
        instrument=np.full(n, -1),
        beat=np.array([plan.beat_table(plan.units + 1)[t] for t in times]),
        velocity=np.full(n, -1),
        is_pause=np.ones(n, bool),
        active_pitches=active[:, :N_PITCHES],
        active_instruments=active[:, N_PITCHES:],
    )


def _as_classes(units: int) -> list[int]:
    """The fewest offset classes adding up to ``units`` (largest first)."""
    exact = class_of_units(units)
    if exact is not None:
        return [exact]
    result = []
    lengths = sorted(((u, i) for i, u in enumerate(CLASS_UNITS) if u), reverse=True)
    while units > 0:
        length, index = next((u, i) for u, i in lengths if u <= units)
        result.append(index)
        units -= length
    return result


def event_batch(sequences: Sequence[EventArrays], start: Sequence[bool], device: torch.device | str = "cpu") -> EventBatch:
    """A padded :class:`EventBatch` of event sequences; ``start[i]`` puts the START token first."""
    token = np.asarray(start, np.int64)
    lengths = np.array([len(s) for s in sequences], np.int64) + token
    width = max(int(lengths.max()), 1)
    rows = len(sequences)
    columns = {name: np.full((rows, width), -1, np.int64) for name in ("offset", "duration", "pitch", "instrument", "beat", "velocity")}
    active_p = np.zeros((rows, width, N_PITCHES), bool)
    active_i = np.zeros((rows, width, N_INSTRUMENTS), bool)
    is_start = np.zeros((rows, width), bool)
    for row, (events, first) in enumerate(zip(sequences, token)):
        n = len(events)
        for name, column in columns.items():
            column[row, first : first + n] = getattr(events, name)
        active_p[row, first : first + n] = events.active_pitches
        active_i[row, first : first + n] = events.active_instruments
        is_start[row, 0] = bool(first)
    tensors = {name: torch.from_numpy(column).to(device) for name, column in columns.items()}
    return EventBatch(
        **tensors,
        active_pitches=torch.from_numpy(active_p).to(device),
        active_instruments=torch.from_numpy(active_i).to(device),
        is_start=torch.from_numpy(is_start).to(device),
        lengths=torch.from_numpy(lengths).to(device),
    )
