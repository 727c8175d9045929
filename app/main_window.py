"""The main window: the piano roll in the middle, tracks at the left, Continue, Interpolate and
Arrange at the right, every command in the menus, the toolbar and on the keyboard.

The window is a view and a switchboard: the music is the :class:`Document`'s, edits are pure
functions of ``core.music.edits`` applied through the document's undo stack, generation runs in the
:class:`GenerationController`, sound goes through the :class:`Transport`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from app.actions import MENUS, MOVE_MENU, TOOLBAR, Actions
from app.audio_export import WAV_FILTER, AudioExporter
from app.document import Document
from app.dragdrop import midi_file_mime, midi_paths
from app.export_audio_dialog import ExportAudioDialog
from app.generate_dialog import GenerateDialog
from app.generation import GenerationController
from app.help import HOW_TO_HTML, HelpWindow, model_card_folders, model_cards_html, shortcut_sheet_html
from app.model_pickers import ModelPickers
from app.models import ModelService
from app.note_editing import NoteEditing
from app.panels.arrange_panel import ArrangePanel
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel
from app.panels.track_list import TrackList
from app.piano_roll import PianoRoll
from app.settings import AppSettings
from app.settings_dialog import SettingsDialog
from app.status_line import StatusLine
from app.track_state import TrackState, audible_score, heard_score, states_for
from app.training.launcher import TrainingLauncher
from app.transport import Transport
from app.words import count
from core.music import edits
from core.audio.humanize import Performance
from core.model.card_summary import cards_in
from core.errors import MahlerNetError
from core.harmony.conditioning import progression_of
from core.music.score import Score, Track
from core.music.selection import BarRange, BarSelection

APP_NAME = "MahlerNet Studio"
MIDI_FILTER = "MIDI files (*.mid *.midi *.kar *.rmi);;All files (*)"
MODEL_SCAN_DELAY_MS = 400  # let the window paint and settle before torch is imported
AUDIO_OPEN_DELAY_MS = 200
# Toolbar buttons say one short word (the menus and tooltips say the rest), so the toolbar fits a
# 1024-pixel window; narrower still, it shows icons only.
TOOLBAR_WORDS = {"play": "Play", "loop": "Loop", "fit": "Fit", "undo": "Undo", "redo": "Redo"}
AUDIO_RETRY_MS = 5000  # with no sound device, look again this often (one may be plugged in)
NO_DEVICE_TEXT = "No sound device: Play and Audition are off until one appears"
NO_DEVICE_HINT = "File > Export Audio renders the piece to a WAV file without one."


def no_sound_text(problems: list[str]) -> str:
    """One line on why nothing can be heard: no device (the usual case), else the first reason."""
    if not problems or any("no audio device" in p or "compiled in" in p for p in problems):
        return NO_DEVICE_TEXT
    return f"No sound: {problems[0]}. Play and Audition are off (File > Export Audio may still work)."


class MainWindow(QMainWindow):
    def __init__(
        self, settings: AppSettings | None = None, background: bool = True, model_folders: list[Path] | None = None
    ) -> None:
        """``background``: look for models and open the audio outputs once the window is up (tests
        that need neither pass False). ``model_folders``: where to look for models (default: the
        bundled ``models/`` and the user's data folder)."""
        super().__init__()
        self.settings = settings or AppSettings()
        self.document = Document(self)
        self.actions = Actions(self)
        self.track_states: list[TrackState] = []
        self._take_tracks: list[Track] = []  # tracks Keep added as a take: muted when they first appear
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.roll = PianoRoll()
        self.roll.set_mime_provider(self._selection_mime)
        self.setCentralWidget(self.roll)
        self.actions.adopt(self.roll.editor.actions)  # the roll's note edits, for the Edit menu
        self.note_editing = NoteEditing(self.document, self.roll, self)
        self.roll.editor.problem.connect(lambda reason: self.statusBar().showMessage(reason, 6000))
        self.tracks = TrackList()
        self.continue_panel = ContinuePanel()
        self.interpolate_panel = InterpolatePanel()
        self.arrange_panel = ArrangePanel()
        self.docks = {
            "tracks": self._dock("Tracks", self.tracks, Qt.DockWidgetArea.LeftDockWidgetArea),
            "continue": self._dock("Continue", self.continue_panel, Qt.DockWidgetArea.RightDockWidgetArea, True),
            "interpolate": self._dock(
                "Interpolate", self.interpolate_panel, Qt.DockWidgetArea.RightDockWidgetArea, True
            ),
            "arrange": self._dock("Arrange", self.arrange_panel, Qt.DockWidgetArea.RightDockWidgetArea, True),
        }
        self.tabifyDockWidget(self.docks["continue"], self.docks["interpolate"])
        self.tabifyDockWidget(self.docks["interpolate"], self.docks["arrange"])
        self.docks["continue"].raise_()

        self.models = ModelService(self, model_folders)
        self.models.device_setting = self.settings.device
        self.transport = Transport(self)
        # The window shows each new piece first; the generation controller (connected after it) may
        # then show a preview over it (undoing a Keep brings its variations back).
        self.document.score_changed.connect(self._show_score)
        self.generation = GenerationController(
            self.document,
            self.roll,
            self.continue_panel,
            self.interpolate_panel,
            colors=lambda: [s.color for s in self.track_states],
            model_for=self.models.model_loader,
            parent=self,
            visible=lambda: [s.visible for s in self.track_states],
            heard=lambda score: heard_score(score, self.track_states),
            arrange_panel=self.arrange_panel,
        )
        self.status = StatusLine(self.statusBar(), self.models.device_text())
        self.pickers = ModelPickers(
            self.models, self.continue_panel, self.interpolate_panel, self.status, self.settings, parent=self,
            arrange_panel=self.arrange_panel,
        )
        self.training = TrainingLauncher(self, self.models)
        for kind, dock in (("continuation", self.docks["continue"]), ("interpolation", self.docks["interpolate"]),
                           ("arranger", self.docks["arrange"])):  # fmt: skip
            dock.visibilityChanged.connect(lambda shown, k=kind: shown and self.pickers.set_active(k))
        self.audio_export = AudioExporter(self)
        self.export_audio_dialog: ExportAudioDialog | None = None
        self.help_windows: dict[str, HelpWindow] = {}
        self.audio_drivers: tuple[str, ...] | None = None  # FluidSynth's drivers to try (None: the platform's)
        self._audio_retry = QTimer(self)
        self._audio_retry.setSingleShot(True)
        self._audio_retry.setInterval(AUDIO_RETRY_MS)
        self._audio_retry.timeout.connect(self._open_audio)
        self._build_menus()
        self._connect()
        self._restore_layout()
        self._show_score(None)
        self._load_instrument_names()
        if background:
            QTimer.singleShot(MODEL_SCAN_DELAY_MS, self.pickers.start)
            QTimer.singleShot(AUDIO_OPEN_DELAY_MS, self._open_audio)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        if scroll:  # tall panels scroll on small screens instead of making the window taller
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            scrollbar = area_widget.verticalScrollBar().sizeHint().width()
            area_widget.setMinimumWidth(widget.minimumSizeHint().width() + scrollbar)
            dock.setWidget(area_widget)
        else:
            dock.setWidget(widget)
        features = QDockWidget.DockWidgetFeature
        dock.setFeatures(features.DockWidgetMovable | features.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    # -------------------------------------------------------------------------------- menus
    def _build_menus(self) -> None:
        self.recent_menu = None
        for title, names in MENUS:
            menu = self.menuBar().addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name == "@recent":
                    self.recent_menu = menu.addMenu("Open &Recent")
                    self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
                elif name == "@move":
                    moves = menu.addMenu("&Move Notes")
                    for move in MOVE_MENU:
                        moves.addAction(self.actions[move])
                elif name == "@docks":
                    for dock in self.docks.values():
                        menu.addAction(dock.toggleViewAction())
                else:
                    menu.addAction(self.actions[name])
        toolbar = self.addToolBar("Main")
        self.toolbar = toolbar
        toolbar.setObjectName("toolbar_main")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in TOOLBAR:
            if name is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(self.actions[name])
                if name in TOOLBAR_WORDS:
                    self.actions[name].setIconText(TOOLBAR_WORDS[name])

    def _fit_toolbar(self) -> None:
        """Words beside the icons while they fit the window's width, icons alone when they do not."""
        style = self.toolbar.toolButtonStyle()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        if self.toolbar.sizeHint().width() > self.width():
            self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        elif style != Qt.ToolButtonStyle.ToolButtonTextBesideIcon:
            self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_toolbar()

    def _fill_recent_menu(self) -> None:
        assert self.recent_menu is not None
        self.recent_menu.clear()
        recent = self.settings.recent_files
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_file(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # ------------------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        a = self.actions
        a["open"].triggered.connect(self.open_dialog)
        a["save"].triggered.connect(self.save)
        a["save_as"].triggered.connect(self.save_as)
        a["export_selection"].triggered.connect(self.export_selection)
        a["export_audio"].triggered.connect(self.export_audio)
        a["how_to"].triggered.connect(lambda: self.show_help("how_to"))
        a["shortcuts"].triggered.connect(lambda: self.show_help("shortcuts"))
        a["model_cards"].triggered.connect(lambda: self.show_help("model_cards"))
        self.audio_export.finished.connect(self._on_audio_exported)
        a["settings"].triggered.connect(self.open_settings)
        a["quit"].triggered.connect(self.close)
        a["undo"].triggered.connect(self.document.undo_stack.undo)
        a["redo"].triggered.connect(self.document.undo_stack.redo)
        self.document.undo_stack.canUndoChanged.connect(a["undo"].setEnabled)
        self.document.undo_stack.canRedoChanged.connect(a["redo"].setEnabled)
        self.document.undo_stack.undoTextChanged.connect(lambda t: self._name_history_action("undo", "Undo", t))
        self.document.undo_stack.redoTextChanged.connect(lambda t: self._name_history_action("redo", "Redo", t))
        a["clear_bars"].triggered.connect(lambda: self._edit_seed("Clear bars", edits.clear_bars))
        a["transpose_up"].triggered.connect(lambda: self._edit_seed("Transpose up", edits.transpose_bars, 1))
        a["transpose_down"].triggered.connect(lambda: self._edit_seed("Transpose down", edits.transpose_bars, -1))
        a["select_all_bars"].triggered.connect(self.select_all_bars)
        a["clear_selection"].triggered.connect(lambda: self.roll.set_selection(BarSelection()))
        a["fit"].triggered.connect(self.roll.fit)
        a["zoom_in"].triggered.connect(lambda: self.roll.zoom_time(1.5))
        a["zoom_out"].triggered.connect(lambda: self.roll.zoom_time(1 / 1.5))
        a["zoom_selection"].triggered.connect(self.zoom_to_selection)
        a["play"].triggered.connect(self.play_or_stop)
        a["panic"].triggered.connect(self.panic)
        a["continue"].triggered.connect(self._continue_shortcut)
        a["interpolate"].triggered.connect(self._interpolate_shortcut)
        a["cancel_generation"].triggered.connect(self.generation.cancel)
        a["generate"].triggered.connect(self.open_generate_dialog)

        self.document.path_changed.connect(lambda _p: self._update_title())
        self.document.modified_changed.connect(lambda _m: self._update_title())
        self.roll.selection_changed.connect(self._on_selection)
        self.roll.chord_lane.chords_ready.connect(self._suggest_progression)
        self.roll.chord_lane.chord_edited.connect(lambda _tick, _chord: self._suggest_progression())
        self.roll.key_pressed.connect(self.transport.key_down)
        self.roll.key_released.connect(self.transport.key_up)
        self.roll.seek_requested.connect(self._seek)
        self.tracks.states_changed.connect(self._on_track_states)
        self.tracks.rename_requested.connect(lambda i, name: self._edit("Rename track", edits.set_track, i, name=name))
        self.tracks.program_requested.connect(
            lambda i, p: self._edit("Change instrument", edits.set_track, i, program=p)
        )
        a["refresh_models"].triggered.connect(self.refresh_models)
        a["train"].triggered.connect(self.training.open)
        self.generation.generated.connect(self.pickers.on_generated)
        self.generation.take_kept.connect(self._take_tracks.extend)
        self.generation.audition_requested.connect(lambda score, _bar: self.audition(score))
        self.transport.position_changed.connect(lambda tick: self.roll.set_cursor_tick(tick, follow=True))
        self.transport.problem.connect(lambda reason: self.statusBar().showMessage(reason, 5000))
        self.transport.outputs_ready.connect(self._on_audio_ready)
        a["undo"].setEnabled(False)
        a["redo"].setEnabled(False)

    def _name_history_action(self, name: str, verb: str, change: str) -> None:
        """The Edit menu and the tooltip name the change ("Undo Keep variation 2"); the toolbar
        button stays one short word, so a long change name never pushes the toolbar about."""
        action = self.actions[name]
        action.setText(f"&{verb} {change}".strip())
        action.setIconText(verb)
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        what = f"{verb} {change}" if change else self.actions.specs[name].tip
        action.setToolTip(f"{what} ({key})" if key else what)

    # ------------------------------------------------------------------------- the piece shown
    def _show_score(self, score: Score | None) -> None:
        new_piece = self.roll.score is None or self.document.starting  # else an edit of the piece shown
        known = len(self.track_states)
        self.track_states = states_for(score, self.track_states)
        if score is not None:  # a take's tracks start muted (the music before it stays what is heard)
            for index in range(known, len(score.tracks)):
                if any(score.tracks[index] is take for take in self._take_tracks):
                    self.track_states[index] = dataclasses.replace(self.track_states[index], muted=True)
        self.roll.set_score(score, keep_view=not new_piece)
        self.roll.set_track_display([s.color for s in self.track_states], [s.visible for s in self.track_states])
        self.tracks.set_tracks(score, self.track_states)
        if score is not None:
            self.roll.set_selection(BarSelection() if new_piece else self.roll.selection.clamped(score.bar_count))
        self._on_selection(self.roll.selection)
        has_piece = score is not None
        for name in ("save", "save_as", "select_all_bars", "fit", "zoom_in", "zoom_out", "zoom_selection", "export_audio"):
            self.actions[name].setEnabled(has_piece)
        self._update_sound_actions()
        self._update_title()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    def _on_selection(self, selection: BarSelection) -> None:
        self.status.show_selection(selection)
        self.continue_panel.set_selection(selection)
        self.interpolate_panel.set_selection(selection)
        self.arrange_panel.set_selection(selection)
        self._suggest_progression()
        has_seed = selection.seed is not None and self.document.score is not None
        for name in ("export_selection", "clear_bars", "transpose_up", "transpose_down", "loop"):
            self.actions[name].setEnabled(has_seed)

    def _suggest_progression(self) -> None:
        """The Arrange panel's progression: the chord lane's chords of the selected bars (typed ones
        included), once the lane knows them."""
        score, seed = self.document.score, self.roll.selection.seed
        spans = self.roll.chord_lane.chords()
        if score is None or seed is None or not spans or seed.last > score.bar_count:
            return
        text, per_bar = progression_of(score, spans, seed.first, seed.last)
        self.arrange_panel.suggest_progression(text, per_bar)

    def _on_track_states(self, states: list[TrackState]) -> None:
        self.track_states = list(states)
        self.roll.set_track_display([s.color for s in states], [s.visible for s in states])
        self.generation.refresh_preview()  # no ghosts on a track just hidden

    def zoom_to_selection(self) -> None:
        """Show the seed bars (with the context bars) across the roll, in one step however far the
        zoom is from them; with nothing selected, the whole piece."""
        score, selection = self.document.score, self.roll.selection
        if score is None:
            return
        ranges = [r for r in (selection.context, selection.seed) if r is not None]
        if not ranges:
            self.roll.fit()
            return
        first, last = min(r.first for r in ranges), max(r.last for r in ranges)
        self.roll.zoom_to_ticks(score.bar(first).start, score.bar(last).end)

    def select_all_bars(self) -> None:
        if self.document.score is not None:
            self.roll.set_selection(BarSelection().with_seed(1, self.document.score.bar_count))

    # -------------------------------------------------------------------------------- edits
    def _edit(self, text: str, change, *args, **kwargs) -> bool:
        if self.document.score is None:
            return False
        try:
            self.document.edit(text, change, *args, **kwargs)
        except MahlerNetError as error:
            self.statusBar().showMessage(str(error), 6000)
            return False
        return True

    def _edit_seed(self, text: str, change, *args) -> bool:
        seed = self.roll.selection.seed
        if seed is None:
            self.statusBar().showMessage("Select the seed bars on the ruler first.", 4000)
            return False
        return self._edit(f"{text} {seed.text}", change, seed.first, seed.last, *args)

    # -------------------------------------------------------------------------------- files
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open MIDI file", self.settings.last_folder, MIDI_FILTER)
        if path:
            self.open_file(path, ask_to_save=False)

    def open_file(self, path: str | Path, ask_to_save: bool = True) -> bool:
        """Open ``path``; a file that cannot be read is explained in a dialog and the piece that was
        open stays open."""
        if ask_to_save and not self.maybe_save():
            return False
        path = Path(path)
        try:
            score = self.document.load(path)
        except MahlerNetError as error:
            QMessageBox.critical(self, "Cannot open this file", str(error))
            self.settings.remove_recent_file(path)
            return False
        except OSError as error:
            QMessageBox.critical(self, "Cannot open this file", f"{path}: {error.strerror or error}")
            return False
        self.settings.add_recent_file(path)
        self.settings.last_folder = str(path.parent)
        self.status.show_warnings(score)
        self.statusBar().showMessage(
            f"Opened {path.name}: {count(len(score.tracks), 'track')}, {count(score.bar_count, 'bar')}, "
            f"{count(score.notes_count, 'note')}",
            5000,
        )
        return True

    def save(self) -> bool:
        if self.document.score is None:
            return False
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.save)

    def save_as(self) -> bool:
        if self.document.score is None:
            return False
        start = str(self.document.path or Path(self.settings.last_folder or ".") / f"{self.document.display_name}.mid")
        path, _ = QFileDialog.getSaveFileName(self, "Save MIDI file", start, MIDI_FILTER)
        if not path:
            return False
        path = path if Path(path).suffix else f"{path}.mid"
        if self._write(lambda: self.document.save_as(path)):
            self.settings.add_recent_file(path)
            return True
        return False

    def _write(self, write) -> bool:
        try:
            path = write()
        except (MahlerNetError, OSError) as error:
            QMessageBox.critical(self, "Cannot save", str(error))
            return False
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_selection(self) -> bool:
        seed = self.roll.selection.seed
        if self.document.score is None or seed is None:
            return False
        stem = Path(self.document.display_name).stem
        start = Path(self.settings.last_folder or ".") / f"{stem} {seed.text}.mid"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {seed.text} as MIDI", str(start), MIDI_FILTER)
        if not path:
            return False
        return self._write(lambda: self.document.export_bars(seed, path if Path(path).suffix else f"{path}.mid"))

    def _selection_mime(self, bars: BarRange) -> QMimeData | None:
        if self.document.score is None:
            return None
        try:
            return midi_file_mime(self.document.export_for_drag(bars))
        except (MahlerNetError, OSError) as error:
            self.statusBar().showMessage(f"Cannot drag these bars: {error}", 5000)
            return None

    def open_generate_dialog(self) -> GenerateDialog:
        """Generate from scratch (a new piece or bars after this one) with the Continue panel's model."""
        model = self.continue_panel.model.current_model()
        dialog = GenerateDialog(model, self.document.score is not None, self)
        dialog.attributes.set_model(self.models.entry(model))
        dialog.generate_requested.connect(lambda request: self._generate(request, dialog))
        dialog.cancel_requested.connect(self.generation.cancel)
        dialog.show()
        return dialog

    def _generate(self, request, dialog: GenerateDialog) -> None:  # type: ignore[no-untyped-def]
        if not request.append and not self.maybe_save():  # a new piece replaces this one
            return
        self.generation.start_generate(request, dialog)

    def maybe_save(self) -> bool:
        """True when it is fine to replace the piece: it is saved, or the composer chose."""
        if not self.document.is_modified:
            return True
        answer = QMessageBox.warning(
            self,
            "Unsaved changes",
            f"{self.document.display_name} has changes that are not saved. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if midi_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = midi_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_file(paths[0]))

    # ------------------------------------------------------------------------------ sound
    def play_or_stop(self) -> None:
        score = self.document.score
        if score is None:
            return
        seed = self.roll.selection.seed
        loop = None
        if self.actions["loop"].isChecked() and seed is not None:
            loop = (score.bar(seed.first).start, score.bar(seed.last).end)
        start = int(self.roll.cursor_tick or (loop[0] if loop else 0))
        self.transport.toggle(audible_score(score, self.track_states), start, loop)

    def audition(self, fragment: Score) -> bool:
        """Play a variation or step (an interpolation step is auditioned when the slider is let go):
        with no sound device, say so instead."""
        if self.sound_missing:
            self.statusBar().showMessage(NO_DEVICE_TEXT, 5000)
            return False
        return self.transport.audition(fragment)

    def _seek(self, tick: float) -> None:
        self.roll.set_cursor_tick(max(0.0, tick))
        if self.transport.playing:
            self.transport.controller.seek(int(max(0.0, tick)))

    def panic(self) -> None:
        """Esc: cancel a drag in the roll when one is going on; otherwise stop generation and playback
        and silence every note."""
        if self.roll.cancel_gesture():
            return
        if self.generation.busy:
            self.generation.cancel()
        self.transport.panic()

    # ------------------------------------------------------------------------------ models
    def refresh_models(self) -> None:
        """Look for models again (one was trained or copied in): the pickers keep their choice where
        it is still there. Same as ``self.models.refresh()``."""
        self.models.refresh()

    def _load_instrument_names(self) -> None:
        """The instrument classes of the representation (the models' table) for the Continue panel."""
        from core.representation.instruments import MAHLERNET

        self.continue_panel.set_instrument_classes(MAHLERNET.names)
        self.arrange_panel.set_instrument_classes(MAHLERNET.names)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            dialog.store()
            self.models.device_setting = self.settings.device
            self.status.show_device(self.models.device_text())
            self._open_audio()

    # -------------------------------------------------------------------------------- audio
    def _open_audio(self) -> None:
        """Open the outputs in the background (again: after the settings changed, or to see whether
        a sound device has appeared)."""
        opening = self.transport._opening
        if opening is not None and opening.is_running:
            return
        if not self.transport.ready:
            self.status.audio.setText("audio: starting…")
        self.transport.open_outputs(self.settings.soundfont, self.settings.midi_port, self.audio_drivers)

    def _on_audio_ready(self, description: str) -> None:
        problems = self.transport.controller.problems
        if self.transport.can_play:
            self._audio_retry.stop()
            self.status.show_audio(description, problems)
        else:
            text = no_sound_text(problems)
            self.status.show_no_sound(text, [NO_DEVICE_HINT, *problems])
            self.statusBar().showMessage(text, 10_000)
            self._audio_retry.start()
        self._update_sound_actions()

    @property
    def sound_missing(self) -> bool:
        """The outputs are open and nothing can be heard through them (no sound device)."""
        return self.transport.ready and not self.transport.can_play

    def _update_sound_actions(self) -> None:
        """Play and Audition need a sound device; while audio is still starting they stay on (they
        say so when used)."""
        missing = self.sound_missing
        self.actions["play"].setEnabled(self.document.score is not None and not missing)
        reason = (self.status.audio.toolTip().splitlines() or [""])[0] if missing else ""
        self.continue_panel.set_can_play(not missing, reason)
        self.interpolate_panel.set_can_play(not missing, reason)
        self.arrange_panel.set_can_play(not missing, reason)

    # -------------------------------------------------------------------------------- help
    def show_help(self, which: str) -> HelpWindow:
        """Help > How To, Keyboard and Mouse, Model Cards: a window of text beside the app (the
        model cards are read again each time, so a model copied in since is there)."""
        if which == "how_to":
            title, html = "How To", HOW_TO_HTML
        elif which == "shortcuts":
            title, html = "Keyboard and Mouse", shortcut_sheet_html()
        else:
            scan = self.models.scan
            searched = scan.folders if scan is not None and scan.folders else self.models.folders
            title, html = "Model Cards", model_cards_html(cards_in(model_card_folders(searched)))
        window = self.help_windows.get(which)
        if window is None:
            window = HelpWindow(title, html, self)
            self.help_windows[which] = window
        else:
            window.text.setHtml(html)
        window.show()
        window.raise_()
        return window

    # ------------------------------------------------------------------------------ export
    def export_audio(self) -> ExportAudioDialog | None:
        """File > Export Audio: the options (Humanize; :mod:`app.export_audio_dialog`), then the file;
        the piece as the composer hears it (muted tracks left out) is rendered to WAV."""
        if self.document.score is None or self.audio_export.busy:
            return None
        dialog = ExportAudioDialog(self.roll.selection.seed, self)
        dialog.export_requested.connect(self.export_audio_as)
        dialog.finished.connect(lambda _result: self._forget_export_dialog(dialog))
        self.export_audio_dialog = dialog
        dialog.open()
        return dialog

    def _forget_export_dialog(self, dialog: ExportAudioDialog) -> None:
        if self.export_audio_dialog is dialog:
            self.export_audio_dialog = None
        dialog.deleteLater()

    def export_audio_as(self, performance: Performance = Performance()) -> bool:
        """Ask for the WAV file and render the piece to it, performed as ``performance`` says."""
        score = self.document.score
        if score is None or self.audio_export.busy:
            return False
        stem = Path(self.document.display_name).stem or "piece"
        start = Path(self.settings.last_folder or ".") / f"{stem}.wav"
        path, _ = QFileDialog.getSaveFileName(self, "Export Audio", str(start), WAV_FILTER)
        if not path:
            return False
        audible = audible_score(score, self.track_states)
        return self.audio_export.export(audible, path, self.settings.soundfont, performance) is not None

    def _on_audio_exported(self, path: Path | None) -> None:
        if path is not None:
            self.statusBar().showMessage(f"Exported {path}", 6000)

    # -------------------------------------------------------------------------- shortcuts
    def _continue_shortcut(self) -> None:
        self.docks["continue"].show()
        self.docks["continue"].raise_()
        self.continue_panel.request_continue()

    def _interpolate_shortcut(self) -> None:
        self.docks["interpolate"].show()
        self.docks["interpolate"].raise_()
        self.interpolate_panel.request_interpolate()

    # ----------------------------------------------------------------------- layout, closing
    def _restore_layout(self) -> None:
        geometry = self.settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1440, 860)
        state = self.settings.window_state
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.docks["tracks"]], [250], Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["continue"]], [320], Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_save() or not self.training.may_close():
            event.ignore()
            return
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.sync()
        from app.workers import Task

        Task.cancel_all()
        self.transport.close()
        self.document.close()
        event.accept()
