"""The editing grid: lines restart at each barline, triplets, rounding on odd resolutions."""

import pytest

from core.music.grid import GRIDS, Grid
from core.music.score import Note, Score, TimeSignature, Track

TPQ = 480


def test_names_parse_and_steps():
    assert [g.name for g in GRIDS] == ["1/4", "1/8", "1/16", "1/32", "1/4T", "1/8T", "1/16T", "1/32T"]
    assert all(Grid.parse(g.name) == g for g in GRIDS)
    assert Grid(16).step(TPQ) == 120 and Grid(8, True).step(TPQ) == 160 and Grid(32, True).step(TPQ) == 40
    assert Grid(16).finer() == Grid(32) and Grid(32).finer() == Grid(32) and Grid(4, True).coarser() == Grid(4, True)
    with pytest.raises(ValueError, match="not a grid"):
        Grid.parse("3/8")
    with pytest.raises(ValueError, match="the grid is one of"):
        Grid(12)


def test_snapping_straight_and_triplet():
    score = Score(TPQ, (Track("x", notes=[Note(0, 10 * TPQ, 60, 80)]),))
    eighth = Grid(8)
    assert eighth.floor(score, 239) == 0 and eighth.nearest(score, 121) == 240 and eighth.nearest(score, 119) == 0
    assert eighth.next(score, 240) == 480 and eighth.previous(score, 240) == 0 and eighth.previous(score, 0) == 0
    triplet = Grid(8, True)
    assert triplet.nearest(score, 250) == 320 and triplet.next(score, 0) == 160 and triplet.floor(score, 479) == 320


def test_lines_restart_at_each_barline_in_odd_meters():
    score = Score(TPQ, (), time_signatures=(TimeSignature(0, 5, 8),))  # a bar of 1200 ticks
    quarter = Grid(4)
    assert quarter.next(score, 960) == 1200  # the barline, not 1440
    assert quarter.next(score, 1200) == 1680
    assert quarter.nearest(score, 1150) == 1200


def test_triplets_at_a_resolution_that_does_not_divide_round_each_line():
    score = Score(100, ())
    grid = Grid(4, True)  # 66 2/3 ticks
    assert [grid.next(score, t) for t in (0, 67, 133)] == [67, 133, 200]
