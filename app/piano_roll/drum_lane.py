"""The drum lane: channel-10 tracks on rows of their own, one per drum the piece plays, each named as
General MIDI names it ("Acoustic Snare", "Closed Hi-Hat").

A drum note's pitch picks an instrument, not a pitch, so drum tracks are drawn here instead of among
the pitched rows. Hits are short blocks at their start (a drum's length rarely matters) in the track's
colour, selected ones bright. A click selects a hit (Shift adds it); a drag moves the selected hits
(time on the grid, and to another drum row: the anchor hit becomes that drum), one undo step when the
button is released (Esc cancels it); a click on empty space clears the selection (with the pencil: draws a hit there, on the grid, into the drum track picked in the
header, or the first drum track); the right button deletes a hit. The note edits of the roll
(Delete, arrows, copy and paste, the velocity lane) act on selected hits as on any note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app import theme
from app.piano_roll.selection_layer import SELECTED_FILL
from core.music import edits
from core.music.gm import drum_name
from core.music.score import Note
from core.music.selection import NoteSelection

if TYPE_CHECKING:
    from app.piano_roll.view import PianoRoll

ROW_HEIGHT = 15
MAX_HEIGHT = 200
MAX_NAME_WIDTH = 140  # the names' panel is as wide as the longest name, up to this
HIT_MIN_PX = 4.0


@dataclass
class HitDrag:
    """A drag of the selected hits in progress: the hit it started on, where, and how far it has gone
    (grid-snapped ticks, and the key change that puts the anchor on the row under the pointer)."""

    anchor: Note
    press_tick: float
    clicked: tuple[int, Note] | None = None  # the hit pressed without Shift: a click alone selects just it
    ticks: int = 0
    semitones: int = 0


class DrumLane(QWidget):
    def __init__(self, roll: "PianoRoll") -> None:
        super().__init__(roll)
        self.roll = roll
        self.keys: list[int] = []  # the drum keys played, top row first
        self.drag: HitDrag | None = None
        self.setToolTip("Drums (channel 10): click a hit to select it, Shift+click to add, drag to move")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.hide()

    def set_keys(self, keys: list[int]) -> None:
        """Show rows for ``keys`` (hidden when there are none)."""
        self.keys = sorted(keys)
        self.setVisible(bool(self.keys))
        self.setFixedHeight(min(MAX_HEIGHT, max(1, len(self.keys)) * ROW_HEIGHT))

    @property
    def row_height(self) -> float:
        return self.height() / max(1, len(self.keys))

    def row_of(self, key: int) -> int | None:
        return self.keys.index(key) if key in self.keys else None

    def key_at(self, y: float) -> int | None:
        row = int(y // self.row_height)
        return self.keys[row] if 0 <= row < len(self.keys) else None

    def names(self) -> list[str]:
        """The row labels, top first."""
        return [drum_name(key) for key in self.keys]

    # ------------------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.ROW_WHITE))
        view = self.roll.view
        row = self.row_height
        width = self.width()
        for index in range(1, len(self.keys), 2):
            painter.fillRect(QRectF(0, index * row, width, row), QColor(theme.ROW_BLACK))
        t0, t1 = view.left_tick, view.right_tick
        selected = self.roll.editor.selection.by_track
        row_of = {key: i for i, key in enumerate(self.keys)}
        drag = self.drag
        for track, layer in self.roll.drum_layers():
            chosen = layer.all.visible(t0, t1, 0, 127)
            if len(chosen) == 0:
                continue
            index = layer.all
            picked = set(selected.get(track, ()))
            plain, bright = [], []
            xs = (index.starts[chosen] - t0) * view.px_per_tick
            widths = np.maximum(HIT_MIN_PX, (index.ends[chosen] - index.starts[chosen]) * view.px_per_tick * 0.5)
            dx, semitones = (drag.ticks * view.px_per_tick, drag.semitones) if drag is not None else (0.0, 0)
            for x, w, j in zip(xs.tolist(), np.minimum(widths, 12.0).tolist(), chosen.tolist()):
                pitch = int(index.pitches[j])
                if index.note(j) in picked:
                    key = pitch + semitones if pitch + semitones in row_of else pitch
                    bright.append(QRectF(x + dx, row_of.get(key, 0) * row + 2, w, row - 4))
                else:
                    plain.append(QRectF(x, row_of.get(pitch, 0) * row + 2, w, row - 4))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(layer.color))
            painter.drawRects(plain)
            if bright:
                painter.setPen(QPen(QColor(theme.ACCENT), 1))
                painter.setBrush(QColor(SELECTED_FILL))
                painter.drawRects(bright)
        cursor = self.roll.cursor_tick
        if cursor is not None:
            painter.fillRect(QRectF(view.x_of(cursor), 0, 2, self.height()), QColor(theme.CURSOR))
        labels = self.names()
        metrics = painter.fontMetrics()
        panel = min(MAX_NAME_WIDTH, 12 + max((metrics.horizontalAdvance(name) for name in labels), default=0))
        names = QColor(theme.PANEL)
        names.setAlpha(215)
        painter.fillRect(QRectF(0, 0, panel, self.height()), names)
        painter.setPen(QColor(theme.TEXT))
        for index, name in enumerate(labels):
            painter.drawText(
                QRectF(6, index * row, panel - 8, row), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name
            )
        painter.fillRect(QRectF(0, 0, width, 1), QColor(theme.BORDER))
        painter.end()

    # --------------------------------------------------------------------------------- mouse
    def hit_at(self, x: float, y: float) -> tuple[int, Note] | None:
        """The drum hit under a point of the lane."""
        key = self.key_at(y)
        if key is None:
            return None
        view = self.roll.view
        tick = view.tick_of(x)
        slack = HIT_MIN_PX / view.px_per_tick
        for track, layer in reversed(self.roll.drum_layers()):
            index = layer.all
            chosen = index.visible(tick - slack, tick + slack, key, key)
            if len(chosen):
                return track, index.note(int(chosen[-1]))
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        editor = self.roll.editor
        score = self.roll.score
        if score is None:
            return
        hit = self.hit_at(event.position().x(), event.position().y())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.roll.canvas.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.RightButton and hit is not None:
            chosen = editor.selection if hit in editor.selection else NoteSelection.of([hit])
            editor.request(edits.delete_notes(score, chosen), f"Delete {chosen.describe()}")
        elif event.button() == Qt.MouseButton.LeftButton:
            key = self.key_at(event.position().y())
            if hit is None and editor.tool == "pencil" and key is not None:
                self._draw(key, self.roll.view.tick_of(event.position().x()))
            elif hit is None:
                if not shift:
                    editor.set_selection(NoteSelection())
            elif shift:
                editor.set_selection(editor.selection.toggled(NoteSelection.of([hit])))
                if hit in editor.selection:
                    self.drag = HitDrag(hit[1], self.roll.view.tick_of(event.position().x()))
            else:
                if hit not in editor.selection:
                    editor.set_selection(NoteSelection.of([hit]))
                self.drag = HitDrag(hit[1], self.roll.view.tick_of(event.position().x()), clicked=hit)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Drag the selected hits: the anchor's start snaps to the grid, its row follows the pointer."""
        drag, score = self.drag, self.roll.score
        if drag is None or score is None:
            return
        editor = self.roll.editor
        raw = round(self.roll.view.tick_of(event.position().x()) - drag.press_tick)
        start = editor.selection.start or 0
        ticks = max(editor.grid.nearest(score, max(0, drag.anchor.start + raw)) - drag.anchor.start, -start)
        key = self.key_at(min(max(event.position().y(), 0.0), self.height() - 1.0))
        semitones = 0 if key is None else key - drag.anchor.pitch
        pitches = [note.pitch for _t, note in editor.selection]
        semitones = min(max(semitones, -min(pitches)), 127 - max(pitches))
        if (ticks, semitones) != (drag.ticks, drag.semitones):
            drag.ticks, drag.semitones = ticks, semitones
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        drag, score, self.drag = self.drag, self.roll.score, None
        if drag is None or score is None:
            return
        editor = self.roll.editor
        if drag.ticks or drag.semitones:
            edit = edits.move_notes(score, editor.selection, drag.ticks, drag.semitones)
            editor.request(edit, f"Move {editor.selection.describe()}")
        elif drag.clicked is not None and len(editor.selection) > 1:
            editor.set_selection(NoteSelection.of([drag.clicked]))  # a click, not a drag: just that hit
        self.update()

    def cancel_drag(self) -> bool:
        """Esc during a drag: the hits stay where they were. True when a drag was going on."""
        if self.drag is None:
            return False
        self.drag = None
        self.update()
        return True

    def _draw(self, key: int, tick: float) -> None:
        """The pencil in the drum lane: a hit of ``key`` one grid step long at the grid line before
        ``tick``, into the picked track when it is a drum track, else the first drum track shown."""
        editor = self.roll.editor
        score = self.roll.score
        drums = [index for index, _layer in self.roll.drum_layers()]
        if score is None or not drums:
            return
        track = editor.active_track if editor.active_track in drums else drums[0]
        start = editor.grid.floor(score, max(0, int(tick)))
        end = max(start + 1, editor.grid.next(score, start))
        editor.request(edits.add_notes(score, track, [Note(start, end - start, key, editor.new_velocity)]), "Draw drum hit")
