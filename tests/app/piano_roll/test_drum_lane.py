"""Drum tracks (channel 10) are drawn in their own lane, on rows named as General MIDI names them."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from core.music.selection import NoteSelection
from tests.app.pieces import quartet
from tests.app.piano_roll.editing_helpers import make_editing


def test_the_drum_lane_names_its_rows_and_draws_drums_there_not_among_the_pitches(qtbot):
    ed = make_editing(qtbot, quartet())
    lane = ed.roll.drum_lane
    assert lane.isVisible() and ed.roll.drum_corner.isVisible()
    assert lane.keys == [36, 38]
    assert lane.names() == ["Bass Drum 1", "Acoustic Snare"]
    drum_track = ed.score.tracks[3]
    assert all(layer.track is not drum_track for layer in ed.roll.canvas.layers)
    assert [layer.track for _i, layer in ed.roll.drum_layers()] == [drum_track]
    image = lane.grab().toImage()
    assert image.width() > 0


def test_a_click_in_the_drum_lane_selects_a_hit_and_delete_removes_it(qtbot):
    ed = make_editing(qtbot, quartet())
    lane = ed.roll.drum_lane
    hit = ed.score.tracks[3].notes[1]  # the snare on beat 2 of bar 1
    x = round(ed.roll.view.x_of(hit.start)) + 2
    y = round((lane.keys.index(hit.pitch) + 0.5) * lane.row_height)
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert ed.roll.editor.selection == NoteSelection.of([(3, hit)])
    ed.roll.editor.delete()
    assert hit not in ed.score.tracks[3].notes
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert not ed.roll.editor.selection


def test_no_drum_tracks_no_lane(qtbot):
    score = quartet()
    ed = make_editing(qtbot, score.replace(tracks=score.tracks[:3]))
    assert not ed.roll.drum_lane.isVisible() and ed.roll.drum_lane.keys == []


def test_the_pencil_draws_a_hit_on_a_drum_row_and_the_right_button_deletes_it(qtbot):
    from core.music.grid import Grid
    from core.music.score import Note
    from tests.app.pieces import TPQ

    ed = make_editing(qtbot, quartet())
    lane = ed.roll.drum_lane
    ed.roll.editor.set_tool("pencil")
    ed.roll.editor.set_grid(Grid(8))
    tick = 3 * TPQ + 250  # between two eighths after the last beat of bar 1
    y = round((lane.keys.index(38) + 0.5) * lane.row_height)
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(round(ed.roll.view.x_of(tick)), y))
    drawn = Note(3 * TPQ + 240, 240, 38, 80)
    assert drawn in ed.score.tracks[3].notes
    qtbot.mouseClick(lane, Qt.MouseButton.RightButton, pos=QPoint(round(ed.roll.view.x_of(drawn.start)) + 2, y))
    assert drawn not in ed.score.tracks[3].notes
    assert ed.document.undo_stack.count() == 2


def test_a_hit_drags_later_on_the_grid_and_onto_another_drum_row_as_one_undo_step(qtbot):
    from core.music.score import Note
    from tests.app.pieces import TPQ

    ed = make_editing(qtbot, quartet())
    lane, view = ed.roll.drum_lane, ed.roll.view
    hit = ed.score.tracks[3].notes[0]  # the bass drum on beat 1 of bar 1
    start = QPoint(round(view.x_of(hit.start)) + 2, round((lane.keys.index(36) + 0.5) * lane.row_height))
    end = QPoint(round(view.x_of(hit.start + 2 * TPQ + 30)) + 2, round((lane.keys.index(38) + 0.5) * lane.row_height))
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    qtbot.mouseMove(lane, end)
    assert (lane.drag.ticks, lane.drag.semitones) == (2 * TPQ, 2)  # snapped to the 1/16 grid's beat 3, the snare row
    assert lane.grab().toImage().width() > 0  # the preview paints
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    moved = Note(hit.start + 2 * TPQ, hit.duration, 38, hit.velocity)
    notes = ed.score.tracks[3].notes
    assert moved in notes and hit not in notes
    assert ed.roll.editor.selection == NoteSelection.of([(3, moved)])  # the moved hit stays selected
    ed.document.undo_stack.undo()
    assert hit in ed.score.tracks[3].notes and moved not in ed.score.tracks[3].notes


def test_a_click_on_a_hit_without_moving_changes_nothing(qtbot):
    ed = make_editing(qtbot, quartet())
    lane = ed.roll.drum_lane
    before = ed.score
    hit = before.tracks[3].notes[2]
    point = QPoint(round(ed.roll.view.x_of(hit.start)) + 2, round((lane.keys.index(hit.pitch) + 0.5) * lane.row_height))
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=point)
    assert ed.score is before and ed.roll.editor.selection == NoteSelection.of([(3, hit)])


def test_several_selected_hits_drag_together_and_a_click_picks_one_of_them(qtbot):
    from tests.app.pieces import TPQ

    ed = make_editing(qtbot, quartet())
    lane, view = ed.roll.drum_lane, ed.roll.view
    first, second = ed.score.tracks[3].notes[0], ed.score.tracks[3].notes[2]  # beats 1 and 3 of bar 1
    both = NoteSelection.of([(3, first), (3, second)])
    ed.roll.editor.set_selection(both)
    start = QPoint(round(view.x_of(first.start)) + 2, round((lane.keys.index(first.pitch) + 0.5) * lane.row_height))
    end = QPoint(start.x() + round(view.x_of(TPQ // 2) - view.x_of(0)), start.y())
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    qtbot.mouseMove(lane, end)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    notes = ed.score.tracks[3].notes
    moved = [n._replace(start=n.start + TPQ // 2) for n in (first, second)]
    assert all(n in notes for n in moved) and first not in notes and second not in notes
    assert len(ed.roll.editor.selection) == 2
    point = QPoint(round(view.x_of(moved[0].start)) + 2, start.y())
    qtbot.mouseClick(lane, Qt.MouseButton.LeftButton, pos=point)
    assert ed.roll.editor.selection == NoteSelection.of([(3, moved[0])])
