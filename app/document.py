"""The open piece: its Score, its file, whether it changed, and the undo stack of every change.

Every change to the music goes through :meth:`Document.apply`, which pushes a
:class:`ReplaceScoreCommand` holding the Score before and the Score after. Scores are immutable, so
undo puts back the very same object: the piece is restored exactly, note for note. The modified flag
is the undo stack's clean state, so undoing back to the saved piece clears it.

The file on disk is only written by :meth:`save` / :meth:`save_as` (export writes elsewhere), and
``write_midi`` writes through a temporary file and a rename, so a failed write never leaves half a
file in place of the composer's music. MIDI reading and writing are ``core.midi.files``'s; its errors
(:class:`core.errors.MidiFileError`, one line) pass through unchanged for the window to show.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.music.score import Score
from core.music.selection import BarRange


class ReplaceScoreCommand(QUndoCommand):
    """One undoable change: the piece before and after it."""

    def __init__(self, document: "Document", before: Score, after: Score, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before = before
        self.after = after

    def redo(self) -> None:
        self.document._show(self.after)

    def undo(self) -> None:
        self.document._show(self.before)


class Document(QObject):
    score_changed = Signal(object)  # the new Score (or None)
    path_changed = Signal(object)  # Path or None
    modified_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._score: Score | None = None
        self._path: Path | None = None
        # True while score_changed announces a piece started anew (an opened file, a new piece),
        # not an edit or an undo: listeners reset what belonged to the piece before (the view, the
        # selection, typed chords) from this one announcement.
        self.starting = False
        self._drag_folder: tempfile.TemporaryDirectory | None = None

    # -------------------------------------------------------------------------------- state
    @property
    def score(self) -> Score | None:
        return self._score

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        if self._path is not None:
            return self._path.name
        if self._score is not None and self._score.title:
            return self._score.title
        return "Untitled"

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _show(self, score: Score | None) -> None:
        self._score = score
        self.score_changed.emit(score)

    def _set_path(self, path: Path | None) -> None:
        self._path = path
        self.path_changed.emit(path)

    # ------------------------------------------------------------------------------ opening
    def load(self, path: str | Path) -> Score:
        """Read ``path`` and make it the piece (history cleared). On a MidiFileError nothing
        changes: the piece that was open stays open."""
        from core.midi.files import read_midi

        score = read_midi(path)
        self.set_score(score, Path(path))
        return score

    def set_score(self, score: Score | None, path: Path | None = None) -> None:
        """Start over with ``score`` (an opened file, or a new piece): no history, not modified."""
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._set_path(path)
        self.starting = True
        try:
            self._show(score)
        finally:
            self.starting = False
        self.modified_changed.emit(False)

    # ------------------------------------------------------------------------------ editing
    def apply(self, score: Score, text: str) -> None:
        """Make ``score`` the piece, undoably, described by ``text`` (shown in Edit > Undo)."""
        if self._score is None:
            raise RuntimeError("no piece is open")
        if score == self._score:
            return
        self.undo_stack.push(ReplaceScoreCommand(self, self._score, score, text))

    def edit(self, text: str, change: Callable[..., Score], *args: object, **kwargs: object) -> None:
        """Apply ``change(score, *args, **kwargs)`` (a pure function of core.music.edits) undoably."""
        if self._score is None:
            raise RuntimeError("no piece is open")
        self.apply(change(self._score, *args, **kwargs), text)

    # ------------------------------------------------------------------------------- saving
    def save(self) -> Path:
        """Write the piece to its own file (the caller asks for a name first when it has none)."""
        if self._path is None:
            raise RuntimeError("the piece has no file yet: use save_as")
        return self.save_as(self._path)

    def save_as(self, path: str | Path) -> Path:
        """Write the piece to ``path``, which becomes its file; the piece is then unmodified."""
        if self._score is None:
            raise RuntimeError("no piece is open")
        path = Path(path)
        write_midi_atomically(self._score, path)
        self.undo_stack.setClean()
        if path != self._path:
            self._set_path(path)
        return path

    def export_bars(self, bars: BarRange, path: str | Path) -> Path:
        """Write bars ``bars.first``-``bars.last`` as a MIDI file of their own (the piece's file,
        path and modified flag are untouched)."""
        if self._score is None:
            raise RuntimeError("no piece is open")
        path = Path(path)
        write_midi_atomically(self._score.slice_bars(bars.first, bars.last), path)
        return path

    def export_for_drag(self, bars: BarRange) -> Path:
        """The bars as a ``.mid`` file in a temporary folder of this document, for dragging out into
        a DAW or a file manager."""
        if self._score is None:
            raise RuntimeError("no piece is open")
        stem = Path(self.display_name).stem or "piece"
        what = f"bars {bars.first}-{bars.last}" if bars.count > 1 else f"bar {bars.first}"
        return self.temporary_midi(self._score.slice_bars(bars.first, bars.last), f"{stem} {what}")

    def temporary_midi(self, score: Score, stem: str) -> Path:
        """``score`` written as ``<stem>.mid`` in a temporary folder that lives as long as the
        document (a drop target may read the file after the drag has ended)."""
        if self._drag_folder is None:
            self._drag_folder = tempfile.TemporaryDirectory(prefix="mahlernet-drag-")
        safe = "".join(c if c.isalnum() or c in " -_." else "_" for c in stem).strip() or "music"
        path = Path(self._drag_folder.name) / f"{safe}.mid"
        write_midi_atomically(score, path)
        return path

    def close(self) -> None:
        """Forget the temporary drag-out files."""
        if self._drag_folder is not None:
            self._drag_folder.cleanup()
            self._drag_folder = None


def write_midi_atomically(score: Score, path: Path) -> None:
    """``core.midi.files.write_midi``, which writes a temporary file and renames it over ``path``."""
    from core.midi.files import write_midi

    write_midi(score, path)
