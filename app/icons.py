"""Toolbar icons drawn with QPainter: crisp at any scale, themed, and no image files to ship."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from app import theme

SIZE = 36  # drawn at 2x for sharpness, shown at 18 px


def _icon(draw: Callable[[QPainter], None], colour: str = theme.TEXT) -> QIcon:
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), 2.6)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    draw(painter)
    painter.end()
    return QIcon(pixmap)


def _polygon(points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(*points[0])
    for point in points[1:]:
        path.lineTo(*point)
    path.closeSubpath()
    return path


def _open(p: QPainter) -> None:
    p.drawPath(_polygon([(5, 9), (14, 9), (17, 12), (31, 12), (31, 28), (5, 28)]))


def _save(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(6, 6, 24, 24), 3, 3)
    p.drawRect(QRectF(12, 6, 12, 7))
    p.drawRect(QRectF(11, 19, 14, 11))


def _arrow(p: QPainter, mirrored: bool) -> None:
    path = QPainterPath()
    if mirrored:
        p.translate(SIZE, 0)
        p.scale(-1, 1)
    path.moveTo(12, 14)
    path.lineTo(24, 14)
    path.cubicTo(34, 14, 34, 29, 24, 29)
    path.lineTo(14, 29)
    p.drawPath(path)
    p.drawPath(_polygon([(12, 8), (6, 14), (12, 20)]))


def _play(p: QPainter) -> None:
    p.setBrush(QColor(theme.ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawPath(_polygon([(10, 7), (29, 18), (10, 29)]))


def _panic(p: QPainter) -> None:
    p.setBrush(QColor(theme.CURSOR))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(9, 9, 18, 18), 2, 2)


def _loop(p: QPainter) -> None:
    p.drawArc(QRectF(6, 9, 24, 18), 30 * 16, 300 * 16)
    p.drawPath(_polygon([(27, 6), (30, 12), (24, 12)]))


def _fit(p: QPainter) -> None:
    for x, y, dx, dy in ((6, 6, 1, 1), (30, 6, -1, 1), (6, 30, 1, -1), (30, 30, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 7 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 7 * dy))
    p.drawRect(QRectF(13, 14, 10, 8))


def _continue(p: QPainter) -> None:
    p.setBrush(QColor(theme.ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    for i, height in enumerate((8, 14, 20)):
        p.drawRoundedRect(QRectF(5 + i * 7, 28 - height, 5, height), 1.5, 1.5)
    p.drawPath(_polygon([(27, 10), (33, 16), (27, 22)]))


def _interpolate(p: QPainter) -> None:
    p.setBrush(QColor(theme.CONTEXT))
    p.drawEllipse(QPointF(8, 26), 3.5, 3.5)
    p.setBrush(QColor(theme.ACCENT))
    p.drawEllipse(QPointF(28, 10), 3.5, 3.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(11, 24)
    path.cubicTo(18, 22, 18, 14, 25, 12)
    p.drawPath(path)


def _pointer(p: QPainter) -> None:
    p.drawPath(_polygon([(10, 5), (10, 27), (15, 22), (19, 31), (23, 29), (19, 20), (26, 20)]))


def _pencil(p: QPainter) -> None:
    p.drawPath(_polygon([(24, 6), (30, 12), (13, 29), (6, 30), (7, 23)]))
    p.drawLine(QPointF(20, 10), QPointF(26, 16))


ICON_DRAWINGS: dict[str, Callable[[QPainter], None]] = {
    "open": _open,
    "save": _save,
    "undo": lambda p: _arrow(p, False),
    "redo": lambda p: _arrow(p, True),
    "play": _play,
    "panic": _panic,
    "loop": _loop,
    "fit": _fit,
    "continue": _continue,
    "interpolate": _interpolate,
    "select_tool": _pointer,
    "pencil_tool": _pencil,
}


def icon(name: str) -> QIcon | None:
    """The icon of action ``name``, or None if it has none."""
    draw = ICON_DRAWINGS.get(name)
    return _icon(draw) if draw is not None else None
