"""General MIDI names: programs, families, drum keys, note names."""

import pytest

from core.music.gm import (
    DRUM_NAMES,
    FAMILY_NAMES,
    PROGRAM_NAMES,
    drum_name,
    family_name,
    instrument_name,
    is_drum_channel,
    note_name,
    program_name,
)


def test_tables_are_complete_and_unambiguous():
    assert len(PROGRAM_NAMES) == 128 and len(set(PROGRAM_NAMES)) == 128
    assert len(FAMILY_NAMES) == 16
    assert sorted(DRUM_NAMES) == list(range(35, 82))


@pytest.mark.parametrize(
    "program, name, family",
    [(0, "Acoustic Grand Piano", "Piano"), (6, "Harpsichord", "Piano"), (19, "Church Organ", "Organ"),
     (40, "Violin", "Strings"), (43, "Contrabass", "Strings"), (47, "Timpani", "Strings"),
     (52, "Choir Aahs", "Ensemble"), (60, "French Horn", "Brass"), (71, "Clarinet", "Reed"),
     (73, "Flute", "Pipe"), (127, "Gunshot", "Sound Effects")],
)
def test_program_and_family_names(program, name, family):
    assert program_name(program) == name
    assert family_name(program) == family


def test_drums_and_channels():
    assert is_drum_channel(9) and not is_drum_channel(0) and not is_drum_channel(10)
    assert instrument_name(40, 9) == "Drums" and instrument_name(40, 0) == "Violin"
    assert drum_name(35) == "Acoustic Bass Drum" and drum_name(42) == "Closed Hi-Hat"
    assert drum_name(81) == "Open Triangle" and drum_name(20) == "Key 20"


def test_note_names():
    assert [note_name(p) for p in (0, 21, 60, 61, 70, 127)] == ["C-1", "A0", "C4", "C#4", "Bb4", "G9"]


@pytest.mark.parametrize("call", [lambda: program_name(128), lambda: family_name(-1), lambda: note_name(128)])
def test_out_of_range_is_an_error(call):
    with pytest.raises(ValueError):
        call()
