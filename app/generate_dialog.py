"""Generate from scratch: the dialog that asks for a new piece, or for bars appended to the open one.

The music starts from the model's opening context (no bar of the piece is heard); see
:mod:`core.generation.scratch`. The dialog only collects settings and shows the run's progress: it
emits ``generate_requested(GenerateRequest)`` and the window runs it through the
:class:`app.generation.GenerationController` (``set_busy``, ``set_progress``, ``set_status`` are its
call-backs, as for the panels).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.panels.requests import GenerateRequest
from app.panels.steering import AttributeSliders
from app.panels.widgets import ProgressRow, hbox, seed_box

METERS = ("4/4", "3/4", "2/4", "2/2", "6/8", "9/8", "12/8", "3/8", "5/4", "7/8")


class GenerateDialog(QDialog):
    generate_requested = Signal(object)  # GenerateRequest
    cancel_requested = Signal()

    def __init__(self, model: str = "", has_piece: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate from Scratch")
        self.model = model
        self._busy = False
        self.new_piece = QRadioButton("A new piece")
        self.append = QRadioButton("Bars after the open piece")
        self.append.setToolTip("In the meter and tempo at its end; Ctrl+Z takes them away again")
        group = QButtonGroup(self)
        group.addButton(self.new_piece)
        group.addButton(self.append)
        self.new_piece.setChecked(True)
        self.append.setEnabled(has_piece)
        self.bars = QSpinBox()
        self.bars.setRange(1, 64)
        self.bars.setValue(8)
        self.bars.setSuffix(" bars")
        self.meter = QComboBox()
        self.meter.addItems(list(METERS))
        self.tempo = QDoubleSpinBox()
        self.tempo.setRange(20.0, 300.0)
        self.tempo.setValue(100.0)
        self.tempo.setSuffix(" bpm")
        self.seed = seed_box()
        self.attributes = AttributeSliders()
        self.run_button = QPushButton("Generate")
        self.run_button.setObjectName("primary")
        self.run_button.clicked.connect(self.request_generate)
        self.progress = ProgressRow()
        self.progress.cancel_requested.connect(self.cancel_requested)
        self.append.toggled.connect(self._update_enabled)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Make", hbox(self.new_piece, self.append, None))
        form.addRow("Length", self.bars)
        form.addRow("Meter", self.meter)
        form.addRow("Tempo", self.tempo)
        form.addRow("Seed", self.seed)
        attributes_box = QGroupBox("Attributes")
        QVBoxLayout(attributes_box).addWidget(self.attributes)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(attributes_box)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        self._update_enabled()

    def request(self) -> GenerateRequest | None:
        if not self.model:
            self.set_status("No continuation model was found to generate with.", error=True)
            return None
        numerator, denominator = (int(x) for x in self.meter.currentText().split("/"))
        return GenerateRequest(
            model=self.model,
            bars=self.bars.value(),
            numerator=numerator,
            denominator=denominator,
            bpm=self.tempo.value(),
            append=self.append.isChecked(),
            random_seed=self.seed.value(),
            attributes=self.attributes.amounts(),
        )

    def request_generate(self) -> None:
        if self._busy:
            return
        request = self.request()
        if request is not None:
            self.generate_requested.emit(request)

    def _update_enabled(self) -> None:
        for widget in (self.meter, self.tempo):
            widget.setEnabled(not self.append.isChecked() and not self._busy)
        self.run_button.setEnabled(not self._busy)

    # ---------------------------------------------------------------------- from the run
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.set_busy(busy)
        self._update_enabled()

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.progress.set_progress(fraction, message)

    def set_status(self, text: str, error: bool = False) -> None:
        self.progress.set_status(text, error)
