"""Instrument classes (spec 1.5, facts 7.3), pitch folding (1.4, 7.4) and velocity bins."""

import numpy as np
import pytest

from core.representation.events import VELOCITY_BINS
from core.representation.instruments import MAHLERNET, InstrumentTable, table_named
from core.representation.pitch import fold_pitch, midi_pitch, pitch_index
from core.representation.velocity import BIN_EDGES, BIN_VELOCITIES, bin_velocities, bin_velocity, velocity_bin, velocity_bins


def test_program_to_class():
    expected = {40: 4, 41: 5, 45: 2, 46: None, 47: 9, 68: 17, 73: 20, 110: 4, 120: None, 44: None, 0: 0, 108: 0}
    assert {p: MAHLERNET.class_of(p) for p in expected} == expected


def test_class_to_output_program():
    assert list(MAHLERNET.output_programs) == [
        0, 16, 27, 33, 40, 41, 42, 43, 48, 47, 52, 56, 57, 58, 60, 61, 66, 69, 70, 71, 73, 80, 88,
    ]  # fmt: skip
    assert MAHLERNET.class_name(4) == "Violin" and table_named("mahlernet") is MAHLERNET


def test_every_program_is_mapped_or_ignored_as_in_the_original():
    ignored = [p for p in range(128) if MAHLERNET.class_of(p) is None]
    assert ignored == [44, 46] + list(range(112, 128))


def test_tables_are_data_and_checked():
    harp_kept = list(MAHLERNET.class_of_program)
    harp_kept[46] = 2
    table = InstrumentTable("with harp", MAHLERNET.names, MAHLERNET.output_programs, tuple(harp_kept))
    assert table.class_of(46) == 2 and MAHLERNET.class_of(46) is None
    with pytest.raises(ValueError):
        InstrumentTable("short", MAHLERNET.names[:5], MAHLERNET.output_programs[:5], MAHLERNET.class_of_program)
    with pytest.raises(ValueError):
        InstrumentTable.from_ranges("twice", [("a", 0, ((0, 5),)), ("b", 1, (3,))] + [("x", 0, ())] * 21)
    with pytest.raises(KeyError):
        table_named("nope")


def test_pitch_folding_keeps_17():
    """Facts 7.4, with the fix of spec 6.1: 17 is in range (the original moved it to 29)."""
    assert [fold_pitch(p) for p in (10, 17, 18, 112, 113, 120, 0, 127, 5)] == [22, 17, 18, 112, 101, 108, 24, 103, 17]
    assert pitch_index(60) == 43 and midi_pitch(0) == 17 and midi_pitch(95) == 112
    assert all(17 <= fold_pitch(p) <= 112 for p in range(128))
    with pytest.raises(ValueError):
        midi_pitch(96)


def test_velocity_bins():
    assert VELOCITY_BINS == 8
    assert [velocity_bin(v) for v in (1, 24, 25, 40, 41, 56, 57, 72, 73, 88, 89, 104, 105, 119, 120, 127)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
    ]  # fmt: skip
    assert all(velocity_bin(v) == i for i, v in enumerate(BIN_VELOCITIES))
    assert list(velocity_bins(np.array([16, 64, 127, 0, 200]))) == [0, 3, 7, 0, 7]
    assert bin_velocity(4) == 80 and len(BIN_EDGES) == 7
    assert list(bin_velocities(np.array([0, 4, 7, -1, 8]), default=64)) == [16, 80, 127, 64, 64]
    with pytest.raises(ValueError):
        bin_velocity(8)
