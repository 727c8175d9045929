"""File > Export Audio with Humanize: the options dialog names the bars it performs (the selected
ones, or the whole piece when ticked), 0% exports exactly what an export without Humanize wrote,
and a humanized export keeps every pitch and the order of the notes and never changes the piece."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

import app.audio_export as audio_export
from app.export_audio_dialog import ExportAudioDialog
from app.track_state import audible_score
from core.audio.humanize import Performance, humanize
from core.music.selection import BarRange, BarSelection
from tests.app.test_sound import project_soundfont


@pytest.fixture
def window(quartet_window):
    return quartet_window


def test_the_dialog_opens_as_written_and_names_the_bars_it_humanizes(qtbot):
    dialog = ExportAudioDialog(BarRange(3, 4))
    qtbot.addWidget(dialog)
    assert dialog.humanize.value() == 0 and not dialog.whole_piece.isChecked()
    assert dialog.performance() == Performance()
    assert "as written" in dialog.scope.text()
    dialog.humanize.setValue(50)
    assert dialog.performance() == Performance(0.5, (3, 4))
    assert "bars 3-4 are humanized at 50%" in dialog.scope.text()
    dialog.whole_piece.setChecked(True)
    assert dialog.performance() == Performance(0.5)
    assert "Every bar" in dialog.scope.text()


def test_with_no_bars_selected_only_the_whole_piece_box_asks_for_humanize(qtbot):
    dialog = ExportAudioDialog(None)
    qtbot.addWidget(dialog)
    dialog.humanize.setValue(80)
    assert dialog.performance() == Performance()  # a strength alone touches none of the composer's notes
    assert "No bars are selected" in dialog.scope.text()
    dialog.whole_piece.setChecked(True)
    assert dialog.performance() == Performance(0.8)
    asked: list[Performance] = []
    dialog.export_requested.connect(asked.append)
    dialog.export_button.click()
    assert asked == [Performance(0.8)] and not dialog.isVisible()


def export(window, qtbot, monkeypatch, tmp_path: Path, percent: int, whole: bool, render) -> Path:
    """Export Audio through the dialog at ``percent``; ``render`` stands in for render_to_wav and
    records the score it is given."""
    out = tmp_path / f"at {percent}.wav"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    monkeypatch.setattr(audio_export, "render_to_wav", render)
    done: list[object] = []
    window.audio_export.finished.connect(done.append)
    window.actions["export_audio"].trigger()
    dialog = window.export_audio_dialog
    dialog.humanize.setValue(percent)
    dialog.whole_piece.setChecked(whole)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=120_000)
    assert done == [out], window.audio_export.last_error
    return out


def test_zero_percent_writes_the_same_wav_as_an_export_without_humanize(window, qtbot, monkeypatch, tmp_path):
    project_soundfont()
    real = audio_export.render_to_wav
    rendered = []

    def recording(score, path, soundfont, progress, cancelled):
        rendered.append(score)
        return real(score, path, soundfont, progress, cancelled)

    window.roll.set_selection(BarSelection().with_seed(2))
    out = export(window, qtbot, monkeypatch, tmp_path, 0, True, recording)
    audible = audible_score(window.document.score, window.track_states)
    assert rendered == [audible]  # nothing performed at 0%, even with the whole-piece box ticked
    before = tmp_path / "without humanize.wav"  # the export as it was before Humanize existed
    real(audible, before, window.settings.soundfont, lambda *_: None, lambda: False)
    assert out.read_bytes() == before.read_bytes()


def recorder(rendered: list):
    def record(score, path, soundfont, progress, cancelled):
        rendered.append(score)
        Path(path).write_bytes(b"")
        return Path(path)

    return record


def notes_by_track(score) -> list[list]:
    return [list(t.notes) for t in score.tracks]


def test_a_humanized_export_keeps_pitches_and_order_and_moves_by_the_asked_amount(window, qtbot, monkeypatch, tmp_path):
    piece = window.document.score
    rendered: list = []
    export(window, qtbot, monkeypatch, tmp_path, 60, True, recorder(rendered))
    audible = audible_score(piece, window.track_states)
    played = rendered[0]
    assert window.document.score is piece and not window.document.is_modified  # the piece is not changed
    assert played == humanize(audible, 0.6, seed=0)  # the core's performance at 60%, nothing else
    changed_velocity = changed_start = 0
    for before, after in zip(notes_by_track(audible), notes_by_track(played)):
        assert [n.pitch for n in before] == [n.pitch for n in after]  # every pitch, in order
        starts = [n.start for n in after]
        assert starts == sorted(starts)
        changed_velocity += sum(a.velocity != b.velocity for a, b in zip(before, after))
        changed_start += sum(a.start != b.start for a, b in zip(before, after))
    assert changed_velocity > 0 and changed_start > 0
    full = humanize(audible, 1.0, seed=0)  # the velocity deviations at 60% are 0.6 of those at 100%

    def velocity_shift(score) -> float:
        pairs = [(a.velocity, b.velocity) for t0, t1 in zip(notes_by_track(audible), notes_by_track(score)) for a, b in zip(t0, t1)]
        return sum(abs(b - a) for a, b in pairs) / len(pairs)

    assert velocity_shift(played) == pytest.approx(0.6 * velocity_shift(full), rel=0.15)


def test_only_the_selected_bars_are_humanized_unless_the_whole_piece_is_ticked(window, qtbot, monkeypatch, tmp_path):
    piece = window.document.score
    window.roll.set_selection(BarSelection().with_seed(3))
    rendered: list = []
    export(window, qtbot, monkeypatch, tmp_path, 100, False, recorder(rendered))
    audible = audible_score(piece, window.track_states)
    bar = piece.bar(3)
    inside = outside = 0
    for before, after in zip(notes_by_track(audible), notes_by_track(rendered[0])):
        for a, b in zip(before, after):
            if bar.start <= a.start < bar.end:
                inside += a != b
            else:
                outside += a != b
    assert inside > 0 and outside == 0  # the composer's other bars play exactly as written


def test_cancel_in_the_options_asks_for_no_file_and_exports_nothing(window, monkeypatch):
    asked: list[object] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or ("", ""))
    window.actions["export_audio"].trigger()
    window.export_audio_dialog.reject()
    assert asked == [] and not window.audio_export.busy and window.export_audio_dialog is None
