"""File > Export Audio's options: how the exported WAV performs the piece (Humanize), before the file is chosen.

Every note of the open piece is one the composer kept, so Humanize never touches one unless asked,
and asking names the bars: the strength (0-100%, always 0% = as written when the dialog opens; the
Humanize of the Continue and Interpolate panels is for auditions and is not used here) applies to the
bars selected in the roll, or to every bar when **Humanize the whole piece** is ticked. With no bars
selected and the box not ticked, the export plays as written whatever the strength, and the dialog
says so. The piece in the window is never changed: only the copy rendered to the file is performed.

The dialog only collects the choice: ``export_requested(Performance)`` when Export is clicked; the
window then asks for the file and starts :class:`app.audio_export.AudioExporter`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.panels.steering import HumanizeBox
from core.audio.humanize import Performance
from core.music.selection import BarRange


class ExportAudioDialog(QDialog):
    """Humanize strength and the bars it applies to; Export asks for the file."""

    export_requested = Signal(object)  # Performance

    def __init__(self, selected: BarRange | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Audio")
        self.selected = selected
        self.humanize = HumanizeBox()
        self.humanize.setPrefix("")
        self.humanize.setToolTip(
            "Expressive timing and dynamics in the exported file (a melody lead, timing jitter, accents, "
            "phrase dynamics); 0% plays the piece exactly as written"
        )
        self.whole_piece = QCheckBox("Humanize the whole piece")
        self.whole_piece.setToolTip("Every bar, not only the bars selected in the roll")
        self.scope = QLabel()
        self.scope.setObjectName("humanize_scope")
        self.scope.setWordWrap(True)
        note = QLabel("Your piece is not changed: only the exported file is performed.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Humanize", self.humanize)
        form.addRow("", self.whole_piece)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self._on_export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.scope)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.humanize.valueChanged.connect(self._show_scope)
        self.whole_piece.toggled.connect(self._show_scope)
        self._show_scope()

    def performance(self) -> Performance:
        """The performance the settings ask for (as written when they name no bars)."""
        strength = self.humanize.strength()
        if strength == 0.0:
            return Performance()
        if self.whole_piece.isChecked():
            return Performance(strength)
        if self.selected is not None:
            return Performance(strength, (self.selected.first, self.selected.last))
        return Performance()

    def _show_scope(self) -> None:
        percent = self.humanize.value()
        if percent == 0:
            text = "At 0% the piece plays exactly as written."
        elif self.whole_piece.isChecked():
            text = f"Every bar is humanized at {percent}%."
        elif self.selected is not None:
            verb = "are" if self.selected.count > 1 else "is"
            text = f"The selected {self.selected.text} {verb} humanized at {percent}%; the rest plays as written."
        else:
            text = "No bars are selected: tick the whole piece to humanize it; as it is, the piece plays as written."
        self.scope.setText(text)

    def _on_export(self) -> None:
        performance = self.performance()
        self.accept()  # closed first: the file dialog that follows is not stacked on this one
        self.export_requested.emit(performance)
