"""Every command of the window, its shortcut and its help text, declared in one table.

The window asks :class:`Actions` for a ``QAction`` by name and connects it; menus and the toolbar
are laid out from :data:`MENUS` and :data:`TOOLBAR`. The note edits of the piano roll
(:data:`NOTE_ACTION_SPECS`) are made by the roll itself (:func:`make_action`), so that their keys
(arrows, Delete, single letters) act only while the roll has the focus; the window adopts them into
its menus and toolbar. Tooltips name the shortcut ("Play / Stop
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
    ActionSpec("clear_bars", "&Clear Seed Bars", ("Shift+Del",), "Delete the notes of the seed bars"),
    ActionSpec("transpose_up", "Transpose Seed Bars &Up", ("Ctrl+Up",), "Move the notes of the seed bars a semitone up"),
    ActionSpec("transpose_down", "Transpose Seed Bars &Down", ("Ctrl+Down",), "Move the notes of the seed bars a semitone down"),
    ActionSpec("select_all_bars", "Select All &Bars", ("Ctrl+Alt+A",), "Make the whole piece the seed"),
    ActionSpec("clear_selection", "Clear &Selection", ("Ctrl+Shift+A",), "Select no bars"),
    # View
    ActionSpec("fit", "&Fit Piece", ("Ctrl+0",), "Show the whole piece"),
    ActionSpec("zoom_in", "Zoom &In", ("Ctrl+=", "Ctrl++"), "Show less time, larger"),
    ActionSpec("zoom_out", "Zoom &Out", ("Ctrl+-",), "Show more time, smaller"),
    ActionSpec("zoom_selection", "Zoom to &Selection", ("Shift+Z",), "Show the selected bars across the whole roll"),
    # Transport
    ActionSpec("play", "&Play / Stop", ("Space",), "Play the piece from the cursor, or stop"),
    ActionSpec("panic", "P&anic", ("Esc",), "Stop and silence every note at once (during a drag in the roll: cancel the drag)"),
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

# The piano roll's own commands: they act while the roll has the focus (see the module docstring).
NOTE_ACTION_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("select_tool", "&Select Tool", ("V",), "Select, move and resize notes; drag on empty space to select a box", checkable=True),
    ActionSpec("pencil_tool", "&Pencil Tool", ("P",), "Draw notes on the grid into the track picked in the roll's header", checkable=True),
    ActionSpec("grid_finer", "Finer Grid", ("G",), "Snap to the next finer note value (down to 1/32)"),
    ActionSpec("grid_coarser", "Coarser Grid", ("Shift+G",), "Snap to the next coarser note value (up to 1/4)"),
    ActionSpec("grid_triplet", "T&riplet Grid", ("T",), "Snap to triplets of the grid's note value", checkable=True),
    ActionSpec("select_notes", "Select &All Notes", ("Ctrl+A",), "Select every note of the seed bars (of the whole piece when no bars are selected)"),
    ActionSpec("copy_notes", "&Copy Notes", ("Ctrl+C",), "Copy the selected notes"),
    ActionSpec("cut_notes", "Cu&t Notes", ("Ctrl+X",), "Copy the selected notes and delete them"),
    ActionSpec("paste_notes", "&Paste Notes", ("Ctrl+V",), "Paste at the cursor (or the seed bars), into the roll's track when the notes come from one track"),
    ActionSpec("duplicate_notes", "D&uplicate Notes", ("Ctrl+D",), "Put a copy of the selected notes right after them"),
    ActionSpec("delete_notes", "&Delete Notes", ("Del", "Backspace"), "Delete the selected notes"),
    ActionSpec("quantize_notes", "&Quantize Notes", ("Q",), "Snap the selected notes' starts and ends to the grid"),
    ActionSpec("move_earlier", "Move Notes &Earlier", ("Left",), "Move the selected notes one grid step earlier"),
    ActionSpec("move_later", "Move Notes &Later", ("Right",), "Move the selected notes one grid step later"),
    ActionSpec("move_up", "Move Notes Up", ("Up",), "Move the selected notes a semitone up"),
    ActionSpec("move_down", "Move Notes Down", ("Down",), "Move the selected notes a semitone down"),
    ActionSpec("octave_up", "Move Notes an Octave Up", ("Shift+Up",), "Move the selected notes an octave up"),
    ActionSpec("octave_down", "Move Notes an Octave Down", ("Shift+Down",), "Move the selected notes an octave down"),
    ActionSpec("lengthen_notes", "Lengthen Notes", ("Shift+Right",), "Make the selected notes one grid step longer"),
    ActionSpec("shorten_notes", "Shorten Notes", ("Shift+Left",), "Make the selected notes one grid step shorter"),
    ActionSpec("louder_notes", "Louder", ("Alt+Up",), "Make the selected notes louder (velocity +8)"),
    ActionSpec("softer_notes", "Softer", ("Alt+Down",), "Make the selected notes softer (velocity -8)"),
)

# Menu title -> action names; None is a separator; "@recent" and "@docks" are filled by the window.
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("open", "@recent", None, "save", "save_as", "export_selection", "export_audio", None, "settings", None, "quit")),
    (
        "&Edit",
        (
            "undo", "redo", None, "select_tool", "pencil_tool", "grid_finer", "grid_coarser", "grid_triplet", None,
            "select_notes", "copy_notes", "cut_notes", "paste_notes", "duplicate_notes", "delete_notes", "quantize_notes",
            "@move", None, "clear_bars", "transpose_up", "transpose_down", None, "select_all_bars", "clear_selection",
        ),
    ),
    ("&View", ("fit", "zoom_in", "zoom_out", "zoom_selection", None, "@docks")),
    ("&Transport", ("play", "panic", "loop")),
    ("&Generate", ("continue", "interpolate", "generate", "cancel_generation", None, "refresh_models", "train")),
    ("&Help", ("how_to", "shortcuts", None, "model_cards")),
)

TOOLBAR: tuple[str | None, ...] = ("open", "save", None, "undo", "redo", None, "play", "panic", "loop", None, "fit", None, "continue", "interpolate")
# The "@move" entry of the Edit menu: a submenu of the note moves (their keys are the arrows).
MOVE_MENU: tuple[str, ...] = (
    "move_earlier", "move_later", "move_up", "move_down", "octave_up", "octave_down", "lengthen_notes", "shorten_notes",
    "louder_notes", "softer_notes",
)


def tooltip(spec: ActionSpec) -> str:
    """``"Play the piece from the cursor, or stop (Space)"``: the help text with the first shortcut,
    written the way this platform writes keys."""
    if not spec.shortcuts:
        return spec.tip
    key = QKeySequence(spec.shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)
    return f"{spec.tip} ({key})"


def make_action(spec: ActionSpec, parent: QObject, context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QAction:
    """A QAction of ``spec``: its text, keys (acting in ``context``), tooltip with the key, icon."""
    action = QAction(spec.text.replace("&&", "&"), parent)
    action.setObjectName(f"action_{spec.name}")
    action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
    action.setShortcutContext(context)
    action.setToolTip(tooltip(spec))
    action.setStatusTip(spec.tip)
    action.setCheckable(spec.checkable)
    drawn = icon(spec.name)
    if drawn is not None:
        action.setIcon(drawn)
    return action


class Actions(QObject):
    """The QActions of one window, made from :data:`ACTION_SPECS`."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._actions: dict[str, QAction] = {}
        self.specs = {spec.name: spec for spec in ACTION_SPECS}
        for spec in ACTION_SPECS:
            self._actions[spec.name] = make_action(spec, parent)

    def adopt(self, actions: dict[str, QAction]) -> None:
        """Take in actions made elsewhere (the piano roll's note edits), for the menus and toolbar."""
        self._actions.update(actions)
        self.specs.update({spec.name: spec for spec in NOTE_ACTION_SPECS if spec.name in actions})

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def __iter__(self):
        return iter(self._actions.values())

    def names(self) -> list[str]:
        return list(self._actions)
