"""The "Allowed instruments" box of the generation panels: the model's instrument classes, checked or
not, and a default that lets the music choose (the seed's instruments for Continue, the style bar's
or the first bar's for Arrange) until the composer unticks it to choose them from the list."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.panels.widgets import hbox


class AllowedInstruments(QGroupBox):
    def __init__(self, default_text: str, list_tip: str, parent: QWidget | None = None) -> None:
        super().__init__("Allowed instruments", parent)
        self.instruments = QListWidget()
        self.instruments.setObjectName("allowed_instruments")
        self.instruments.setMaximumHeight(118)
        self.instruments.setToolTip(list_tip)
        self.from_music = QCheckBox(default_text)
        self.from_music.setToolTip("Untick to choose the instruments yourself, from the list")
        self.from_music.setChecked(True)
        self.from_music.toggled.connect(self._update_list)
        self.all_button = QPushButton("All")
        self.all_button.clicked.connect(lambda: self._check_all(True))
        self.none_button = QPushButton("None")
        self.none_button.clicked.connect(lambda: self._check_all(False))
        layout = QVBoxLayout(self)
        layout.addWidget(self.from_music)
        layout.addWidget(self.instruments)
        layout.addLayout(hbox(self.all_button, self.none_button, None))
        self.set_classes([])

    def set_classes(self, names: Sequence[str]) -> None:
        """The model's instrument classes (index = class), all allowed at first."""
        self.instruments.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.instruments.addItem(item)
        if not names:
            item = QListWidgetItem("(the model's instruments appear here)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.instruments.addItem(item)
        self._update_list()

    def class_names(self) -> tuple[str, ...]:
        """The instrument classes listed (empty while the model's are not known)."""
        return tuple(item.text() for item in self._checkable())

    def allowed(self) -> tuple[int, ...] | None:
        """The checked classes, or None for the default (also while the model's list is not known)."""
        checkable = self._checkable()
        if self.from_music.isChecked() or not checkable:
            return None
        return tuple(row for row, item in enumerate(checkable) if item.checkState() == Qt.CheckState.Checked)

    def _checkable(self) -> list[QListWidgetItem]:
        items = [self.instruments.item(row) for row in range(self.instruments.count())]
        return [item for item in items if item.flags() & Qt.ItemFlag.ItemIsUserCheckable]

    def _update_list(self) -> None:
        """The list and its buttons are live only when the composer chooses the instruments."""
        chosen = not self.from_music.isChecked()
        for widget in (self.instruments, self.all_button, self.none_button):
            widget.setEnabled(chosen)

    def _check_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for item in self._checkable():
            item.setCheckState(state)
