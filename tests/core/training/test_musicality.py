"""The musical figures of core.training.musicality on tiny note lists whose answers are known."""

import math

import numpy as np
import pytest

from core.training.musicality import (
    Key,
    Notes,
    find_key,
    foreign_share,
    in_key,
    leap_share,
    note_f1,
    pitch_class_overlap,
    polyphony,
    top_voice,
    transposition_to,
)
from core.music.score import Note, Score, Track


def notes(pitches, starts=None, durations=None, instruments=None) -> Notes:
    count = len(pitches)
    starts = list(range(0, 480 * count, 480)) if starts is None else starts
    durations = [480] * count if durations is None else durations
    instruments = [0] * count if instruments is None else instruments
    return Notes(*(np.asarray(v, np.int64) for v in (starts, durations, pitches, instruments)))


C_MAJOR = notes([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 67, 60])
A_MINOR = notes([57, 59, 60, 62, 64, 65, 68, 69, 64, 57, 60, 64, 57, 68, 69])


def test_the_key_finder_names_major_and_minor_keys():
    assert find_key(C_MAJOR) == Key(0, False)
    assert find_key(A_MINOR) == Key(9, True)
    assert find_key(C_MAJOR.transposed(3)) == Key(3, False)
    assert find_key(notes([60, 72])) is None  # one pitch class says nothing
    assert Key(9, True).name == "A minor" and 8 in Key(9, True).scale  # the leading tone G#


def test_in_key_counts_notes_in_the_scale():
    assert in_key(C_MAJOR, Key(0, False)) == 1.0
    assert in_key(notes([60, 61, 62, 63]), Key(0, False)) == 0.5
    assert math.isnan(in_key(notes([]), Key(0, False)))


def test_pitch_class_overlap_is_a_histogram_intersection():
    assert pitch_class_overlap(C_MAJOR, C_MAJOR.transposed(12)) == pytest.approx(1.0)
    assert pitch_class_overlap(notes([60]), notes([61])) == 0.0
    assert pitch_class_overlap(notes([60, 62]), notes([60, 64])) == pytest.approx(0.5)


def test_polyphony_and_the_top_voice_count_held_notes():
    chord = notes([48, 55, 64], starts=[0, 0, 0], durations=[960, 960, 960])
    assert polyphony(chord) == 3.0
    # A melody note held over a moving inner voice stays the top voice: no leap down to the inner voice.
    held = notes([79, 60, 62, 64], starts=[0, 0, 480, 960], durations=[1440, 480, 480, 480])
    assert top_voice(held).tolist() == [79, 79, 79]
    assert leap_share(held) == 0.0
    assert leap_share(notes([60, 76, 74, 55])) == pytest.approx(2 / 3)


def test_foreign_instruments_and_note_f1():
    reference = notes([60, 64], instruments=[4, 6])
    assert foreign_share(notes([60, 62, 64, 65], instruments=[4, 6, 10, 4]), reference) == 0.25
    original = notes([60, 62, 64])
    assert note_f1(original, original) == 1.0
    assert note_f1(notes([60, 62, 65]), original) == pytest.approx(2 / 3)
    assert note_f1(notes([]), notes([])) == 1.0 and note_f1(notes([61]), original) == 0.0


def test_transposition_moves_tonic_onto_tonic_by_the_shortest_way():
    assert transposition_to(C_MAJOR, Key(2, False)) == 2
    assert transposition_to(C_MAJOR, Key(10, False)) == -2


def test_notes_of_a_score_leave_drums_out_and_know_instrument_classes():
    score = Score(480, (Track("Violin", 40, 0, (Note(0, 480, 67, 80),)), Track("Kit", 0, 9, (Note(0, 240, 36, 90),))))
    found = Notes.of(score)
    assert found.pitch.tolist() == [67] and found.instrument.tolist() == [4]
