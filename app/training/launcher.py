"""The main window's handle on the Training window: open it, tell the model pickers about new
models, and stop a run cleanly when the app closes.

The Training window (and pyqtgraph) is made on first use only, so the app starts as fast as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from app.models import ModelService
    from app.training.window import TrainingWindow


class TrainingLauncher(QObject):
    def __init__(
        self,
        parent: QWidget,
        models: "ModelService | None" = None,
        data_folder: Path | None = None,
        presets: dict[str, str | Path] | None = None,
        model_folders: Sequence[Path] | None = None,
    ) -> None:
        """``models``: refreshed when a run ends or a model is renamed or deleted, so that the
        Continue and Interpolate pickers list the composer's models. The other arguments go to the
        :class:`TrainingWindow` (tests give a data folder and tiny presets)."""
        super().__init__(parent)
        self.parent_window = parent
        self.models = models
        self.options = {"data_folder": data_folder, "presets": presets, "model_folders": model_folders}
        self.window: TrainingWindow | None = None

    def open(self) -> "TrainingWindow":
        """Show the Training window (made the first time)."""
        if self.window is None:
            from app.training.window import TrainingWindow

            folders = self.options["model_folders"]
            if folders is None and self.models is not None:
                folders = self.models.folders
            options = self.options
            self.window = TrainingWindow(options["data_folder"], options["presets"], folders, self.parent_window)
            if self.models is not None:
                self.window.models_changed.connect(self.models.refresh)
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        return self.window

    @property
    def training(self) -> bool:
        return self.window is not None and self.window.controller.training

    def may_close(self) -> bool:
        """True when the app may quit. While a run trains, ask; if the composer agrees, stop it now
        (keeping the last saved epoch) and wait for its thread to end."""
        if self.window is None:
            return True
        if self.training:
            answer = QMessageBox.question(
                self.parent_window,
                "A model is training",
                "A model is still training. Stop it and quit? The last saved epoch is kept, and Resume "
                "in the Training window goes on from there.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.window.controller.shutdown()
        self.window.close()
        self.window.release()
        return True
