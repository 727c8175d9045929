"""The velocity lane under the roll: one stem per note, as tall as the note is loud.

Stems are stamped into a small image with numpy (per screen column the loudest note, in its track's
colour; selected notes in the accent colour over them), so the lane costs the same for ten notes or
ten thousand. Dragging a stem up or down changes the velocity of the note under it, or of every
selected note when that note is selected (all by the same amount); the change is one undo step,
made when the button is released.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

from app import theme
from core.music import edits
from core.music.score import Note
from core.music.selection import NoteSelection

if TYPE_CHECKING:
    from app.piano_roll.view import PianoRoll

LANE_HEIGHT = 64
PICK_PX = 5.0  # a stem this close to the pointer is picked
TOP_MARGIN = 4


class VelocityLane(QWidget):
    def __init__(self, roll: "PianoRoll") -> None:
        super().__init__(roll)
        self.roll = roll
        self.preview = 0  # velocity change shown on the selected notes while a drag goes on
        self._drag: tuple[Note, float] | None = None  # the picked note, the y where the drag began
        self._pixels: np.ndarray | None = None
        self.setFixedHeight(LANE_HEIGHT)
        self.setToolTip("Velocity: drag a stem up or down (every selected note moves with a selected one)")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ------------------------------------------------------------------------------- mapping
    def velocity_at(self, y: float) -> int:
        usable = max(1, self.height() - TOP_MARGIN)
        return int(min(127, max(1, round((self.height() - y) / usable * 127))))

    def height_of(self, velocities: np.ndarray) -> np.ndarray:
        usable = max(1, self.height() - TOP_MARGIN)
        return np.round(np.clip(velocities, 0, 127) / 127 * usable).astype(np.int64)

    # ------------------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        width, height = max(1, self.width()), max(1, self.height())
        background = QColor(theme.PANEL).rgba()
        view = self.roll.view
        t0, t1 = view.left_tick, view.right_tick
        best = np.zeros(width, dtype=np.int64)
        colour = np.zeros(width, dtype=np.uint32)
        for _track, layer in self.roll.shown_layers():
            chosen = layer.all.visible(t0, t1, 0, 127)
            if len(chosen) == 0:
                continue
            columns = self._columns(layer.all.starts[chosen])
            loudest = np.zeros(width, dtype=np.int64)
            np.maximum.at(loudest, columns, layer.all.velocities[chosen])
            louder = loudest > best
            best[louder] = loudest[louder]
            colour[louder] = np.uint32(QColor(layer.color).rgba())
        rows = np.arange(height)[:, None]
        pixels = np.where(rows >= height - self.height_of(best)[None, :], colour[None, :], np.uint32(background))
        selected = self.roll.selection_index()
        if selected is not None and len(selected):
            chosen = selected.visible(t0, t1, 0, 127)
            if len(chosen):
                columns = self._columns(selected.starts[chosen])
                values = np.clip(selected.velocities[chosen] + self.preview, 1, 127)
                top = np.zeros(width, dtype=np.int64)
                np.maximum.at(top, columns, values)
                mask = (rows >= height - self.height_of(top)[None, :]) & (top > 0)[None, :]
                pixels = np.where(mask, np.uint32(QColor(theme.ACCENT).rgba()), pixels)
        self._pixels = np.ascontiguousarray(pixels.astype(np.uint32))
        image = QImage(self._pixels.data, width, height, 4 * width, QImage.Format.Format_ARGB32)
        painter.drawImage(0, 0, image)
        painter.fillRect(QRectF(0, 0, width, 1), QColor(theme.BORDER))
        painter.end()

    def _columns(self, starts: np.ndarray) -> np.ndarray:
        view = self.roll.view
        columns = np.floor((starts - view.left_tick) * view.px_per_tick).astype(np.int64)
        return np.clip(columns, 0, max(1, self.width()) - 1)

    # --------------------------------------------------------------------------------- mouse
    def note_near(self, x: float) -> tuple[int, Note] | None:
        """The note whose stem is nearest ``x`` (within a few pixels), a selected one first."""
        view = self.roll.view
        t0, t1 = view.tick_of(x - PICK_PX), view.tick_of(x + PICK_PX)
        best: tuple[float, int, Note] | None = None
        selection = self.roll.editor.selection
        for track, layer in self.roll.shown_layers():
            index = layer.all
            lo = int(index.starts.searchsorted(t0, side="left"))
            hi = int(index.starts.searchsorted(t1, side="right"))
            for j in range(lo, hi):
                note = index.note(j)
                distance = abs(view.x_of(note.start) - x) - (PICK_PX if (track, note) in selection else 0)
                if best is None or distance < best[0]:
                    best = (distance, track, note)
        return None if best is None else (best[1], best[2])

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self.roll.score is None:
            return
        hit = self.note_near(event.position().x())
        if hit is None:
            return
        editor = self.roll.editor
        if hit not in editor.selection:
            editor.set_selection(NoteSelection.of([hit]))
        self._drag = (hit[1], event.position().y())
        self.preview = self.velocity_at(event.position().y()) - hit[1].velocity
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            return
        note, _y = self._drag
        change = self.velocity_at(event.position().y()) - note.velocity
        if change != self.preview:
            self.preview = change
            self.update()

    def cancel_drag(self) -> bool:
        """Esc during a drag: the velocities stay as they were. True when a drag was going on."""
        if self._drag is None:
            return False
        self._drag, self.preview = None, 0
        self.update()
        return True

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            return
        change, self.preview, self._drag = self.preview, 0, None
        editor = self.roll.editor
        score = self.roll.score
        if score is not None and change:
            edit = edits.set_velocities(score, editor.selection, change)
            editor.request(edit, f"Change velocity of {editor.selection.describe()}")
        self.update()
