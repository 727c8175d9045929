"""The bar ruler above the roll: bar numbers, meter changes, the playback cursor, and where the
composer picks bars.

* drag: select seed bars (amber); Shift+click: extend the seed to the bar clicked;
* Ctrl+drag: select context bars (blue, hatched); Ctrl+Shift+click: extend the context;
* double-click on the bar numbers: move the playback cursor there;
* selections stop at the piece's last bar (the empty bars after it are room to look into);
* drag the grip at the right end of the seed: drag the seed bars out as a ``.mid`` file;
* right-click: clear the context or the whole selection.

Ctrl rather than Alt because many Linux window managers take Alt+drag to move the window.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDrag, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app import theme
from app.piano_roll.bar_grid import BarGrid, thinning_step
from app.piano_roll.viewport import Viewport
from core.music.selection import BarRange, BarSelection

RULER_HEIGHT = 40
NUMBERS_HEIGHT = 20
GRIP_SIZE = 14

RULER_TOOLTIP = (
    "<b>Bar ruler</b><br>"
    "Drag: select the <span style='color:%s'>seed</span> bars<br>"
    "Shift+click: extend the seed to the bar clicked<br>"
    "Ctrl+drag: select the <span style='color:%s'>context</span> bars (Ctrl+Shift+click extends them)<br>"
    "Double-click on the bar numbers: move the playback cursor there<br>"
    "Drag the grip at the end of the seed: drop the seed bars as a .mid file into a DAW or folder<br>"
    "Right-click: clear the selection"
) % (theme.ACCENT, theme.CONTEXT)

MimeProvider = Callable[[BarRange], QMimeData | None]


class BarRuler(QWidget):
    selection_changed = Signal(object)  # BarSelection
    seek_requested = Signal(float)  # tick

    def __init__(self, view: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.grid: BarGrid | None = None
        self.selection = BarSelection()
        self.cursor_tick: float | None = None
        self.mime_provider: MimeProvider | None = None
        self.last_bar: int | None = None  # the piece's last bar: selections stop there
        self.hidden_meters: list[tuple[float, str]] = []  # (x, "3/4 at bar 9") of meter labels with no room
        self._anchor: int | None = None
        self._context_mode = False
        self._grip_press: QPoint | None = None
        self.setFixedHeight(RULER_HEIGHT)
        self.setMouseTracking(True)
        self.setToolTip(RULER_TOOLTIP)

    # ------------------------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        painter.fillRect(QRectF(0, NUMBERS_HEIGHT, self.width(), self.height() - NUMBERS_HEIGHT), QColor("#1f2226"))
        if self.grid is not None:
            self._paint_bands(painter)
            self._paint_numbers(painter)
            self._paint_grip(painter)
        self._paint_cursor(painter)
        painter.setPen(QColor(theme.BORDER))
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        painter.end()

    def _x_span(self, bars: BarRange) -> tuple[float, float]:
        assert self.grid is not None
        start, end = self.grid.span(bars.first, bars.last)
        return self.view.x_of(start), self.view.x_of(end)

    def _paint_bands(self, painter: QPainter) -> None:
        top, height = NUMBERS_HEIGHT + 2, self.height() - NUMBERS_HEIGHT - 5
        small = QFont(painter.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
        painter.setFont(small)
        for bars, colour, word in (
            (self.selection.context, theme.CONTEXT, "context"),
            (self.selection.seed, theme.ACCENT, "seed"),
        ):
            if bars is None:
                continue
            x0, x1 = self._x_span(bars)
            rect = QRectF(x0 + 1, top, max(2.0, x1 - x0 - 2), height)
            fill = QColor(colour)
            fill.setAlpha(150)
            path = QPainterPath()
            path.addRoundedRect(rect, 3, 3)
            painter.fillPath(path, fill)
            if word == "context":
                painter.fillPath(path, QBrush(QColor(0, 0, 0, 60), Qt.BrushStyle.BDiagPattern))
            label = f"{word} {bars.text.split(' ', 1)[1]}"
            if painter.fontMetrics().horizontalAdvance(label) + 10 < rect.width() - GRIP_SIZE:
                painter.setPen(QColor("#15171a"))
                painter.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, label)
        painter.setFont(self.font())

    def _paint_numbers(self, painter: QPainter) -> None:
        assert self.grid is not None
        view, grid = self.view, self.grid
        bars = grid.visible(view.left_tick, view.right_tick)
        if len(bars) == 0:
            return
        px_per_bar = float(np.median(grid.ends[bars] - grid.starts[bars])) * view.px_per_tick
        step = thinning_step(px_per_bar, 34.0)
        painter.setPen(QPen(QColor(theme.GRID_BAR), 1))
        tick_step = thinning_step(px_per_bar, 6.0)
        for index in bars[bars % tick_step == 0].tolist():
            x = round(view.x_of(float(grid.starts[index])))
            top = NUMBERS_HEIGHT - (9 if index % step == 0 else 4)
            painter.drawLine(x, top, x, NUMBERS_HEIGHT)
        metrics = painter.fontMetrics()
        painter.setPen(QColor(theme.TEXT))
        free_from = -1e9  # labels never overlap: one that would is left out (short bars, pick-ups)
        for index in bars[bars % step == 0].tolist():
            x = view.x_of(float(grid.starts[index]))
            label = str(index + 1)
            if x + 4 >= free_from:
                painter.drawText(QPointF(x + 4, 13), label)
                free_from = x + 4 + metrics.horizontalAdvance(label) + 6
        self._paint_meters(painter, bars)

    def _paint_meters(self, painter: QPainter, bars: np.ndarray) -> None:
        """Meter changes, small and dim, in the lower half (under the selection bands)."""
        assert self.grid is not None
        grid, view = self.grid, self.view
        small = QFont(painter.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        painter.setPen(QColor(theme.TEXT_DIM))
        free_from = -1e9
        baseline = self.height() - 7
        self.hidden_meters = []
        for index in grid.meter_changes(bars):
            x = max(0.0, view.x_of(float(grid.starts[index])))
            text = f"{grid.numerators[index]}/{grid.denominators[index]}"
            if x + 3 >= free_from:
                painter.drawText(QPointF(x + 3, baseline), text)
                free_from = x + 3 + metrics.horizontalAdvance(text) + 4
            else:  # no room for its label: a small mark says a meter changes here, the tooltip which
                self.hidden_meters.append((x, f"{text} at bar {index + 1}"))
                painter.drawLine(QPointF(x, baseline - 6), QPointF(x, baseline + 1))
        painter.setFont(self.font())

    def tooltip_at(self, x: float) -> str:
        """The ruler's tooltip at ``x``: the meter changes whose labels had no room near it, then
        the help text."""
        near = [text for mark_x, text in self.hidden_meters if abs(mark_x - x) <= 6]
        return ("Meter change: " + ", ".join(near) + "<br><br>" if near else "") + RULER_TOOLTIP

    def event(self, event) -> bool:  # noqa: D102
        if event.type() == event.Type.ToolTip:
            self.setToolTip(self.tooltip_at(event.pos().x()))
        return super().event(event)

    def grip_rect(self) -> QRectF | None:
        """Where the drag-out grip is: at the right end of the seed band, if there is one."""
        if self.grid is None or self.selection.seed is None:
            return None
        _x0, x1 = self._x_span(self.selection.seed)
        top = NUMBERS_HEIGHT + (self.height() - NUMBERS_HEIGHT - GRIP_SIZE) / 2 - 1
        return QRectF(x1 - GRIP_SIZE - 3, top, GRIP_SIZE, GRIP_SIZE)

    def _paint_grip(self, painter: QPainter) -> None:
        rect = self.grip_rect()
        if rect is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#15171a"))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setBrush(QColor(theme.ACCENT))
        for row in range(3):
            for col in range(2):
                painter.drawEllipse(QPointF(rect.x() + 5 + col * 4, rect.y() + 3.5 + row * 3.5), 1.1, 1.1)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_cursor(self, painter: QPainter) -> None:
        if self.cursor_tick is None:
            return
        x = self.view.x_of(self.cursor_tick)
        path = QPainterPath()
        path.moveTo(x - 5, NUMBERS_HEIGHT - 8)
        path.lineTo(x + 5, NUMBERS_HEIGHT - 8)
        path.lineTo(x, NUMBERS_HEIGHT)
        path.closeSubpath()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillPath(path, QColor(theme.CURSOR))
        painter.fillRect(QRectF(x - 0.5, NUMBERS_HEIGHT, 2, self.height()), QColor(theme.CURSOR))

    # ---------------------------------------------------------------------------------- input
    def bar_at_x(self, x: float) -> int:
        """The bar under ``x``, no later than the piece's last bar."""
        assert self.grid is not None
        bar = self.grid.bar_at(self.view.tick_of(max(0.0, x)))
        return min(bar, self.last_bar) if self.last_bar else bar

    def select_by_drag(self, first_x: float, last_x: float, context: bool) -> BarSelection:
        """The selection a drag from ``first_x`` to ``last_x`` makes (also what the mouse uses)."""
        a, b = self.bar_at_x(first_x), self.bar_at_x(last_x)
        return self.selection.with_context(a, b) if context else self.selection.with_seed(a, b)

    def extend_to_x(self, x: float, context: bool) -> BarSelection:
        """Shift+click: the seed (or context) stretched from its far end to the bar under ``x``; with
        none yet, that bar alone."""
        bar = self.bar_at_x(x)
        current = self.selection.context if context else self.selection.seed
        if current is None:
            first = last = bar
        elif bar >= current.first:
            first, last = current.first, bar
        else:
            first, last = bar, current.last
        return self.selection.with_context(first, last) if context else self.selection.with_seed(first, last)

    def _set(self, selection: BarSelection) -> None:
        if selection != self.selection:
            self.selection = selection
            self.update()
            self.selection_changed.emit(selection)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.grid is None:
            return
        position = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event.globalPosition().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        grip = self.grip_rect()
        if grip is not None and grip.adjusted(-2, -2, 2, 2).contains(position):
            self._grip_press = position.toPoint()
            return
        self._context_mode = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._set(self.extend_to_x(position.x(), self._context_mode))
            return
        self._anchor = position.x()
        self._set(self.select_by_drag(position.x(), position.x(), self._context_mode))

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self.grid is not None and event.position().y() < NUMBERS_HEIGHT:
            self.seek_requested.emit(self.view.tick_of(event.position().x()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        position = event.position()
        if self._grip_press is not None:
            if (position.toPoint() - self._grip_press).manhattanLength() >= QApplication.startDragDistance():
                self._grip_press = None
                self.start_drag_out()
            return
        if self._anchor is not None and self.grid is not None:
            self._set(self.select_by_drag(self._anchor, position.x(), self._context_mode))
            return
        grip = self.grip_rect()
        over_grip = grip is not None and grip.adjusted(-2, -2, 2, 2).contains(position)
        self.setCursor(Qt.CursorShape.OpenHandCursor if over_grip else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._anchor = None
        self._grip_press = None

    def start_drag_out(self) -> Qt.DropAction | None:
        """Start dragging the seed bars as a ``.mid`` file (the mime data comes from the owner)."""
        if self.selection.seed is None or self.mime_provider is None:
            return None
        mime = self.mime_provider(self.selection.seed)
        if mime is None:
            return None
        drag = QDrag(self)
        drag.setMimeData(mime)
        return drag.exec(Qt.DropAction.CopyAction)

    def _context_menu(self, where: QPoint) -> None:
        menu = QMenu(self)
        clear_context = menu.addAction("Clear context bars")
        clear_context.setEnabled(self.selection.context is not None)
        clear_all = menu.addAction("Clear selection")
        clear_all.setEnabled(not self.selection.is_empty)
        chosen = menu.exec(where)
        if chosen is clear_context:
            self._set(self.selection.without_context())
        elif chosen is clear_all:
            self._set(BarSelection())
