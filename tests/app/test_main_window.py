"""The whole window: open, see, select, edit and undo, save, export, drag out, errors, closing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.actions import ACTION_SPECS
from app.main_window import MainWindow
from app.settings import AppSettings
from core.midi.files import read_midi
from core.music.selection import BarRange, BarSelection
from tests.app.pieces import write_quartet
from tests.core.midi_bytes import end_of_track, event, smf


@pytest.fixture
def window(qtbot, settings_path, monkeypatch):
    # pytest-qt closes the window after the test: unsaved changes must not open a modal prompt then
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(AppSettings(settings_path), background=False)
    qtbot.addWidget(window)
    window.resize(1200, 750)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def piece(tmp_path) -> Path:
    return write_quartet(tmp_path)


def capture_dialogs(monkeypatch) -> list[str]:
    shown: list[str] = []

    def critical(parent, title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", critical)
    return shown


def test_open_shows_tracks_bars_and_remembers_the_file(window, piece):
    assert window.open_file(piece)
    score = read_midi(piece)
    assert window.document.score == score
    assert [row.name.text() for row in window.tracks.rows] == ["Violin", "Viola", "Cello", "Drums"]
    assert window.tracks.rows[3].instrument.text().startswith("Drums")
    assert window.roll.grid is not None and window.roll.grid.bar_at(score.bar(12).start) == 12
    assert window.windowTitle().startswith("quartet.mid")
    assert window.settings.recent_files[0] == str(piece.resolve())
    assert window.settings.last_folder == str(piece.parent)


def test_a_broken_file_shows_the_reason_and_the_app_stays_usable(window, piece, tmp_path, monkeypatch):
    shown = capture_dialogs(monkeypatch)
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"RIFF\x00\x00garbage")
    assert window.open_file(piece)
    assert not window.open_file(broken)
    assert len(shown) == 1 and "broken.mid" in shown[0] and "\n" not in shown[0]
    assert window.document.path == piece  # the piece that was open stays open
    assert window.actions["save"].isEnabled()
    assert window.open_file(write_quartet(tmp_path, "again.mid"))
    assert window.document.path.name == "again.mid"


def test_a_file_with_no_readable_note_is_refused_with_the_reason(window, piece, tmp_path, monkeypatch):
    shown = capture_dialogs(monkeypatch)
    broken = tmp_path / "no notes.mid"
    broken.write_bytes(smf(event(0, 0x3C, 0x40) + end_of_track()))  # running status with no status
    assert window.open_file(piece)
    assert not window.open_file(broken)
    assert shown == [f"{broken}: no note could be read: MIDI track 1: malformed event at byte 0 of 7 "
                     "(running status with no status byte before it)"]
    assert window.document.path == piece


def test_a_truncated_file_opens_and_says_what_it_lost_by_track_name(window, piece, tmp_path):
    data = piece.read_bytes()
    cut = tmp_path / "cut.mid"
    cut.write_bytes(data[: data.index(b"Cello") + 30])  # inside the Cello track; Drums never arrive
    assert window.open_file(cut)
    assert [row.name.text() for row in window.tracks.rows] == ["Violin", "Viola", "Cello"]
    shown = window.status.warnings.text()
    assert shown.startswith('⚠ the file is cut short: "Cello" stops at bar 3 (') and "more)" in shown
    details = window.status.warnings.toolTip().splitlines()
    assert details[1] == (
        'the file ends after "Cello": 1 more track that its header declares (MIDI track 5 of 5) is missing'
    )


def test_selecting_bars_is_shown_in_words(window, piece):
    window.open_file(piece)
    window.roll.set_selection(BarSelection().with_seed(9, 10).with_context(8))
    assert "seed: bars 9-10" in window.status.selection.text()
    assert "context: bar 8" in window.status.selection.text()
    assert "seed 9-10" in window.continue_panel.selection_label.text()
    assert (window.interpolate_panel.bar_a.value(), window.interpolate_panel.bar_b.value()) == (9, 10)
    assert window.actions["export_selection"].isEnabled()


def test_a_piece_started_anew_is_shown_once_and_starts_clean_an_edit_keeps_the_view(window, piece, monkeypatch):
    """Opening a file (or a new piece) is one announcement of the document: the roll shows the piece
    once, fitted, with no bars selected; an edit keeps the view and the selection."""
    shown: list[tuple[object, bool]] = []
    original = window.roll.set_score
    monkeypatch.setattr(window.roll, "set_score", lambda score, keep_view=True: (shown.append((score, keep_view)), original(score, keep_view))[1])
    window.open_file(piece)
    assert shown == [(window.document.score, False)]
    window.roll.set_selection(BarSelection().with_seed(2, 3))
    window.actions["transpose_up"].trigger()
    assert shown[-1] == (window.document.score, True) and window.roll.selection.seed == BarRange(2, 3)
    window.open_file(piece)
    assert shown[-1] == (window.document.score, False) and len(shown) == 3
    assert window.roll.selection == BarSelection()
    window.roll.set_selection(BarSelection().with_seed(2, 3))
    window.document.set_score(read_midi(piece))  # a new piece (Generate from scratch makes one so)
    assert shown[-1][1] is False and window.roll.selection == BarSelection()


def test_an_edit_and_undo_restore_the_exact_piece(window, piece):
    window.open_file(piece)
    original = window.document.score
    window.roll.set_selection(BarSelection().with_seed(2, 3))
    window.actions["transpose_up"].trigger()
    window.actions["clear_bars"].trigger()
    assert window.document.score != original
    assert window.isWindowModified()
    assert window.actions["undo"].text().startswith("&Undo Clear bars")
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()
    assert window.document.score is original
    assert not window.isWindowModified()
    assert read_midi(piece) == original  # the file on disk was never touched


def test_export_selection_writes_the_seed_bars(window, piece, tmp_path, monkeypatch):
    window.open_file(piece)
    window.roll.set_selection(BarSelection().with_seed(9, 11))
    target = tmp_path / "export.mid"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.export_selection()
    assert read_midi(target) == window.document.score.slice_bars(9, 11)


def test_drag_out_data_is_a_valid_midi_file(window, piece):
    window.open_file(piece)
    mime = window.roll.ruler.mime_provider(BarRange(4, 5))
    assert mime.hasUrls()
    dragged = Path(mime.urls()[0].toLocalFile())
    assert dragged.suffix == ".mid"
    assert read_midi(dragged) == window.document.score.slice_bars(4, 5)
    assert bytes(mime.data("audio/midi")) == dragged.read_bytes()


def test_dropping_a_midi_file_on_the_window_opens_it(window, piece, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(piece))])
    drop = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.document.path == piece)


def test_unsaved_changes_are_asked_about_on_close(window, piece, monkeypatch):
    window.open_file(piece)
    window.roll.set_selection(BarSelection().with_seed(1))
    window.actions["clear_bars"].trigger()
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]
    asked: list[str] = []

    def warning(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answers[len(asked) - 1]

    monkeypatch.setattr(QMessageBox, "warning", warning)
    assert not window.close()  # Cancel: the window stays, the changes too
    assert window.isVisible() and window.document.is_modified
    assert window.close()  # Discard
    assert len(asked) == 2 and "quartet.mid" in asked[0]
    assert read_midi(piece) != window.document.score  # discarded changes never reached the file
    assert window.settings.geometry is not None and window.settings.window_state is not None


def test_actions_have_their_shortcuts_in_one_place_and_in_tooltips(window):
    wanted = {
        "play": "Space", "panic": "Esc", "open": "Ctrl+O", "save": "Ctrl+S", "save_as": "Ctrl+Shift+S",
        "undo": "Ctrl+Z", "redo": "Ctrl+Y", "continue": "Ctrl+Return", "fit": "Ctrl+0",
    }
    for name, key in wanted.items():
        action = window.actions[name]
        assert QKeySequence(key) in action.shortcuts(), name
        assert QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) in action.toolTip(), name
    keys = [QKeySequence(k).toString() for spec in ACTION_SPECS for k in spec.shortcuts]
    assert len(keys) == len(set(keys)), "two commands share a key"
    in_menus = {a for menu in window.menuBar().findChildren(type(window.menuBar().actions()[0].menu())) for a in menu.actions()}
    assert window.actions["export_selection"] in in_menus


def test_keys_reach_their_actions_from_the_roll(window, piece, qtbot):
    window.open_file(piece)
    window.activateWindow()
    window.roll.canvas.setFocus()
    qtbot.waitUntil(lambda: window.roll.canvas.hasFocus() or window.isActiveWindow(), timeout=30_000)
    fitted = window.roll.view.px_per_tick
    window.roll.zoom_time(3.0)
    qtbot.keyClick(window.roll.canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.roll.view.px_per_tick == pytest.approx(fitted)
    window.roll.set_selection(BarSelection().with_seed(1))
    before = window.document.score
    qtbot.keyClick(window.roll.canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert window.document.score != before
    qtbot.keyClick(window.roll.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.score is before


def test_ctrl_wheel_zooms_time_around_the_mouse(window, piece):
    from PySide6.QtGui import QWheelEvent

    window.open_file(piece)
    view = window.roll.view
    before = view.px_per_tick
    anchor = QPointF(300, 100)
    tick_under_mouse = view.tick_of(300)
    event = QWheelEvent(anchor, window.roll.canvas.mapToGlobal(anchor), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    window.roll.canvas.wheelEvent(event)
    assert view.px_per_tick == pytest.approx(before * 1.2)
    assert view.tick_of(300) == pytest.approx(tick_under_mouse)


def test_the_rolls_note_edits_are_in_the_edit_menu_and_the_tools_in_the_rolls_header_with_keys_of_their_own(window):
    from app.actions import NOTE_ACTION_SPECS

    keys = [QKeySequence(k).toString() for spec in ACTION_SPECS + NOTE_ACTION_SPECS for k in spec.shortcuts]
    assert len(keys) == len(set(keys)), "two commands share a key"
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    in_edit = set(edit_menu.actions()) | {a for sub in edit_menu.actions() if sub.menu() for a in sub.menu().actions()}
    for spec in NOTE_ACTION_SPECS:
        assert window.actions[spec.name] in in_edit, spec.name
        assert window.actions[spec.name] is window.roll.editor.actions[spec.name]
    header = window.roll.header
    assert header.tool_buttons["pencil_tool"].defaultAction() is window.actions["pencil_tool"]
    assert header.tool_buttons["select_tool"].defaultAction() is window.actions["select_tool"]
    assert "(P)" in window.actions["pencil_tool"].toolTip()


def test_a_note_edit_in_the_window_is_one_undo_step(window, piece):
    from core.music.selection import NoteSelection

    window.open_file(piece)
    original = window.document.score
    note = original.tracks[0].notes[0]
    window.roll.editor.set_selection(NoteSelection.of([(0, note)]))
    window.actions["octave_up"].trigger()
    assert note._replace(pitch=note.pitch + 12) in window.document.score.tracks[0].notes
    assert window.actions["undo"].text().startswith("&Undo Move 1 note")
    window.actions["undo"].trigger()
    assert window.document.score is original


def test_the_editing_screenshot_state_shows_the_tools_at_work(window, tmp_path):
    from app.main import DEMO
    from app.screenshot import show_editing

    window.open_file(DEMO)
    window.roll.set_selection(BarSelection().with_seed(9, 10))
    show_editing(window)
    assert window.document.score.tracks[-1].is_drum  # the groove went in as a drum track, undoably
    assert window.roll.drum_lane.isVisible() and "Acoustic Snare" in window.roll.drum_lane.names()
    assert window.roll.editor.tool == "pencil" and window.roll.editor.grid.name == "1/8"
    selected = window.roll.editor.selection
    assert selected and all(window.document.score.bar_at(n.start).number in (9, 10) for _t, n in selected)
    assert window.roll.canvas.drawn_note is not None
    window.actions["undo"].trigger()
    assert not window.document.score.tracks[-1].is_drum
