"""The piano roll: ruler on top, keyboard at the left, notes in the middle, scroll bars around.

This is the one widget the window uses; it owns the :class:`Viewport` its parts share and offers:

* ``set_score(score)``, ``set_track_display(colors, visible)``: what to draw;
* ``set_selection(BarSelection)`` / signal ``selection_changed(BarSelection)``: the ruler selection;
* ``set_cursor_tick(tick, follow=False)``: the playback cursor;
* ``set_ghost_notes([(color, notes), ...])`` / ``clear_ghosts()``: generation candidates, in absolute
  ticks of the piece, drawn translucent and outlined;
* ``set_step_highlight(start_tick, end_tick, label)`` / ``clear_step_highlight()``: the bar(s) of the
  current interpolation step;
* ``fit()``, ``zoom_time(factor)``, ``zoom_pitch(factor)``, ``scroll_by(dx, dy)``;
* signals ``key_pressed(pitch)`` / ``key_released(pitch)`` from the keyboard, ``seek_requested(tick)``
  (double-click on the ruler numbers or on the notes).
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QScrollBar, QWidget

from app import theme
from app.piano_roll.bar_grid import BarGrid
from app.piano_roll.canvas import NoteCanvas
from app.piano_roll.keyboard import PianoKeyboard
from app.piano_roll.note_painter import GhostLayer, TrackLayer
from app.piano_roll.ruler import BarRuler, MimeProvider
from app.piano_roll.viewport import HIGHEST_PITCH, MAX_PX_PER_TICK, MIN_PX_PER_TICK, Viewport
from core.score import Note, Score
from core.selection import BarSelection

PITCH_SCROLL_UNITS = 8  # scroll bar steps per semitone
EMPTY_TEXT = "Open a MIDI file (Ctrl+O) or drop one here"


class PianoRoll(QWidget):
    selection_changed = Signal(object)  # BarSelection
    key_pressed = Signal(int)
    key_released = Signal(int)
    seek_requested = Signal(float)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = Viewport()
        self.score: Score | None = None
        self.grid: BarGrid | None = None
        self._colors: list[str] = []
        self._visible: list[bool] = []
        self._layer_cache: dict[tuple[int, str], TrackLayer] = {}

        self.canvas = NoteCanvas(self.view)
        self.ruler = BarRuler(self.view)
        self.keyboard = PianoKeyboard(self.view)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.vbar = QScrollBar(Qt.Orientation.Vertical)
        corner = QWidget()
        corner.setFixedSize(self.keyboard.width(), self.ruler.height())
        corner.setStyleSheet(f"background: {theme.PANEL};")

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(corner, 0, 0)
        layout.addWidget(self.ruler, 0, 1)
        layout.addWidget(self.keyboard, 1, 0)
        layout.addWidget(self.canvas, 1, 1)
        layout.addWidget(self.vbar, 1, 2)
        layout.addWidget(self.hbar, 2, 1)

        self.canvas.zoom_time_requested.connect(self.zoom_time)
        self.canvas.zoom_pitch_requested.connect(self.zoom_pitch)
        self.canvas.scroll_requested.connect(self.scroll_by)
        self.canvas.clicked.connect(self.seek_requested)
        self.ruler.selection_changed.connect(self._on_ruler_selection)
        self.ruler.seek_requested.connect(self.seek_requested)
        self.keyboard.key_pressed.connect(self.key_pressed)
        self.keyboard.key_released.connect(self.key_released)
        self.hbar.valueChanged.connect(self._on_hbar)
        self.vbar.valueChanged.connect(self._on_vbar)
        self.canvas.placeholder = EMPTY_TEXT
        self.canvas.installEventFilter(self)

    # ------------------------------------------------------------------------------ contents
    def set_score(self, score: Score | None, keep_view: bool = True) -> None:
        """Show ``score`` (``None``: nothing). With ``keep_view`` False the view fits the piece."""
        first = self.score is None
        self.score = score
        self.grid = BarGrid.of(score) if score is not None else None
        self.canvas.grid = self.ruler.grid = self.grid
        self.ruler.last_bar = score.bar_count if score is not None else None
        self.canvas.placeholder = "" if score is not None else EMPTY_TEXT
        count = len(score.tracks) if score is not None else 0
        new = range(len(self._colors), count)
        self._colors = (self._colors + [theme.track_color(i, score.tracks[i].is_drum) for i in new])[:count]  # type: ignore[union-attr]
        self._visible = (self._visible + [True] * count)[:count]
        self._rebuild_layers()
        if score is not None and (first or not keep_view):
            self.fit()
        else:
            self._changed()

    def set_track_display(self, colors: Sequence[str], visible: Sequence[bool]) -> None:
        """Colour and show/hide per track (indices as in the Score)."""
        self._colors = list(colors)
        self._visible = list(visible)
        self._rebuild_layers()
        self.canvas.update()

    def _rebuild_layers(self) -> None:
        if self.score is None:
            self.canvas.layers = []
            self._layer_cache.clear()
            return
        cache: dict[tuple[int, str], TrackLayer] = {}
        layers = []
        for index, track in enumerate(self.score.tracks):
            colour = self._colors[index] if index < len(self._colors) else theme.track_color(index, track.is_drum)
            key = (id(track), colour)
            layer = self._layer_cache.get(key)
            if layer is None or layer.track is not track:
                layer = TrackLayer(track, colour)
            cache[key] = layer
            if index >= len(self._visible) or self._visible[index]:
                layers.append(layer)
        self._layer_cache = cache
        self.canvas.layers = layers

    # ----------------------------------------------------------------------------- selection
    @property
    def selection(self) -> BarSelection:
        return self.ruler.selection

    def set_selection(self, selection: BarSelection) -> None:
        if selection != self.ruler.selection:
            self.ruler.selection = selection
            self.canvas.selection = selection
            self.ruler.update()
            self.canvas.update()
            self.selection_changed.emit(selection)

    def _on_ruler_selection(self, selection: BarSelection) -> None:
        self.canvas.selection = selection
        self.canvas.update()
        self.selection_changed.emit(selection)

    def set_mime_provider(self, provider: MimeProvider | None) -> None:
        """Where the ruler gets the data for dragging the seed bars out (a .mid file URL)."""
        self.ruler.mime_provider = provider

    # ------------------------------------------------------------------ cursor, ghosts, highlight
    def set_cursor_tick(self, tick: float | None, follow: bool = False) -> None:
        """Put the playback cursor at ``tick`` (``None`` hides it); with ``follow`` the view pages
        along when the cursor leaves it."""
        if follow and tick is not None and not self.view.left_tick <= tick < self.view.right_tick * 0.98:
            visible = self.view.right_tick - self.view.left_tick
            self.view.scroll_to_tick(tick - 0.05 * visible)
            self.canvas.cursor_tick = self.ruler.cursor_tick = tick
            self._changed()
            return
        self.canvas.set_cursor_tick(tick)
        self.ruler.cursor_tick = tick
        self.ruler.update()

    @property
    def cursor_tick(self) -> float | None:
        return self.canvas.cursor_tick

    def set_ghost_notes(self, groups: Sequence[tuple[str | QColor, Sequence[Note]]]) -> None:
        """Draw candidate notes: ``groups`` is a list of (track colour, notes in absolute ticks)."""
        self.canvas.ghosts = GhostLayer(groups)
        self.canvas.update()

    def clear_ghosts(self) -> None:
        self.canvas.ghosts = None
        self.canvas.update()

    @property
    def has_ghosts(self) -> bool:
        return self.canvas.ghosts is not None and not self.canvas.ghosts.empty

    def set_step_highlight(self, start_tick: int, end_tick: int, label: str = "") -> None:
        """Frame ticks ``start_tick``-``end_tick`` (an interpolation step) with a caption."""
        self.canvas.highlight = (start_tick, end_tick, label)
        self._changed()  # the scroll range reaches a highlight past the music, and it is drawn

    def clear_step_highlight(self) -> None:
        self.canvas.highlight = None
        self.canvas.update()

    # ---------------------------------------------------------------------------- navigation
    def fit(self) -> None:
        """Show the whole piece (Ctrl+0)."""
        self._sync_size()
        if self.score is None or self.score.notes_count == 0:
            end = self.grid.span(1, 4)[1] if self.grid is not None else 4 * 4 * 480
            self.view.fit(0, end, 48, 84)
        else:
            pitches = [t.pitch_range for t in self.score.tracks if t.pitch_range]
            low = min(p[0] for p in pitches)
            high = max(p[1] for p in pitches)
            end = self.grid.span(1, self.grid.bar_at(max(0, self.score.end_tick - 1)))[1] if self.grid else self.score.end_tick
            self.view.fit(0, end, low, high)
        self._changed()

    def zoom_time(self, factor: float, anchor_x: float | None = None) -> None:
        self.view.zoom_time(factor, self.view.width / 2 if anchor_x is None else anchor_x)
        self._changed()

    def zoom_to_ticks(self, start_tick: float, end_tick: float) -> None:
        """Show ticks ``start_tick``-``end_tick`` across the whole width (pitches stay): zoom to the
        selection, and the preview of new bars made readable."""
        self._sync_size()
        span = max(1.0, end_tick - start_tick)
        self.view.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, self.view.width * 0.96 / span))
        self.view.scroll_to_tick(start_tick - 0.02 * span)
        self._changed()

    def zoom_pitch(self, factor: float, anchor_y: float | None = None) -> None:
        self.view.zoom_pitch(factor, self.view.height / 2 if anchor_y is None else anchor_y)
        self._changed()

    def scroll_by(self, dx: float, dy: float) -> None:
        """Scroll by pixels (positive: later in time, lower in pitch)."""
        if dx:
            self.view.scroll_to_tick(self.view.left_tick + dx / self.view.px_per_tick)
        if dy:
            self.view.scroll_to_pitch(self.view.top_pitch - dy / self.view.row_height)
        self._changed()

    def scroll_to_tick(self, tick: float) -> None:
        self.view.scroll_to_tick(tick)
        self._changed()

    def reveal(self, start_tick: float, end_tick: float) -> None:
        """Scroll (never zoom) so that the music from ``start_tick`` on comes into sight, unless
        ``start_tick``-``end_tick`` is in sight already: a candidate appears where the eye can see it."""
        view = self.view
        if start_tick >= view.left_tick and end_tick <= view.right_tick:
            return
        self.scroll_to_tick(max(0.0, start_tick - 0.1 * (view.right_tick - view.left_tick)))

    # -------------------------------------------------------------------------------- syncing
    def _sync_size(self) -> None:
        self.view.width = max(1, self.canvas.width())
        self.view.height = max(1, self.canvas.height())
        self.view.row_height = max(self.view.row_height, self.view.min_row_height)
        self.view.scroll_to_pitch(self.view.top_pitch)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.canvas and event.type() == event.Type.Resize:
            self._sync_size()
            self._changed()
        return False

    def _content_end(self) -> float:
        """Scrolling reaches 16 empty bars past the music (room to continue into)."""
        if self.grid is None or self.score is None:
            return self.view.right_tick
        last = self.grid.bar_at(max(0, self.score.end_tick - 1))
        end = float(self.grid.span(1, min(self.grid.count, last + 16))[1])
        shown = float(self.canvas.highlight[1]) if self.canvas.highlight is not None else 0.0
        return max(end, shown, self.view.right_tick)

    def _changed(self) -> None:
        view = self.view
        visible_ticks = max(1, int(view.right_tick - view.left_tick))
        self.hbar.blockSignals(True)
        self.hbar.setRange(0, max(0, int(self._content_end()) - visible_ticks))
        self.hbar.setPageStep(visible_ticks)
        self.hbar.setSingleStep(max(1, visible_ticks // 20))
        self.hbar.setValue(int(view.left_tick))
        self.hbar.blockSignals(False)
        visible_rows = view.height / view.row_height
        self.vbar.blockSignals(True)
        self.vbar.setRange(0, max(0, int((HIGHEST_PITCH + 1 - visible_rows) * PITCH_SCROLL_UNITS)))
        self.vbar.setPageStep(int(visible_rows * PITCH_SCROLL_UNITS))
        self.vbar.setSingleStep(PITCH_SCROLL_UNITS)
        self.vbar.setValue(int((HIGHEST_PITCH + 1 - view.top_pitch) * PITCH_SCROLL_UNITS))
        self.vbar.blockSignals(False)
        self.canvas.update()
        self.ruler.update()
        self.keyboard.update()
        self.view_changed.emit()

    def _on_hbar(self, value: int) -> None:
        self.view.scroll_to_tick(float(value))
        self._changed()

    def _on_vbar(self, value: int) -> None:
        self.view.scroll_to_pitch(HIGHEST_PITCH + 1 - value / PITCH_SCROLL_UNITS)
        self._changed()
