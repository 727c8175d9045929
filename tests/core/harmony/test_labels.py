"""Chord labels: the canonical text, the shorthand a composer types, and clean errors."""

from __future__ import annotations

import pytest

from core.harmony.labels import NO_CHORD, QUALITIES, Chord, ChordLabelError, parse_chord, parse_progression
from core.harmony.templates import CHORD_INDEX, VOCABULARY, chord_tones


def test_every_canonical_label_reads_back_to_its_chord():
    for chord in VOCABULARY:
        assert parse_chord(chord.label) == chord
    assert Chord(6, "min7").label == "F#:min7"
    assert NO_CHORD.label == "N" and NO_CHORD.is_none


def test_every_chord_has_a_shorthand_that_reads_back():
    for chord in VOCABULARY:
        assert parse_chord(chord.short) == chord
    assert [parse_chord(t).short for t in ("C:maj", "A:min", "G:dom7", "F#:hdim7", "N")] == ["C", "Am", "G7", "F#m7b5", "N"]


@pytest.mark.parametrize(
    ("text", "label"),
    [("C", "C:maj"), ("Am", "A:min"), ("G7", "G:dom7"), ("Bbmaj7", "A#:maj7"), ("F#m7b5", "F#:hdim7"),
     ("Bdim7", "B:dim7"), ("Dsus4", "D:sus4"), ("Eb+", "D#:aug"), ("C#dim", "C#:dim"), ("Ebm7", "D#:min7"),
     ("Cb", "B:maj"), ("N", "N")],
)
def test_shorthand(text: str, label: str):
    assert parse_chord(text).label == label


def test_progression_splits_on_spaces_commas_and_bars():
    assert [c.label for c in parse_progression("C G, Am | F")] == ["C:maj", "G:maj", "A:min", "F:maj"]


@pytest.mark.parametrize("text", ["H7", "Cxyz", "C:major", "", "  "])
def test_bad_names_are_one_line_errors_naming_the_text(text: str):
    with pytest.raises(ChordLabelError) as error:
        parse_progression(text) if not text.strip() else parse_chord(text)
    assert repr(text) in str(error.value) and "\n" not in str(error.value)


def test_vocabulary_is_no_chord_then_every_root_and_quality_once():
    assert VOCABULARY[0] == NO_CHORD and len(VOCABULARY) == 1 + 12 * len(QUALITIES)
    assert len(set(VOCABULARY)) == len(VOCABULARY) and CHORD_INDEX[Chord(0, "maj")] == 1
    assert chord_tones(Chord(7, "dom7")) == {7, 11, 2, 5}
    assert Chord(11, "min").transposed(2) == Chord(1, "min") and NO_CHORD.transposed(3) == NO_CHORD
