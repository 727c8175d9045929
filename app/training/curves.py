"""Live learning curves: loss at the left, accuracy per event property at the right.

The x axis counts epochs (2.5 = half-way through the third). Training values come with every step,
one batch each; they are noisy (bars of different lengths share a batch), so they are drawn smoothed
(an exponential moving average, corrected at the start as TensorBoard does), with the raw batch loss
faint behind. Validation values, one per finished epoch, are thick lines with dots. A run's history
(a resumed or a finished run) comes from its ``records.json``: one training point per epoch. Colours
follow the app's theme; the five properties take the first five track colours.

Drawing is the GUI thread's costliest part of a run, so it is kept small: live points are drawn
together at most every :data:`REDRAW_INTERVAL_MS`; the axes keep still (x spans the run's epochs, the
loss axis is refitted only when a point leaves it or an epoch ends) and are cached as pixmaps, so that
a redraw paints the curves, not the axes' text again; only the y grid is drawn. A redraw cost ~32 ms
of the GUI thread's CPU before (100-300 ms stalls at every progress signal on two busy cores) and
~5-7 ms now (``benchmarks/training_window.py``; figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QWidget

from app import theme
from app.training.worker import StepPoint
from core.representation.events import PROPERTIES

PROPERTY_COLORS = dict(zip(PROPERTIES, theme.TRACK_COLORS))
TRAIN_COLOR = theme.ACCENT
VALIDATION_COLOR = theme.CONTEXT
REDRAW_INTERVAL_MS = 400  # live points are drawn at most this often (a redraw costs the GUI ~5 ms)
SMOOTHING = 0.9  # weight of the past in the moving average of the training curves


def _pen(color: str, width: float, alpha: int = 255) -> pg.mkPen:
    colour = QColor(color)
    colour.setAlpha(alpha)
    return pg.mkPen(colour, width=width)


class Series:
    """The x and y values of one curve, growing."""

    def __init__(self) -> None:
        self.x: list[float] = []
        self.y: list[float] = []

    def add(self, x: float, y: float | None) -> None:
        if y is not None and math.isfinite(y):
            self.x.append(float(x))
            self.y.append(float(y))

    def clear(self) -> None:
        self.x.clear()
        self.y.clear()

    def __len__(self) -> int:
        return len(self.x)


class Smoother:
    """Exponential moving average with the start-up bias removed (the first value is itself)."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self.smoothing = smoothing
        self.total = 0.0
        self.weight = 0.0

    def __call__(self, value: float | None) -> float | None:
        if value is None or not math.isfinite(value):
            return None
        self.total = self.smoothing * self.total + (1 - self.smoothing) * value
        self.weight = self.smoothing * self.weight + (1 - self.smoothing)
        return self.total / self.weight


class CurvesWidget(pg.GraphicsLayoutWidget):
    """The two plots; feed it with :meth:`add_steps`, :meth:`add_epoch` and :meth:`show_records`.

    Curve keys: ``train_loss`` (smoothed), ``train_loss_raw``, ``val_loss``, ``train_<property>`` and
    ``val_<property>`` (accuracies in %)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self.setMinimumHeight(240)
        self.ci.layout.setContentsMargins(4, 4, 10, 2)
        self.ci.layout.setHorizontalSpacing(18)
        self.ci.layout.setVerticalSpacing(0)
        self.loss_plot = self._plot(0, "Loss", "lower is better")
        self.accuracy_plot = self._plot(1, "Accuracy (%)", "per property · dots: validation, lines: training")
        self.accuracy_plot.setYRange(0, 100, padding=0.02)
        self.series: dict[str, Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.smoothers: dict[str, Smoother] = {}
        self._curve("train_loss_raw", self.loss_plot, _pen(TRAIN_COLOR, 1.0, 55), None)
        self._curve("train_loss", self.loss_plot, _pen(TRAIN_COLOR, 1.8), None)
        self._curve("val_loss", self.loss_plot, _pen(VALIDATION_COLOR, 2.4), VALIDATION_COLOR)
        for name, color in PROPERTY_COLORS.items():
            self._curve(f"train_{name}", self.accuracy_plot, _pen(color, 1.2, 150), None)
            self._curve(f"val_{name}", self.accuracy_plot, _pen(color, 2.4), color)
        self.legends = (
            self._legend(0, [("train_loss", "training (smoothed)"), ("val_loss", "validation")]),
            self._legend(1, [(f"val_{name}", name) for name in PROPERTIES]),
        )
        for column in (0, 1):
            self.ci.layout.setColumnStretchFactor(column, 1)
            self.ci.layout.setColumnPreferredWidth(column, 10)  # the stretch shares the width, not the legends
        self.empty_text = pg.TextItem("", color=theme.TEXT_DIM, anchor=(0.5, 0.5))
        self.loss_plot.addItem(self.empty_text, ignoreBounds=True)
        self._dirty: set[str] = set()
        self.closed = False  # pyqtgraph's close() emptied the scene: nothing is drawn any more
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.flush)
        self.span = 1.0
        self._loss_top: float | None = None
        self.set_span(1)
        self.set_empty_text("The curves appear here while a model learns.")

    def _plot(self, column: int, title: str, subtitle: str) -> pg.PlotItem:
        plot = self.addPlot(row=0, col=column)
        plot.setTitle(f"<span style='color:{theme.TEXT}; font-weight:600'>{title}</span>"
                      f"<span style='color:{theme.TEXT_DIM}'>&nbsp;&nbsp;{subtitle}</span>", size="9pt")  # fmt: skip
        plot.showGrid(x=False, y=True, alpha=0.10)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setDownsampling(auto=True, mode="peak")
        font = QFont()
        font.setPointSizeF(8)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(theme.BORDER))
            axis.setTextPen(pg.mkPen(theme.TEXT_DIM))
            axis.setStyle(tickFont=font, tickLength=-4)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.setLabel("bottom", "epoch", color=theme.TEXT_DIM)
        plot.enableAutoRange(enable=False)
        return plot

    def _curve(self, key: str, plot: pg.PlotItem, pen: pg.mkPen, symbol_color: str | None) -> None:
        options = {}
        if symbol_color is not None:
            options = {
                "symbol": "o", "symbolSize": 6, "symbolBrush": symbol_color, "symbolPen": pg.mkPen(theme.BACKGROUND),
            }  # fmt: skip
        self.curves[key] = plot.plot([], [], pen=pen, **options)
        self.series[key] = Series()

    def _legend(self, column: int, entries: list[tuple[str, str]]) -> pg.LegendItem:
        """A one-row legend under a plot (outside it, so it never hides a curve)."""
        legend = pg.LegendItem(colCount=min(3, len(entries)), labelTextColor=theme.TEXT_DIM, labelTextSize="8pt",
                               horSpacing=10, verSpacing=-4)  # fmt: skip
        for key, text in entries:
            legend.addItem(self.curves[key], text)
        self.addItem(legend, row=1, col=column)
        legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # compact, centred
        self.ci.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        return legend

    # ------------------------------------------------------------------------------- feeding
    def reset(self) -> None:
        """Forget every point (not ``clear``: pyqtgraph's layout widget has one that empties the layout)."""
        for series in self.series.values():
            series.clear()
        self.smoothers.clear()
        self._dirty.update(self.series)
        self._loss_top = None
        self.flush()

    def set_empty_text(self, text: str) -> None:
        """A line in the middle of the loss plot while it has nothing to show."""
        if self.closed:
            return
        self.empty_text.setText(text)
        self.empty_text.setVisible(bool(text))
        if text:
            view = self.loss_plot.getViewBox().viewRange()
            self.empty_text.setPos((view[0][0] + view[0][1]) / 2, (view[1][0] + view[1][1]) / 2)

    def _smoothed(self, key: str, value: float | None) -> float | None:
        return self.smoothers.setdefault(key, Smoother())(value)

    def add_steps(self, points: Sequence[StepPoint]) -> None:
        """Training steps: each batch's loss and accuracies, smoothed."""
        for point in points:
            loss = point.metrics.get("loss")
            self.series["train_loss_raw"].add(point.x, loss)
            self.series["train_loss"].add(point.x, self._smoothed("train_loss", loss))
            for name in PROPERTIES:
                value = _percent(point.metrics.get(f"{name}_accuracy"))
                self.series[f"train_{name}"].add(point.x, self._smoothed(f"train_{name}", value))
        self._schedule([f"train_{name}" for name in PROPERTIES] + ["train_loss", "train_loss_raw"])

    def add_epoch(self, record: dict, with_training: bool = False) -> None:
        """A finished epoch's record (validation points; with its training values too for history)."""
        epoch = float(record.get("epoch", 0))
        groups = [("val", record.get("val") or {})] + ([("train", record.get("train") or {})] if with_training else [])
        for prefix, metrics in groups:
            self.series[f"{prefix}_loss"].add(epoch, metrics.get("loss"))
            for name in PROPERTIES:
                self.series[f"{prefix}_{name}"].add(epoch, _percent(metrics.get(f"{name}_accuracy")))
        self._schedule(self.series)

    def show_records(self, records: dict | None) -> None:
        """A run's history: one point per finished epoch (records.json)."""
        self.reset()
        for record in (records or {}).get("epochs", []):
            self.add_epoch(record, with_training=True)
        self.flush()

    def latest(self, key: str) -> float | None:
        """The last value of curve ``key`` (smoothed for training curves), or None."""
        series = self.series[key]
        return series.y[-1] if len(series) else None

    def values(self, key: str) -> tuple[list[float], list[float]]:
        """The points of curve ``key``, for tests and tools."""
        series = self.series[key]
        return list(series.x), list(series.y)

    # ------------------------------------------------------------------------------- drawing
    def _schedule(self, keys: Iterable[str]) -> None:
        """Draw ``keys`` soon (a hidden widget draws when it is shown again)."""
        self._dirty.update(keys)
        if self.isVisible() and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self._redraw_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self._redraw_timer.stop()
        super().hideEvent(event)

    def close(self) -> bool:
        """pyqtgraph's ``close`` empties the scene: no redraw may come after it."""
        self._redraw_timer.stop()
        self._dirty.clear()
        self.closed = True
        return super().close()

    def flush(self) -> None:
        """Draw the points added since the last redraw now."""
        self._redraw_timer.stop()
        if self.closed:
            return
        keys, self._dirty = self._dirty, set()
        for key in keys:
            series = self.series[key]
            self.curves[key].setData(series.x, series.y)
        if self.empty_text.isVisible() and any(len(s) for s in self.series.values()):
            self.set_empty_text("")
        furthest = max((max(s.x) for s in self.series.values() if len(s)), default=0.0)
        if furthest > self.span:
            self.set_span(furthest)
        self._fit_loss(refit="val_loss" in keys)

    def set_span(self, epochs: float) -> None:
        """The x axes show epochs 0 to ``epochs`` (the run's length, known when it starts)."""
        self.span = max(1.0, float(epochs))
        if self.closed:
            return
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setXRange(0, self.span, padding=0.02)

    def _fit_loss(self, refit: bool) -> None:
        """Loss axis from 0 to a little above the highest smoothed or validation point; changed only
        when a point leaves it, or (``refit``) at an epoch's end when the curve has come well down.
        The raw batch losses may leave the top: they are only the faint background."""
        values = [v for key in ("train_loss", "val_loss") for v in self.series[key].y]
        if not values:
            return
        top = max(values) * 1.08 or 1.0
        if self._loss_top is None or top > self._loss_top or (refit and top < 0.8 * self._loss_top):
            self._loss_top = top
            self.loss_plot.setYRange(0, top, padding=0)


def _percent(value: float | None) -> float | None:
    return None if value is None else 100.0 * value
