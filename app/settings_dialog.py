"""The Settings dialog: soundfont, MIDI output port, and the device the model runs on."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.settings import DEVICES, AppSettings

# Generation decodes on the CPU whatever the choice (it is faster there at a few rows); a GPU computes
# the latent code only (app/models.py, resolve_device). The words say so.
DEVICE_TEXT = {
    "auto": "Automatic (GPU for the latent code if there is one)",
    "cpu": "CPU",
    "gpu": "GPU for the latent code (the decoder runs on the CPU)",
}


def midi_port_names() -> tuple[list[str], str | None]:
    """Output port names and, when there are none, why (never raises: no MIDI system is normal)."""
    try:
        from core.audio.midi_out import list_output_ports
    except ImportError as error:
        return [], f"MIDI output unavailable: {error}"
    listing = list_output_ports()
    return [port.label for port in listing.ports], listing.reason


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)

        self.soundfont = QLineEdit(settings.soundfont)
        self.soundfont.setPlaceholderText("found automatically")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        soundfont_row = QHBoxLayout()
        soundfont_row.addWidget(self.soundfont, 1)
        soundfont_row.addWidget(browse)

        self.midi_port = QComboBox()
        self.midi_port.addItem("None (built-in synth only)", "")
        names, reason = midi_port_names()
        for name in names:
            self.midi_port.addItem(name, name)
        if settings.midi_port and self.midi_port.findData(settings.midi_port) < 0:
            self.midi_port.addItem(f"{settings.midi_port} (not found now)", settings.midi_port)
        self.midi_port.setCurrentIndex(max(0, self.midi_port.findData(settings.midi_port)))
        port_note = QLabel(reason or "")
        port_note.setWordWrap(True)
        port_note.setStyleSheet(f"color: {theme.TEXT_DIM};")

        self.device = QComboBox()
        for device in DEVICES:
            self.device.addItem(DEVICE_TEXT[device], device)
        self.device.setCurrentIndex(self.device.findData(settings.device))

        form = QFormLayout()
        form.addRow("Soundfont", soundfont_row)
        form.addRow("MIDI output", self.midi_port)
        form.addRow("", port_note)
        form.addRow("Model device", self.device)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Soundfont", self.soundfont.text(), "Soundfonts (*.sf2 *.sf3);;All files (*)")
        if path:
            self.soundfont.setText(path)

    def store(self) -> None:
        """Write the dialog's choices to the settings."""
        self.settings.soundfont = self.soundfont.text().strip()
        self.settings.midi_port = str(self.midi_port.currentData() or "")
        self.settings.device = str(self.device.currentData())
        self.settings.sync()
