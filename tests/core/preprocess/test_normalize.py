"""The playing strategy of the normaliser (spec 2.5 steps 2 and 8), function by function; what it
does to whole pieces is checked by the fixture tests (test_fixtures.py)."""

from __future__ import annotations

from core.preprocess.normalize import (
    ENDED_DUPLE,
    ENDED_ON_GRID,
    ENDED_TRIPLET,
    FAST,
    SEPARATE,
    SLOW,
    STANDARD,
    TIMPANI,
    attached_type,
    excluded_values,
    new_status,
    record_note,
)
from core.representation.vocabulary import BASIC_UNITS

PIANO, VIOLIN = 0, 5


def excluded(compound: bool, attached: int, speed: int, instrument: int) -> set[str]:
    mask = excluded_values(compound, attached, speed, instrument)
    return {name for index, name in enumerate(BASIC_UNITS) if mask >> index & 1}


def test_a_separate_piano_note_in_standard_tempo_loses_only_32nds_and_triplet_16ths():
    assert excluded(False, SEPARATE, STANDARD, PIANO) == {"d32", "t16"}
    assert excluded(False, SEPARATE, SLOW, PIANO) == {"t16"}  # slow music keeps 32nds
    assert excluded(False, SEPARATE, FAST, PIANO) == {"d32", "d16", "t16"}


def test_triplet_and_duple_music_exclude_each_others_values():
    triplet = excluded(False, ENDED_TRIPLET, SLOW, PIANO)
    assert triplet == {"d32", "d16", "t16"} == excluded(True, SEPARATE, SLOW, PIANO)  # a compound meter
    assert excluded(False, ENDED_DUPLE, SLOW, PIANO) == {"t1", "t2", "t4", "t8", "t16"}
    assert excluded(False, ENDED_DUPLE, FAST, PIANO) == {"t1", "t2", "t4", "t8", "t16", "d32", "d16"}


def test_strings_and_timpani_lose_the_finest_values_whatever_the_tempo():
    assert excluded(False, SEPARATE, SLOW, VIOLIN) == {"d32", "t16"}
    assert excluded(False, SEPARATE, SLOW, TIMPANI) == {"d32", "d16", "t16"}


def test_attachment_to_the_last_note_of_the_track():
    status = new_status()
    record_note(status, 0, 100, ENDED_DUPLE)  # the first note: after the empty status's end
    assert attached_type(status, 103, attach=5) == ENDED_DUPLE  # follows its end closely
    assert attached_type(status, 2, attach=5) == ENDED_ON_GRID  # a chord member: the type before it
    assert attached_type(status, 200, attach=5) == SEPARATE
    record_note(status, 100, 150, ENDED_TRIPLET)  # follows it directly: the last note now
    assert status == [ENDED_TRIPLET, 100, 150, ENDED_DUPLE]
    record_note(status, 100, 120, ENDED_ON_GRID)  # a chord member that ends sooner
    assert status == [ENDED_ON_GRID, 100, 120, ENDED_DUPLE]
    record_note(status, 110, 300, ENDED_DUPLE)  # overlaps: changes nothing
    assert status == [ENDED_ON_GRID, 100, 120, ENDED_DUPLE]
