"""The chord lane above the roll: the chord of each bar and half bar, as the recogniser hears it.

The chords are recognised off the GUI thread (:mod:`core.harmony`, ~0.1 s for a long quartet
movement) when a piece is opened, and after an edit once the piece has rested for
:data:`REST_MS`: an arrow key held down makes an edit a frame, and recognising the whole piece
after each of them (in threads that share the interpreter lock with the GUI) took the 16-track
arrow-key frame of ``benchmarks/piano_roll.py`` from ~11 to ~50 ms of CPU.

Double-click a chord to type another (``Am``, ``G7``, ``F#:min7``, ``N``); Enter keeps it, Escape
cancels. A name that is not a chord keeps the editor open, outlined red, with the reason in the
lane. Typed chords are drawn in the accent colour and kept until another piece is opened;
``chords()`` gives the lane's chords with them applied.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QLineEdit, QWidget

from app import theme
from app.piano_roll.viewport import Viewport
from app.workers import Task
from core.errors import MahlerNetError
from core.harmony.labels import Chord, parse_chord
from core.harmony.recogniser import ChordSpan, recognise_chords
from core.music.score import Score

LANE_HEIGHT = 18
MIN_SPAN_PX = 3.0  # narrower chords are not drawn (a lane zoomed out to a whole long piece)
MIN_LABEL_PX = 16.0  # narrower chords get their line but no label
REST_MS = 250  # after an edit, how long the piece must stay unchanged before its chords are recognised again
ERROR_COLOUR = "#e06c6c"


class ChordLane(QWidget):
    chord_edited = Signal(int, object)  # start tick, Chord
    chords_ready = Signal()

    def __init__(self, view: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.spans: list[ChordSpan] = []
        self.edits: dict[int, Chord] = {}
        self.error_text = ""
        self._score: Score | None = None
        self._task: Task | None = None
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(REST_MS)
        self._rest.timeout.connect(self._recognise)
        self._editing: ChordSpan | None = None
        self.editor = QLineEdit(self)
        self.editor.hide()
        self.editor.returnPressed.connect(self._commit)
        self.editor.installEventFilter(self)
        self.setFixedHeight(LANE_HEIGHT)
        self.setToolTip("<b>Chords</b><br>Double-click a chord to type another (Am, G7, F#:min7, N)")

    # ------------------------------------------------------------------------------- contents
    def set_score(self, score: Score | None, new_piece: bool = False) -> None:
        """Recognise the chords of ``score`` in the background: at once for a ``new_piece`` (which
        also forgets typed chords), else once the piece has rested for :data:`REST_MS`."""
        if new_piece:
            self.edits.clear()
        self._score = score
        if self._task is not None:
            self._task.cancel()
        if score is None:
            self._rest.stop()
            self.spans = []
            self.update()
            return
        if new_piece:
            self._rest.stop()
            self._recognise()
        else:
            self._rest.start()  # (again): an edit during the rest restarts it

    def _recognise(self) -> None:
        score = self._score
        if score is None:
            return
        task = Task(lambda progress, cancelled: (score, recognise_chords(score, "half")), name="chords")
        task.result.connect(self._on_spans)  # a bound slot: Qt drops it if the lane is gone first
        self._task = task.start()

    def _on_spans(self, result: tuple[Score, list[ChordSpan]]) -> None:
        score, spans = result
        if score is not self._score:
            return  # a piece that has changed since
        self.spans = spans
        self.update()
        self.chords_ready.emit()

    def chords(self) -> list[ChordSpan]:
        """The lane's chords, typed ones in place of the recognised ones."""
        return self._typed_over(self.spans)

    def visible_chords(self) -> list[ChordSpan]:
        """:meth:`chords` that overlap the view, found by two binary searches (the spans are in time
        order and do not overlap): a long piece has thousands, and painting went through them all
        (~60 ms a repaint for the ~2,000-bar test piece of ``benchmarks/open_midi.py``)."""
        first = bisect.bisect_right(self.spans, self.view.left_tick, key=lambda s: s.end)
        last = bisect.bisect_left(self.spans, self.view.right_tick, lo=first, key=lambda s: s.start)
        return self._typed_over(self.spans[first:last])

    def _typed_over(self, spans: list[ChordSpan]) -> list[ChordSpan]:
        return [replace(s, chord=self.edits[s.start]) if s.start in self.edits else s for s in spans]

    # ------------------------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        for span in self.visible_chords():
            left, right = self.view.x_of(span.start), self.view.x_of(span.end)
            if right - left < MIN_SPAN_PX:
                continue  # zoomed far out: a line a pixel apart would be a grey band
            painter.setPen(QColor(theme.BORDER))
            painter.drawLine(int(left), 3, int(left), self.height() - 3)
            edited = span.start in self.edits
            text = "" if span.chord.is_none and not edited else span.chord.label
            if text and right - left >= MIN_LABEL_PX:
                painter.setPen(QColor(theme.ACCENT if edited else theme.TEXT))
                painter.drawText(QRectF(left + 3, 0, right - left - 4, self.height()),
                                 Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)  # fmt: skip
        if self.error_text:
            painter.setPen(QColor(ERROR_COLOUR))
            painter.drawText(QRectF(0, 0, self.width() - 4, self.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, self.error_text)  # fmt: skip
        painter.end()

    # -------------------------------------------------------------------------------- editing
    def span_at(self, x: float) -> ChordSpan | None:
        tick = self.view.tick_of(x)
        return next((s for s in self.chords() if s.start <= tick < s.end), None)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        span = self.span_at(event.position().x())
        if span is not None:
            self.edit(span)

    def edit(self, span: ChordSpan) -> None:
        """Open the editor over ``span``."""
        self._editing = span
        left = max(0, int(self.view.x_of(span.start)))
        width = max(60, int(self.view.x_of(span.end)) - left)
        self.editor.setGeometry(left, 0, width, self.height())
        self.editor.setText(span.chord.label)
        self.editor.setStyleSheet("")
        self.editor.show()
        self.editor.selectAll()
        self.editor.setFocus()

    def _commit(self) -> None:
        if self._editing is None:
            return
        try:
            chord = parse_chord(self.editor.text())
        except MahlerNetError as error:
            self.error_text = str(error)
            self.editor.setStyleSheet(f"border: 1px solid {ERROR_COLOUR};")
            self.update()
            return
        start = self._editing.start
        self.edits[start] = chord
        self._close_editor()
        self.chord_edited.emit(start, chord)

    def _close_editor(self) -> None:
        self._editing = None
        self.error_text = ""
        self.editor.hide()
        self.update()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.editor and event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self._close_editor()
            return True
        return super().eventFilter(watched, event)
