"""Rough edges of the window, one test each: toolbar and panels that fit small screens, the undo
buttons, the model pickers and the status bar's model, the ruler's selection, the random seed shown,
plurals, meter labels with no room, zoom to the selection, and a task that outlives its window."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QThreadPool
from PySide6.QtWidgets import QToolButton

from app.models import ModelEntry, ModelScan
from app.piano_roll import PianoRoll
from app.words import count
from app.workers import Task
from core.music.score import Note, Score, TempoChange, TimeSignature, Track
from core.music.selection import BarSelection
from tests.app.pieces import BAR, TPQ


@pytest.fixture
def window(quartet_window):
    return quartet_window


def toolbar_buttons(window) -> list[QToolButton]:
    return [window.toolbar.widgetForAction(a) for a in window.toolbar.actions() if not a.isSeparator()]


def test_undo_and_redo_name_the_change_in_the_menu_and_tooltip_but_not_on_the_toolbar(window):
    width = window.toolbar.sizeHint().width()
    window.roll.set_selection(BarSelection().with_seed(2, 3))
    window.actions["transpose_up"].trigger()
    window.actions["transpose_up"].trigger()
    window.actions["undo"].trigger()
    for name, verb in (("undo", "Undo"), ("redo", "Redo")):
        action = window.actions[name]
        assert action.text() == f"&{verb} Transpose up bars 2-3"  # the Edit menu
        assert action.toolTip().startswith(f"{verb} Transpose up bars 2-3 (")  # with its key
        assert window.toolbar.widgetForAction(action).text() == verb
    assert window.toolbar.sizeHint().width() == width  # nothing pushed about


def test_each_picker_lists_the_models_of_its_job(window):
    def entry(name: str, kind: str, problem: str = "") -> ModelEntry:
        return ModelEntry(name, Path(f"{name}.safetensors"), f"{kind} model", kind, problem)

    scan = ModelScan(
        (entry("mine-continue", "continuation"), entry("mine-morph", "interpolation"), entry("broken", "?", "damaged")),
        False,
    )
    window.models.load = lambda name: None  # no background loads of these made-up models
    window.pickers._on_scan(scan)

    def listed(panel) -> list[str]:
        return [panel.model.itemText(i) for i in range(panel.model.count())]

    assert [n for n in listed(window.continue_panel) if "mine" in n] == ["mine-continue"]
    assert [n for n in listed(window.interpolate_panel) if "mine" in n] == ["mine-morph"]


def test_the_status_bar_shows_the_model_of_the_panel_in_front(window):
    pickers = window.pickers
    window.continue_panel.model.set_models([("cont", "a continuation model")])
    window.interpolate_panel.model.set_models([("morph", "an interpolation model")])
    window.models.loaded_model = lambda name: object()  # both are loaded already
    pickers.picked("continuation", "cont")
    pickers.picked("interpolation", "morph")  # loaded last, but Continue is in front
    assert window.status.model.text() == "model: cont (loaded)"
    window.docks["interpolate"].raise_()
    assert pickers.active_kind == "interpolation"
    assert window.status.model.text() == "model: morph (loaded)"
    window.docks["continue"].raise_()
    assert window.status.model.text() == "model: cont (loaded)"


def ruler_x(roll: PianoRoll, bar: int) -> int:
    start, end = roll.grid.span(bar, bar)
    return round(roll.view.x_of((start + end) / 2))


def test_the_ruler_stops_at_the_last_bar_and_shift_click_extends(window, qtbot):
    roll = window.roll
    roll.zoom_to_ticks(0, 20 * BAR)  # bars past the piece's 12 are in sight
    y = roll.ruler.height() - 8
    qtbot.mousePress(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 10), y))
    qtbot.mouseMove(roll.ruler, QPoint(ruler_x(roll, 16), y))
    qtbot.mouseRelease(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 16), y))
    assert (roll.selection.seed.first, roll.selection.seed.last) == (10, 12)  # not past bar 12
    qtbot.mouseClick(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 4), y))
    qtbot.mouseClick(roll.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(ruler_x(roll, 7), y))
    assert (roll.selection.seed.first, roll.selection.seed.last) == (4, 7)
    qtbot.mouseClick(roll.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(ruler_x(roll, 2), y))
    assert (roll.selection.seed.first, roll.selection.seed.last) == (2, 7)
    both = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(roll.ruler, Qt.MouseButton.LeftButton, both, QPoint(ruler_x(roll, 1), y))
    assert (roll.selection.context.first, roll.selection.context.last) == (1, 1)
    seeks: list[float] = []
    roll.seek_requested.connect(seeks.append)
    qtbot.mouseDClick(roll.ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler_x(roll, 5), 8))
    assert seeks and 4 * BAR <= seeks[0] < 5 * BAR


def test_new_seed_each_run_shows_the_seed_the_run_used(window):
    panel = window.continue_panel
    panel.set_models([("small", "continue")])
    window.roll.set_selection(BarSelection().with_seed(2))
    panel.continue_requested.disconnect(window.generation.start_continue)  # the request only, no run
    sent = []
    panel.continue_requested.connect(sent.append)
    before = panel.random_seed.value()
    panel.run_button.click()
    assert sent[0].random_seed == panel.random_seed.value()  # the box shows the one used
    panel.new_seed_each_run.setChecked(False)
    panel.run_button.click()
    assert sent[1].random_seed == sent[0].random_seed == panel.random_seed.value()
    assert before != sent[0].random_seed  # the first run drew a new one (a clash is 1 in 2**31)


def test_counts_are_in_good_english(window, tmp_path):
    assert count(1, "track") == "1 track" and count(2, "bar") == "2 bars" and count(0, "note") == "0 notes"
    from core.midi.files import write_midi

    path = tmp_path / "one.mid"
    write_midi(Score(TPQ, (Track("Solo", 0, 0, (Note(0, TPQ, 60, 80),)),), (TempoChange(0, 500_000),)), path)
    window.open_file(path, ask_to_save=False)
    assert window.statusBar().currentMessage() == "Opened one.mid: 1 track, 1 bar, 1 note"
    assert window.tracks.rows[0].instrument.text().endswith("· 1 note")


def test_meter_labels_with_no_room_leave_a_mark_and_a_tooltip(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(400, 300)
    roll.show()
    ticks, signatures = 0, []
    for i in range(40):  # bars of 1/4 and 2/4 by turns: far too many labels for 400 pixels
        signatures.append(TimeSignature(ticks, 1 + i % 2, 4))
        ticks += (1 + i % 2) * TPQ
    notes = tuple(Note(t, TPQ, 60, 80) for t in range(0, ticks, TPQ))
    roll.set_score(Score(TPQ, (Track("Pulse", 0, 0, notes),), (TempoChange(0, 500_000),), tuple(signatures)), keep_view=False)
    roll.ruler.grab()  # paint
    assert roll.ruler.hidden_meters  # some labels had no room...
    x, text = roll.ruler.hidden_meters[0]
    assert f"Meter change: {text}" in roll.ruler.tooltip_at(x)  # ...and are still there to be read
    assert "Meter change" not in roll.ruler.tooltip_at(-100)


def test_small_screens_keep_the_toolbar_and_the_variations_in_sight(window, qtbot):
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024)
    for button in toolbar_buttons(window):
        assert button.isVisible() and button.geometry().right() <= window.toolbar.width(), button.text()
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    area = window.docks["continue"].widget()
    for widget in (window.continue_panel.candidates, window.continue_panel.keep_button):
        bottom = widget.mapTo(area.viewport(), widget.rect().bottomLeft()).y()
        assert 0 < bottom <= area.viewport().height(), widget.objectName()


def test_zoom_to_selection_takes_one_step(window):
    score = window.document.score
    window.roll.fit()
    window.roll.set_selection(BarSelection().with_seed(5, 6).with_context(4))
    window.actions["zoom_selection"].trigger()
    view = window.roll.view
    assert view.left_tick <= score.bar(4).start and score.bar(6).end <= view.right_tick
    assert (score.bar(6).end - score.bar(4).start) * view.px_per_tick >= 0.9 * view.width


def test_a_task_that_ends_after_its_owner_is_deleted_says_nothing(qtbot, capfd):
    owner = QObject()
    release = threading.Event()
    task = Task(lambda progress, cancelled: release.wait(30), name="outlived", parent=owner)
    task.start()
    import shiboken6

    shiboken6.delete(owner)  # the window closed while the job ran: the Task's C++ side is gone
    release.set()
    assert QThreadPool.globalInstance().waitForDone(30_000)
    assert "Signal source has been deleted" not in capfd.readouterr().err


def test_esc_cancels_a_drag_in_progress_and_is_panic_otherwise(window, qtbot, monkeypatch):
    panics: list[bool] = []
    monkeypatch.setattr(window.transport, "panic", lambda: panics.append(True))
    score = window.document.score
    roll, view = window.roll, window.roll.view
    view.row_height = 12.0
    view.scroll_to_pitch(74)
    roll._changed()
    note = score.tracks[0].notes[1]  # the violin's second note, in bar 1
    start = QPoint(round(view.x_of(note.start + note.duration * 0.3)), round(view.y_of(note.pitch) + view.row_height / 2))
    later = QPoint(start.x() + round(view.x_of(TPQ) - view.x_of(0)), start.y())
    qtbot.mousePress(roll.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    qtbot.mouseMove(roll.canvas, later)
    assert roll.editor.drag is not None and roll.editor.drag.ticks == TPQ  # a move of a beat is going on
    window.actions["panic"].trigger()  # Esc
    assert roll.editor.drag is None and panics == []  # the drag is dropped, nothing stopped
    qtbot.mouseRelease(roll.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, later)
    assert window.document.score is score and not window.document.undo_stack.canUndo()
    window.actions["panic"].trigger()  # Esc with no drag: Panic
    assert panics == [True]


def test_esc_cancels_a_drag_in_the_drum_and_velocity_lanes(window, qtbot, monkeypatch):
    panics: list[bool] = []
    monkeypatch.setattr(window.transport, "panic", lambda: panics.append(True))
    score = window.document.score
    lane, view = window.roll.drum_lane, window.roll.view
    hit = score.tracks[3].notes[0]
    y = round((lane.keys.index(hit.pitch) + 0.5) * lane.row_height)
    x = round(view.x_of(hit.start)) + 2
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    qtbot.mouseMove(lane, QPoint(x + round(view.x_of(TPQ) - view.x_of(0)), y))
    assert lane.drag is not None and lane.drag.ticks == TPQ
    window.actions["panic"].trigger()
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    assert lane.drag is None and window.document.score is score
    velocity = window.roll.velocity_lane
    qtbot.mousePress(velocity, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x - 2, 10))
    assert velocity.preview != 0
    window.actions["panic"].trigger()
    qtbot.mouseRelease(velocity, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x - 2, 10))
    assert velocity.preview == 0 and window.document.score is score and panics == []
