"""The piano roll widget: it draws the notes in their colours, selects bars, sounds keys."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from app.piano_roll import PianoRoll
from app.piano_roll.note_painter import band_colors, velocity_band
from core.music.score import Note, Score, Track
from core.music.selection import BarRange, BarSelection, NoteSelection
from tests.app.pieces import BAR, TPQ, quartet


@pytest.fixture
def roll(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(900, 500)
    roll.show()
    qtbot.waitExposed(roll)
    roll.set_score(quartet(), keep_view=False)
    return roll


def canvas_image(roll: PianoRoll) -> np.ndarray:
    image = roll.canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    buffer = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return buffer.reshape(image.height(), image.width()) & 0xFFFFFF


def has_colour(pixels: np.ndarray, colour: QColor) -> bool:
    return bool(np.any(pixels == (colour.rgb() & 0xFFFFFF)))


def test_notes_are_drawn_in_their_track_colour_with_velocity_as_brightness(roll):
    roll.set_track_display(["#ff0000", "#00ff00", "#0000ff", "#ffff00"], [True, True, True, True])
    pixels = canvas_image(roll)
    assert roll.canvas.last_frame.mode == "vector"
    violin = quartet().tracks[0]
    bands = {int(velocity_band(n.velocity)) for n in violin.notes}
    assert len(bands) > 1
    for band in bands:  # each loudness of the violin shows in its own shade of red
        assert has_colour(pixels, band_colors("#ff0000")[band])
    assert has_colour(pixels, band_colors("#00ff00")[int(velocity_band(70))])


def test_hidden_tracks_are_not_drawn(roll):
    roll.set_track_display(["#ff0000", "#00ff00", "#0000ff", "#ffff00"], [False, True, True, True])
    pixels = canvas_image(roll)
    assert not any(has_colour(pixels, c) for c in band_colors("#ff0000"))


def dense_roll(qtbot, seed: int) -> tuple[PianoRoll, list[Note]]:
    """A roll showing 20,000 eighth notes (pitches 40-79) over 400 bars in red, the whole piece in view."""
    rng = np.random.default_rng(seed)
    notes = [Note(int(s), 240, int(p), 100) for s, p in zip(np.sort(rng.integers(0, 400 * BAR, 20_000)), rng.integers(40, 80, 20_000))]
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(900, 500)
    roll.show()
    roll.set_score(Score(TPQ, (Track("dense", notes=notes),)), keep_view=False)
    roll.set_track_display(["#ff0000"], [True])
    return roll, notes


def test_a_dense_view_is_drawn_as_a_raster_in_track_colours(qtbot):
    roll, _notes = dense_roll(qtbot, seed=0)
    pixels = canvas_image(roll)
    assert roll.canvas.last_frame.mode == "raster" and roll.canvas.last_frame.notes == 20_000
    assert has_colour(pixels, band_colors("#ff0000")[int(velocity_band(100))])


def test_a_dense_selection_is_stamped_over_its_own_rows_and_follows_a_drag(qtbot):
    roll, notes = dense_roll(qtbot, seed=1)
    before = canvas_image(roll)
    roll.show_note_selection(NoteSelection.of_track(0, [n for n in notes if n.pitch >= 60]))  # ~10,000 notes
    selected = canvas_image(roll)
    view = roll.view

    def rows_changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The pitches whose rows (their middle line) differ between two pictures."""
        return np.array([p for p in range(40, 80) if np.any(a[int(view.y_of(p) + view.row_height / 2)] != b[int(view.y_of(p) + view.row_height / 2)])])

    assert roll.canvas.last_frame.mode == "raster"
    assert rows_changed(before, selected).tolist() == list(range(60, 80))  # the selected rows, and only they
    roll.canvas.drag_offset = (0, -10, 0)  # a drag 10 semitones down: rows 50-69 show the selection
    roll.canvas.update()
    dragged = canvas_image(roll)
    assert rows_changed(before, dragged).tolist() == list(range(50, 70))


def test_ghost_notes_and_step_highlight_are_drawn_and_cleared(roll):
    roll.set_track_display(["#ff0000", "#00ff00", "#0000ff", "#ffff00"], [False] * 4)
    empty = canvas_image(roll)
    roll.set_ghost_notes([("#ff00ff", [Note(2 * BAR, BAR, 60, 100), Note(3 * BAR, BAR, 62, 100)])])
    assert roll.has_ghosts
    with_ghosts = canvas_image(roll)
    assert np.count_nonzero(with_ghosts != empty) > 50
    roll.clear_ghosts()
    assert not roll.has_ghosts
    assert np.array_equal(canvas_image(roll), empty)
    roll.set_step_highlight(2 * BAR, 3 * BAR, "step 1 of 4")
    assert np.count_nonzero(canvas_image(roll) != empty) > 100
    roll.clear_step_highlight()
    assert np.array_equal(canvas_image(roll), empty)


def ruler_x(roll: PianoRoll, bar: int) -> int:
    start, end = roll.grid.span(bar, bar)
    return round(roll.view.x_of((start + end) / 2))


def test_dragging_on_the_ruler_selects_seed_and_ctrl_drag_selects_context(roll, qtbot):
    selections: list[BarSelection] = []
    roll.selection_changed.connect(selections.append)
    y = roll.ruler.height() - 8
    qtbot.mousePress(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 9), y))
    qtbot.mouseMove(roll.ruler, QPoint(ruler_x(roll, 10), y))
    qtbot.mouseRelease(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 10), y))
    qtbot.mousePress(roll.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, QPoint(ruler_x(roll, 8), y))
    qtbot.mouseRelease(roll.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, QPoint(ruler_x(roll, 8), y))
    assert roll.selection == BarSelection(BarRange(9, 10), BarRange(8, 8))
    assert roll.selection.describe() == "seed: bars 9-10, context: bar 8"
    assert selections[-1] == roll.selection
    assert roll.canvas.selection == roll.selection  # drawn in the notes area too


def test_the_keyboard_asks_to_sound_the_clicked_key(roll, qtbot):
    pressed: list[int] = []
    released: list[int] = []
    roll.key_pressed.connect(pressed.append)
    roll.key_released.connect(released.append)
    y = round(roll.view.y_of(60) + roll.view.row_height / 2)
    qtbot.mouseClick(roll.keyboard, Qt.MouseButton.LeftButton, pos=QPoint(40, y))
    assert pressed == [60] and released == [60]


def test_zoom_fit_and_cursor(roll):
    full = roll.view.px_per_tick
    roll.zoom_time(2.0)
    assert roll.view.px_per_tick == pytest.approx(2 * full)
    roll.fit()
    assert roll.view.px_per_tick == pytest.approx(full)
    roll.set_cursor_tick(50 * BAR, follow=True)  # far right: the view pages along
    assert roll.view.left_tick <= 50 * BAR < roll.view.right_tick
    assert roll.cursor_tick == 50 * BAR
