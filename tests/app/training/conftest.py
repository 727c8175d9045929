"""The Training window's tests: tiny presets, tiny MIDI folders, a data folder per test, and windows
that are always left with no run in progress (a QThread must not outlive its window)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.tiny_training import write_midi_folder, write_tiny_preset

WAIT_MS = 90_000  # the machine may be busy: generous, and only reached when something is wrong


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Training threads use one CPU thread (two threads on two busy cores are many times slower)."""
    monkeypatch.setattr("app.training.worker.torch_threads", lambda cpus=None: 1)


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """The user's data folder of this test; core's registry and the app agree on it."""
    folder = tmp_path / "user data"
    monkeypatch.setenv("MAHLERNET_DATA", str(folder))
    return folder


def tiny_presets(folder: Path, epochs: int = 1, batch_size: int = 4) -> dict[str, Path]:
    return {kind: write_tiny_preset(folder, kind, epochs, batch_size) for kind in ("continuation", "interpolation")}


@pytest.fixture
def presets(tmp_path) -> dict[str, Path]:
    return tiny_presets(tmp_path / "presets")


@pytest.fixture
def music(tmp_path) -> Path:
    return write_midi_folder(tmp_path / "My Songs", count=3, bars=8)


@pytest.fixture
def make_window(qtbot, data, presets):
    """``make_window(**options)``: a shown TrainingWindow on this test's data folder and tiny presets."""
    from app.training.window import TrainingWindow

    made = []

    def make(**options):
        options = {"data_folder": data, "presets": presets, "model_folders": [], **options}
        window = TrainingWindow(**options)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        window.controller.shutdown(timeout_s=60)


def prepare(qtbot, window, folder: Path) -> None:
    window.prepare(folder)
    qtbot.waitUntil(lambda: not window.controller.preparing, timeout=WAIT_MS)


def wait_training(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.training, timeout=WAIT_MS)
