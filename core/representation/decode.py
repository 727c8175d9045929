"""Event arrays -> notes -> Score fragment (the way back of the representation, spec 2.14 fixed).

A bar's events are read from its barline: each event moves time on by its offset class; a note event
becomes a note of its duration class, pitch, instrument class and velocity bin. Lengths are classes of
the bar's meter, measured in that meter's q* and turned into ticks of the target resolution.

Instrument classes become tracks through an *instrument map* (class -> :class:`InstrumentTarget`):
:func:`instrument_map_for` maps each class to the piece's own track that plays it (so generated
violin notes land on the piece's violin track with its program and channel); classes the piece does
not play get a new track with the class's output program on a free channel. Unlike the original's
writer, tempo and meter are kept (one tempo and meter per bar) and velocity comes from the bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.errors import RepresentationError, UnsupportedMeterError
from core.representation.events import LOWEST_PITCH, EncodedPiece, EventArrays
from core.representation.instruments import MAHLERNET, InstrumentTable
from core.representation.meters import Meter, meter_for
from core.representation.velocity import bin_velocities
from core.representation.vocabulary import CLASS_UNITS, CLASS_UNITS_ARRAY, UNITS_PER_QUARTER
from core.music.score import DRUM_CHANNEL, Note, Score, TempoChange, TimeSignature, Track

DEFAULT_VELOCITY = 64  # for note events without a velocity bin (the original wrote every note at 64)


class DecodedNote(NamedTuple):
    start: int  # ticks
    duration: int
    pitch: int  # MIDI
    instrument: int  # class
    velocity: int  # MIDI 1..127


@dataclass(frozen=True)
class InstrumentTarget:
    """Where the notes of one instrument class go: a track name, a GM program and a MIDI channel."""

    name: str
    program: int
    channel: int


def _meter(numerator: int, denominator: int) -> Meter:
    try:
        return meter_for(numerator, denominator)
    except UnsupportedMeterError as error:
        raise RepresentationError(f"cannot decode bars of {numerator}/{denominator}: {error}") from None


def units_to_ticks(units: np.ndarray, meter: Meter, ticks_per_quarter: int) -> np.ndarray:
    """Ticks of ``units`` (1/24 q*) of ``meter`` at ``ticks_per_quarter``, rounded to the nearest tick
    (halves to even), in exact integer arithmetic."""
    per_qstar = meter.quarters_per_qstar
    numerator = np.asarray(units, np.int64) * (ticks_per_quarter * per_qstar.numerator)
    denominator = UNITS_PER_QUARTER * per_qstar.denominator
    quotient, remainder = np.divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + ((twice > denominator) | ((twice == denominator) & (quotient % 2 == 1)))


def bar_length_ticks(numerator: int, denominator: int, ticks_per_quarter: int) -> int:
    """Length of one encoded bar of this meter in ticks."""
    meter = _meter(numerator, denominator)
    return int(units_to_ticks(np.int64(meter.bar_units), meter, ticks_per_quarter))


def decode_bar(
    events: EventArrays,
    numerator: int,
    denominator: int,
    ticks_per_quarter: int,
    start_tick: int = 0,
    default_velocity: int = DEFAULT_VELOCITY,
) -> list[DecodedNote]:
    """The notes of one bar whose barline is at ``start_tick``. Notes may sound past the bar's end
    (a note is never cut); events after the bar's end are read like any other."""
    meter = _meter(numerator, denominator)
    offsets = np.asarray(events.offset, np.int64)
    if len(offsets) and (offsets.min() < 0 or offsets.max() >= len(CLASS_UNITS)):
        raise RepresentationError("an offset class is outside 0-59")
    times = np.cumsum(CLASS_UNITS_ARRAY[offsets])
    index = np.flatnonzero((~events.is_pause) & (events.pitch >= 0))
    duration = np.asarray(events.duration, np.int64)[index]
    wrong = (duration <= 0) | (duration >= len(CLASS_UNITS))
    if wrong.any():
        first = int(np.argmax(wrong))
        raise RepresentationError(f"note event {int(index[first])} has duration class {int(duration[first])}")
    onset = times[index]
    start = start_tick + units_to_ticks(onset, meter, ticks_per_quarter)
    length = np.maximum(start_tick + units_to_ticks(onset + CLASS_UNITS_ARRAY[duration], meter, ticks_per_quarter) - start, 1)
    velocity = bin_velocities(np.asarray(events.velocity)[index], default_velocity)
    pitch = np.asarray(events.pitch, np.int64)[index] + LOWEST_PITCH
    instrument = np.maximum(np.asarray(events.instrument, np.int64)[index], 0)
    columns = (start.tolist(), length.tolist(), pitch.tolist(), instrument.tolist(), velocity.tolist())
    return [DecodedNote(*note) for note in zip(*columns)]


def instrument_map_for(score: Score, table: InstrumentTable = MAHLERNET) -> dict[int, InstrumentTarget]:
    """Each instrument class the piece plays -> its first track that plays it (drum tracks only for
    a table with a drum class)."""
    targets: dict[int, InstrumentTarget] = {}
    for track in score.tracks:
        index = table.class_of_track(track)
        if index is not None and index not in targets:
            targets[index] = InstrumentTarget(track.name, track.program, track.channel)
    return targets


def complete_instrument_map(
    classes: Sequence[int], instruments: Mapping[int, InstrumentTarget] | None, table: InstrumentTable = MAHLERNET
) -> dict[int, InstrumentTarget]:
    """``instruments`` plus a new target (the class's name and output program, a free channel) for
    every class in ``classes`` it lacks); the table's drum class goes to the drum channel."""
    targets = dict(instruments or {})
    used = {t.channel for t in targets.values()}
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    for index in sorted(set(classes)):
        if index in targets:
            continue
        if table.is_drum(index):
            targets[index] = InstrumentTarget(table.class_name(index), table.output_program(index), DRUM_CHANNEL)
            continue
        channel = free.pop(0) if free else (index % 15 if index % 15 < DRUM_CHANNEL else index % 15 + 1)
        targets[index] = InstrumentTarget(table.class_name(index), table.output_program(index), channel)
    return targets


def notes_to_score(
    notes: Sequence[DecodedNote],
    ticks_per_quarter: int,
    instruments: Mapping[int, InstrumentTarget] | None = None,
    tempos: Sequence[tuple[int, int]] = (),
    meters: Sequence[tuple[int, int, int]] = (),
    table: InstrumentTable = MAHLERNET,
    title: str = "",
) -> Score:
    """A Score of decoded notes: one track per target (several classes may share one), ``tempos`` as
    (tick, µs per quarter) and ``meters`` as (tick, numerator, denominator)."""
    targets = complete_instrument_map([n.instrument for n in notes], instruments, table)
    grouped: dict[InstrumentTarget, list[Note]] = {}
    for target in dict.fromkeys(targets[i] for i in sorted(targets)):
        grouped[target] = []
    for note in notes:
        grouped[targets[note.instrument]].append(Note(note.start, note.duration, note.pitch, note.velocity))
    tracks = tuple(Track(t.name, t.program, t.channel, tuple(group)) for t, group in grouped.items() if group)
    return Score(
        ticks_per_quarter,
        tracks,
        tuple(TempoChange(tick, value) for tick, value in tempos),
        tuple(TimeSignature(tick, n, d) for tick, n, d in meters),
        title=title,
    )


def decode_piece(
    piece: EncodedPiece,
    ticks_per_quarter: int = 480,
    instruments: Mapping[int, InstrumentTarget] | None = None,
    table: InstrumentTable = MAHLERNET,
    at_source_ticks: bool = True,
    default_velocity: int = DEFAULT_VELOCITY,
) -> Score:
    """A whole encoded piece as a Score. With ``at_source_ticks`` (and a piece that records them) each
    bar goes back where it was in the source (``ticks_per_quarter`` must then be the source's);
    otherwise bars follow each other from tick 0. Tempo and meter are written wherever they change."""
    notes: list[DecodedNote] = []
    tempos: list[tuple[int, int]] = []
    meters: list[tuple[int, int, int]] = []
    tick = 0
    placed = at_source_ticks and piece.bar_start_tick is not None
    for bar in range(piece.bar_count):
        numerator, denominator = int(piece.bar_numerator[bar]), int(piece.bar_denominator[bar])
        if placed:
            tick = int(piece.bar_start_tick[bar])  # type: ignore[index]
        events = piece.bar_events(bar)
        notes.extend(decode_bar(events, numerator, denominator, ticks_per_quarter, tick, default_velocity))
        if not meters or meters[-1][1:] != (numerator, denominator) or placed:
            meters.append((tick, numerator, denominator))
        tempo = int(piece.bar_tempo[bar])
        if tempo > 0 and (not tempos or tempos[-1][1] != tempo):
            tempos.append((tick, tempo))
        tick += bar_length_ticks(numerator, denominator, ticks_per_quarter)
    if placed:
        meters = [m for i, m in enumerate(meters) if i == 0 or m[1:] != meters[i - 1][1:]]
    return notes_to_score(notes, ticks_per_quarter, instruments, tempos, meters, table, title=piece.source)
