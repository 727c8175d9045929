"""The piano roll: ruler on top, keyboard at the left, notes in the middle, scroll bars around.

This is the one widget the window uses; it owns the :class:`Viewport` its parts share and offers:

* ``set_score(score)``, ``set_track_display(colors, visible)``: what to draw;
* ``set_selection(BarSelection)`` / signal ``selection_changed(BarSelection)``: the ruler selection;
* ``set_cursor_tick(tick, follow=False)``: the playback cursor;
* ``set_ghost_notes([(color, notes), ...])`` / ``clear_ghosts()``: generation candidates, in absolute
  ticks of the piece, drawn translucent and outlined;
* ``set_step_highlight(start_tick, end_tick, label)`` / ``clear_step_highlight()``: the bar(s) of the
  current interpolation step;
* ``chord_lane``: the chords of each bar and half bar above the notes, editable by typing;
* ``fit()``, ``zoom_time(factor)``, ``zoom_pitch(factor)``, ``scroll_by(dx, dy)``;
* signals ``key_pressed(pitch)`` / ``key_released(pitch)`` from the keyboard, ``seek_requested(tick)``
  (double-click on the ruler numbers or on the notes);
* ``editor`` (:class:`app.piano_roll.editor.NoteEditor`): the tools, the grid, the note selection and
  the note edits, emitted as ``editor.edit_requested(NoteEdit, text)``; ``editor.actions`` are the
  roll's own commands (acting while the roll has the focus);
* ``expect(before, after, changes)``: told before a note edit is shown, the roll updates only the
  changed notes of its drawing instead of indexing the edited tracks again.

Drum tracks (channel 10) are drawn in the drum lane under the notes, with their General MIDI names;
the velocity lane at the bottom shows and edits the notes' velocities.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollBar, QWidget

from app import theme
from app.piano_roll.bar_grid import BarGrid
from app.piano_roll.canvas import NoteCanvas
from app.piano_roll.chord_lane import ChordLane
from app.piano_roll.keyboard import PianoKeyboard
from app.piano_roll.drum_lane import DrumLane
from app.piano_roll.editor import NoteEditor
from app.piano_roll.header import EditHeader
from app.piano_roll.note_index import NoteIndex
from app.piano_roll.note_painter import GhostLayer, TrackLayer
from app.piano_roll.ruler import BarRuler, MimeProvider
from app.piano_roll.selection_layer import SelectionLayer
from app.piano_roll.velocity_lane import VelocityLane
from app.piano_roll.viewport import HIGHEST_PITCH, MAX_PX_PER_TICK, MIN_PX_PER_TICK, Viewport
from core.music.edits import NoteChange
from core.music.score import Note, Score
from core.music.selection import BarSelection, NoteSelection

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
        self._pitched: list[tuple[int, TrackLayer]] = []  # (track index, layer) drawn in the roll
        self._drums: list[tuple[int, TrackLayer]] = []  # ... and in the drum lane
        self._lifted: dict[int, TrackLayer] = {}  # layers without the notes a drag is moving
        self._expected: tuple[Score, Score, tuple[NoteChange, ...]] | None = None
        self._selection_layer: SelectionLayer | None = None
        self._selection_index: NoteIndex | None = None  # the selected notes of the shown tracks
        self._time_axis: tuple[float, float, int] | None = None  # what the lanes were last drawn for

        self.canvas = NoteCanvas(self.view)
        self.ruler = BarRuler(self.view)
        self.chord_lane = ChordLane(self.view)
        self.keyboard = PianoKeyboard(self.view)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.vbar = QScrollBar(Qt.Orientation.Vertical)
        self.editor = NoteEditor(self)
        self.canvas.editor = self.editor
        self.header = EditHeader(self.editor)
        self.drum_lane = DrumLane(self)
        self.velocity_lane = VelocityLane(self)
        corner = QWidget()
        corner.setFixedSize(self.keyboard.width(), self.ruler.height())
        corner.setStyleSheet(f"background: {theme.PANEL};")
        self.drum_corner = QLabel("Drums")
        self.drum_corner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drum_corner.setStyleSheet(f"background: {theme.PANEL}; color: {theme.TEXT_DIM};")
        self.drum_corner.hide()
        velocity_corner = QLabel("Velocity")
        velocity_corner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        velocity_corner.setStyleSheet(f"background: {theme.PANEL}; color: {theme.TEXT_DIM};")

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header, 0, 0, 1, 3)
        layout.addWidget(corner, 1, 0)
        layout.addWidget(self.ruler, 1, 1)
        lane_corner = QWidget()
        lane_corner.setFixedSize(self.keyboard.width(), self.chord_lane.height())
        lane_corner.setStyleSheet(f"background: {theme.PANEL};")
        layout.addWidget(lane_corner, 2, 0)
        layout.addWidget(self.chord_lane, 2, 1)
        layout.addWidget(self.keyboard, 3, 0)
        layout.addWidget(self.canvas, 3, 1)
        layout.addWidget(self.vbar, 3, 2)
        layout.addWidget(self.drum_corner, 4, 0)
        layout.addWidget(self.drum_lane, 4, 1)
        layout.addWidget(velocity_corner, 5, 0)
        layout.addWidget(self.velocity_lane, 5, 1)
        layout.addWidget(self.hbar, 6, 1)

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
        previous = self.score
        expected, self._expected = self._expected, None
        spliced = expected is not None and expected[0] is previous and expected[1] is score
        if spliced and previous is not None and score is not None:
            self._splice_layers(previous, score, expected[2])  # type: ignore[index]
        self.cancel_gesture()
        self._lifted = {}
        self.score = score
        old_grid = self.grid
        self.grid = self._grid_for(previous, score)
        self.canvas.grid = self.ruler.grid = self.grid
        self.chord_lane.set_score(score, new_piece=first or not keep_view)
        self.ruler.last_bar = score.bar_count if score is not None else None
        self.canvas.placeholder = "" if score is not None else EMPTY_TEXT
        count = len(score.tracks) if score is not None else 0
        new = range(len(self._colors), count)
        self._colors = (self._colors + [theme.track_color(i, score.tracks[i].is_drum) for i in new])[:count]  # type: ignore[union-attr]
        self._visible = (self._visible + [True] * count)[:count]
        self._rebuild_layers(show_selection=not spliced)
        self.header.set_score(score)
        if not keep_view:  # another piece: nothing of the old one stays selected
            self.editor.set_selection(NoteSelection())
        elif not spliced:  # a note edit sets its own selection; anything else keeps what is still there
            self.editor.forget_missing(score)
        if score is not None and (first or not keep_view):
            self.fit()
        else:
            self._changed(frame=not spliced or self.grid is not old_grid)  # a note edit inside the bars leaves the ruler and keys

    def expect(self, before: Score, after: Score, changes: Sequence[NoteChange]) -> None:
        """The next ``set_score(after)``, coming from ``before``, changes only these notes."""
        self._expected = (before, after, tuple(changes))

    def _splice_layers(self, before: Score, after: Score, changes: tuple[NoteChange, ...]) -> None:
        """Update the cached layers of the changed tracks note by note (a track changed twice in one
        edit, or a layer that does not match, is indexed again as usual)."""
        touched = [c.track for c in changes]
        for change in changes:
            index = change.track
            if touched.count(index) > 1 or index >= len(before.tracks) or index >= len(after.tracks):
                continue
            old_track = before.tracks[index]
            colour = self._colors[index] if index < len(self._colors) else theme.track_color(index, old_track.is_drum)
            layer = self._layer_cache.get((id(old_track), colour))
            if layer is None or layer.track is not old_track:
                continue
            try:
                new_layer = layer.changed(after.tracks[index], change.removed, change.added)
            except KeyError:
                continue
            self._layer_cache[(id(after.tracks[index]), colour)] = new_layer

    def _grid_for(self, previous: Score | None, score: Score | None) -> BarGrid | None:
        """The bar grid of ``score``: the one shown already when the meters and bar count are the
        same (a note edit inside the piece), else built anew."""
        if score is None:
            return None
        if (
            self.grid is not None
            and previous is not None
            and previous.ticks_per_quarter == score.ticks_per_quarter
            and previous.time_signatures == score.time_signatures
            and previous.bar_count == score.bar_count
        ):
            return self.grid
        return BarGrid.of(score)

    def set_track_display(self, colors: Sequence[str], visible: Sequence[bool]) -> None:
        """Colour and show/hide per track (indices as in the Score)."""
        shown_changed = list(visible) != self._visible  # else the selection drawn stays right
        self._colors = list(colors)
        self._visible = list(visible)
        self._rebuild_layers(show_selection=shown_changed)
        self.canvas.update()

    def _rebuild_layers(self, show_selection: bool = True) -> None:
        if self.score is None:
            self.canvas.layers = []
            self._layer_cache.clear()
            return
        cache: dict[tuple[int, str], TrackLayer] = {}
        self._pitched, self._drums = [], []
        for index, track in enumerate(self.score.tracks):
            colour = self._colors[index] if index < len(self._colors) else theme.track_color(index, track.is_drum)
            key = (id(track), colour)
            layer = self._layer_cache.get(key)
            if layer is None or layer.track is not track:
                layer = TrackLayer(track, colour)
            cache[key] = layer
            if index >= len(self._visible) or self._visible[index]:
                (self._drums if track.is_drum else self._pitched).append((index, layer))
        self._layer_cache = cache
        self._show_layers()
        keys: set[int] = set()
        for _index, layer in self._drums:
            keys.update(np.unique(layer.all.pitches).tolist())
        if sorted(keys) != self.drum_lane.keys:
            self.drum_lane.set_keys(sorted(keys))
            self.drum_corner.setVisible(bool(keys))
        if show_selection:  # (a note edit shows its own selection next)
            self.show_note_selection(self.editor.selection)

    def _show_layers(self) -> None:
        self.canvas.layers = [self._lifted.get(index, layer) for index, layer in self._pitched]
        self.canvas.update()
        self.drum_lane.update()
        self.velocity_lane.update()

    # ------------------------------------------------------------------------ notes on screen
    def shown_layers(self) -> list[tuple[int, TrackLayer]]:
        """(track index, layer) of every shown track, pitched and drums."""
        return self._pitched + self._drums

    def drum_layers(self) -> list[tuple[int, TrackLayer]]:
        return list(self._drums)

    def shown_tracks(self) -> list[int]:
        return sorted(index for index, _layer in self.shown_layers())

    def note_at(self, x: float, y: float) -> tuple[int, Note] | None:
        """The note drawn under canvas point (x, y) (the topmost), as (track index, note)."""
        view = self.view
        pitch = view.pitch_of(y)
        tick = view.tick_of(x)
        slack = 2.0 / view.px_per_tick
        for track, layer in reversed(self._pitched):
            index = layer.all
            chosen = index.visible(tick - slack, tick + slack, pitch, pitch)
            if len(chosen):
                inside = [j for j in chosen.tolist() if index.starts[j] <= tick < index.ends[j]]
                j = inside[-1] if inside else int(chosen[-1])
                return track, index.note(j)
        return None

    def notes_in_rect(self, rect: QRectF) -> NoteSelection:
        """The notes of the pitched tracks that a canvas rectangle touches."""
        view = self.view
        t0, t1 = view.tick_of(rect.left()), view.tick_of(rect.right())
        high, low = view.pitch_of(rect.top()), view.pitch_of(rect.bottom())
        pairs = []
        for track, layer in self._pitched:
            index = layer.all
            for j in index.visible(t0, t1, low, high).tolist():
                pairs.append((track, index.note(j)))
        return NoteSelection(frozenset(pairs))

    def show_note_selection(self, selection: NoteSelection) -> None:
        pitched = {index for index, _layer in self._pitched}
        self._selection_layer = SelectionLayer(selection, pitched) if selection else None
        self.canvas.selection_layer = self._selection_layer
        shown = set(self.shown_tracks())
        chosen = [note for track, note in selection if track in shown]
        self._selection_index = NoteIndex.build(chosen) if chosen else None
        self.canvas.update()
        self.drum_lane.update()
        self.velocity_lane.update()

    def selection_index(self) -> NoteIndex | None:
        """The selected notes of the shown tracks, indexed (for the velocity lane)."""
        return self._selection_index

    def lift(self, selection: NoteSelection | None) -> None:
        """Draw the tracks without the notes of ``selection`` (a drag is moving them; they are drawn
        by the selection layer); ``None`` puts them back."""
        self._lifted = {}
        self.canvas.drag_offset = (0, 0, 0)
        if selection:
            for index, layer in self._pitched:
                notes = selection.by_track.get(index)
                if notes:
                    try:
                        self._lifted[index] = layer.changed(layer.track, notes, ())
                    except KeyError:
                        pass
        self._show_layers()

    def cancel_gesture(self) -> bool:
        """Esc: cancel a drag going on in the roll, the drum lane or the velocity lane (nothing changes).
        True when one was cancelled; False leaves Esc to its other job (Panic)."""
        cancelled = [self.editor.cancel_drag(), self.drum_lane.cancel_drag(), self.velocity_lane.cancel_drag()]
        return any(cancelled)

    def show_drag(self, ticks: int, semitones: int, longer: int) -> None:
        self.canvas.drag_offset = (ticks, semitones, longer)
        self.canvas.update()

    def show_drawn_note(self, note: Note | None) -> None:
        index = self.editor.active_track
        colour = self._colors[index] if 0 <= index < len(self._colors) else theme.ACCENT
        self.canvas.drawn_note = None if note is None else (note, colour)
        self.canvas.update()

    def show_band(self, band: QRectF | None) -> None:
        self.canvas.band = band
        self.canvas.update()

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

    def _changed(self, frame: bool = True) -> None:
        """Scroll bars follow the view; the notes and lanes are repainted, and with ``frame`` the
        ruler and the keyboard too."""
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
        if frame:
            self.ruler.update()
            self.keyboard.update()
        time_axis = (view.left_tick, view.px_per_tick, view.width)
        if time_axis != self._time_axis:  # the lanes show no pitches: scrolling in pitch leaves them
            self._time_axis = time_axis
            self.chord_lane.update()
            self.drum_lane.update()
            self.velocity_lane.update()
        self.view_changed.emit()

    def _on_hbar(self, value: int) -> None:
        self.view.scroll_to_tick(float(value))
        self._changed()

    def _on_vbar(self, value: int) -> None:
        self.view.scroll_to_pitch(HIGHEST_PITCH + 1 - value / PITCH_SCROLL_UNITS)
        self._changed()
