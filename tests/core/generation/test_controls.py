"""The composer's controls: temperatures, allowed instruments, playable ranges."""

import numpy as np
import pytest

from core.errors import GenerationError
from core.generation.controls import PLAYABLE_RANGES, Controls, Temperatures, instrument_classes, playable
from core.representation.instruments import MAHLERNET


def test_temperatures_parse_one_or_five_values():
    assert Temperatures.parse("0.8") == Temperatures.uniform(0.8)
    assert Temperatures.parse("1,0.9,0.8,0.7,0.6").as_tuple() == (1.0, 0.9, 0.8, 0.7, 0.6)
    for bad in ("hot", "1,2", "-1", "11"):
        with pytest.raises(GenerationError):
            Temperatures.parse(bad)
    assert Temperatures.greedy().as_tuple() == (0.0,) * 5
    assert Temperatures.uniform(1.0).hotter_offset(0.2).as_tuple() == (1.2, 1.0, 1.0, 1.0, 1.0)


def test_instrument_names_numbers_and_programs():
    assert instrument_classes(["violin", "Cello", "20", "program:68"]) == {4, 6, 20, 17}
    with pytest.raises(GenerationError, match="unknown instrument 'kazoo'"):
        instrument_classes(["kazoo"])
    with pytest.raises(GenerationError):
        instrument_classes(["program:120"])  # a sound effect the table ignores
    with pytest.raises(GenerationError):
        Controls(instruments=frozenset())


def test_range_table_is_the_documented_one():
    assert len(PLAYABLE_RANGES) == len(MAHLERNET.names)
    violin = PLAYABLE_RANGES[MAHLERNET.names.index("Violin")]
    assert violin == (55, 103)  # G3 up
    assert playable(55, 4) and not playable(54, 4)
    table = Controls().range_table()
    assert table.shape == (96, 23)
    assert table[55 - 17, 4] and not table[54 - 17, 4]
    assert Controls(clamp_ranges=False).range_table().all()


def test_pitch_mask_is_the_union_of_the_allowed_ranges():
    mask = Controls(instruments=frozenset({4, 6})).pitch_mask()  # violin G3-G7, cello C2-C6
    midi = np.flatnonzero(mask) + 17
    assert midi.min() == 36 and midi.max() == 103
    assert mask.sum() == 103 - 36 + 1
