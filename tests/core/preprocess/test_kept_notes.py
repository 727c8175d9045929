"""Issue #15 section 2: reading and preprocessing keep the music. Each test writes a small MIDI file
byte by byte, reads it like any file and encodes it; notes the strategy of the original would have
quantised to nothing (16ths in 6/8, 9/8, 2/2 and fast 4/4, notes a little off the grid) must be kept,
on the nearest class the meter has."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.midi.files import read_midi_bytes
from core.preprocess import encode
from core.preprocess import report as reasons
from core.preprocess.encode import MAX_HELD_QUARTERS, encode_score, estimated_rows
from core.representation.meters import meter_for
from core.representation.vocabulary import CLASS_UNITS, UNITS_PER_QUARTER
from tests.core.midi_bytes import end_of_track, event, meter, notes_body, smf, tempo

TPB = 480
SIXTEENTH = TPB // 4
VIOLIN, CELLO = 40, 42


def midi_file(
    parts: list[list[tuple[int, int, int, int]]], numerator: int, denominator: int, us_per_quarter: int = 500_000
) -> bytes:
    """A format-1 file: a conductor track (meter, tempo), then one string part per list of notes."""
    conductor = meter(0, numerator, denominator.bit_length() - 1) + tempo(0, us_per_quarter) + end_of_track()
    bodies = [notes_body(notes, channel=i, program=(VIOLIN, CELLO)[i % 2]) for i, notes in enumerate(parts)]
    return smf(conductor, *bodies, division=TPB)


def sixteenths(numerator: int, denominator: int, bars: int, pitch: int) -> list[tuple[int, int, int, int]]:
    bar = numerator * 4 * TPB // denominator
    count = bars * bar // SIXTEENTH
    return [(i * SIXTEENTH, SIXTEENTH, pitch + i % 5, 80) for i in range(count)]


def note_lengths_in_quarters(piece, numerator: int, denominator: int) -> set[Fraction]:
    events = piece.events
    units = np.array(CLASS_UNITS)[events.duration[~events.is_pause]]
    qstar = meter_for(numerator, denominator).quarters_per_qstar
    return {Fraction(int(u), UNITS_PER_QUARTER) * qstar for u in set(units.tolist())}


@pytest.mark.parametrize(
    "numerator, denominator, us_per_quarter",
    [(4, 4, 500_000), (3, 4, 500_000), (6, 8, 500_000), (2, 2, 500_000), (9, 8, 500_000), (4, 4, 250_000),
     (2, 4, 250_000), (6, 8, 250_000)],
)  # fmt: skip
def test_sixteenths_are_kept_in_every_meter(numerator, denominator, us_per_quarter):
    """Before the fix a 6/8 or 9/8 file of 16ths lost all of them (a 16th is a triplet 16th of the
    dotted quarter q*, a value the strategy always excluded) and 2/2 or fast 4/4 half of them (d32 /
    d16 excluded for strings or fast music). Every note is kept, as a 16th."""
    parts = [sixteenths(numerator, denominator, 4, 72), sixteenths(numerator, denominator, 4, 48)]
    data = midi_file(parts, numerator, denominator, us_per_quarter)
    result = encode_score(read_midi_bytes(data), source="sixteenths.mid")
    report = result.report
    assert report.status == "ok" and report.dropped == {}
    assert report.notes_in == report.notes_kept == sum(len(p) for p in parts)
    assert note_lengths_in_quarters(result.piece, numerator, denominator) == {Fraction(1, 4)}


def mixed_values(late: int) -> list[tuple[int, int, int, int]]:
    """Quarters, eighths and 16ths over 8 bars of 4/4 (or 16 of 2/4 / 6/8 ...), each ``late`` ticks late."""
    pattern = [TPB, TPB // 2, TPB // 2, SIXTEENTH, SIXTEENTH, SIXTEENTH, SIXTEENTH, TPB]
    notes, tick = [], 0
    while tick < 32 * TPB:
        for i, length in enumerate(pattern):
            notes.append((tick + late, length, 60 + i, 90))
            tick += length
    return notes


@pytest.mark.parametrize("numerator, denominator", [(4, 4), (3, 4), (6, 8), (2, 2), (9, 8)])
def test_a_file_all_a_tenth_of_a_quarter_late_keeps_its_notes(numerator, denominator):
    """Every note 0.1 quarter (48 ticks) late snaps to the nearest class instead of vanishing: a
    melody of quarters, eighths and 16ths over a bass of quarters. (Before the fix a late 16th cost
    more to move back than to drop, and was dropped.)"""
    bass = [(start * TPB + TPB // 10, TPB, 36 + start % 7, 70) for start in range(32)]
    parts = [mixed_values(TPB // 10), bass]
    report = encode_score(read_midi_bytes(midi_file(parts, numerator, denominator))).report
    notes = sum(len(p) for p in parts)
    assert report.notes_in == notes
    assert report.notes_kept >= 0.95 * notes, report.dropped


def test_a_live_performance_keeps_its_notes():
    """Starts and lengths jittered by up to 0.08 quarter either way, as played: >= 95% kept."""
    rng = np.random.default_rng(15)
    played = []
    for start, length, pitch, velocity in mixed_values(0):
        jitter = rng.integers(-38, 39, size=2)
        played.append((max(0, start + int(jitter[0])), max(10, length + int(jitter[1])), pitch, velocity))
    for numerator, denominator in ((4, 4), (6, 8)):
        report = encode_score(read_midi_bytes(midi_file([played], numerator, denominator))).report
        assert report.notes_kept >= 0.95 * len(played), (numerator, denominator, report.dropped)


def never_released(notes: int = 560, bars: int = 20_000) -> bytes:
    """A 3 KB file: ``notes`` note-ons on 15 channels and many pitches, none ever released, and the
    end of the track ``bars`` bars of 4/4 later (the reader ends stuck notes there)."""
    body = b""
    for i in range(notes):
        channel = i % 15 if i % 15 != 9 else 15
        body += event(4, 0x90 | channel, 24 + i % 96, 80)
    body += end_of_track(bars * 4 * TPB)
    return smf(body, fmt=0, division=TPB)


def test_notes_never_released_are_cut_and_the_work_stays_bounded():
    """Issue #15: 560 never-released notes over 20,000 bars made 11 million rows (23 GiB). Notes are
    cut after 64 quarters, so the encoding has a few rows per note and bar it sounds in."""
    data = never_released()
    assert len(data) < 4096
    score = read_midi_bytes(data)
    longest = max(n.duration for t in score.tracks for n in t.notes)
    assert score.notes_count == 560 and longest >= 20_000 * 4 * TPB - 4 * 560
    assert estimated_rows(score) < 20_000  # before the cut: about 11 million
    result = encode_score(score, source="stuck.mid")
    report = result.report
    assert report.status == "ok" and report.trimmed[reasons.HELD_TOO_LONG] == 560
    assert report.bars <= MAX_HELD_QUARTERS // 4 + 2 and report.events < 20_000  # onsets span 1.2 bars
    assert report.notes_kept >= 0.7 * 560  # onsets 4 ticks apart: some cannot be told apart


def test_a_file_too_large_to_encode_is_skipped_at_once(monkeypatch):
    """A file whose rows would pass the bound is skipped with the reason, before any encoding."""
    score = read_midi_bytes(never_released(notes=100, bars=10))
    rows = estimated_rows(score)
    monkeypatch.setattr(encode, "MAX_ROWS", rows - 1)
    monkeypatch.setattr(encode, "tokenize", None)  # encoding it would fail loudly
    report = encode.encode_score(score, source="big.mid").report
    assert report.status == "skipped" and report.reason.startswith(reasons.TOO_LARGE)
    assert f"{rows:,} rows" in report.reason and report.notes_in == 100
