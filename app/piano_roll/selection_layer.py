"""The selected notes, drawn over the piece: bright, outlined, and movable while a drag goes on.

The rectangles are made once per selection, as a frame first shows them (in note space, as the track
layers' are: :class:`~app.piano_roll.note_painter.NoteRects`), and indexed by start tick, so a frame
draws only the visible selected notes. A drag that moves the selection draws
the same rectangles under one more translation; a resize builds the visible ones with their new
length. A velocity change is not drawn here (the velocity lane shows it).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from app import theme
from app.piano_roll.note_index import NoteIndex
from app.piano_roll.note_painter import (
    OUTLINE_BELOW_NOTES, NoteRects, draw_stamped, drawn_as_raster, note_space_transform, stamp_notes, typical_duration,
)
from app.piano_roll.viewport import Viewport
from core.music.selection import NoteSelection

SELECTED_FILL = "#fff3dc"


class SelectionLayer:
    def __init__(self, selection: NoteSelection, pitched: set[int] | None = None) -> None:
        """``pitched``: the tracks drawn in the roll (drum tracks are drawn in their own lane)."""
        notes = [note for track, note in selection if pitched is None or track in pitched]
        self.index = NoteIndex.build(notes)
        self.rects = NoteRects(self.index)
        self.typical_duration = typical_duration(self.index)

    def __len__(self) -> int:
        return len(self.rects)

    def paint(self, painter: QPainter, view: Viewport, ticks: float = 0, semitones: int = 0, longer: int = 0) -> None:
        """Draw the selected notes moved by ``ticks`` and ``semitones`` and made ``longer`` ticks."""
        if not len(self.rects):
            return
        t0, t1 = view.left_tick - ticks, view.right_tick - ticks
        if longer > 0:
            t0 -= longer
        lo, hi = self.index.window(t0, t1)
        if hi <= lo:
            return
        fill = QColor(SELECTED_FILL)
        fill.setAlpha(225 if ticks == 0 and semitones == 0 and longer == 0 else 170)
        if drawn_as_raster(hi - lo, self.typical_duration * view.px_per_tick):
            # As the tracks are at this density: stamped into an image, not a rectangle per note.
            image = np.zeros((128, max(1, view.width)), np.uint32)
            stamp_notes(image, view, self.index, self.index.visible(t0, t1, 0, 127), fill.rgba(), ticks, semitones, longer)
            draw_stamped(painter, view, image)
            return
        rects = self.rects.get(lo, hi)
        if longer:
            rects = [QRectF(r.x(), r.y(), max(1.0, r.width() + longer), r.height()) for r in rects]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setTransform(note_space_transform(view), True)
        painter.translate(ticks, -semitones)
        if hi - lo <= OUTLINE_BELOW_NOTES:
            pen = QPen(QColor(theme.ACCENT))
            pen.setCosmetic(True)
            pen.setWidthF(1.5)
            painter.setPen(pen)
        else:  # outlines of thousands of notes cost ~1.7 us each and merge into a blur anyway
            painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRects(rects)
        painter.restore()


def band_rect(first: tuple[float, float], last: tuple[float, float]) -> QRectF:
    """The rubber band between two canvas points, normalised."""
    return QRectF(min(first[0], last[0]), min(first[1], last[1]), abs(last[0] - first[0]), abs(last[1] - first[1]))


def paint_band(painter: QPainter, band: QRectF) -> None:
    fill = QColor(theme.ACCENT)
    fill.setAlpha(40)
    painter.fillRect(band, fill)
    pen = QPen(QColor(theme.ACCENT))
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(band)
