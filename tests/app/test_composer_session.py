"""Issue #16's composer session, end to end in the window: open a piece, continue it with a (tiny,
real) model, keep a variation in place of bars 9-12, fix two notes by hand in the roll, change their
velocities in the velocity lane, export MIDI and audio, then undo every step back to the opened
piece and redo them all, the piece checked at each step."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.main_window import MainWindow
from app.settings import AppSettings
from core.audio.soundfont import find_soundfont
from core.errors import AudioError
from core.midi.files import read_midi
from core.music.score import Note, Score
from core.music.selection import BarSelection, NoteSelection
from tests.app.pieces import write_quartet

WAIT_MS = 120_000  # the machine may be busy: generous, and only reached when something is wrong
DRUM_CHANNEL = 9


@pytest.fixture
def window(qtbot, settings_path, monkeypatch, tmp_path, tiny_models):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(AppSettings(settings_path), background=False, model_folders=[tiny_models.folder])
    qtbot.addWidget(window)
    window.resize(1200, 750)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.pickers.start()
    qtbot.waitUntil(lambda: window.models.scan is not None, timeout=WAIT_MS)
    return window


def pitched_notes(score: Score, first_bar: int, last_bar: int) -> list[tuple[int, Note]]:
    """(track, note) of the pitched tracks that start in bars ``first_bar``-``last_bar``."""
    start, end = score.bar(first_bar).start, score.bar(last_bar).end
    return [
        (index, note)
        for index, track in enumerate(score.tracks)
        if track.channel != DRUM_CHANNEL
        for note in track.notes
        if start <= note.start < end
    ]


def point_on(window, note: Note) -> QPoint | None:
    """A canvas pixel that picks ``note`` alone (None when another note covers it or it is too thin)."""
    view = window.roll.view
    x = round(view.x_of(note.start + 0.3 * note.duration))
    y = round(view.y_of(note.pitch) + view.row_height / 2)
    if view.x_of(note.end) - view.x_of(note.start) < 12:
        return None
    hit = window.roll.note_at(x, y)
    return QPoint(x, y) if hit is not None and hit[1] == note else None


def two_clickable(window, score: Score, first_bar: int, last_bar: int) -> list[tuple[int, Note, QPoint]]:
    """Two notes of the bars that a click picks, a free semitone above each (so a move up collides
    with nothing), at least a stem's width apart for the velocity lane."""
    found: list[tuple[int, Note, QPoint]] = []
    for track, note in pitched_notes(score, first_bar, last_bar):
        point = point_on(window, note)
        above = Note(note.start, note.duration, note.pitch + 1, note.velocity)
        if point is None or note.pitch >= 126 or any(n.pitch == above.pitch and n.start == note.start for n in score.tracks[track].notes):
            continue
        if found and abs(point.x() - found[0][2].x()) < 20:
            continue
        found.append((track, note, point))
        if len(found) == 2:
            break
    return found


def test_a_composer_session_with_every_step_undoable(window, qtbot, tmp_path, monkeypatch):
    history: list[Score] = []  # the piece after each step, the opened piece first

    def step(text: str) -> Score:
        score = window.document.score
        assert score is not history[-1], f"{text}: nothing changed"
        assert window.actions["undo"].toolTip().startswith(f"Undo {text}"), window.actions["undo"].toolTip()
        history.append(score)
        return score

    # open a real multi-bar piece (12 bars, a change of meter at bar 9, drums)
    window.open_file(write_quartet(tmp_path))
    opened = window.document.score
    assert opened is not None and opened.bar_count == 12
    history.append(opened)

    # seed bars 7-8, continue four bars with the tiny model
    window.roll.set_selection(BarSelection().with_seed(7, 8))
    panel = window.continue_panel
    panel.bars.setValue(4)
    panel.variations.setValue(2)
    panel.new_seed_each_run.setChecked(False)
    panel.random_seed.setValue(1234)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not window.generation.busy, timeout=WAIT_MS)
    assert panel.candidates.count() == 2, panel.progress.status.text()
    candidate = window.generation.candidates[0]
    assert (candidate.at_bar, candidate.bars) == (9, 4)

    # keep the first as "replace": in place of bars 9-12
    panel.keep_as.setCurrentIndex(panel.keep_as.findData("replace"))
    assert window.roll.canvas.highlight[2].startswith("replacing bars 9-12")
    panel.candidates.setCurrentRow(0)
    panel.keep_button.click()
    kept = step("Keep (replace) variation 1")
    assert kept.bar_count == 12 and kept.slice_bars(1, 8) == opened.slice_bars(1, 8)
    assert kept.time_signatures == opened.time_signatures  # 3/4 bars in place of 3/4 bars: no new meter event
    assert kept.slice_bars(9, 12) != opened.slice_bars(9, 12)
    assert "in place of bars 9-12" in panel.status_text()

    # fix two notes of the new bars by hand: a drag up a semitone, and a click then the Up key
    roll, view = window.roll, window.roll.view
    roll.zoom_to_ticks(kept.bar(9).start, kept.bar(12).end)
    view.row_height = 14.0
    notes = pitched_notes(kept, 9, 12)
    assert len(notes) >= 2, "the model wrote fewer than two pitched notes in bars 9-12"
    view.scroll_to_pitch(round(np.median([n.pitch for _t, n in notes])) + 6)
    roll._changed()
    chosen = two_clickable(window, kept, 9, 12)
    assert len(chosen) == 2, "no two notes of bars 9-12 can be clicked alone"
    (track_a, a, point_a), (track_b, b, point_b) = chosen
    a_up, b_up = a._replace(pitch=a.pitch + 1), b._replace(pitch=b.pitch + 1)

    up_a_row = QPoint(point_a.x(), round(view.y_of(a.pitch + 1) + view.row_height / 2))
    qtbot.mousePress(roll.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point_a)
    qtbot.mouseMove(roll.canvas, up_a_row)
    qtbot.mouseRelease(roll.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, up_a_row)
    fixed_a = step("Move 1 note")
    assert a_up in fixed_a.tracks[track_a].notes and a not in fixed_a.tracks[track_a].notes
    assert sum(len(t.notes) for t in fixed_a.tracks) == sum(len(t.notes) for t in kept.tracks)

    qtbot.mouseClick(roll.canvas, Qt.MouseButton.LeftButton, pos=point_b)
    assert roll.editor.selection == NoteSelection.of([(track_b, b)])
    qtbot.keyClick(roll.canvas, Qt.Key.Key_Up)
    fixed_b = step("Move 1 note")
    assert b_up in fixed_b.tracks[track_b].notes and b not in fixed_b.tracks[track_b].notes
    assert a_up in fixed_b.tracks[track_a].notes

    # both selected, their velocities dragged up together in the velocity lane
    roll.editor.set_selection(NoteSelection.of([(track_a, a_up), (track_b, b_up)]))
    lane = roll.velocity_lane
    stem = QPoint(round(view.x_of(a_up.start)), lane.height() // 2)
    louder = QPoint(stem.x(), 8)
    change = lane.velocity_at(louder.y()) - a_up.velocity
    assert change != 0
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stem)
    qtbot.mouseMove(lane, louder)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, louder)
    loud = step("Change velocity of 2 notes")
    a_loud = a_up._replace(velocity=min(127, max(1, a_up.velocity + change)))
    b_loud = b_up._replace(velocity=min(127, max(1, b_up.velocity + change)))
    assert a_loud in loud.tracks[track_a].notes and b_loud in loud.tracks[track_b].notes

    # export MIDI (File > Save As) and audio (File > Export Audio), without leaving the window
    midi_out, wav_out = tmp_path / "session.mid", tmp_path / "session.wav"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(midi_out), ""))
    assert window.actions["save_as"].isEnabled()
    window.actions["save_as"].trigger()
    saved = read_midi(midi_out)
    assert [t.notes for t in saved.tracks] == [t.notes for t in loud.tracks]
    assert not window.document.is_modified
    try:
        find_soundfont()
    except AudioError as error:
        pytest.fail(f"no General MIDI soundfont found for Export Audio: {error}")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(wav_out), ""))
    done: list[object] = []
    window.audio_export.finished.connect(done.append)
    window.actions["export_audio"].trigger()
    window.export_audio_dialog.export_button.click()  # its Humanize at 0%: as written
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert done == [wav_out], window.audio_export.last_error
    with wave.open(str(wav_out), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        assert wav.getnframes() / wav.getframerate() > loud.duration_seconds
    assert np.abs(samples.astype(np.int32)).max() > 1000  # it sounds
    assert window.document.score is loud  # exports change nothing

    # every step undoes back to the opened piece, and redoes
    for previous in reversed(history[1:-1]):
        window.actions["undo"].trigger()
        assert window.document.score == previous
        assert window.roll.score is window.document.score
    assert roll.editor.selection == NoteSelection.of([(track_a, a)])  # undo selects what the first fix moved
    window.actions["undo"].trigger()  # the Keep: the piece as opened, and the variations on offer again
    assert window.document.score is opened and not window.actions["undo"].isEnabled()
    assert panel.candidates.count() == 2 and panel.candidates.currentRow() == 0 and window.roll.has_ghosts
    assert window.document.is_modified  # the file on disk is the edited piece now
    for following in history[1:]:
        window.actions["redo"].trigger()
        assert window.document.score == following
        assert window.roll.score is window.document.score and not window.roll.has_ghosts
    assert not window.actions["redo"].isEnabled() and not window.document.is_modified
