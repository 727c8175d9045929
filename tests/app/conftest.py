"""Qt tests run offscreen, with settings in a temporary ini file (never the user's own), and models
from a temporary folder (never the bundled ones or the user's)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def settings_path(tmp_path):
    """A fresh settings file for one test."""
    return tmp_path / "settings.ini"


@pytest.fixture
def quartet_window(qtbot, settings_path, tmp_path, monkeypatch):
    """The main window, shown at 1200x750, with the test quartet (tests/app/pieces.py) open."""
    from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

    from app.main_window import MainWindow  # noqa: PLC0415
    from app.settings import AppSettings  # noqa: PLC0415
    from tests.app.pieces import write_quartet  # noqa: PLC0415

    # pytest-qt closes the window after the test: unsaved changes must not open a modal prompt then
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(AppSettings(settings_path), background=False)
    qtbot.addWidget(window)
    window.resize(1200, 750)
    window.show()
    qtbot.waitExposed(window)
    window.open_file(write_quartet(tmp_path))
    return window


@dataclass(frozen=True)
class TinyModels:
    """A folder holding two tiny models trained on the test quartet in this session."""

    folder: Path
    continuation: str = "tiny-continuation"
    interpolation: str = "tiny-interpolation"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> TinyModels:
    """A continuation model (context on) and an interpolation model (context off), each trained for a
    few seconds on every bar of the test quartet and saved as model files with their cards: real
    models of the real format, just very small."""
    from core.model.checkpoints import make_card, save_model
    from tests.app.pieces import quartet
    from tests.core.generation.helpers import encoded, overfit

    folder = tmp_path_factory.mktemp("models")
    piece = encoded(quartet())
    models = TinyModels(folder)
    for name, context in ((models.continuation, True), (models.interpolation, False)):
        network = overfit([piece], use_context=context, steps=40)
        save_model(folder / f"{name}.safetensors", network, make_card(network, name=name, preset="test", epochs=1))
    return models
