"""Editing notes in the piano roll: the tools, the grid, the note selection and every note edit.

The :class:`NoteEditor` turns mouse gestures and commands into :class:`core.music.edits.NoteEdit` plans and
emits them (``edit_requested(edit, text)``); it never changes the piece itself. Whoever owns the
document applies them as one undo step each (:mod:`app.note_editing`) and hands the new piece back
to the roll. While a gesture goes on, only a preview is drawn: the dragged notes are lifted out of
their tracks' layers once, when the drag starts, and drawn moved under a translation each frame, so
a drag costs a repaint per mouse move whatever the size of the piece.

Gestures (left button): with the **select** tool, a click on a note selects it (Shift adds or takes
it away), a drag moves the selection (time snapped to the grid, pitch by rows), a drag near a note's
right end resizes the selection, a drag on empty space selects the notes in a box. The **pencil**
draws a note one grid step long where it is clicked (drag right for a longer one) into the active
track; on a note it acts like the select tool. The right button deletes the note under it (the whole
selection when that note is selected).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QMouseEvent

from app.actions import NOTE_ACTION_SPECS, make_action
from core.music import edits
from core.music.edits import Clip, NoteEdit
from core.errors import EditError
from core.music.grid import GRIDS, Grid
from core.music.score import Note, Score
from core.music.selection import NoteSelection

if TYPE_CHECKING:
    from app.piano_roll.view import PianoRoll

SELECT = "select"
PENCIL = "pencil"
RESIZE_GRIP_PX = 6.0  # this close to a note's right end, a drag resizes
HIT_SLACK_PX = 2.0
DEFAULT_VELOCITY = 80
VELOCITY_STEP = 8
GRID_NAMES = tuple(grid.name for grid in GRIDS)


def near_right_end(view, note: Note, x: float) -> bool:
    """True when ``x`` is on the resize grip of ``note`` (its last pixels, at most a third of it)."""
    right = view.x_of(note.end)
    return right - x <= min(RESIZE_GRIP_PX, (right - view.x_of(note.start)) / 3)


@dataclass
class Drag:
    """One gesture in progress."""

    kind: str  # "move", "resize", "band", "draw"
    press: QPointF
    press_tick: float
    press_pitch: int
    shift: bool = False
    anchor: Note | None = None  # the note the gesture started on
    clicked: tuple[int, Note] | None = None
    ticks: int = 0
    semitones: int = 0
    longer: int = 0
    now: QPointF | None = None
    note: Note | None = None  # the note being drawn
    lifted: bool = False  # the moving notes are taken out of their tracks' drawing (on the first move)


class NoteEditor(QObject):
    edit_requested = Signal(object, str)  # NoteEdit, the undo text
    selection_changed = Signal(object)  # NoteSelection
    tool_changed = Signal(str)
    grid_changed = Signal(object)  # Grid
    active_track_changed = Signal(int)
    problem = Signal(str)  # an edit that cannot be made, in words

    def __init__(self, roll: "PianoRoll") -> None:
        super().__init__(roll)
        self.roll = roll
        self.tool = SELECT
        self.grid = Grid(16)
        self.active_track = 0
        self.selection = NoteSelection()
        self.clip: Clip | None = None
        self.drag: Drag | None = None
        self.new_velocity = DEFAULT_VELOCITY
        self.actions: dict[str, QAction] = {}
        for spec in NOTE_ACTION_SPECS:
            action = make_action(spec, roll, Qt.ShortcutContext.WidgetWithChildrenShortcut)
            roll.addAction(action)
            self.actions[spec.name] = action
        self._connect_actions()
        self._update_actions()

    # ------------------------------------------------------------------------------ settings
    def _connect_actions(self) -> None:
        a = self.actions
        a["select_tool"].triggered.connect(lambda: self.set_tool(SELECT))
        a["pencil_tool"].triggered.connect(lambda: self.set_tool(PENCIL))
        a["grid_finer"].triggered.connect(lambda: self.set_grid(self.grid.finer()))
        a["grid_coarser"].triggered.connect(lambda: self.set_grid(self.grid.coarser()))
        a["grid_triplet"].triggered.connect(lambda on: self.set_grid(Grid(self.grid.division, bool(on))))
        a["select_notes"].triggered.connect(self.select_all)
        a["copy_notes"].triggered.connect(self.copy)
        a["cut_notes"].triggered.connect(self.cut)
        a["paste_notes"].triggered.connect(self.paste)
        a["duplicate_notes"].triggered.connect(self.duplicate)
        a["delete_notes"].triggered.connect(self.delete)
        a["quantize_notes"].triggered.connect(self.quantize)
        a["move_earlier"].triggered.connect(lambda: self.move_by(-1, 0))
        a["move_later"].triggered.connect(lambda: self.move_by(1, 0))
        a["move_up"].triggered.connect(lambda: self.move_by(0, 1))
        a["move_down"].triggered.connect(lambda: self.move_by(0, -1))
        a["octave_up"].triggered.connect(lambda: self.move_by(0, 12))
        a["octave_down"].triggered.connect(lambda: self.move_by(0, -12))
        a["lengthen_notes"].triggered.connect(lambda: self.resize_by(1))
        a["shorten_notes"].triggered.connect(lambda: self.resize_by(-1))
        a["louder_notes"].triggered.connect(lambda: self.change_velocity(VELOCITY_STEP))
        a["softer_notes"].triggered.connect(lambda: self.change_velocity(-VELOCITY_STEP))
        a["select_tool"].setChecked(True)

    def _update_actions(self) -> None:
        has_piece = self.score is not None
        selected = has_piece and bool(self.selection)
        for name in (
            "copy_notes", "cut_notes", "duplicate_notes", "delete_notes", "quantize_notes", "move_earlier",
            "move_later", "move_up", "move_down", "octave_up", "octave_down", "lengthen_notes", "shorten_notes",
            "louder_notes", "softer_notes",
        ):  # fmt: skip
            self.actions[name].setEnabled(selected)
        self.actions["select_notes"].setEnabled(has_piece)
        self.actions["paste_notes"].setEnabled(has_piece and self.clip is not None)

    def set_tool(self, tool: str) -> None:
        if tool not in (SELECT, PENCIL):
            raise ValueError(f"no tool {tool!r}")
        self.tool = tool
        self.actions["select_tool"].setChecked(tool == SELECT)
        self.actions["pencil_tool"].setChecked(tool == PENCIL)
        self.roll.canvas.setCursor(Qt.CursorShape.CrossCursor if tool == PENCIL else Qt.CursorShape.ArrowCursor)
        self.tool_changed.emit(tool)

    def set_grid(self, grid: Grid) -> None:
        self.grid = grid
        self.actions["grid_triplet"].setChecked(grid.triplet)
        self.grid_changed.emit(grid)

    def set_active_track(self, index: int) -> None:
        self.active_track = index
        self.active_track_changed.emit(index)

    @property
    def score(self) -> Score | None:
        return self.roll.score

    # ----------------------------------------------------------------------------- selection
    def set_selection(self, selection: NoteSelection) -> None:
        """Select ``selection`` (tracks the piece lacks are dropped) and draw it."""
        if self.score is not None:
            count = len(self.score.tracks)
            if any(track >= count for track in selection.by_track):
                selection = NoteSelection(frozenset(p for p in selection if p[0] < count))
        self.selection = selection
        self.roll.show_note_selection(selection)
        self._update_actions()
        self.selection_changed.emit(selection)

    def select_all(self) -> None:
        """Ctrl+A: every note of the seed bars, or of the piece when no bars are selected (of the
        tracks shown)."""
        score = self.score
        if score is None:
            return
        tracks = self.roll.shown_tracks()
        seed = self.roll.selection.seed
        if seed is not None:
            self.set_selection(edits.notes_in_bars(score, seed.first, seed.last, tracks))
        else:
            self.set_selection(edits.notes_in_span(score, 0, score.end_tick + 1, tracks))

    def forget_missing(self, score: Score | None) -> None:
        """Keep only the selected notes that the new piece still has (after an undo or an edit made
        elsewhere)."""
        if score is None:
            self.set_selection(NoteSelection())
            return
        kept = [
            (track, note)
            for track, note in self.selection
            if track < len(score.tracks) and _holds(score.tracks[track].notes, note)
        ]
        if len(kept) != len(self.selection):
            self.set_selection(NoteSelection(frozenset(kept)))
        else:
            self._update_actions()

    # ---------------------------------------------------------------------------------- edits
    def request(self, edit: NoteEdit, text: str) -> None:
        if not edit.empty:
            self.edit_requested.emit(edit, text)

    def _plan(self, text: str, plan, *args) -> None:
        score = self.score
        if score is None or not self.selection:
            return
        try:
            self.request(plan(score, self.selection, *args), f"{text} {self.selection.describe()}")
        except EditError as error:
            self.problem.emit(str(error))

    def move_by(self, steps: int, semitones: int) -> None:
        """Arrow keys: the earliest selected note goes ``steps`` grid lines on, the rest with it."""
        score = self.score
        if score is None or not self.selection:
            return
        ticks = 0
        if steps:
            start = self.selection.start or 0
            target = start
            for _ in range(abs(steps)):
                target = self.grid.next(score, target) if steps > 0 else self.grid.previous(score, target)
            ticks = target - start
        self._plan("Move", edits.move_notes, ticks, semitones)

    def resize_by(self, steps: int) -> None:
        if self.score is None:
            return
        step = round(self.grid.step(self.score.ticks_per_quarter))
        self._plan("Resize", edits.resize_notes, steps * step, step)

    def change_velocity(self, change: int) -> None:
        self._plan("Change velocity of", edits.set_velocities, change)

    def delete(self) -> None:
        self._plan("Delete", edits.delete_notes)

    def quantize(self) -> None:
        self._plan(f"Quantize to {self.grid.name}", edits.quantize_notes, self.grid)

    def duplicate(self) -> None:
        self._plan("Duplicate", edits.duplicate_notes, self.grid)

    def copy(self) -> None:
        if self.selection:
            self.clip = edits.copy_notes(self.selection)
            self._update_actions()

    def cut(self) -> None:
        self.copy()
        self.delete()

    def paste_tick(self) -> int:
        """Where Paste puts the notes: the cursor (on the grid), else the first seed bar, else where
        they were copied from."""
        score = self.score
        assert score is not None
        if self.roll.cursor_tick is not None:
            return self.grid.nearest(score, int(self.roll.cursor_tick))
        if self.roll.selection.seed is not None:
            return score.bar(self.roll.selection.seed.first).start
        return self.clip.origin if self.clip is not None else 0

    def paste(self) -> None:
        """Paste the copied notes (into the active track when they come from one track); the cursor
        moves to their end, so pasting again goes on from there."""
        score = self.score
        if score is None or self.clip is None:
            return
        at = self.paste_tick()
        try:
            edit = edits.paste_notes(score, self.clip, at, self.active_track)
        except EditError as error:
            self.problem.emit(str(error))
            return
        self.request(edit, f"Paste {edit.selection.describe()}")
        self.roll.set_cursor_tick(float(at + self.clip.length))

    def add_note(self, note: Note) -> None:
        score = self.score
        if score is None or not 0 <= self.active_track < len(score.tracks):
            self.problem.emit("Pick a track to draw into in the roll's header first.")
            return
        self.request(edits.add_notes(score, self.active_track, [note]), "Draw note")

    # --------------------------------------------------------------------------------- mouse
    def press(self, event: QMouseEvent) -> bool:
        """A mouse press on the note area; True when the editor took it."""
        if self.score is None:
            return False
        position = event.position()
        view = self.roll.view
        tick, pitch = view.tick_of(position.x()), view.pitch_of(position.y())
        hit = self.roll.note_at(position.x(), position.y())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if event.button() == Qt.MouseButton.RightButton:
            if hit is not None:
                chosen = self.selection if hit in self.selection else NoteSelection.of([hit])
                self.request(edits.delete_notes(self.score, chosen), f"Delete {chosen.describe()}")
                return True
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.roll.canvas.setFocus(Qt.FocusReason.MouseFocusReason)
        if hit is not None:
            track, note = hit
            if shift:
                self.set_selection(self.selection.toggled(NoteSelection.of([hit])))
                if hit not in self.selection:
                    return True
            elif hit not in self.selection:
                self.set_selection(NoteSelection.of([hit]))
            self.new_velocity = note.velocity
            kind = "resize" if near_right_end(view, note, position.x()) else "move"
            self.drag = Drag(kind, position, tick, pitch, shift, note, hit)
            return True
        if self.tool == PENCIL:
            if not 0 <= pitch <= 127:
                return True
            start = self.grid.floor(self.score, max(0, int(tick)))
            end = max(start + 1, self.grid.next(self.score, start))
            self.drag = Drag("draw", position, tick, pitch, note=Note(start, end - start, pitch, self.new_velocity))
            self.roll.show_drawn_note(self.drag.note)
            return True
        if not shift:
            self.set_selection(NoteSelection())
        self.drag = Drag("band", position, tick, pitch, shift, now=position)
        return True

    def move(self, event: QMouseEvent) -> bool:
        drag = self.drag
        score = self.score
        if drag is None or score is None:
            return False
        position = event.position()
        view = self.roll.view
        tick = view.tick_of(position.x())
        raw = round(tick - drag.press_tick)
        if drag.kind == "move" and drag.anchor is not None:
            start = self.selection.start or 0
            ticks = self.grid.nearest(score, max(0, drag.anchor.start + raw)) - drag.anchor.start
            ticks = max(ticks, -start)
            pitches = [note.pitch for _t, note in self.selection]
            semitones = view.pitch_of(position.y()) - drag.press_pitch
            semitones = min(max(semitones, -min(pitches)), 127 - max(pitches))
            if (ticks, semitones) != (drag.ticks, drag.semitones):
                drag.ticks, drag.semitones = ticks, semitones
                self._lift(drag)
                self.roll.show_drag(ticks, semitones, 0)
        elif drag.kind == "resize" and drag.anchor is not None:
            step = round(self.grid.step(score.ticks_per_quarter))
            end = self.grid.nearest(score, max(0, drag.anchor.end + raw))
            longer = max(end, drag.anchor.start + min(step, drag.anchor.duration)) - drag.anchor.end
            if longer != drag.longer:
                drag.longer = longer
                self._lift(drag)
                self.roll.show_drag(0, 0, longer)
        elif drag.kind == "draw" and drag.note is not None:
            first_end = self.grid.next(score, drag.note.start)
            end = max(first_end, self.grid.nearest(score, max(0, int(tick))))
            if end - drag.note.start != drag.note.duration:
                drag.note = drag.note._replace(duration=end - drag.note.start)
                self.roll.show_drawn_note(drag.note)
        elif drag.kind == "band":
            drag.now = position
            self.roll.show_band(QRectF(drag.press, position).normalized())
        return True

    def _lift(self, drag: Drag) -> None:
        """Take the selected notes out of the drawing once a drag really moves them (a click that
        does not move costs nothing)."""
        if not drag.lifted:
            drag.lifted = True
            self.roll.lift(self.selection)

    def release(self, event: QMouseEvent) -> bool:
        drag = self.drag
        score = self.score
        if drag is None or score is None:
            return False
        self.drag = None
        if drag.kind in ("move", "resize"):
            if drag.lifted:
                self.roll.lift(None)
            what = self.selection.describe()
            if drag.kind == "move" and (drag.ticks or drag.semitones):
                self.request(edits.move_notes(score, self.selection, drag.ticks, drag.semitones), f"Move {what}")
            elif drag.kind == "resize" and drag.longer:
                step = round(self.grid.step(score.ticks_per_quarter))
                shortest = min(step, drag.anchor.duration if drag.anchor else step)
                self.request(edits.resize_notes(score, self.selection, drag.longer, shortest), f"Resize {what}")
            elif not drag.shift and drag.clicked is not None and len(self.selection) > 1:
                self.set_selection(NoteSelection.of([drag.clicked]))  # a click, not a drag: just that note
        elif drag.kind == "draw" and drag.note is not None:
            self.roll.show_drawn_note(None)
            self.add_note(drag.note)
        elif drag.kind == "band":
            self.roll.show_band(None)
            found = self.roll.notes_in_rect(QRectF(drag.press, event.position()).normalized())
            self.set_selection(self.selection.union(found) if drag.shift else found)
        return True

    def cancel_drag(self) -> bool:
        """Drop the gesture in progress with nothing changed (Esc, or a new piece under it). True when
        there was one."""
        if self.drag is None:
            return False
        self.drag = None
        self.roll.lift(None)
        self.roll.show_drawn_note(None)
        self.roll.show_band(None)
        return True


def _holds(notes: tuple[Note, ...], note: Note) -> bool:
    index = bisect.bisect_left(notes, note)
    return index < len(notes) and notes[index] == note
