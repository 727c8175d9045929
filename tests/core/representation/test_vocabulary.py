"""The 60 offset/duration classes (spec 1.2, facts 7.1)."""

from fractions import Fraction

from core.representation.meters import meter_for
from core.representation.vocabulary import BASIC_UNITS, CLASS_UNITS, CLASSES, class_of_units

F = [Fraction(x) for x in ("0", "1/8", "1/6", "1/4", "1/3", "3/8", "1/2", "5/8", "2/3", "3/4", "5/6", "7/8")]


def ticks(index: int, tpb: int = 480) -> int:
    return CLASS_UNITS[index] * meter_for(4, 4).unit_ticks(tpb)


def test_class_lengths_in_ticks_at_480():
    expected = {12: 480, 6: 240, 3: 120, 4: 160, 18: 720, 24: 960, 36: 1440, 48: 1920, 59: 2340}
    assert {i: ticks(i) for i in expected} == expected


def test_closed_form_for_all_sixty():
    assert len(CLASSES) == 60
    for c in CLASSES:
        assert c.length == c.index // 12 + F[c.index % 12]


def test_even_index_exactly_when_triplet_based():
    for c in CLASSES:
        assert c.is_triplet_based == (c.index % 2 == 0)
        assert c.is_triplet_based == (c.length % Fraction(1, 6) == 0)


def test_classes_are_every_eighth_and_sixth_below_five():
    lengths = {c.length for c in CLASSES}
    grid = {Fraction(k, 8) for k in range(40)} | {Fraction(k, 6) for k in range(30)}
    assert lengths == grid


def test_ties_add_up_and_basic_classes_are_single_values():
    for c in CLASSES:
        assert sum(BASIC_UNITS[v] for v in c.components) == c.units
    assert [c.index for c in CLASSES if c.is_single] == [1, 2, 3, 4, 6, 8, 12, 24, 32, 48]


def test_placement_rules_and_frequencies():
    assert CLASSES[13].placement == (24, 21)  # d32+d4 starts a 32nd before a beat
    assert CLASSES[20].placement == (8, 8)  # the original's rule that can never match on the triplet grid
    assert all(c.placement == "t16" or c.placement == "never" for c in CLASSES if "t16" in c.components)
    assert CLASSES[59].placement == "never" and CLASSES[11].placement == "never"
    assert [CLASSES[i].frequency for i in (0, 12, 10, 46)] == [0, 0, 8, 14]


def test_class_of_units():
    assert class_of_units(24) == 12 and class_of_units(117) == 59
    assert class_of_units(1) is None and class_of_units(120) is None
