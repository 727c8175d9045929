"""Generation in the window with real (tiny) models: Continue and Keep, Interpolate and the slider,
undo, a responsive window during a long run, Cancel, and clear messages when a model is missing,
damaged or of the wrong kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from app.main import ROOT
from app.main_window import MainWindow
from app.panels.requests import ContinueRequest, Temperatures
from app.piano_roll.note_painter import ROW_GAP
from app.settings import AppSettings
from core.music.edits import insert_bars
from core.music.selection import BarSelection
from tests.app.pieces import BAR, write_quartet

WAIT_MS = 60_000  # the machine may be busy: generous, and only reached when something is wrong


def make_window(qtbot, settings_path, monkeypatch, folder, piece_folder) -> MainWindow:
    # pytest-qt closes the window after the test: unsaved changes must not open a modal prompt then
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(AppSettings(settings_path), background=False, model_folders=[folder])
    qtbot.addWidget(window)
    window.resize(1200, 750)
    window.show()
    window.open_file(write_quartet(piece_folder))
    window.pickers.start()
    qtbot.waitUntil(lambda: window.models.scan is not None, timeout=WAIT_MS)
    return window


@pytest.fixture
def window(qtbot, settings_path, monkeypatch, tmp_path, tiny_models):
    return make_window(qtbot, settings_path, monkeypatch, tiny_models.folder, tmp_path)


def ghost_notes(window) -> list[tuple[int, int]]:
    """(start tick, pitch) of the ghost notes drawn in the roll, sorted."""
    rects = [r for _fill, _outline, rects in window.roll.canvas.ghosts.groups for r in rects]
    return sorted((round(r.x()), round(ROW_GAP - 1.0 - r.y())) for r in rects)


def wait_done(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.generation.busy, timeout=WAIT_MS)


def continue_request(bars: int, variations: int, model: str) -> ContinueRequest:
    return ContinueRequest(
        model=model, seed_first=3, seed_last=4, context=None, bars=bars, variations=variations, seeded=False,
        temperatures=Temperatures(), allowed_instruments=None, random_seed=7,
    )  # fmt: skip


def test_pickers_list_each_panels_own_kind_first(window, tiny_models):
    assert window.continue_panel.model.current_model() == tiny_models.continuation
    assert window.interpolate_panel.model.current_model() == tiny_models.interpolation
    assert window.models.scan.folders == (tiny_models.folder,)


def test_continue_two_bars_keep_one_and_undo(window, qtbot, tiny_models):
    from core.generation import Controls, continue_piece
    from core.generation import Temperatures as CoreTemperatures

    score = window.document.score
    panel = window.continue_panel
    window.roll.set_selection(BarSelection().with_seed(3, 4))
    panel.bars.setValue(2)
    panel.variations.setValue(2)
    panel.new_seed_each_run.setChecked(False)
    panel.random_seed.setValue(1234)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert panel.candidates.count() == 2, panel.progress.status.text()
    assert window.roll.has_ghosts
    candidates = window.generation.candidates
    assert [(c.at_bar, c.bars) for c in candidates] == [(5, 2), (5, 2)]

    # the window asked core.generation exactly what the panel said
    network = window.models.loaded_model(tiny_models.continuation).network
    direct = continue_piece(
        network, score, 4, 2, seed_first=3, seeded=True, variations=2,
        controls=Controls(CoreTemperatures(*Temperatures().as_tuple()), seed=1234),
    )  # fmt: skip
    assert [c.fragment for c in candidates] == [v.fragment for v in direct.variations]

    # the ghosts are the chosen variation's notes, where they would go: bars 5-6
    ghosts = ghost_notes(window)
    expected = sorted((n.start + 4 * BAR, n.pitch) for t in candidates[0].fragment.tracks for n in t.notes)
    assert ghosts == expected and expected
    assert window.roll.canvas.highlight[:2] == (4 * BAR, 6 * BAR)
    assert "last continuation" in window.status.generation.text()
    assert tiny_models.continuation in window.status.generation.text() and "CPU" in window.status.generation.text()

    panel.candidates.setCurrentRow(1)
    panel.keep_button.click()
    kept = window.document.score
    assert kept.bar_count == score.bar_count + 2
    assert kept == insert_bars(score, 5, candidates[1].fragment, 2)
    assert kept.slice_bars(1, 4) == score.slice_bars(1, 4)
    assert kept.slice_bars(7, kept.bar_count) == score.slice_bars(5, score.bar_count)
    new_notes = sum(len(t.notes) for t in kept.slice_bars(5, 6).tracks)
    assert new_notes >= candidates[1].fragment.notes_count > 0
    assert window.document.is_modified

    window.actions["undo"].trigger()
    assert window.document.score is score
    assert not window.document.is_modified


def test_interpolate_then_the_slider_shows_each_step_and_insert_puts_it_in(window, qtbot, tiny_models):
    from core.generation import interpolate

    score = window.document.score
    panel = window.interpolate_panel
    panel.bar_a.setValue(2)
    panel.bar_b.setValue(5)
    panel.steps.setValue(4)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert panel.step_count == 4, panel.progress.status.text()
    steps = window.generation.steps.steps
    network = window.models.loaded_model(tiny_models.interpolation).network
    assert list(steps) == [s.fragment for s in interpolate(network, score, 2, 5, 4).steps]

    heard = []
    window.generation.audition_requested.connect(lambda music, _bar: heard.append(music))
    for index in (2, 1, 3):
        panel.slider.setValue(index)
        ghosts = ghost_notes(window)
        assert ghosts == sorted((n.start + 2 * BAR, n.pitch) for t in steps[index].tracks for n in t.notes)
        assert window.roll.canvas.highlight == (2 * BAR, 3 * BAR, f"step {index + 1} of 4: bar 2 → bar 5")
    panel.slider.sliderReleased.emit()
    assert heard[0] == steps[3]  # auditioned on release
    heard.clear()
    panel.slider.setFocus()
    qtbot.keyClick(panel.slider, Qt.Key.Key_Left)  # from the keyboard: heard once it stays put
    assert window.roll.canvas.highlight[2].startswith("step 3 of 4")
    qtbot.waitUntil(lambda: bool(heard) and heard[-1] == steps[2], timeout=WAIT_MS)

    panel.slider.setValue(1)
    panel.insert_button.click()
    inserted = window.document.score
    assert inserted == insert_bars(score, 3, steps[1], 1)
    assert inserted.bar_count == score.bar_count + 1
    window.actions["undo"].trigger()
    assert window.document.score is score


class GatedGeneration:
    """Wraps core.generation.continue_piece (or ``name`` of ``module``) so that a generation stops at
    its first bar's progress until the test opens ``gate``: the generation is then provably still
    running. Records the threads it ran on. A gate never opened is given up on after WAIT_MS, so a
    broken app fails, not hangs."""

    def __init__(self, monkeypatch, module=None, name: str = "continue_piece") -> None:
        import core.generation

        module = module or core.generation
        self.running, self.gate = threading.Event(), threading.Event()
        self.threads: set[int] = set()
        real = getattr(module, name)

        def gated(*args, progress=None, **kwargs):
            def gated_progress(done: int, total: int) -> None:
                self.threads.add(threading.get_ident())
                if done >= 1 and not self.running.is_set():
                    self.running.set()
                    self.gate.wait(WAIT_MS / 1000)
                if progress is not None:
                    progress(done, total)

            return real(*args, progress=gated_progress, **kwargs)

        monkeypatch.setattr(module, name, gated)


def test_the_window_keeps_ticking_during_a_generation(window, qtbot, tiny_models, monkeypatch):
    """The generation runs off the GUI thread, whose timer keeps firing while the generation is
    provably in progress (held after its first bar until the test lets it go, from a timer tick). How
    long the window waits between ticks on a given machine is a figure of benchmarks/startup.py."""
    generation = GatedGeneration(monkeypatch)
    ticks_while_generating: list[bool] = []

    def tick() -> None:
        if generation.running.is_set() and not generation.gate.is_set():
            ticks_while_generating.append(window.generation.busy)
            if len(ticks_while_generating) == 20:
                generation.gate.set()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    window.generation.start_continue(continue_request(bars=8, variations=4, model=tiny_models.continuation))
    wait_done(qtbot, window)
    timer.stop()
    assert ticks_while_generating == [True] * 20
    assert generation.threads and threading.get_ident() not in generation.threads
    assert window.continue_panel.candidates.count() == 4, window.continue_panel.progress.status.text()


def test_cancel_stops_a_generation(window, qtbot, tiny_models, monkeypatch):
    generation = GatedGeneration(monkeypatch)
    score = window.document.score
    progress: list[float] = []
    request = continue_request(bars=8, variations=4, model=tiny_models.continuation)
    task = window.generation.start_continue(request)
    task.progress.connect(lambda fraction, _message: progress.append(fraction))
    qtbot.waitUntil(generation.running.is_set, timeout=WAIT_MS)  # held in its first bar
    window.actions["cancel_generation"].trigger()
    generation.gate.set()
    wait_done(qtbot, window)
    assert window.continue_panel.progress.status.text() == "Cancelled."
    assert max(progress, default=0.0) < 1.0
    assert window.generation.candidates == [] and window.continue_panel.candidates.count() == 0
    assert not window.roll.has_ghosts and window.document.score is score


def test_a_model_of_the_wrong_kind_and_bars_outside_the_piece_are_explained(window, qtbot, tiny_models):
    window.generation.start_continue(continue_request(2, 1, model=tiny_models.interpolation))
    wait_done(qtbot, window)
    assert window.continue_panel.progress.status.text() == (
        "tiny-interpolation is an interpolation model (it hears no context bars): "
        "pick a continuation model to continue music"
    )
    window.roll.set_selection(BarSelection().with_seed(20))
    window.continue_panel.run_button.click()
    wait_done(qtbot, window)
    assert window.continue_panel.progress.status.text() == "seed bar 20 is not in the piece (it has bars 1-12)"
    assert window.continue_panel.candidates.count() == 0


def test_no_model_or_a_damaged_one_gives_a_clear_message_and_the_window_works_on(
    qtbot, settings_path, monkeypatch, tmp_path, tiny_models
):
    empty = tmp_path / "no models"
    empty.mkdir()
    (empty / "orphan.safetensors").write_bytes(b"weights without a card")
    window = make_window(qtbot, settings_path, monkeypatch, empty, tmp_path)
    status = window.continue_panel.progress.status.text()
    assert status.startswith(
        f"No model found (looked in {empty}). {empty / 'orphan.safetensors'}: not listed, its model card "
        "orphan.json is missing or unreadable. Train one"
    )
    assert not window.continue_panel.run_button.isEnabled()
    assert window.status.model.text() == "model: none found"
    window.roll.set_selection(BarSelection().with_seed(1))
    window.actions["transpose_up"].trigger()  # the window works on
    assert window.document.is_modified

    # a model file that is not one: its card lists it, loading it says why it cannot be used
    card = json.loads((tiny_models.folder / f"{tiny_models.continuation}.json").read_text())
    (empty / "broken.json").write_text(json.dumps(dict(card, name="broken")))
    (empty / "broken.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    window.refresh_models()
    qtbot.waitUntil(lambda: window.continue_panel.model.current_model() == "broken", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "cannot be loaded" in window.status.model.text(), timeout=WAIT_MS)
    assert "not a safetensors model file" in window.continue_panel.progress.status.text()
    window.continue_panel.run_button.click()
    wait_done(qtbot, window)
    message = window.continue_panel.progress.status.text()
    assert "broken.safetensors: not a safetensors model file" in message and "\n" not in message
    assert window.continue_panel.candidates.count() == 0


@pytest.mark.parametrize(
    ("run", "said"),
    [
        ("continue", "continue: 3 variations of bars 5-8, dashed in the roll"),
        ("interpolate", "interpolate: 8 steps from bar 3 to bar 4"),
    ],
)
def test_a_screenshot_can_show_a_generation(tmp_path, tiny_models, run, said):
    out = tmp_path / "shot.png"
    command = [
        sys.executable, "main.py", "--screenshot", str(out), "--size", "900x600",
        "--models", str(tiny_models.folder), "--select", "3-4", "--run", run, str(write_quartet(tmp_path)),
    ]  # fmt: skip
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert said in result.stdout and "did not finish" not in result.stderr
    assert QImage(str(out)).size().toTuple() == (900, 600)


def test_a_bad_selection_for_the_screenshot_is_one_line_and_status_2(tmp_path):
    command = [sys.executable, "main.py", "--screenshot", str(tmp_path / "x.png"), "--no-models", "--select", "a-b"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "main.py: --select 'a-b': expected seed bars such as 9-10, optionally :context such as 9-10:8"
    )


def test_the_app_opens_with_the_bundled_models_selected(qtbot, settings_path, monkeypatch, tmp_path):
    from core.model.checkpoints import PROJECT_MODELS

    window = make_window(qtbot, settings_path, monkeypatch, PROJECT_MODELS, tmp_path)
    assert window.continue_panel.model.current_model() == "classical-continuation"
    assert window.interpolate_panel.model.current_model() == "classical-interpolation"


def test_the_instrument_list_follows_the_picked_models_table(qtbot, settings_path, monkeypatch, tmp_path, tiny_models):
    import shutil

    from core.model.checkpoints import make_card, save_model
    from tests.core.generation.helpers import random_model

    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".safetensors", ".json"):
        shutil.copy(tiny_models.folder / f"{tiny_models.continuation}{suffix}", folder)
    drummer = random_model(seed=1, instruments="pop-drums")
    save_model(folder / "drummer.safetensors", drummer, make_card(drummer, name="drummer"))
    window = make_window(qtbot, settings_path, monkeypatch, folder, tmp_path)
    panel = window.continue_panel
    panel.model.setCurrentIndex(panel.model.findData(tiny_models.continuation))
    assert panel.instrument_class_names()[17] == "English horn" and "Drums" not in panel.instrument_class_names()
    panel.model.setCurrentIndex(panel.model.findData("drummer"))
    assert panel.instrument_class_names()[17] == "Drums" and len(panel.instrument_class_names()) == 23
