"""Decoding: event arrays back to notes and Scores, and encode -> decode round trips across meters."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.errors import RepresentationError
from core.preprocess.encode import encode_score
from core.representation.decode import (
    InstrumentTarget,
    bar_length_ticks,
    complete_instrument_map,
    decode_bar,
    decode_piece,
    instrument_map_for,
    units_to_ticks,
)
from core.representation.events import EventArrays
from core.representation.meters import Meter, meter_for
from core.representation.vocabulary import CLASS_OF_UNITS, CLASSES, UNITS_PER_QUARTER
from core.representation.velocity import BIN_VELOCITIES
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

TPQ = 480
PROGRAMS = (("Violin", 40, 0), ("Cello", 42, 1), ("Flute", 73, 2))


def _grid(length: Fraction, meter: Meter) -> int:
    """Ticks of the grid a note of ``length`` quarters must start on to keep its length: the largest
    value of its tie (or half of it for a single value of a triplet quarter or more)."""
    units = length / meter.quarters_per_qstar * UNITS_PER_QUARTER
    cls = CLASSES[CLASS_OF_UNITS[int(units)]]
    grid = cls.largest_units // 2 if cls.is_single and cls.largest_units >= 16 else cls.largest_units
    return int(Fraction(grid, UNITS_PER_QUARTER) * meter.quarters_per_qstar * TPQ)


def legato_piece(
    meters: list[tuple[int, int, int]], lengths: list[Fraction], rng: np.random.Generator, tempo: int = 500_000
) -> Score:
    """Three instruments playing legato lines of notes (of the given lengths in quarter notes) that
    never cross a barline and start on their own grid, as written music does; ``meters`` is a list of
    (bars, numerator, denominator)."""
    bars: list[tuple[int, int, Meter]] = []  # (start tick, length, meter)
    signatures = []
    tick = 0
    for count, numerator, denominator in meters:
        signatures.append(TimeSignature(tick, numerator, denominator))
        length = TPQ * 4 * numerator // denominator
        for _ in range(count):
            bars.append((tick, length, meter_for(numerator, denominator)))
            tick += length
    tracks = []
    for index, (name, program, channel) in enumerate(PROGRAMS):
        notes = []
        for start, length, meter in bars:
            position = 0
            while position < length:
                fitting = [
                    x for x in lengths if x * TPQ <= length - position and (position % _grid(x, meter) == 0)
                ]
                assert fitting, f"no length fits at {position} of a {meter.text} bar"
                duration = int(fitting[rng.integers(len(fitting))] * TPQ)
                pitch = int(rng.integers(48, 84)) + 7 * index
                velocity = BIN_VELOCITIES[int(rng.integers(len(BIN_VELOCITIES)))]
                notes.append(Note(start + position, duration, pitch, velocity))
                position += duration
        tracks.append(Track(name, program, channel, tuple(notes)))
    return Score(TPQ, tuple(tracks), (TempoChange(0, tempo),), tuple(signatures))


Q = Fraction
SIMPLE = [Q(1, 4), Q(1, 2), Q(3, 4), Q(1), Q(3, 2), Q(2)]
EIGHTHS = [Q(1, 2), Q(1), Q(3, 2), Q(2)]
COMPOUND = [Q(1, 2), Q(1), Q(3, 2), Q(3)]
WIDE_COMPOUND = [Q(1), Q(2), Q(3), Q(6)]
SHORT = [Q(1, 4), Q(1, 2)]

METER_CASES = {
    "4/4": ([(6, 4, 4)], SIMPLE),
    "3/4": ([(6, 3, 4)], SIMPLE),
    "2/4": ([(6, 2, 4)], SIMPLE),
    "2/2": ([(4, 2, 2)], EIGHTHS),
    "3/2": ([(4, 3, 2)], EIGHTHS),
    "3/8": ([(8, 3, 8)], SIMPLE),
    "6/8": ([(6, 6, 8)], COMPOUND),
    "9/8": ([(4, 9, 8)], COMPOUND),
    "12/8": ([(4, 12, 8)], COMPOUND),
    "6/4": ([(4, 6, 4)], WIDE_COMPOUND),
    "5/4": ([(6, 5, 4)], SIMPLE),
    "7/8": ([(6, 7, 8)], SIMPLE),
    "5/8": ([(6, 5, 8)], SIMPLE),
    "7/4": ([(4, 7, 4)], SIMPLE),
    "3/16": ([(8, 3, 16)], SHORT),
    "5/16": ([(8, 5, 16)], SHORT),
    "8/4": ([(3, 8, 4)], SIMPLE),
    "pick-up 1/4 then 4/4": ([(1, 1, 4), (4, 4, 4)], SIMPLE),
    "pick-up 1/8 then 6/8": ([(1, 1, 8), (4, 6, 8)], COMPOUND),
    "3/4 with a 2/4 bar": ([(3, 3, 4), (1, 2, 4), (3, 3, 4)], SIMPLE),
}


def notes_by_track(score: Score) -> dict[tuple[str, int, int], tuple[Note, ...]]:
    return {(t.name, t.program, t.channel): t.notes for t in score.tracks}


@pytest.mark.parametrize("case", sorted(METER_CASES))
def test_encode_decode_gives_back_the_same_notes(case):
    meters, lengths = METER_CASES[case]
    score = legato_piece(meters, lengths, np.random.default_rng(sorted(METER_CASES).index(case)))
    result = encode_score(score)
    assert result.piece is not None, result.report.summary()
    assert result.report.dropped == {}
    decoded = decode_piece(result.piece, TPQ, instrument_map_for(score))
    assert notes_by_track(decoded) == notes_by_track(score)
    assert decoded.tempo_at(0) == 500_000


def test_long_notes_come_back_as_pieces_that_fill_the_same_span():
    """A note longer than the longest class is re-articulated at barlines (and at the 4 q* segment
    boundary of a 5/4 bar); its pieces join without gaps."""
    for numerator, held in ((4, 3 * 4 * TPQ), (5, 5 * TPQ)):
        length = numerator * TPQ
        notes = (Note(0, held, 60, 80),)
        score = Score(TPQ, (Track("Piano", 0, 0, notes),), (), (TimeSignature(0, numerator, 4),))
        piece = encode_score(score).piece
        decoded = decode_piece(piece, TPQ).tracks[0].notes
        assert decoded[0].start == 0 and decoded[-1].end == held
        assert all(a.end == b.start for a, b in zip(decoded, decoded[1:]))
        assert len(decoded) > 1
        assert all(n.pitch == 60 for n in decoded)
        assert piece.bar_count == -(-held // length)


def test_decoding_keeps_tempo_meter_and_velocity():
    score = legato_piece([(2, 3, 4), (2, 6, 8)], COMPOUND[:1] + [Q(1)], np.random.default_rng(1), tempo=750_000)
    score = score.replace(tempos=(TempoChange(0, 750_000), TempoChange(TPQ * 6, 400_000)))
    piece = encode_score(score).piece
    assert list(piece.bar_tempo) == [750_000, 750_000, 400_000, 400_000]
    decoded = decode_piece(piece, TPQ, instrument_map_for(score))
    assert [(m.tick, m.numerator, m.denominator) for m in decoded.time_signatures] == [(0, 3, 4), (2880, 6, 8)]
    assert decoded.tempo_at(0) == 750_000 and decoded.tempo_at(3000) == 400_000
    velocities = {n.velocity for t in decoded.tracks for n in t.notes}
    assert velocities <= set(BIN_VELOCITIES) and len(velocities) > 2


def test_bars_follow_each_other_without_source_ticks():
    """Leading silence is cut from the encoding; decoding at source ticks puts the music back where
    it was, decoding from 0 does not."""
    notes = (Note(4 * 4 * TPQ, TPQ, 60, 64), Note(4 * 4 * TPQ + TPQ, 3 * TPQ, 62, 64))
    score = Score(TPQ, (Track("Piano", 0, 0, notes),))
    piece = encode_score(score).piece
    assert piece.bar_count == 1
    assert decode_piece(piece, TPQ).tracks[0].notes == notes
    assert decode_piece(piece, TPQ, at_source_ticks=False).tracks[0].notes[0].start == 0


def test_decode_bar_reads_offsets_from_the_barline():
    events = EventArrays(
        offset=[6, 12, 0],
        duration=[12, 6, 6],
        pitch=[43, 45, 47],
        instrument=[0, 4, 4],
        beat=[1, 3, 3],
        velocity=[-1, 4, 4],
        is_pause=[False, False, False],
        active_pitches=np.zeros((3, 96), bool),
        active_instruments=np.zeros((3, 23), bool),
    )
    notes = decode_bar(events, 6, 8, TPQ, start_tick=1000)
    # In 6/8 a q* is a dotted quarter (720 ticks): class 6 = 360, class 12 = 720.
    assert [(n.start, n.duration, n.pitch, n.instrument, n.velocity) for n in notes] == [
        (1360, 720, 60, 0, 64),
        (2080, 360, 62, 4, 80),
        (2080, 360, 64, 4, 80),
    ]


def test_decode_rejects_unknown_meters_and_bad_classes():
    events = EventArrays.empty()
    with pytest.raises(RepresentationError):
        decode_bar(events, 11, 4, TPQ)
    bad = EventArrays(
        offset=[0], duration=[0], pitch=[40], instrument=[0], beat=[0], velocity=[0], is_pause=[False],
        active_pitches=np.zeros((1, 96), bool), active_instruments=np.zeros((1, 23), bool),
    )  # fmt: skip
    with pytest.raises(RepresentationError):
        decode_bar(bad, 4, 4, TPQ)


def test_instrument_maps():
    score = legato_piece([(1, 4, 4)], [Q(1)], np.random.default_rng(0))
    mapping = instrument_map_for(score)
    assert mapping == {
        4: InstrumentTarget("Violin", 40, 0),
        6: InstrumentTarget("Cello", 42, 1),
        20: InstrumentTarget("Flute", 73, 2),
    }
    completed = complete_instrument_map([4, 0, 11], mapping)
    assert completed[4] == mapping[4]
    assert completed[0].program == 0 and completed[11].program == 56
    channels = [t.channel for t in completed.values()]
    assert len(set(channels)) == len(channels) and 9 not in channels


def test_bar_lengths():
    assert bar_length_ticks(4, 4, TPQ) == 1920
    assert bar_length_ticks(7, 8, TPQ) == 1680
    assert bar_length_ticks(8, 4, TPQ) == 1920  # encoded bars of 8/4 are 4/4 halves
    assert bar_length_ticks(6, 8, 96) == 288


@pytest.mark.parametrize("numerator, denominator", [(4, 4), (3, 4), (6, 8), (7, 8), (5, 16), (3, 2)])
@pytest.mark.parametrize("ticks_per_quarter", [96, 100, 120, 480, 25])
def test_units_to_ticks_rounds_exactly_like_fractions(numerator, denominator, ticks_per_quarter):
    meter = meter_for(numerator, denominator)
    units = np.arange(0, 4 * meter.bar_units)
    expected = [round(Fraction(int(u) * ticks_per_quarter, UNITS_PER_QUARTER) * meter.quarters_per_qstar) for u in units]
    assert units_to_ticks(units, meter, ticks_per_quarter).tolist() == expected
