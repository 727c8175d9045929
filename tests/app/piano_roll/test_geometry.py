"""Qt-free parts of the piano roll: the viewport mapping, the note index and the bar grid."""

from __future__ import annotations

import numpy as np

from app.piano_roll.bar_grid import BarGrid, thinning_step
from app.piano_roll.note_index import NoteIndex
from app.piano_roll.viewport import Viewport
from core.music.score import Note, Score, TimeSignature, Track
from tests.app.pieces import BAR, TPQ, quartet


def test_viewport_maps_ticks_and_pitches_both_ways():
    view = Viewport(left_tick=960, px_per_tick=0.1, top_pitch=80, row_height=10, width=500, height=300)
    assert view.x_of(1960) == 100
    assert view.tick_of(100) == 1960
    assert view.y_of(79) == 0  # the top row is pitch 79's
    assert view.pitch_of(5) == 79 and view.pitch_of(15) == 78
    view.zoom_time(2.0, anchor_x=100)
    assert view.tick_of(100) == 1960  # the tick under the mouse stays put
    view.zoom_pitch(1.5, anchor_y=150)
    assert abs((view.top_pitch - 150 / view.row_height) - (80 - 15)) < 1e-9


def test_viewport_fit_shows_everything_asked():
    view = Viewport(width=1000, height=400)
    view.fit(0, 48_000, 40, 90)
    assert view.tick_of(0) == 0 and view.right_tick >= 48_000
    low, high = view.visible_pitches()
    assert low <= 40 and high >= 90


def test_note_index_finds_exactly_the_visible_notes():
    rng = np.random.default_rng(1)
    notes = [Note(int(s), int(d), int(p), 64) for s, d, p in zip(rng.integers(0, 100_000, 3000), rng.integers(1, 4000, 3000), rng.integers(20, 100, 3000))]
    index = NoteIndex.build(notes)
    for t0, t1, low, high in ((0, 500, 0, 127), (40_000, 43_000, 50, 60), (99_000, 200_000, 0, 127)):
        expected = sorted(n for n in notes if n.start < t1 and n.end > t0 and low <= n.pitch <= high)
        found = index.visible(t0, t1, low, high)
        got = sorted(Note(int(index.starts[i]), int(index.ends[i] - index.starts[i]), int(index.pitches[i]), 64) for i in found)
        assert got == expected


def test_bar_grid_follows_meter_changes_and_beats_follow_the_meter():
    grid = BarGrid.of(quartet(), extra_bars=4)
    assert grid.count == 12 + 4
    assert grid.span(9, 9) == (8 * BAR, 8 * BAR + 3 * TPQ)
    assert grid.bar_at(8 * BAR + 3 * TPQ) == 10
    assert grid.meter_changes(np.arange(grid.count)) == [0, 8]
    beats = grid.beat_ticks(np.array([0, 8]))
    assert beats.tolist() == [480, 960, 1440, 8 * BAR + 480, 8 * BAR + 960]
    compound = BarGrid.of(Score(TPQ, (Track("x", notes=[Note(0, 10, 60, 64)]),), (), (TimeSignature(0, 6, 8),)), extra_bars=0)
    assert compound.beat_ticks(np.array([0])).tolist() == [3 * TPQ / 2]  # 6/8 has two dotted-quarter beats


def test_thinning_keeps_drawn_bars_apart():
    assert thinning_step(20, 8) == 1
    assert thinning_step(3, 8) == 4
