"""The variations a generation panel offers, and what the composer does with them.

:class:`CandidateBox` is the "Variations" box of the Continue and Arrange panels: the list of
variations, how Keep puts the chosen one into the piece (``insert``, ``replace`` or ``take``,
:mod:`core.music.keep`), Audition, Keep, Discard, a grip to drag it out as a MIDI file and the Humanize
amount. It emits what the composer asks for; the generation integration (:mod:`app.generation`)
does it and calls back ``show_candidates`` / ``clear_candidates``.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.panels.steering import HumanizeBox
from app.panels.widgets import DragHandle, hbox

# How Keep puts the chosen variation into the piece (core.music.keep), as the composer reads it.
KEEP_CHOICES = (
    ("insert", "Insert (push later bars on)"),
    ("replace", "Replace the bars after the seed"),
    ("take", "New take on its own tracks (muted)"),
)
KEEP_TOOLTIP = (
    "Insert: the variation goes in after the seed and the later bars move on.\n"
    "Replace: it takes the place of the bars after the seed.\n"
    "New take: it goes on tracks of its own over the bars after the seed, muted at first."
)


class CandidateBox(QGroupBox):
    candidate_selected = Signal(int)
    audition_requested = Signal(int)
    keep_requested = Signal(int)
    keep_mode_changed = Signal(str)
    discard_requested = Signal()

    def __init__(self, audition_tip: str, keep_tip: str, parent: QWidget | None = None) -> None:
        super().__init__("Variations", parent)
        self._busy = False
        self._can_play = True
        self._audition_tip = audition_tip
        self.candidates = QListWidget()
        self.candidates.setObjectName("candidates")
        self.candidates.setMaximumHeight(80)  # about four rows: Keep stays in sight on a laptop screen
        self.candidates.currentRowChanged.connect(self._on_candidate_row)
        self.audition_button = QPushButton("Audition")
        self.audition_button.setToolTip(audition_tip)
        self.audition_button.clicked.connect(lambda: self.audition_requested.emit(self.candidates.currentRow()))
        self.keep_button = QPushButton("Keep")
        self.keep_button.setObjectName("primary")
        self.keep_button.setToolTip(keep_tip)
        self.keep_button.clicked.connect(lambda: self.keep_requested.emit(self.candidates.currentRow()))
        self.keep_as = QComboBox()
        self.keep_as.setObjectName("keep_mode")
        for key, label in KEEP_CHOICES:
            self.keep_as.addItem(label, key)
        self.keep_as.setToolTip(KEEP_TOOLTIP)
        self.keep_as.currentIndexChanged.connect(lambda _i: self.keep_mode_changed.emit(self.keep_mode()))
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Forget all variations")
        self.discard_button.clicked.connect(self.discard_requested)
        self.drag_handle = DragHandle("Drag the chosen variation out as a .mid file")
        self.humanize = HumanizeBox()

        layout = QVBoxLayout(self)
        layout.addWidget(self.candidates)
        keep_row = QFormLayout()
        keep_row.addRow("Keep as", self.keep_as)
        layout.addLayout(keep_row)
        layout.addLayout(hbox(self.audition_button, self.keep_button, self.discard_button, None, self.drag_handle))
        layout.addLayout(hbox(self.humanize, None))
        self.clear_candidates()

    def keep_mode(self) -> str:
        """``insert``, ``replace`` or ``take`` (core.music.keep's modes)."""
        return str(self.keep_as.currentData())

    def show_candidates(self, labels: Sequence[str], chosen: int = 0) -> None:
        """List the variations (``chosen`` is selected)."""
        self.candidates.clear()
        self.candidates.addItems(list(labels))
        if labels:
            self.candidates.setCurrentRow(min(max(chosen, 0), len(labels) - 1))
        self.update_enabled()

    def clear_candidates(self) -> None:
        self.candidates.clear()
        self.update_enabled()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.update_enabled()

    def set_can_play(self, can_play: bool, reason: str = "") -> None:
        """Audition needs a sound device: without one it is off, and its tooltip says why."""
        self._can_play = can_play
        self.audition_button.setToolTip(self._audition_tip if can_play else reason)
        self.update_enabled()

    def _on_candidate_row(self, row: int) -> None:
        self.update_enabled()
        if row >= 0:
            self.candidate_selected.emit(row)

    def update_enabled(self) -> None:
        has_candidate = self.candidates.currentRow() >= 0
        for widget in (self.keep_button, self.discard_button, self.drag_handle):
            widget.setEnabled(has_candidate and not self._busy)
        self.audition_button.setEnabled(has_candidate and not self._busy and self._can_play)
