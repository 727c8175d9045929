"""The keyboard at the left of the roll: one key per pitch row; pressing a key asks to sound it.

It emits ``key_pressed(pitch)`` and ``key_released(pitch)`` (sliding over the keys with the button
down plays each key in turn); the window connects them to the player when audio is available.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from app import theme
from app.piano_roll.viewport import Viewport

KEYBOARD_WIDTH = 58
BLACK_KEYS = {1, 3, 6, 8, 10}
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 is C4, 69 is A4."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


class PianoKeyboard(QWidget):
    key_pressed = Signal(int)
    key_released = Signal(int)

    def __init__(self, view: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.pressed: int | None = None
        self.hovered: int | None = None
        self.setFixedWidth(KEYBOARD_WIDTH)
        self.setMouseTracking(True)
        self.setToolTip("Click a key to hear it")

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        view = self.view
        width = self.width()
        painter.fillRect(self.rect(), QColor("#c9cdd3"))
        low, high = view.visible_pitches()
        black_width = width * 0.58
        small = QFont(painter.font())
        small.setPointSizeF(max(6.0, min(8.0, view.row_height * 0.75)))
        painter.setFont(small)
        for pitch in range(low, high + 1):
            y = view.y_of(pitch)
            row = QRectF(0, y, width, view.row_height)
            if pitch % 12 in BLACK_KEYS:
                colour = QColor(theme.ACCENT) if pitch == self.pressed else QColor("#2a2d33")
                if pitch == self.hovered and pitch != self.pressed:
                    colour = QColor("#454a53")
                painter.fillRect(QRectF(0, y, black_width, view.row_height), colour)
                continue
            if pitch == self.pressed:
                painter.fillRect(row, QColor(theme.ACCENT))
            elif pitch == self.hovered:
                painter.fillRect(row, QColor("#e4e7eb"))
            if pitch % 12 in (0, 5):  # the line under C and F separates two white keys
                painter.fillRect(QRectF(0, y + view.row_height - 1, width, 1), QColor("#8e949c"))
            if pitch % 12 == 0 and view.row_height >= 5:
                painter.setPen(QColor("#3b3f46"))
                painter.drawText(
                    row.adjusted(0, 0, -4, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, pitch_name(pitch)
                )
        painter.fillRect(QRectF(width - 1, 0, 1, self.height()), QColor(theme.BORDER))
        painter.end()

    def _pitch_at(self, y: float) -> int | None:
        pitch = self.view.pitch_of(y)
        return pitch if 0 <= pitch <= 127 else None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press(self._pitch_at(event.position().y()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pitch = self._pitch_at(event.position().y())
        if event.buttons() & Qt.MouseButton.LeftButton:
            if pitch != self.pressed:
                self._release()
                self._press(pitch)
        elif pitch != self.hovered:
            self.hovered = pitch
            self.setToolTip(f"{pitch_name(pitch)} (MIDI {pitch}): click to hear it" if pitch is not None else "")
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._release()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.hovered = None
        self.update()

    def _press(self, pitch: int | None) -> None:
        if pitch is None:
            return
        self.pressed = pitch
        self.update()
        self.key_pressed.emit(pitch)

    def _release(self) -> None:
        if self.pressed is not None:
            pitch, self.pressed = self.pressed, None
            self.update()
            self.key_released.emit(pitch)
