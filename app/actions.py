"""Every command of the window, its shortcut and its help text, declared in one table.

The window asks :class:`Actions` for a ``QAction`` by name and connects it; menus and the toolbar
are laid out from :data:`MENUS` and :data:`TOOLBAR`. Tooltips name the shortcut ("Play / Stop
(Space)"), so the keyboard way is always one hover away, and a test can check that every command has
one place and no two share a key.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.icons import icon


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    shortcuts: tuple[str, ...] = ()
    tip: str = ""
    checkable: bool = False


ACTION_SPECS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("open", "&Open…", ("Ctrl+O",), "Open a MIDI file"),
    ActionSpec("save", "&Save", ("Ctrl+S",), "Save the piece to its file"),
    ActionSpec("save_as", "Save &As…", ("Ctrl+Shift+S",), "Save the piece to a new file"),
    ActionSpec("export_selection", "&Export Seed Bars as MIDI…", ("Ctrl+E",), "Write the seed bars to a MIDI file of their own"),
    ActionSpec("export_audio", "Export &Audio (WAV)…", ("Ctrl+Shift+E",), "Render the piece to a WAV file (no sound card needed)"),
    ActionSpec("settings", "Se&ttings…", ("Ctrl+,",), "Soundfont, MIDI output and the device the model runs on"),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "Close MahlerNet Studio"),
    # Edit
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "Undo the last change to the piece"),
    ActionSpec("redo", "&Redo", ("Ctrl+Y", "Ctrl+Shift+Z"), "Redo the change undone last"),
    ActionSpec("clear_bars", "&Clear Seed Bars", ("Del",), "Delete the notes of the seed bars"),
    ActionSpec("transpose_up", "Transpose Seed Bars &Up", ("Ctrl+Up",), "Move the notes of the seed bars a semitone up"),
    ActionSpec("transpose_down", "Transpose Seed Bars &Down", ("Ctrl+Down",), "Move the notes of the seed bars a semitone down"),
    ActionSpec("select_all_bars", "Select &All Bars", ("Ctrl+A",), "Make the whole piece the seed"),
    ActionSpec("clear_selection", "Clear &Selection", ("Ctrl+Shift+A",), "Select no bars"),
    # View
    ActionSpec("fit", "&Fit Piece", ("Ctrl+0",), "Show the whole piece"),
    ActionSpec("zoom_in", "Zoom &In", ("Ctrl+=", "Ctrl++"), "Show less time, larger"),
    ActionSpec("zoom_out", "Zoom &Out", ("Ctrl+-",), "Show more time, smaller"),
    ActionSpec("zoom_selection", "Zoom to &Selection", ("Shift+Z",), "Show the selected bars across the whole roll"),
    # Transport
    ActionSpec("play", "&Play / Stop", ("Space",), "Play the piece from the cursor, or stop"),
    ActionSpec("panic", "P&anic", ("Esc",), "Stop and silence every note at once"),
    ActionSpec("loop", "&Loop Seed Bars", ("L",), "Play the seed bars over and over", checkable=True),
    # Generate
    ActionSpec("continue", "&Continue", ("Ctrl+Return", "Ctrl+Enter"), "Continue the music after the seed bars"),
    ActionSpec("interpolate", "&Interpolate", ("Ctrl+I",), "Morph from bar A to bar B"),
    ActionSpec("generate", "&Generate from Scratch…", ("Ctrl+G",), "A new piece, or bars after this one, from the model's opening"),
    ActionSpec("cancel_generation", "C&ancel Generation", ("Ctrl+.",), "Stop the running generation"),
    ActionSpec("refresh_models", "&Refresh Models", ("F5",), "Look for models again (one trained or copied in since)"),
    ActionSpec("train", "&Train on Your Music…", ("Ctrl+T",), "Train or fine-tune a model on a folder of your own MIDI files"),
    # Help
    ActionSpec("how_to", "&How To…", ("F1",), "Pick seed bars, Continue, Keep: the way through, step by step"),
    ActionSpec("shortcuts", "&Keyboard and Mouse…", ("Ctrl+/",), "Every shortcut and mouse gesture on one sheet"),
    ActionSpec("model_cards", "&Model Cards…", (), "What each model was trained on, and its figures"),
)

# Menu title -> action names; None is a separator; "@recent" and "@docks" are filled by the window.
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("open", "@recent", None, "save", "save_as", "export_selection", "export_audio", None, "settings", None, "quit")),
    (
        "&Edit",
        ("undo", "redo", None, "clear_bars", "transpose_up", "transpose_down", None, "select_all_bars", "clear_selection"),
    ),
    ("&View", ("fit", "zoom_in", "zoom_out", "zoom_selection", None, "@docks")),
    ("&Transport", ("play", "panic", "loop")),
    ("&Generate", ("continue", "interpolate", "generate", "cancel_generation", None, "refresh_models", "train")),
    ("&Help", ("how_to", "shortcuts", None, "model_cards")),
)

TOOLBAR: tuple[str | None, ...] = ("open", "save", None, "undo", "redo", None, "play", "panic", "loop", None, "fit", None, "continue", "interpolate")


def tooltip(spec: ActionSpec) -> str:
    """``"Play the piece from the cursor, or stop (Space)"``: the help text with the first shortcut,
    written the way this platform writes keys."""
    if not spec.shortcuts:
        return spec.tip
    key = QKeySequence(spec.shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)
    return f"{spec.tip} ({key})"


class Actions(QObject):
    """The QActions of one window, made from :data:`ACTION_SPECS`."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._actions: dict[str, QAction] = {}
        self.specs = {spec.name: spec for spec in ACTION_SPECS}
        for spec in ACTION_SPECS:
            action = QAction(spec.text.replace("&&", "&"), parent)
            action.setObjectName(f"action_{spec.name}")
            action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(tooltip(spec))
            action.setStatusTip(spec.tip)
            action.setCheckable(spec.checkable)
            drawn = icon(spec.name)
            if drawn is not None:
                action.setIcon(drawn)
            self._actions[spec.name] = action

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def __iter__(self):
        return iter(self._actions.values())

    def names(self) -> list[str]:
        return list(self._actions)
