"""Tokenisation (spec 2.3): legato, staccato, chord snapping, stuck notes, and the fixed units."""

from __future__ import annotations

import numpy as np
import pytest

from core.preprocess import report as reasons
from core.preprocess.encode import encode_chunks, meter_sections
from core.preprocess.report import Tally
from core.preprocess.tokenize import tokenize
from core.representation.instruments import MAHLERNET
from tests.core.preprocess.scores import gridded, humanised, line, piece


def tokens_of(score, vectorised=True):
    tally = Tally()
    sections = meter_sections(score, score.ticks_per_quarter, False)
    tokens = tokenize(score, sections, MAHLERNET, tally, vectorised)
    rows = list(zip(tokens.start.tolist(), tokens.duration.tolist(), tokens.pitch.tolist()))
    return rows, tally


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_path_equals_the_walk(seed):
    """All tracks at once in numpy give exactly what the event-by-event walk gives."""
    score = humanised(np.random.default_rng(seed))
    fast, walk = encode_chunks(score), encode_chunks(score, vectorised=False)
    assert len(fast.chunks) == len(walk.chunks)
    for (a, _), (b, _) in zip(fast.chunks, walk.chunks):
        for name in ("tick", "offset", "duration", "pitch", "instrument", "beat", "velocity", "active_pitches"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert fast.tally.dropped == walk.tally.dropped


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_path_equals_the_walk_on_tracks_it_takes(seed):
    score = gridded(np.random.default_rng(seed))
    split = score
    assert sum(len(t.notes) for t in split.tracks) > 150
    (fast, fast_tally), (walk, walk_tally) = tokens_of(split), tokens_of(split, vectorised=False)
    assert fast == walk
    assert fast_tally.dropped == walk_tally.dropped
    played = {(n.start, n.duration, n.pitch) for t in split.tracks for n in t.notes}
    assert sum(1 for token in fast if token not in played) > 20  # legato, staccato and splits did something


def test_vectorised_path_equals_the_walk_on_quantised_tracks():
    rng = np.random.default_rng(5)
    notes = []
    for bar in range(16):
        for beat in range(4):
            length = int(rng.choice([120, 240, 480, 360]))
            notes.append((bar * 1920 + beat * 480, length, int(rng.integers(50, 70))))
            notes.append((bar * 1920 + beat * 480, 480, int(rng.integers(70, 80))))
    score = piece(line(*notes), line(*[(s + 240, d, p - 12) for s, d, p in notes], program=42, channel=1))
    (fast, fast_tally), (walk, walk_tally) = tokens_of(score), tokens_of(score, vectorised=False)
    assert fast == walk and len(fast) > 100
    assert fast_tally.dropped == walk_tally.dropped


def test_legato_overlap_is_cut():
    """A note shorter than a q* overlapped by the next one for less than half its length ends where
    the next begins; a longer overlap (or a long note) is kept."""
    rows, _ = tokens_of(piece(line((0, 300, 60), (240, 240, 62), (960, 960, 64), (1200, 480, 65))))
    assert rows == [(0, 240, 60), (240, 240, 62), (960, 960, 64), (1200, 480, 65)]


def test_staccato_is_compensated():
    rows, _ = tokens_of(piece(line((0, 240, 60), (480, 240, 62), (960, 720, 64), (2400, 100, 65))))
    # 60 and 62 reach the next onset; 64 is followed by a rest of a q* or more -> a quarter
    assert rows == [(0, 480, 60), (480, 480, 62), (960, 480, 64), (2400, 100, 65)]


def test_chords_snap_to_the_first_onset():
    rows, _ = tokens_of(piece(line((960, 480, 60), (975, 465, 64), (989, 451, 67))))
    assert [r[0] for r in rows] == [960, 960, 960]


def test_thresholds_are_in_normalised_quarters():
    """Fix of spec 6.3: in 6/8 a q* is a dotted quarter (720 ticks at 480), so an eighth followed by a
    quarter rest (480 ticks) is still "within a q*" and reaches the next onset; with real quarters
    (the original) it would have become a quarter note."""
    six_eight, _ = tokens_of(piece(line((0, 240, 60), (720, 240, 62)), meters=((0, 6, 8),)))
    four_four, _ = tokens_of(piece(line((0, 240, 60), (720, 240, 62))))
    assert six_eight[0] == (0, 720, 60)
    assert four_four[0] == (0, 480, 60)


def test_stuck_note_limit_follows_the_resolution():
    """Fix of spec 6.3: a pitch restarted after more than 25/3 quarters of sounding is a stuck note
    and dropped, at any resolution (the original counted 4000 ticks: 41 quarters at 96 per quarter)."""
    long_held = [(0, 96 * 12, 60), (96 * 9, 96, 60)]  # restarted after 9 quarters
    rows, tally = tokens_of(piece(line(*long_held), tpb=96))
    assert rows == [(864, 96, 60)]
    assert tally.dropped[reasons.RETRIGGERED] == 1
    rows, _ = tokens_of(piece(line((0, 96 * 12, 60), (96 * 8, 96, 60)), tpb=96))
    assert rows == [(0, 768, 60), (768, 96, 60)]  # restarted after 8 quarters: ended there


def test_drums_ignored_programs_and_duplicates_are_counted():
    score = piece(
        line((0, 480, 60), (480, 480, 62), program=52, channel=0),
        line((0, 480, 60), program=53, channel=1),  # same class (choir), same note: a duplicate
        line((0, 480, 36), program=0, channel=9),
        line((0, 480, 64), program=46, channel=2),  # harp: ignored by the original's table
    )
    rows, tally = tokens_of(score)
    assert rows == [(0, 480, 60), (480, 480, 62)]
    assert tally.dropped == {reasons.DRUMS: 1, reasons.IGNORED_PROGRAM: 1, reasons.DUPLICATE: 1}
