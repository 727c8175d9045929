"""Small widgets the panels share: temperature sliders, model picker, progress row, drag handle."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Sequence

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.requests import DEFAULT_TEMPERATURE, PROPERTIES, Temperatures

MAX_SEED = 2**31 - 1  # random seeds a composer sees and types: 0 to MAX_SEED
SLIDER_STEPS_PER_UNIT = 100
MAX_TEMPERATURE = 2.0
MIN_TEMPERATURE = 0.05

PROPERTY_HELP = {
    "offset": "how freely notes move in time (rhythm)",
    "duration": "how freely note lengths vary",
    "pitch": "how adventurous the pitches are",
    "instrument": "how often other instruments join in",
    "velocity": "how much the loudness varies",
}


@dataclass(frozen=True)
class SliderRow:
    """One row of a :class:`SliderGrid`: a labelled horizontal slider over integer steps."""

    name: str
    label: str
    tooltip: str
    minimum: int
    maximum: int
    value: int
    single_step: int
    page_step: int


class SliderGrid(QWidget):
    """Labelled sliders, each with its value shown to its right, and a Reset button under them:
    what the temperature and the attribute sliders share. ``on_change`` runs on every move."""

    def __init__(self, rows: Sequence[SliderRow], object_prefix: str, value_width: int, reset_tooltip: str,
                 on_change: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(4)
        self.labels: dict[str, QLabel] = {}
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        for index, row in enumerate(rows):
            label = QLabel(row.label)
            label.setToolTip(row.tooltip)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"{object_prefix}_{row.name}")
            slider.setRange(row.minimum, row.maximum)
            slider.setSingleStep(row.single_step)
            slider.setPageStep(row.page_step)
            slider.setValue(row.value)
            slider.setToolTip(row.tooltip)
            value = QLabel()
            value.setMinimumWidth(value_width)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(on_change)
            layout.addWidget(label, index, 0)
            layout.addWidget(slider, index, 1)
            layout.addWidget(value, index, 2)
            self.labels[row.name] = label
            self.sliders[row.name] = slider
            self.values[row.name] = value
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip(reset_tooltip)
        layout.addWidget(self.reset_button, len(rows), 2, 1, 1, Qt.AlignmentFlag.AlignRight)


class TemperatureSliders(QWidget):
    """One slider per event property (0.05-2.0, 1.0 = as trained) and a Reset button."""

    changed = Signal(object)  # Temperatures

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        steps = SLIDER_STEPS_PER_UNIT
        rows = [
            SliderRow(name, name.capitalize(), f"Temperature of {name}: {PROPERTY_HELP[name]}",
                      int(MIN_TEMPERATURE * steps), int(MAX_TEMPERATURE * steps), int(DEFAULT_TEMPERATURE * steps), 5, 25)
            for name in PROPERTIES
        ]  # fmt: skip
        grid = SliderGrid(rows, "temperature", 30, "Set every temperature back to 1.0 (as trained)", self._on_slider)
        QVBoxLayout(self).addWidget(grid)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.sliders, self._values, self.reset_button = grid.sliders, grid.values, grid.reset_button
        self.reset_button.clicked.connect(self.reset)
        self._show_values()

    def temperatures(self) -> Temperatures:
        return Temperatures(**{name: s.value() / SLIDER_STEPS_PER_UNIT for name, s in self.sliders.items()})

    def set_temperatures(self, temperatures: Temperatures) -> None:
        for name, value in zip(PROPERTIES, temperatures.as_tuple()):
            self.sliders[name].setValue(round(value * SLIDER_STEPS_PER_UNIT))

    def reset(self) -> None:
        self.set_temperatures(Temperatures())

    def _on_slider(self) -> None:
        self._show_values()
        self.changed.emit(self.temperatures())

    def _show_values(self) -> None:
        for name, slider in self.sliders.items():
            value = slider.value() / SLIDER_STEPS_PER_UNIT
            label = self._values[name]
            label.setText(f"{value:.2f}")
            label.setStyleSheet("" if abs(value - DEFAULT_TEMPERATURE) < 1e-9 else f"color: {theme.ACCENT};")


class ModelPicker(QComboBox):
    """The models found (bundled and user-trained), by name, with their card summary as tooltip."""

    NONE_TEXT = "(no model found)"

    def __init__(self, kind_hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind_hint = kind_hint
        self.setToolTip(f"The model used to {kind_hint}")
        self.set_models([])

    def set_models(self, models: Sequence[tuple[str, ...]], preferred: str = "") -> None:
        """``models``: (name, one-line summary[, problem]) tuples; a model with a problem is listed
        greyed out and cannot be picked. Keeps the current choice if still there."""
        current = self.current_model() or preferred
        self.blockSignals(True)
        self.clear()
        usable = []
        for name, summary, *problem in models:
            broken = bool(problem and problem[0])
            self.addItem(f"{name} (broken)" if broken else name, "" if broken else name)
            self.setItemData(self.count() - 1, summary, Qt.ItemDataRole.ToolTipRole)
            if broken:
                self.model().item(self.count() - 1).setEnabled(False)
            else:
                usable.append(self.count() - 1)
        if not models:
            self.addItem(self.NONE_TEXT, "")
        index = self.findData(current) if current else -1
        self.setCurrentIndex(index if index in usable else (usable[0] if usable else 0))
        self.blockSignals(False)
        self.setEnabled(bool(usable))

    def set_searching(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem("looking for models…", "")
        self.blockSignals(False)
        self.setEnabled(False)

    def current_model(self) -> str:
        return str(self.currentData() or "")


class ProgressRow(QWidget):
    """A progress bar with a Cancel button and a one-line status text below."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the generation (Ctrl+.)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {theme.TEXT_DIM};")
        layout.addWidget(self.bar, 0, 0)
        layout.addWidget(self.cancel_button, 0, 1)
        layout.addWidget(self.status, 1, 0, 1, 2)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.bar.setValue(0)

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.bar.setValue(round(fraction * 1000))
        if message:
            self.status.setText(message)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {'#ff8a80' if error else theme.TEXT_DIM};")


class DragHandle(QWidget):
    """A grip that drags a MIDI file out (its data comes from ``mime_provider``)."""

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mime_provider: Callable[[], QMimeData | None] | None = None
        self._press: QPoint | None = None
        self.setFixedSize(22, 22)
        self.setToolTip(tip)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(theme.BORDER))
        painter.setBrush(QColor(theme.PANEL_RAISED if self.isEnabled() else theme.PANEL))
        painter.drawRoundedRect(self.rect().adjusted(0, 0, -1, -1), 4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.ACCENT if self.isEnabled() else theme.TEXT_DIM))
        for row in range(3):
            for col in range(2):
                painter.drawEllipse(QPointF(8.5 + col * 5, 6 + row * 5), 1.4, 1.4)
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance():
            self._press = None
            self.start_drag()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._press = None

    def start_drag(self) -> Qt.DropAction | None:
        mime = self.mime_provider() if self.mime_provider is not None else None
        if mime is None:
            return None
        drag = QDrag(self)
        drag.setMimeData(mime)
        return drag.exec(Qt.DropAction.CopyAction)


def hbox(*widgets: QWidget | None) -> QHBoxLayout:
    """A row of widgets (None = stretch)."""
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        if widget is None:
            layout.addStretch(1)
        else:
            layout.addWidget(widget)
    return layout


def draw_seed() -> int:
    """A fresh random seed for a generation run."""
    return random.randrange(MAX_SEED)


def seed_box() -> QSpinBox:
    """The seed a run uses, shown and editable: the same seed and settings give the same music."""
    box = QSpinBox()
    box.setRange(0, MAX_SEED)
    box.setValue(draw_seed())
    box.setToolTip("The same seed and settings give the same music")
    return box
