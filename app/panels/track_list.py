"""The track list: one row per track with its colour, name, instrument, mute, solo and show/hide.

Colour, mute, solo and visibility are view state (``states_changed``); renaming a track and changing
its instrument change the music and are undoable (``rename_requested``, ``program_requested``, which
the window turns into ``core.music.edits.set_track`` on the document).

Every edit of the piece calls :meth:`TrackList.set_tracks`; it updates the rows in place and touches
only the rows of tracks that changed (a note edit changes one track's note count), so an edit does
not rebuild the whole list.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.track_state import TrackState, changed
from app.words import count
from core.music.score import Score, Track


def instrument_text(track: Track) -> str:
    """General MIDI name of the track's instrument ("Drums" on channel 10)."""
    from core.music.gm import instrument_name

    return instrument_name(track.program, track.channel)


class _Toggle(QToolButton):
    def __init__(self, text: str, tip: str, on_colour: str) -> None:
        super().__init__()
        self.setText(text)
        self.setToolTip(tip)
        self.setCheckable(True)
        self.setFixedSize(QSize(20, 20))
        self.setStyleSheet(
            f"QToolButton {{ border: 1px solid {theme.BORDER}; border-radius: 3px; padding: 0; font-weight: bold;"
            f" color: {theme.TEXT_DIM}; }}"
            f" QToolButton:checked {{ background: {on_colour}; color: #15171a; border-color: {on_colour}; }}"
        )


class TrackRow(QWidget):
    """One track: swatch | name / instrument | M S eye."""

    def __init__(self, index: int, track: Track, state: TrackState, owner: "TrackList") -> None:
        super().__init__()
        self.index = index
        self.owner = owner
        self.track = track
        self.state = state
        self.setObjectName("track_row")
        self.swatch = QToolButton()
        self.swatch.setFixedSize(QSize(8, 30))
        self.swatch.setToolTip("Track colour: click to change")
        self.swatch.clicked.connect(self._pick_colour)
        self.name = QLabel()
        self.name.setStyleSheet("font-weight: bold;")
        self.instrument = QLabel()
        self.instrument.setStyleSheet(f"color: {theme.TEXT_DIM}; font-size: 8pt;")
        for label in (self.name, self.instrument):  # long names are cut, never push the buttons out
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._show_track(track)
        self.mute = _Toggle("M", "Mute this track", "#e0c14a")
        self.solo = _Toggle("S", "Play only the solo tracks", "#5ec47a")
        self.show_toggle = _Toggle("◉", "Show or hide this track's notes", theme.CONTEXT)
        self.mute.toggled.connect(lambda on: owner._change(self.index, muted=on))
        self.solo.toggled.connect(lambda on: owner._change(self.index, solo=on))
        self.show_toggle.toggled.connect(lambda on: owner._change(self.index, visible=on))

        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name)
        text.addWidget(self.instrument)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 3, 6, 3)
        layout.setSpacing(6)
        layout.addWidget(self.swatch)
        layout.addLayout(text, 1)
        for button in (self.mute, self.solo, self.show_toggle):
            layout.addWidget(button)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.set_state(state)

    def set_track(self, track: Track) -> None:
        """Show ``track`` (the same track after an edit: its name, instrument or note count may differ)."""
        if track is not self.track:
            self.track = track
            self._show_track(track)

    def _show_track(self, track: Track) -> None:
        texts = (track.name or f"Track {self.index + 1}", f"{instrument_text(track)} · {count(track.note_count, 'note')}")
        for label, text in zip((self.name, self.instrument), texts):
            if label.text() != text:
                label.setText(text)
                label.setToolTip(text)

    def set_state(self, state: TrackState) -> None:
        self.state = state
        self.swatch.setStyleSheet(f"background: {state.color}; border: none; border-radius: 3px;")
        for button, value in ((self.mute, state.muted), (self.solo, state.solo), (self.show_toggle, state.visible)):
            button.blockSignals(True)
            button.setChecked(value)
            button.blockSignals(False)
        self.name.setStyleSheet(f"font-weight: bold; color: {theme.TEXT if state.visible else theme.TEXT_DIM};")

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self.owner.states[self.index].color), self, "Track colour")
        if colour.isValid():
            self.owner._change(self.index, color=colour.name())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self._rename()

    def _rename(self) -> None:
        name, ok = QInputDialog.getText(self, "Rename track", "Name:", text=self.name.text())
        if ok and name.strip():
            self.owner.rename_requested.emit(self.index, name.strip())

    def _menu(self, where) -> None:
        from core.music.gm import PROGRAM_NAMES, family_name

        menu = QMenu(self)
        menu.addAction("Rename…", self._rename)
        menu.addAction("Colour…", self._pick_colour)
        instruments = menu.addMenu("Instrument")
        for family_index in range(16):
            submenu = instruments.addMenu(family_name(family_index * 8))
            for program in range(family_index * 8, family_index * 8 + 8):
                action = submenu.addAction(PROGRAM_NAMES[program])
                action.triggered.connect(lambda _=False, p=program: self.owner.program_requested.emit(self.index, p))
        menu.exec(self.mapToGlobal(where))


class TrackList(QScrollArea):
    states_changed = Signal(list)  # list[TrackState]
    rename_requested = Signal(int, str)
    program_requested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.states: list[TrackState] = []
        self.rows: list[TrackRow] = []
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(2)
        self._empty = QLabel("No tracks")
        self._empty.setStyleSheet(f"color: {theme.TEXT_DIM}; padding: 8px;")
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        self.setWidget(self._inner)

    def set_tracks(self, score: Score | None, states: Sequence[TrackState]) -> None:
        """Show the tracks of ``score`` with their ``states`` (one per track). Rows are kept and
        updated in place; only tracks or states that changed touch their row, and rows are added or
        removed only when the number of tracks changes."""
        self.states = list(states)
        tracks = score.tracks if score is not None else ()
        wanted = min(len(tracks), len(self.states))
        for row in self.rows[wanted:]:
            row.setParent(None)
            row.deleteLater()
        del self.rows[wanted:]
        for row, track, state in zip(self.rows, tracks, self.states):
            row.set_track(track)
            if row.state != state:
                row.set_state(state)
        for index in range(len(self.rows), wanted):
            row = TrackRow(index, tracks[index], self.states[index], self)
            self._layout.insertWidget(index, row)
            self.rows.append(row)
        self._empty.setVisible(not self.rows)

    def set_states(self, states: Sequence[TrackState]) -> None:
        self.states = list(states)
        for row, state in zip(self.rows, self.states):
            row.set_state(state)

    def _change(self, index: int, **fields: object) -> None:
        self.states = changed(self.states, index, **fields)
        self.rows[index].set_state(self.states[index])
        self.states_changed.emit(self.states)
