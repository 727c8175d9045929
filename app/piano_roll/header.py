"""The roll's header: the tools, the grid and the track that the pencil draws into and Paste fills.

The tool buttons show the roll's own actions (so the keys V and P, the menu entries and these
buttons are one thing); the grid picker lists 1/4 to 1/32, straight and triplet.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLayout, QSizePolicy, QToolButton, QWidget

from app import theme
from app.piano_roll.editor import GRID_NAMES, NoteEditor
from core.music.gm import instrument_name
from core.music.grid import Grid
from core.music.score import Score
from core.music.selection import NoteSelection

HEADER_HEIGHT = 30


class EditHeader(QWidget):
    def __init__(self, editor: NoteEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.setFixedHeight(HEADER_HEIGHT)
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"EditHeader {{ background: {theme.PANEL}; border-bottom: 1px solid {theme.BORDER}; }}")
        layout = QHBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumWidth(1)  # a narrow window clips the header rather than growing for it
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(6)
        self.tool_buttons = {}
        for name in ("select_tool", "pencil_tool"):
            button = QToolButton()
            button.setDefaultAction(editor.actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoRaise(True)
            self.tool_buttons[name] = button
            layout.addWidget(button)
        layout.addSpacing(10)
        layout.addWidget(QLabel("Grid"))
        self.grid_picker = QComboBox()
        self.grid_picker.addItems(list(GRID_NAMES))
        self.grid_picker.setToolTip(
            "The note value that drawing, moving and quantizing snap to (G finer, Shift+G coarser, T triplets)"
        )
        self.grid_picker.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid_picker.setCurrentText(editor.grid.name)
        self.grid_picker.currentTextChanged.connect(lambda text: editor.set_grid(Grid.parse(text)))
        layout.addWidget(self.grid_picker)
        layout.addSpacing(10)
        layout.addWidget(QLabel("Draw into"))
        self.track_picker = QComboBox()
        self.track_picker.setToolTip("The track that the pencil draws into and that Paste fills")
        self.track_picker.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.track_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.track_picker.setMinimumContentsLength(14)
        self.track_picker.currentIndexChanged.connect(self._on_track_picked)
        layout.addWidget(self.track_picker)
        layout.addSpacing(10)
        self.info = QLabel("")
        self.info.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.info, 1)
        editor.grid_changed.connect(lambda grid: self.grid_picker.setCurrentText(grid.name))
        editor.active_track_changed.connect(self._show_active_track)
        editor.selection_changed.connect(self._show_selection)

    def set_score(self, score: Score | None) -> None:
        """List the piece's tracks; the active track stays when the piece still has it, else the
        first pitched track is taken."""
        names = [] if score is None else [
            f"{i + 1}. {t.name or instrument_name(t.program, t.channel)}" for i, t in enumerate(score.tracks)
        ]
        if names == [self.track_picker.itemText(i) for i in range(self.track_picker.count())]:
            return
        active = self.editor.active_track
        self.track_picker.blockSignals(True)
        self.track_picker.clear()
        self.track_picker.addItems(names)
        self.track_picker.blockSignals(False)
        if score is not None and score.tracks:
            if not 0 <= active < len(score.tracks):
                active = next((i for i, t in enumerate(score.tracks) if not t.is_drum), 0)
            self.editor.set_active_track(active)

    def _on_track_picked(self, index: int) -> None:
        if index >= 0 and index != self.editor.active_track:
            self.editor.set_active_track(index)

    def _show_active_track(self, index: int) -> None:
        if self.track_picker.currentIndex() != index:
            self.track_picker.blockSignals(True)
            self.track_picker.setCurrentIndex(index)
            self.track_picker.blockSignals(False)

    def _show_selection(self, selection: NoteSelection) -> None:
        self.info.setText("" if not selection else f"{selection.describe()} selected")
