"""Editing notes in the piano roll with the mouse and the keys: each gesture or command is one undo
step on the document, undo gives back the exact piece and the selection before it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from core.music.grid import Grid
from core.music.score import Note, Score, TempoChange, TimeSignature, Track
from core.music.selection import BarSelection, NoteSelection
from tests.app.piano_roll.editing_helpers import BAR, TPQ, make_editing, press_drag_release


def piece() -> Score:
    melody = Track("Flute", 73, 0, [Note(i * TPQ, TPQ, 60 + i, 80) for i in range(8)])
    bass = Track("Cello", 42, 1, [Note(i * BAR, BAR, 48, 70) for i in range(2)])
    return Score(TPQ, (melody, bass), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))


@pytest.fixture
def ed(qtbot):
    return make_editing(qtbot, piece())


def melody(ed) -> tuple[Note, ...]:
    return ed.score.tracks[0].notes


def undo_gives_back(ed, original: Score, selection: NoteSelection) -> None:
    ed.document.undo_stack.undo()
    assert ed.score is original
    assert ed.roll.editor.selection == selection


def test_click_shift_click_and_click_on_empty_space_select(ed, qtbot):
    canvas = ed.roll.canvas
    first, second = melody(ed)[0], melody(ed)[1]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=ed.inside(first))
    assert ed.roll.editor.selection == NoteSelection.of([(0, first)])
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, ed.inside(second))
    assert ed.roll.editor.selection == NoteSelection.of([(0, first), (0, second)])
    assert "2 notes" in ed.roll.header.info.text()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=ed.point(3 * BAR, 100))
    assert not ed.roll.editor.selection
    assert ed.document.undo_stack.count() == 0  # selecting is not an edit


def test_a_rubber_band_selects_the_notes_it_touches_and_shift_adds(ed, qtbot):
    canvas = ed.roll.canvas
    press_drag_release(qtbot, canvas, ed.point(10, 59), ed.point(2 * TPQ + 10, 62))
    assert {n.pitch for _t, n in ed.roll.editor.selection} == {60, 61, 62}
    press_drag_release(qtbot, canvas, ed.point(10, 50), ed.point(BAR - 10, 46), Qt.KeyboardModifier.ShiftModifier)
    assert len(ed.roll.editor.selection) == 4 and ed.roll.editor.selection.tracks == (0, 1)


def test_dragging_a_note_moves_the_selection_on_the_grid_as_one_undo_step(ed, qtbot):
    original = ed.score
    note = melody(ed)[1]  # C#4 at one quarter
    # a drag of about 1.1 quarters right and 2 rows up lands on the grid: 1 quarter on a 1/4 grid
    ed.roll.editor.set_grid(Grid(4))
    press_drag_release(qtbot, ed.roll.canvas, ed.inside(note), ed.point(note.start + 0.3 * TPQ + 1.1 * TPQ, note.pitch + 2))
    moved = Note(2 * TPQ, TPQ, 63, 80)
    assert moved in melody(ed) and note not in melody(ed)
    assert ed.roll.editor.selection == NoteSelection.of([(0, moved)])
    assert ed.document.undo_stack.count() == 1
    assert ed.roll.canvas.drag_offset == (0, 0, 0) and not ed.roll._lifted
    undo_gives_back(ed, original, NoteSelection.of([(0, note)]))
    ed.document.undo_stack.redo()
    assert moved in melody(ed)


def test_dragging_a_note_end_resizes_it(ed, qtbot):
    original = ed.score
    note = melody(ed)[0]
    ed.roll.editor.set_grid(Grid(8))
    end = ed.point(note.end - 2, note.pitch)
    press_drag_release(qtbot, ed.roll.canvas, end, QPoint(round(ed.roll.view.x_of(note.end + TPQ / 2)), end.y()))
    assert melody(ed)[0] == Note(0, TPQ + TPQ // 2, 60, 80)
    undo_gives_back(ed, original, NoteSelection.of([(0, note)]))


def test_the_pencil_draws_a_grid_step_into_the_active_track_and_a_drag_makes_it_longer(ed, qtbot):
    roll = ed.roll
    qtbot.keyClick(roll.canvas, Qt.Key.Key_P)  # the key may not reach an inactive window offscreen:
    roll.editor.set_tool("pencil")  # the tool is set either way
    assert roll.editor.actions["pencil_tool"].isChecked()
    roll.header.track_picker.setCurrentIndex(1)
    assert roll.editor.active_track == 1
    roll.header.grid_picker.setCurrentText("1/8T")
    assert roll.editor.grid == Grid(8, True)
    qtbot.mouseClick(roll.canvas, Qt.MouseButton.LeftButton, pos=ed.point(2 * BAR + 170, 72))
    assert Note(2 * BAR + 160, 160, 72, 80) in ed.score.tracks[1].notes  # floored to the triplet line
    roll.editor.set_grid(Grid(16))
    press_drag_release(qtbot, roll.canvas, ed.point(3 * BAR + 10, 74), ed.point(3 * BAR + 2 * TPQ, 74))
    assert Note(3 * BAR, 2 * TPQ, 74, 80) in ed.score.tracks[1].notes
    assert ed.document.undo_stack.count() == 2
    ed.document.undo_stack.undo()
    assert Note(3 * BAR, 2 * TPQ, 74, 80) not in ed.score.tracks[1].notes


def test_the_right_button_deletes_the_note_under_it(ed, qtbot):
    original = ed.score
    note = melody(ed)[3]
    qtbot.mouseClick(ed.roll.canvas, Qt.MouseButton.RightButton, pos=ed.inside(note))
    assert note not in melody(ed) and len(melody(ed)) == 7
    undo_gives_back(ed, original, NoteSelection())


def focus_roll(ed, qtbot) -> None:
    ed.roll.activateWindow()
    ed.roll.canvas.setFocus()
    qtbot.waitUntil(lambda: ed.roll.canvas.hasFocus(), timeout=30_000)


def test_arrow_keys_move_by_the_grid_and_by_semitones_or_octaves_each_one_undo_step(ed, qtbot):
    focus_roll(ed, qtbot)
    original = ed.score
    first = melody(ed)[0]
    ed.roll.editor.set_selection(NoteSelection.of([(0, first)]))
    ed.roll.editor.set_grid(Grid(8))
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Right)
    assert ed.roll.editor.selection == NoteSelection.of([(0, Note(240, TPQ, 60, 80))])
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Up)
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert ed.roll.editor.selection == NoteSelection.of([(0, Note(240, TPQ, 73, 80))])
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Left)
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Left)  # stops at the start of the piece
    assert Note(0, TPQ, 73, 80) in melody(ed)
    assert ed.document.undo_stack.count() == 4
    for _ in range(4):
        ed.document.undo_stack.undo()
    assert ed.score is original and ed.roll.editor.selection == NoteSelection.of([(0, first)])


def test_delete_duplicate_quantize_and_velocity_keys(ed, qtbot):
    focus_roll(ed, qtbot)
    editor = ed.roll.editor
    original = ed.score
    two = NoteSelection.of_track(0, melody(ed)[:2])
    editor.set_selection(two)
    editor.set_grid(Grid(4))
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [n.start for n in melody(ed)[:4]] == [0, TPQ, 2 * TPQ, 2 * TPQ]  # the copies follow at half a bar
    assert editor.selection.start == 2 * TPQ and len(editor.selection) == 2
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Delete)
    assert ed.score == original and not editor.selection
    off_grid = Note(130, 200, 90, 50)
    editor.add_note(off_grid)
    editor.set_selection(NoteSelection.of([(editor.active_track, off_grid)]))
    editor.set_grid(Grid(8))
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Q)
    assert editor.selection == NoteSelection.of([(0, Note(240, 240, 90, 50))])
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert editor.selection == NoteSelection.of([(0, Note(240, 240, 90, 58))])
    assert ed.document.undo_stack.count() == 5


def test_select_all_takes_the_seed_bars_then_copy_and_paste_across_bars_and_tracks(ed, qtbot):
    focus_roll(ed, qtbot)
    editor = ed.roll.editor
    ed.roll.set_selection(BarSelection().with_seed(2))
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert {n.start for _t, n in editor.selection} == {BAR, BAR + TPQ, BAR + 2 * TPQ, BAR + 3 * TPQ}
    assert editor.selection.tracks == (0, 1)
    editor.set_selection(NoteSelection.of_track(0, melody(ed)[:2]))
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    editor.set_active_track(1)
    ed.roll.set_cursor_tick(3 * BAR + 5)  # paste goes to the cursor, on the grid
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    bass = ed.score.tracks[1].notes
    assert Note(3 * BAR, TPQ, 60, 80) in bass and Note(3 * BAR + TPQ, TPQ, 61, 80) in bass
    assert editor.selection.tracks == (1,)
    assert ed.roll.cursor_tick == 3 * BAR + 2 * TPQ  # pasting again goes on from there
    before_cut = ed.score
    qtbot.keyClick(ed.roll.canvas, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert Note(3 * BAR, TPQ, 60, 80) not in ed.score.tracks[1].notes
    ed.document.undo_stack.undo()
    assert ed.score is before_cut


def test_the_velocity_lane_drags_the_selected_notes_velocities(ed, qtbot):
    lane = ed.roll.velocity_lane
    editor = ed.roll.editor
    original = ed.score
    editor.set_selection(NoteSelection.of_track(0, melody(ed)[2:4]))
    x = round(ed.roll.view.x_of(2 * TPQ))
    start = QPoint(x, lane.height() - round(80 / 127 * (lane.height() - 4)))
    press_drag_release(qtbot, lane, start, QPoint(x, 6))
    velocities = [n.velocity for n in melody(ed)]
    assert velocities[2] == velocities[3] > 110 and velocities[:2] == [80, 80] and velocities[4:] == [80] * 4
    undo_gives_back(ed, original, NoteSelection.of_track(0, original.tracks[0].notes[2:4]))
    # a stem of an unselected note: that note alone
    alone_x = round(ed.roll.view.x_of(5 * TPQ))
    press_drag_release(qtbot, lane, QPoint(alone_x + 1, lane.height() - 5), QPoint(alone_x + 1, lane.height() - 2))
    changed = [n for n in melody(ed) if n.velocity != 80]
    assert len(changed) == 1 and changed[0].start == 5 * TPQ and changed[0].velocity < 10
    assert ed.score.tracks[1] is original.tracks[1]
    assert ed.roll.editor.selection == NoteSelection.of([(0, changed[0])])


def test_the_velocity_lane_shows_the_selected_notes_in_the_accent_colour(ed, qtbot):
    from app import theme
    from tests.app.piano_roll.test_view import has_colour
    import numpy as np
    from PySide6.QtGui import QColor, QImage

    def lane_pixels():
        image = ed.roll.velocity_lane.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        buffer = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
        return buffer.reshape(image.height(), image.width()) & 0xFFFFFF

    assert not has_colour(lane_pixels(), QColor(theme.ACCENT))
    ed.roll.editor.set_selection(NoteSelection.of_track(0, melody(ed)[:1]))
    assert has_colour(lane_pixels(), QColor(theme.ACCENT))


@pytest.mark.parametrize(
    "action",
    [
        "delete_notes", "duplicate_notes", "quantize_notes", "move_earlier", "move_later", "move_up", "move_down",
        "octave_up", "octave_down", "lengthen_notes", "shorten_notes", "louder_notes", "softer_notes", "cut_notes",
        "paste_notes",
    ],
)  # fmt: skip
def test_every_note_command_is_one_undo_step_that_undoes_and_redoes_exactly(ed, action):
    editor = ed.roll.editor
    editor.set_grid(Grid(8, triplet=True))
    off_grid = Note(BAR + 130, 300, 70, 64)
    editor.add_note(off_grid)  # a note off the grid, so that quantizing changes it
    ed.document.undo_stack.clear()
    chosen = NoteSelection.of([(0, melody(ed)[2]), (0, off_grid), (1, ed.score.tracks[1].notes[1])])
    editor.set_selection(chosen)
    editor.copy()
    ed.roll.set_cursor_tick(3 * BAR)
    original = ed.score
    editor.actions[action].trigger()
    after, selected_after = ed.score, editor.selection
    assert after != original and ed.document.undo_stack.count() == 1
    ed.document.undo_stack.undo()
    assert ed.score is original and editor.selection == chosen
    ed.document.undo_stack.redo()
    assert ed.score is after and editor.selection == selected_after
    layers = dict(ed.roll.shown_layers())
    assert all(layers[i].track is after.tracks[i] for i in layers)  # the drawing follows the piece


def test_no_note_edit_while_the_roll_previews_other_music(ed):
    from app.note_editing import PREVIEW_SHOWN

    piece_shown = ed.score
    preview = piece_shown.replace(tracks=piece_shown.tracks[:1])  # what a generation preview would show
    ed.roll.set_score(preview)
    ed.roll.editor.set_selection(NoteSelection.of_track(0, preview.tracks[0].notes[:1]))
    ed.roll.editor.delete()
    assert ed.score is piece_shown and ed.document.undo_stack.count() == 0
    assert ed.editing.problems == [PREVIEW_SHOWN]
