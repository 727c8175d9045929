"""The Training window: teach a model the composer's own music, watch it learn, use it.

Left: the music (a folder of MIDI files, prepared in the background, with its report) and the choices
of a run, then Train. Right: where the run stands (epoch, step, events per second, time left) with
Stop and Cancel, the live curves, and the composer's models (their runs) with Resume, Rename and
Delete. Everything slow happens in the :class:`TrainingController`'s background work; this class only
shows it. Closing the window does not stop a run: it trains on, and the window shows it when opened
again (the app asks before quitting while a run trains).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.training.controller import Ended, Setup, TrainingController
from app.training.curves import CurvesWidget
from app.training.form import ChoiceSection, MusicSection
from app.training.paths import data_folder as default_data_folder
from app.training.run_list import RunList
from app.training.worker import Snapshot, StepPoint, TrainingRequest
from core.training import runs
from core.preprocess.summary import DatasetReport
from core.training.runs import RunSummary

TITLE = "Train on Your Music — MahlerNet Studio"
ENDINGS = {
    "finished": "finished",
    "early": "finished early: the validation loss stopped improving",
    "requested": "stopped after the epoch; Resume goes on",
    "now": "cancelled; the last saved epoch is kept, Resume goes on from there",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–:––"
    whole = int(round(seconds))
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


class TrainingWindow(QMainWindow):
    models_changed = Signal()  # a model was trained, renamed or deleted

    def __init__(
        self,
        data_folder: Path | None = None,
        presets: dict[str, str | Path] | None = None,
        model_folders: Sequence[Path] | None = None,
        parent: QWidget | None = None,
        setup: bool = True,
    ) -> None:
        """``data_folder``: where runs live (default: the user's data folder, see
        :mod:`app.training.paths`); ``presets``: kind -> preset (tests pass tiny ones);
        ``model_folders``: where to find models to fine-tune; ``setup``: look for them now."""
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("training_window")
        self.controller = TrainingController(data_folder or default_data_folder(), presets, model_folders, self)
        self.music = MusicSection()
        self.choices = ChoiceSection()
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Start training a new model on the prepared music")
        self.message = QLabel("")
        self.message.setObjectName("training_message")
        self.message.setWordWrap(True)
        self.curves = CurvesWidget()
        self.run_list = RunList(self.controller.runs_dir, self.controller.taken_names)
        self.viewed: RunSummary | None = None
        self._live_name = ""
        self._ending = ""
        self._build()
        self._connect()
        self.run_list.refresh()
        self._set_training(False)
        self._update_train_button()
        self.resize(1280, 800)
        self._setup = setup
        if setup:
            self.controller.start_setup()

    # -------------------------------------------------------------------------------- layout
    def _build(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 10, 6, 10)
        left_layout.setSpacing(10)
        left_layout.addWidget(self.music, 1)
        left_layout.addWidget(self.choices)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.train_button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.message)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        scroll.setMinimumWidth(400)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.run_title = QLabel("No run yet")
        self.run_title.setObjectName("run_title")
        self.run_title.setStyleSheet(f"font-size: 12pt; font-weight: 600; color: {theme.TEXT};")
        self.run_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.stats = QLabel("Prepare a folder, choose, and press Train. The curves show how the model learns.")
        self.stats.setObjectName("run_stats")
        self.stats.setStyleSheet(f"color: {theme.TEXT_DIM};")
        # One line that never resizes anything: a relayout would redraw the curves' axes (costly).
        self.stats.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)  # shown with a run
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Finish this epoch, validate and save, then stop (Resume goes on later)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop at once; the last saved epoch is kept")
        for widget in (self.progress, self.stop_button, self.cancel_button):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # showing them moves nothing
            widget.setSizePolicy(policy)
        header = QVBoxLayout()
        header.setSpacing(4)
        title_row = QHBoxLayout()
        title_row.addWidget(self.run_title, 1)
        title_row.addWidget(self.stop_button)
        title_row.addWidget(self.cancel_button)
        header.addLayout(title_row)
        header.addWidget(self.progress)
        header.addWidget(self.stats)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(6, 10, 10, 4)
        top_layout.addLayout(header)
        top_layout.addWidget(self.curves, 1)
        models = QGroupBox("3 · Your models")
        models_layout = QVBoxLayout(models)
        models_layout.addWidget(self.run_list)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(6, 0, 10, 10)
        bottom_layout.addWidget(models)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([420, 860])
        main.setChildrenCollapsible(False)
        self.setCentralWidget(main)

    def _connect(self) -> None:
        c = self.controller
        self.music.folder_chosen.connect(self.prepare)
        self.music.cancel_requested.connect(c.cancel_prepare)
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(lambda: self.stop(now=False))
        self.cancel_button.clicked.connect(lambda: self.stop(now=True))
        self.choices.name.textChanged.connect(lambda _: self._update_train_button())
        self.choices.kind_changed.connect(lambda _: self._update_train_button())
        self.run_list.selected.connect(self._on_run_selected)
        self.run_list.resume_requested.connect(self.resume)
        self.run_list.changed.connect(self._models_changed)
        self.run_list.problem.connect(lambda reason: self.say(reason, error=True))
        c.setup_ready.connect(self._on_setup)
        c.prepare_progress.connect(self.music.set_progress)
        c.prepared.connect(self._on_prepared)
        c.prepare_ended.connect(self._on_prepare_ended)
        c.problem.connect(self._on_problem)
        c.training_started.connect(self._on_started)
        c.began.connect(self._on_began)
        c.hardware.connect(lambda text: self.say(f"Training on {text}."))
        c.steps.connect(self._on_steps)
        c.snapshot.connect(self._on_snapshot)
        c.epoch_done.connect(self._on_epoch)
        c.saved.connect(lambda which: which == "last" and self.run_list.refresh())  # its epochs in the list
        c.training_ended.connect(self._on_ended)
        c.runs_changed.connect(self._on_runs_changed)

    # ------------------------------------------------------------------------------ actions
    def prepare(self, folder: str | Path) -> None:
        """Prepare the MIDI files of ``folder`` (in the background)."""
        if self.controller.prepare(folder) is not None:
            self.music.start(str(folder))
            self.choices.set_dataset_bars(None)
            self.say("")
            self._update_train_button()

    def train(self) -> None:
        self.say("")
        self.controller.train(self.choices.choice())

    def stop(self, now: bool = False) -> None:
        if not self.controller.training:
            return
        self.controller.stop(now=now)
        self.stop_button.setEnabled(False)
        self.cancel_button.setEnabled(now is False)
        if now:
            self.say("Cancelling: the last saved epoch is kept…")
        else:
            self.say("Stopping after this epoch (validation and save first)…")

    def resume(self, run: RunSummary) -> None:
        self.say("")
        self.controller.resume(run, str(self.choices.device.currentData()))

    def say(self, text: str, error: bool = False) -> None:
        """A one-line message under the Train button (red for a problem)."""
        self.message.setStyleSheet(f"color: {theme.CURSOR if error else theme.TEXT_DIM};")
        self.message.setText(text)

    # ----------------------------------------------------------------------------- reactions
    def _on_setup(self, setup: Setup) -> None:
        self.choices.set_models(list(setup.models))
        gpu = f"GPU ({setup.cuda_name})" if setup.cuda else "GPU (none found)"
        self.choices.device.setItemText(self.choices.device.findData("gpu"), gpu)
        if self.controller.midi_folder is not None and not self.choices.name_edited:
            self.choices.suggest_name(self.controller.suggested_name(self.controller.midi_folder))

    def _on_problem(self, reason: str) -> None:
        self.say(reason, error=True)
        if self.controller.preparing or self.controller.report is None:
            self.music.show_failure(reason)

    def _on_prepared(self, report: DatasetReport) -> None:
        self.music.show_report(report)
        self.choices.set_dataset_bars(report.bars if report.usable else None)
        if self.controller.midi_folder is not None:
            self.choices.suggest_name(self.controller.suggested_name(self.controller.midi_folder))
        if not report.usable:
            self.say("No usable bars in this folder: see the report above for why each file was skipped.", error=True)

    def _on_prepare_ended(self) -> None:
        self.music.set_busy(False)
        self._update_train_button()

    def _on_started(self, request: TrainingRequest) -> None:
        self._live_name = request.run_dir.name
        self._ending = ""
        self.curves.reset()
        self.curves.set_empty_text("Starting… (the first steps take a moment)")
        self.run_title.setText(f"Training {self._live_name}")
        self.stats.setText("Loading the prepared music and building the network…")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._set_training(True)
        self.run_list.set_busy(request.run_dir)

    def _on_began(self, run_dir: Path, records: dict | None) -> None:
        if records and records.get("epochs"):
            self.curves.show_records(records)  # a resumed run: its history first
        self.run_list.refresh(select=runs.read_run(run_dir).name if (run_dir / "run.json").is_file() else None)

    def _on_steps(self, points: list[StepPoint]) -> None:
        self.curves.add_steps(points)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        self.progress.setValue(round(1000 * snapshot.fraction))
        if snapshot.epochs != self.curves.span:
            self.curves.set_span(snapshot.epochs)
        parts = [
            f"Epoch {snapshot.epoch} of {snapshot.epochs}",
            f"batch {snapshot.batch} of {snapshot.batches}" if snapshot.batches else "",
            f"step {snapshot.step:,}",
            f"{snapshot.events_per_second:,.0f} events/s" if snapshot.events_per_second else "",
            f"{format_duration(snapshot.elapsed_s)} elapsed",
            f"about {format_duration(snapshot.eta_s)} left" if snapshot.eta_s is not None else "",
        ]
        loss, pitch = self.curves.latest("train_loss"), self.curves.latest("train_pitch")
        if loss is not None and pitch is not None:
            parts.append(f"loss {loss:.3f}, pitch {pitch:.1f}%")
        self.stats.setText("  ·  ".join(p for p in parts if p))

    def _on_epoch(self, record: dict) -> None:
        self.curves.add_epoch(record)

    def _on_ended(self, ended: Ended) -> None:
        self._set_training(False)
        self.run_list.set_busy(None)
        if ended.outcome is None:
            self._ending = f"{self._live_name}: stopped by a problem (the last saved epoch is kept)"
            self.run_title.setText(self._ending)
            self.say(ended.reason, error=True)
            return
        outcome = ended.outcome
        self._ending = f"{self._live_name}: {ENDINGS.get(outcome.stopped, outcome.stopped)}"
        self.run_title.setText(self._ending)
        if outcome.best_epoch:
            kind = "Continue" if runs.read_run(outcome.run_dir).kind == "continuation" else "Interpolate"
            self.say(f"{self._live_name} is ready: pick it in the {kind} panel (best epoch {outcome.best_epoch}).")
        else:
            self.say("No epoch finished, so there is no model yet; Resume goes on.")

    def _on_runs_changed(self) -> None:
        self.run_list.refresh(select=self._live_name or None)
        self._models_changed()

    def _models_changed(self) -> None:
        """A model was made, renamed or deleted: look for models to fine-tune from again, and tell."""
        if self._setup:
            self.controller.start_setup()
        self.models_changed.emit()

    def _on_run_selected(self, run: RunSummary | None) -> None:
        if self.controller.training:
            return
        self.viewed = run
        if run is None:
            return
        self.curves.show_records(runs.read_records(run.path))
        self.curves.set_span(max(run.epochs, run.epochs_done))
        if not self.curves.values("val_loss")[0] and not self.curves.values("train_loss")[0]:
            self.curves.set_empty_text(f"{run.name} has no finished epoch yet.")
        # the run that just ended keeps the word on how it ended
        just_ended = run.name == self._live_name and self._ending
        self.run_title.setText(self._ending if just_ended else f"{run.name}: {run.status_text()}")
        fraction = run.epochs_done / run.epochs if run.epochs else 0.0
        self.progress.setValue(round(1000 * fraction))
        self.progress.setVisible(True)
        best = "no epoch saved"
        if run.best_loss is not None:
            best = f"best epoch {run.best_epoch} (val loss {run.best_loss:.3f})"
        done = f"{run.epochs_done} of {run.epochs} epochs"
        self.stats.setText(f"{run.kind} · {run.preset} preset, {run.size} · {done} · {best}")

    def _set_training(self, training: bool) -> None:
        self.stop_button.setEnabled(training)
        self.cancel_button.setEnabled(training)
        self.stop_button.setVisible(training)
        self.cancel_button.setVisible(training)
        self.choices.setEnabled(not training)
        self._update_train_button()

    def _update_train_button(self) -> None:
        c = self.controller
        ready = c.report is not None and c.report.usable and not c.training and not c.preparing
        self.train_button.setEnabled(ready and bool(self.choices.name.text().strip()))

    # ------------------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Only hides the window: a run trains on (see the module docstring)."""
        event.accept()

    def release(self) -> None:
        """The app is quitting (no run in progress): empty the curves' scene now. pyqtgraph's scenes
        left to the interpreter's exit can crash it as Qt is torn down. Signals still on their way (the
        run's last ones) reach nothing after this."""
        self.controller.blockSignals(True)
        self.run_list.blockSignals(True)
        self.curves.close()
