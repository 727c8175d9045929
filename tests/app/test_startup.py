"""Start-up: the demo piece opens, the screenshot option writes a picture, torch stays unloaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from app.main import DEMO, ROOT
from app.main_window import MainWindow
from app.settings import AppSettings
from core.midi.files import read_midi


def test_the_demo_piece_opens_with_its_tracks_and_bars(qtbot, settings_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(AppSettings(settings_path), background=False)
    qtbot.addWidget(window)
    window.show()
    assert window.open_file(DEMO)
    demo = read_midi(DEMO)
    assert len(window.tracks.rows) == len(demo.tracks) >= 2
    assert [row.name.text() for row in window.tracks.rows] == [t.name for t in demo.tracks]
    grid = window.roll.grid
    assert grid.bar_at(demo.end_tick - 1) == demo.bar_count
    # the grid follows the demo's meter changes bar by bar
    assert [f"{grid.numerators[i]}/{grid.denominators[i]}" for i in range(demo.bar_count)] == [b.meter for b in demo.bars()]
    assert window.roll.canvas.last_frame.notes > 0 or window.roll.canvas.grab() is not None


def test_screenshot_option_writes_a_picture_of_the_window(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "main.py", "--screenshot", str(out), "--size", "1000x640", "--no-models", str(DEMO)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 640)
    colours = {image.pixel(x, y) for x in range(0, 1000, 7) for y in range(0, 640, 7)}
    assert len(colours) > 20  # a drawn window, not a blank rectangle


@pytest.mark.parametrize("module", ["app.main", "app.main_window"])
def test_the_window_code_does_not_import_torch(module):
    script = f"import sys, {module}; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
