"""The composer's runs (their models) in a table, with Resume, Rename and Delete.

A row per run folder of the data folder (:func:`core.training.runs.list_runs`, which reads no weights and
needs no torch): name, kind, status, epochs, best validation loss, pitch accuracy. Rename and delete
go through :mod:`core.training.runs`; the run being trained is neither renamed nor deleted. :meth:`rename`
and :meth:`delete` do the work without dialogs (tests call them); the buttons ask first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.training import runs
from core.errors import MahlerNetError
from core.training.runs import RunSummary

COLUMNS = ("Name", "Kind", "Status", "Epochs", "Val loss", "Pitch acc.")


def row_texts(run: RunSummary) -> list[str]:
    loss = f"{run.best_loss:.3f}" if run.best_loss is not None else "–"
    accuracy = run.metrics.get("val_pitch_accuracy", run.metrics.get("train_pitch_accuracy"))
    return [
        run.name,
        run.kind,
        run.status_text(),
        f"{run.epochs_done}/{run.epochs}",
        loss,
        f"{100 * accuracy:.1f}%" if accuracy is not None else "–",
    ]


class RunList(QWidget):
    selected = Signal(object)  # RunSummary | None
    resume_requested = Signal(object)  # RunSummary
    changed = Signal()  # a run was renamed or deleted: the model pickers should look again
    problem = Signal(str)  # one-line reason an action failed

    def __init__(
        self, runs_dir: Path, taken: Callable[[], Iterable[str]] = tuple, parent: QWidget | None = None
    ) -> None:
        """``runs_dir``: the data folder's ``runs``; ``taken``: names of models a run may not take
        (the bundled ones)."""
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.taken = taken
        self.busy_path: Path | None = None  # the run being trained
        self.runs: list[RunSummary] = []
        self.tree = QTreeWidget()
        self.tree.setObjectName("run_list")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemDoubleClicked.connect(lambda *_: self.ask_rename())
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Go on training the selected run from its last saved epoch")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Give the selected model another name (its run folder follows)")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the selected run: its checkpoints, records and model")
        self.resume_button.clicked.connect(self._ask_resume)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.ask_delete)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.resume_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # --------------------------------------------------------------------------------- rows
    def refresh(self, select: str | None = None) -> None:
        """Read the runs again; keep the selection (or select the run called ``select``)."""
        keep = select or (self.current().name if self.current() else None)
        self.runs = runs.list_runs(self.runs_dir.parent) if self.runs_dir.is_dir() else []
        self.tree.blockSignals(True)
        self.tree.clear()
        for run in self.runs:
            texts = row_texts(run)
            if self._is_busy(run):
                texts[2] = "training…"
            item = QTreeWidgetItem(texts)
            item.setData(0, Qt.ItemDataRole.UserRole, str(run.path))
            item.setToolTip(0, f"{run.path}\n{run.preset} preset, {run.size} size")
            for column in range(3, len(COLUMNS)):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if run.name == keep:
                item.setSelected(True)
                self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._on_selection()

    def current(self) -> RunSummary | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        path = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((run for run in self.runs if str(run.path) == path), None)

    def select(self, name: str) -> bool:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item.text(0) == name:
                self.tree.setCurrentItem(item)
                item.setSelected(True)
                return True
        return False

    def set_busy(self, path: Path | None) -> None:
        """The run being trained now (None: none): it cannot be resumed, renamed or deleted."""
        self.busy_path = Path(path) if path is not None else None
        self.refresh()

    def _is_busy(self, run: RunSummary | None) -> bool:
        return run is not None and self.busy_path is not None and run.path.resolve() == self.busy_path.resolve()

    def _on_selection(self) -> None:
        self._update_buttons()
        self.selected.emit(self.current())

    def _update_buttons(self) -> None:
        run = self.current()
        free = run is not None and not self._is_busy(run)
        self.resume_button.setEnabled(free and run.resumable and self.busy_path is None)
        self.rename_button.setEnabled(free)
        self.delete_button.setEnabled(free)

    # ------------------------------------------------------------------------- rename, delete
    def rename(self, run: RunSummary, new_name: str) -> bool:
        if self._is_busy(run):
            self.problem.emit(f"{run.name} is training: rename it when it has stopped")
            return False
        taken = [name for name in self.taken() if name != run.name]
        try:
            runs.rename_run(run.path, new_name, taken)
        except (MahlerNetError, OSError) as error:
            self.problem.emit(str(error))
            return False
        self.refresh(select=new_name.strip())
        self.changed.emit()
        return True

    def delete(self, run: RunSummary) -> bool:
        if self._is_busy(run):
            self.problem.emit(f"{run.name} is training: stop it before deleting it")
            return False
        try:
            runs.delete_run(run.path)
        except (MahlerNetError, OSError) as error:
            self.problem.emit(str(error))
            return False
        self.refresh()
        self.changed.emit()
        return True

    def _ask_resume(self) -> None:
        run = self.current()
        if run is not None and run.resumable and self.busy_path is None:
            self.resume_requested.emit(run)

    def ask_rename(self) -> None:
        run = self.current()
        if run is None or self._is_busy(run):
            return
        name, ok = QInputDialog.getText(self, "Rename model", "New name:", QLineEdit.EchoMode.Normal, run.name)
        if ok and name.strip() and name.strip() != run.name:
            self.rename(run, name)

    def ask_delete(self) -> None:
        run = self.current()
        if run is None or self._is_busy(run):
            return
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete {run.name}? Its checkpoints, curves and model are removed for good.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(run)
