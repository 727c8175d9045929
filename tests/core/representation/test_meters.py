"""Meters and duration sets (spec 1.3, facts 7.2) and the meters beyond the original's."""

from fractions import Fraction

import pytest

from core.errors import UnsupportedMeterError
from core.representation.meters import bar_units, is_supported, meter_for, working_resolution


def scaled_tpb(numerator: int, denominator: int, tpb: int = 480) -> int:
    return meter_for(numerator, denominator).unit_ticks(tpb) * 24


@pytest.mark.parametrize(
    "meter, count, bar_class, max_class, compound",
    [
        ((4, 4), 60, 48, 59, False),
        ((3, 4), 48, 36, 47, False),
        ((2, 4), 36, 24, 35, False),
        ((6, 8), 18, 24, 34, True),
        ((12, 8), 30, 48, 58, True),
        ((9, 8), 24, 36, 46, True),
    ],
)
def test_original_duration_sets(meter, count, bar_class, max_class, compound):
    for original_only in (True, False):
        m = meter_for(*meter, original_only=original_only)
        assert (len(m.classes), m.bar_class, m.max_class, m.compound) == (count, bar_class, max_class, compound)
        if compound:
            assert all(c % 2 == 0 for c in m.classes)


def test_scaled_resolutions():
    assert scaled_tpb(6, 8) == 720
    assert scaled_tpb(2, 2) == 960
    assert scaled_tpb(3, 8) == 240
    assert scaled_tpb(6, 4) == 1440


def test_numerator_reduction():
    assert meter_for(8, 4) == meter_for(4, 4)
    assert meter_for(10, 4) == meter_for(2, 4)
    assert meter_for(18, 8) == meter_for(9, 8)
    assert meter_for(24, 8) == meter_for(12, 8)


@pytest.mark.parametrize("meter", [(5, 4), (7, 8), (3, 16), (6, 2), (1, 4), (4, 1)])
def test_the_original_rejects(meter):
    with pytest.raises(UnsupportedMeterError):
        meter_for(*meter, original_only=True)


def test_beyond_the_original():
    five = meter_for(5, 4)
    assert (five.quarters_per_qstar, five.bar_units, five.bar_class, five.max_class) == (1, 120, None, 59)
    assert five.segments == (96, 24)  # a bar of 5 q* is covered by segments of 4 + 1
    seven = meter_for(7, 8)
    assert (seven.quarters_per_qstar, seven.bar_units, seven.bar_class, seven.max_class) == (1, 84, 42, 53)
    assert meter_for(1, 4).bar_class == 12 and meter_for(1, 4).max_class == 23
    assert meter_for(1, 8).quarters_per_qstar == Fraction(1, 2) and meter_for(1, 8).bar_class == 12
    sixteenth = meter_for(3, 16)
    assert sixteenth.quarters_per_qstar == Fraction(1, 4) and sixteenth.bar_class == 36
    assert meter_for(6, 16).compound and meter_for(6, 16).quarters_per_qstar == Fraction(3, 4)
    odd = meter_for(23, 16)  # 23 sixteenths: q* an eighth, 11.5 q* in segments 4 + 4 + 3.5
    assert odd.bar_units == 276 and odd.segments == (96, 96, 84)
    assert meter_for(15, 8).segments == (96, 84)
    assert not meter_for(5, 4).original and meter_for(12, 8).original


@pytest.mark.parametrize("meter", [(11, 4), (5, 2), (17, 8), (4, 32), (3, 1), (0, 4)])
def test_bars_over_eight_quarters_and_odd_denominators_are_unsupported(meter):
    assert not is_supported(*meter)


def test_every_supported_bar_is_on_the_half_beat_grid_and_segments_fit_a_class():
    for denominator in (2, 4, 8, 16):
        for numerator in range(1, 33):
            if not is_supported(numerator, denominator):
                continue
            m = meter_for(numerator, denominator)
            assert m.bar_units % 12 == 0
            assert sum(m.segments) == m.bar_units
            assert all(s <= 117 and s % 12 == 0 for s in m.segments)
            assert m.bar_quarters <= 8 or m.original


def test_bar_units_and_working_resolution():
    assert bar_units(4, 4) == 96 and bar_units(7, 8) == 84 and bar_units(8, 4) == 96
    assert working_resolution(480) == 480 and working_resolution(96) == 96
    assert working_resolution(120) == 480 and working_resolution(100) == 2400
    assert working_resolution(9999) == 9984 and working_resolution(32767) == 32736 and working_resolution(1) == 96
    for tpb in (25, 100, 120, 384, 1000):
        for meter in ((4, 4), (6, 8), (3, 16), (7, 8), (6, 16)):
            meter_for(*meter).unit_ticks(working_resolution(tpb))  # raises if a class is not whole ticks
