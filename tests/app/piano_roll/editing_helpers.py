"""A piano roll wired to a document as the window wires it, and where notes are on its canvas."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt

from app.document import Document
from app.note_editing import NoteEditing
from app.piano_roll import PianoRoll
from core.music.score import Note, Score

TPQ = 480
BAR = 4 * TPQ


@dataclass
class Editing:
    roll: PianoRoll
    document: Document
    editing: NoteEditing

    @property
    def score(self) -> Score:
        assert self.document.score is not None
        return self.document.score

    def point(self, tick: float, pitch: int) -> QPoint:
        """The canvas pixel in the middle of ``pitch``'s row at ``tick``."""
        view = self.roll.view
        return QPoint(round(view.x_of(tick)), round(view.y_of(pitch) + view.row_height / 2))

    def inside(self, note: Note, fraction: float = 0.3) -> QPoint:
        return self.point(note.start + fraction * note.duration, note.pitch)


def make_editing(qtbot, score: Score) -> Editing:
    """A 1000x700 roll showing ``score`` at 4 bars across and 12-pixel rows around middle C."""
    roll = PianoRoll()
    qtbot.addWidget(roll)
    # The document and the editing are the roll's children, so Qt deletes them with it when the test
    # ends: left to Python's garbage collector, their wrappers could be collected after the roll they
    # point at, and PySide then crashes (seen as a segfault "Garbage-collecting" in a later test).
    document = Document(roll)
    roll.resize(1000, 700)
    roll.show()
    qtbot.waitExposed(roll)
    editing = NoteEditing(document, roll, parent=roll)
    document.score_changed.connect(roll.set_score)
    document.set_score(score)
    view = roll.view
    view.px_per_tick = view.width / (4 * BAR)
    view.left_tick = 0.0
    view.row_height = 12.0
    view.scroll_to_pitch(80)
    roll._changed()
    return Editing(roll, document, editing)


def press_drag_release(qtbot, widget, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton) -> None:
    qtbot.mousePress(widget, button, modifier, start)
    middle = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(widget, middle)
    qtbot.mouseMove(widget, end)
    qtbot.mouseRelease(widget, button, modifier, end)
