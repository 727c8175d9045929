"""Hearing the music without a sound card: File > Export Audio renders a WAV off the GUI thread (with
progress and Cancel), and with no sound device the window says so in one line and turns Play and
Audition off until one appears."""

from __future__ import annotations

import threading
import wave

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

import app.audio_export as audio_export
from app.generation import Candidate
from app.main_window import NO_DEVICE_TEXT
from app.playback import PlaybackController
from core.audio.soundfont import find_soundfont
from core.errors import AudioError
from core.music.selection import BarSelection
from tests.app.pieces import quartet


def project_soundfont() -> str:
    try:
        return str(find_soundfont())
    except AudioError as error:
        pytest.skip(f"no General MIDI soundfont can be found on this machine: {error}")


@pytest.fixture
def window(quartet_window):
    return quartet_window


def export_as_written(window) -> None:
    """File > Export Audio, then Export… in its options dialog as it opens (Humanize 0%)."""
    window.actions["export_audio"].trigger()
    dialog = window.export_audio_dialog
    assert dialog is not None and dialog.isVisible() and dialog.humanize.value() == 0
    dialog.export_button.click()


def read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, wav.getnchannels())
        return frames, wav.getframerate()


def test_export_audio_writes_a_wav_that_is_not_silent(window, qtbot, tmp_path, monkeypatch):
    project_soundfont()
    out = tmp_path / "quartet"  # no suffix: .wav is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    done: list[object] = []
    window.audio_export.finished.connect(done.append)
    assert window.actions["export_audio"].isEnabled()
    export_as_written(window)
    assert window.audio_export.dialog is not None  # progress shown while it renders
    qtbot.waitUntil(lambda: bool(done), timeout=120_000)
    path = out.with_suffix(".wav")
    assert done == [path] and path.is_file()
    samples, rate = read_wav(path)
    assert samples.shape[1] == 2
    tail = len(samples) - round(quartet().duration_seconds * rate)  # audio frames after the last note
    assert 0 < tail < 3 * rate  # the piece, then the release tail
    assert np.abs(samples.astype(np.int32)).max() > 1000  # it sounds
    assert "Exported" in window.statusBar().currentMessage()


def test_export_audio_can_be_cancelled_and_writes_nothing(window, qtbot, tmp_path, monkeypatch):
    project_soundfont()
    out = tmp_path / "cancelled.wav"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    release = threading.Event()
    real_render = audio_export.render_to_wav

    def held(score, path, soundfont, progress, cancelled):  # waits, mid-way, for the test's Cancel
        def progress_then_hold(fraction: float, message: str) -> None:
            progress(fraction, message)
            if fraction > 0:
                release.wait(60)

        return real_render(score, path, soundfont, progress_then_hold, cancelled)

    monkeypatch.setattr(audio_export, "render_to_wav", held)
    done: list[object] = []
    window.audio_export.finished.connect(done.append)
    export_as_written(window)
    window.audio_export.dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    release.set()
    qtbot.waitUntil(lambda: bool(done), timeout=120_000)
    assert done == [None] and not out.exists()


def test_a_missing_soundfont_is_one_line_in_a_dialog(window, qtbot, tmp_path, monkeypatch):
    window.settings.soundfont = str(tmp_path / "nowhere.sf2")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "x.wav"), ""))
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    export_as_written(window)
    qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    assert "nowhere.sf2" in shown[0] and "\n" not in shown[0]
    assert window.document.score is not None  # the piece is still there


def test_no_sound_device_is_said_in_one_line_and_play_and_audition_are_off(window, qtbot, monkeypatch):
    project_soundfont()
    score = window.document.score
    window.roll.set_selection(BarSelection().with_seed(2))
    window.generation._generated_from = score
    window.generation._on_candidates([Candidate(score.slice_bars(5, 6), at_bar=3, bars=2, label="variation 1")])
    assert window.actions["play"].isEnabled()  # while audio starts, Play is there (and says so)
    window.audio_drivers = ("no-such-driver",)  # FluidSynth has no such driver: no device opens
    window._open_audio()
    qtbot.waitUntil(lambda: window.transport.ready, timeout=60_000)
    assert window.status.audio.text() == "audio: no sound device"
    assert window.statusBar().currentMessage() == NO_DEVICE_TEXT
    assert "\n" not in NO_DEVICE_TEXT
    assert not window.actions["play"].isEnabled()
    assert not window.continue_panel.audition_button.isEnabled()
    assert window.continue_panel.audition_button.toolTip() == NO_DEVICE_TEXT
    assert window.continue_panel.keep_button.isEnabled()  # only hearing is off
    assert window._audio_retry.isActive()  # it keeps looking for a device
    window.statusBar().clearMessage()
    assert not window.audition(score.slice_bars(1, 1))  # a step let go on the slider: said, not played
    assert window.statusBar().currentMessage() == NO_DEVICE_TEXT
    assert window.transport.controller.state == "stopped"

    monkeypatch.setattr(PlaybackController, "can_play", property(lambda self: True))  # one appears
    window._audio_retry.stop()
    window._open_audio()
    qtbot.waitUntil(lambda: window.actions["play"].isEnabled(), timeout=60_000)
    assert window.continue_panel.audition_button.isEnabled()
    assert not window._audio_retry.isActive()


def test_progress_that_arrives_as_the_export_ends_touches_no_dropped_dialog(qtbot):
    """A modal progress dialog's setValue runs the event loop, where the export can finish and drop
    the dialog (seen once in the composer session test): the progress handler must survive that."""
    from pathlib import Path

    from PySide6.QtWidgets import QProgressDialog, QWidget

    from app.audio_export import AudioExporter

    parent = QWidget()
    qtbot.addWidget(parent)
    exporter = AudioExporter(parent)

    class EndsInSetValue(QProgressDialog):
        def setValue(self, value: int) -> None:  # noqa: N802
            super().setValue(value)
            exporter._on_done()  # what the nested event loop may run

    dialog = EndsInSetValue("Rendering", "Cancel", 0, 1000, parent)
    exporter.dialog = dialog
    exporter._on_progress(0.5, "rendering…", Path("piece.wav"))
    assert exporter.dialog is None and dialog.labelText() == "piece.wav: rendering…"
