"""Note edits of the piano roll, applied to the document as one undo step each.

The roll's editor plans a :class:`core.music.edits.NoteEdit`; :class:`NoteEditing` applies it to the
document's piece with a :class:`NoteEditCommand`, which is the document's usual "piece before, piece
after" command plus what the edit changed: on redo and undo it tells the roll which notes changed
(so the roll updates its drawing note by note) and which notes to select (the edited notes after a
redo, the notes selected before after an undo).
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.document import Document, ReplaceScoreCommand
from app.piano_roll import PianoRoll
from core.music.edits import NoteEdit
from core.errors import EditError
from core.music.score import Score
from core.music.selection import NoteSelection


PREVIEW_SHOWN = "Keep or discard the music previewed in the roll before editing notes."


class NoteEditCommand(ReplaceScoreCommand):
    def __init__(
        self,
        document: Document,
        roll: PianoRoll,
        before: Score,
        after: Score,
        edit: NoteEdit,
        selected_before: NoteSelection,
        text: str,
    ) -> None:
        super().__init__(document, before, after, text)
        self.roll = roll
        self.edit = edit
        self.selected_before = selected_before

    def redo(self) -> None:
        self.roll.expect(self.before, self.after, self.edit.changes)
        super().redo()
        self.roll.editor.set_selection(self.edit.selection)

    def undo(self) -> None:
        self.roll.expect(self.after, self.before, [c.inverse() for c in reversed(self.edit.changes)])
        super().undo()
        self.roll.editor.set_selection(self.selected_before)


class NoteEditing(QObject):
    """Connects a roll's note edits to a document. ``problem(str)`` relays edits that cannot be made."""

    def __init__(self, document: Document, roll: PianoRoll, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.roll = roll
        self.problems: list[str] = []
        roll.editor.edit_requested.connect(self.apply)

    def apply(self, edit: NoteEdit, text: str) -> bool:
        """Make ``edit`` on the document's piece as one undo step; False (and the reason in
        ``problems`` and on the editor's ``problem`` signal) when it cannot be made."""
        before = self.document.score
        if before is None or edit.empty:
            return False
        if self.roll.score is not before:  # the roll shows a preview of generated music in the piece
            return self._refuse(PREVIEW_SHOWN)
        try:
            after = edit.apply(before)
        except EditError as error:
            return self._refuse(str(error))
        self.document.undo_stack.push(
            NoteEditCommand(self.document, self.roll, before, after, edit, self.roll.editor.selection, text)
        )
        return True

    def _refuse(self, reason: str) -> bool:
        self.problems.append(reason)
        self.roll.editor.problem.emit(reason)
        return False
