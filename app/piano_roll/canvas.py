"""The note area of the piano roll: pitch rows, the bar and beat grid, selections, notes, ghost notes,
the interpolation-step highlight and the playback cursor.

The canvas only draws what its owner (:class:`app.piano_roll.view.PianoRoll`) gives it, and turns
wheel gestures into signals; it never changes the viewport itself.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app import theme
from app.piano_roll.bar_grid import BarGrid, thinning_step
from app.piano_roll.editor import near_right_end
from app.piano_roll.note_painter import FrameStats, GhostLayer, TrackLayer, note_rects, note_space_transform, paint_tracks
from app.piano_roll.selection_layer import SelectionLayer, paint_band
from app.piano_roll.viewport import Viewport
from core.music.score import Note
from core.music.selection import BarRange, BarSelection

BLACK_KEYS = {1, 3, 6, 8, 10}
WHEEL_ZOOM_STEP = 1.2  # one wheel notch zooms by this factor


class NoteCanvas(QWidget):
    zoom_time_requested = Signal(float, float)  # factor, anchor x
    zoom_pitch_requested = Signal(float, float)  # factor, anchor y
    scroll_requested = Signal(float, float)  # dx, dy in pixels
    clicked = Signal(float)  # tick under a double-click

    def __init__(self, view: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.layers: list[TrackLayer] = []
        self.grid: BarGrid | None = None
        self.selection = BarSelection()
        self.ghosts: GhostLayer | None = None
        self.highlight: tuple[int, int, str] | None = None
        self.cursor_tick: float | None = None
        self.placeholder = ""
        self.last_frame = FrameStats()
        self.editor = None  # the roll's NoteEditor: mouse gestures go to it
        self.selection_layer: SelectionLayer | None = None
        self.drag_offset: tuple[int, int, int] = (0, 0, 0)  # ticks, semitones, longer (a drag's preview)
        self.drawn_note: tuple[Note, str] | None = None  # the pencil's note while it is drawn
        self.band: QRectF | None = None
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 120)
        self.setFocusPolicy(Qt.FocusPolicy.WheelFocus)

    # ------------------------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setClipRect(event.rect())
        self._paint_rows(painter)
        if self.grid is not None:
            self._paint_selection(painter)
            self._paint_grid(painter)
            self._paint_highlight(painter)
        self.last_frame = paint_tracks(painter, self.view, self.layers)
        if self.selection_layer is not None:
            self.selection_layer.paint(painter, self.view, *self.drag_offset)
        if self.drawn_note is not None:
            self._paint_drawn_note(painter)
        if self.band is not None:
            paint_band(painter, self.band)
        if self.ghosts is not None and not self.ghosts.empty:
            self._paint_veil(painter)
            self.ghosts.paint(painter, self.view)
        if self.grid is not None:
            self._paint_highlight_frame(painter)
        self._paint_cursor(painter)
        if self.placeholder:
            painter.setPen(QColor(theme.TEXT_DIM))
            font = QFont(painter.font())
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        painter.end()

    def _paint_rows(self, painter: QPainter) -> None:
        view = self.view
        painter.fillRect(self.rect(), QColor(theme.ROW_WHITE))
        if view.row_height < 3:
            return
        low, high = view.visible_pitches()
        black = QColor(theme.ROW_BLACK)
        octave = QColor(theme.ROW_C)
        width = self.width()
        for pitch in range(low, high + 1):
            y = view.y_of(pitch)
            if pitch % 12 in BLACK_KEYS:
                painter.fillRect(QRectF(0, y, width, view.row_height), black)
            elif pitch % 12 == 0:
                painter.fillRect(QRectF(0, y + view.row_height - 1, width, 1), octave)

    def _band(self, bars: BarRange) -> QRectF:
        assert self.grid is not None
        start, end = self.grid.span(bars.first, bars.last)
        x0, x1 = self.view.x_of(start), self.view.x_of(end)
        return QRectF(x0, 0, x1 - x0, self.height())

    def _paint_selection(self, painter: QPainter) -> None:
        if self.selection.context is not None:
            band = self._band(self.selection.context)
            painter.fillRect(band, _alpha(theme.CONTEXT, 26))
            painter.fillRect(band, QBrush(_alpha(theme.CONTEXT, 40), Qt.BrushStyle.BDiagPattern))
        if self.selection.seed is not None:
            painter.fillRect(self._band(self.selection.seed), _alpha(theme.ACCENT, 30))

    def _paint_grid(self, painter: QPainter) -> None:
        assert self.grid is not None
        view, grid = self.view, self.grid
        bars = grid.visible(view.left_tick, view.right_tick)
        if len(bars) == 0:
            return
        height = float(self.height())
        px_per_bar = float(np.median(grid.ends[bars] - grid.starts[bars])) * view.px_per_tick
        step = thinning_step(px_per_bar, 8.0)
        if step == 1:
            beat_px = grid.beat_length(int(bars[0])) * view.px_per_tick
            if beat_px >= 28:
                divisions = 4 if beat_px >= 80 else 2
                sub = grid.beat_ticks(bars, divisions)
                painter.setPen(QPen(QColor(theme.GRID_SUB), 1))
                painter.drawLines([QLineF(x, 0, x, height) for x in np.round(view.x_of(sub)).tolist()])
            if beat_px >= 6:
                beats = grid.beat_ticks(bars, 1)
                painter.setPen(QPen(QColor(theme.GRID_BEAT), 1))
                painter.drawLines([QLineF(x, 0, x, height) for x in np.round(view.x_of(beats)).tolist()])
        shown = bars[bars % step == 0]
        xs = np.round(view.x_of(grid.starts[shown].astype(np.float64))).tolist()
        painter.setPen(QPen(QColor(theme.GRID_BAR), 1))
        painter.drawLines([QLineF(x, 0, x, height) for x in xs])

    def _highlight_band(self) -> QRectF | None:
        if self.highlight is None:
            return None
        start, end, _label = self.highlight
        x0, x1 = self.view.x_of(start), self.view.x_of(end)
        return QRectF(x0, 0, x1 - x0, self.height())

    def _paint_highlight(self, painter: QPainter) -> None:
        band = self._highlight_band()
        if band is not None:
            painter.fillRect(band, _alpha("#ffffff", 14))

    def _paint_veil(self, painter: QPainter) -> None:
        """Dim the piece's own notes where candidate notes are drawn over them, so the candidate is
        what the eye reads there."""
        band = self._highlight_band()
        if band is not None:
            painter.fillRect(band, _alpha(theme.BACKGROUND, 165))

    def _paint_highlight_frame(self, painter: QPainter) -> None:
        band = self._highlight_band()
        if band is None or self.highlight is None:
            return
        label = self.highlight[2]
        x0 = band.left()
        painter.setPen(QPen(QColor(theme.ACCENT), 2))
        painter.drawRect(band.adjusted(1, 1, -1, -1))
        if label:  # a tag at the top left of the band, free to reach past a narrow band
            metrics = painter.fontMetrics()
            tag = QRectF(x0 + 1, 1, metrics.horizontalAdvance(label) + 12, metrics.height() + 4)
            painter.fillRect(tag, QColor(theme.ACCENT))
            painter.setPen(QColor(theme.BACKGROUND))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_drawn_note(self, painter: QPainter) -> None:
        assert self.drawn_note is not None
        note, colour = self.drawn_note
        painter.save()
        painter.setTransform(note_space_transform(self.view), True)
        pen = QPen(QColor(theme.ACCENT))
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QColor(colour))
        painter.drawRects(note_rects([note]))
        painter.restore()

    def _paint_cursor(self, painter: QPainter) -> None:
        if self.cursor_tick is None:
            return
        x = round(self.view.x_of(self.cursor_tick))
        if -2 <= x <= self.width() + 2:
            painter.fillRect(QRectF(x - 0.5, 0, 2, self.height()), QColor(theme.CURSOR))

    # ----------------------------------------------------------------------------- the cursor
    def set_cursor_tick(self, tick: float | None) -> None:
        """Move the cursor, repainting only the strips it leaves and enters."""
        old = self.cursor_tick
        self.cursor_tick = tick
        for value in (old, tick):
            if value is not None:
                x = round(self.view.x_of(value))
                self.update(QRect(x - 3, 0, 7, self.height()))

    # ---------------------------------------------------------------------------------- input
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta()
        notches = (delta.y() or delta.x()) / 120.0
        modifiers = event.modifiers()
        position: QPointF = event.position()
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            self.zoom_time_requested.emit(WHEEL_ZOOM_STEP**notches, position.x())
        elif modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.zoom_pitch_requested.emit(WHEEL_ZOOM_STEP**notches, position.y())
        elif delta.x() and not delta.y() or modifiers & Qt.KeyboardModifier.AltModifier:
            self.scroll_requested.emit(-(delta.x() or delta.y()) / 120.0 * 60.0, 0.0)
        else:
            self.scroll_requested.emit(0.0, -delta.y() / 120.0 * 3 * self.view.row_height)
        event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.editor is not None and self.editor.press(event):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self.editor is None:
            return
        if self.editor.drag is not None:
            self.editor.move(event)
            return
        self._hover(event.position())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self.editor is not None:
            self.editor.release(event)

    def _hover(self, position: QPointF) -> None:
        """A resize arrow over a note's right end, a hand over a note, else the tool's cursor."""
        roll = self.editor.roll  # type: ignore[union-attr]
        hit = roll.note_at(position.x(), position.y())
        if hit is None:
            pencil = self.editor.tool == "pencil"  # type: ignore[union-attr]
            shape = Qt.CursorShape.CrossCursor if pencil else Qt.CursorShape.ArrowCursor
        else:
            near_end = near_right_end(self.view, hit[1], position.x())
            shape = Qt.CursorShape.SizeHorCursor if near_end else Qt.CursorShape.SizeAllCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.clicked.emit(self.view.tick_of(event.position().x()))


def _alpha(color: str, alpha: int) -> QColor:
    result = QColor(color)
    result.setAlpha(alpha)
    return result
