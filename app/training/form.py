"""The left column of the Training window: the music to learn from, and what to train.

:class:`MusicSection` picks a folder of MIDI files and shows the preparation's progress and report;
:class:`ChoiceSection` holds the choices of a run (kind, size, epochs, device, from scratch or
fine-tuned, name) and turns them into a :class:`TrainingChoice`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.training.controller import SMALL_DATASET_BARS, BaseModel, TrainingChoice
from core.preprocess.summary import DatasetReport

KIND_TEXTS = {
    "continuation": ("Continuation", "continues a piece bar by bar (the Continue panel)"),
    "interpolation": ("Interpolation", "morphs from one bar to another (the Interpolate panel)"),
}
SIZE_TEXTS = {"small": "Small: fast, fine on a CPU", "full": "Full: the paper's size, for a GPU"}
DEVICE_TEXTS = {"auto": "Auto (a GPU if there is one)", "cpu": "CPU", "gpu": "GPU"}
FINE_TUNE_HINT = (
    "Few bars? Fine-tune a model: it already knows music, so a few hundred bars of yours are enough. "
    "From scratch wants thousands of bars."
)


def _dim(text: str, word_wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(word_wrap)
    label.setStyleSheet(f"color: {theme.TEXT_DIM};")
    return label


class MusicSection(QGroupBox):
    """1 · Your music: a folder, a progress bar while it is prepared, then its report."""

    folder_chosen = Signal(str)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("1 · Your music", parent)
        self.folder = QLineEdit()
        self.folder.setObjectName("music_folder")
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText("A folder of MIDI files (.mid, .midi; subfolders too)")
        self.browse = QPushButton("Choose Folder…")
        self.browse.setToolTip("Pick the folder of your MIDI files; it is prepared at once")
        self.browse.clicked.connect(self._ask_folder)
        self.again = QPushButton("Prepare Again")
        self.again.setToolTip("Read the folder again (only new or changed files are encoded)")
        self.again.clicked.connect(lambda: self.folder.text() and self.folder_chosen.emit(self.folder.text()))
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_text = _dim("")
        self.headline = QLabel("No folder prepared yet.")
        self.headline.setObjectName("report_headline")
        self.headline.setWordWrap(True)
        self.details = QPlainTextEdit()
        self.details.setObjectName("report_details")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.details.setMinimumHeight(96)
        self.details.setPlaceholderText("The report lists the files used, the files skipped or changed and why, "
                                        "the meters and the instruments.")  # fmt: skip
        buttons = QHBoxLayout()
        buttons.addWidget(self.browse)
        buttons.addWidget(self.again)
        buttons.addStretch(1)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addWidget(self.folder)
        layout.addLayout(buttons)
        layout.addLayout(busy)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.headline)
        layout.addWidget(self.details, 1)
        self.set_busy(False)

    def _ask_folder(self) -> None:
        start = self.folder.text() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder of MIDI files", start)
        if folder:
            self.folder_chosen.emit(folder)

    def set_busy(self, busy: bool) -> None:
        self.browse.setEnabled(not busy)
        self.again.setEnabled(not busy and bool(self.folder.text()))
        self.cancel.setVisible(busy)
        self.progress.setVisible(busy)
        if not busy:
            self.progress_text.setText("")

    def start(self, folder: str) -> None:
        self.folder.setText(folder)
        self.folder.setToolTip(folder)
        self.progress.setValue(0)
        self.progress_text.setText("Preparing…")
        self.headline.setText("Reading and encoding the MIDI files…")
        self.headline.setStyleSheet("")
        self.details.clear()
        self.set_busy(True)

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(1000 * fraction))
        self.progress_text.setText(message)

    def show_report(self, report: DatasetReport) -> None:
        colour = theme.TEXT if report.usable else theme.CURSOR
        self.headline.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.headline.setText(report.headline())
        self.details.setPlainText("\n".join(report.text().splitlines()[1:]).strip() or "Every file was used as it is.")

    def show_failure(self, reason: str) -> None:
        self.headline.setStyleSheet(f"color: {theme.CURSOR}; font-weight: 600;")
        self.headline.setText(reason)


class ChoiceSection(QGroupBox):
    """2 · What to train: kind, size, epochs, device, start, name."""

    kind_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("2 · What to train", parent)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for key, (title, _) in KIND_TEXTS.items():
            self.kind.addItem(title, key)
        self.kind_help = _dim("")
        self.size = QComboBox()
        self.size.setObjectName("size")
        for key, text in SIZE_TEXTS.items():
            self.size.addItem(text, key)
        self.epochs = QSpinBox()
        self.epochs.setObjectName("epochs")
        self.epochs.setRange(0, 1000)
        self.epochs.setSpecialValueText("as the preset says")
        self.epochs.setToolTip("How many passes over your music; training may stop earlier when the "
                               "validation loss stops improving")  # fmt: skip
        self.device = QComboBox()
        self.device.setObjectName("device")
        for key, text in DEVICE_TEXTS.items():
            self.device.addItem(text, key)
        self.scratch = QRadioButton("From scratch")
        self.fine_tune = QRadioButton("Fine-tune")
        self.fine_tune.setToolTip("Start from a trained model's weights (its size too)")
        self.start_group = QButtonGroup(self)
        self.start_group.addButton(self.scratch)
        self.start_group.addButton(self.fine_tune)
        self.scratch.setChecked(True)
        self.base = QComboBox()
        self.base.setObjectName("base_model")
        self.base.setMinimumContentsLength(14)
        self.base.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.hint = QLabel(FINE_TUNE_HINT)
        self.hint.setObjectName("fine_tune_hint")
        self.hint.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setObjectName("run_name")
        self.name.setPlaceholderText("The model's name in the pickers")
        self.name.textEdited.connect(lambda _: setattr(self, "name_edited", True))
        self.name_edited = False

        start = QHBoxLayout()
        start.addWidget(self.scratch)
        start.addWidget(self.fine_tune)
        start.addStretch(1)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.addRow("Model", self.kind)
        form.addRow("", self.kind_help)
        form.addRow("Start", start)
        form.addRow("From", self.base)
        form.addRow("", self.hint)
        form.addRow("Size", self.size)
        form.addRow("Epochs", self.epochs)
        form.addRow("Device", self.device)
        form.addRow("Name", self.name)
        self.setLayout(form)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.fine_tune.toggled.connect(self._update)
        self._models: list[BaseModel] = []
        self._bars: int | None = None
        self._on_kind()

    # ------------------------------------------------------------------------------ choices
    def current_kind(self) -> str:
        return str(self.kind.currentData())

    def _on_kind(self) -> None:
        text = KIND_TEXTS[self.current_kind()][1]
        self.kind_help.setText(text[0].upper() + text[1:] + ".")
        self._fill_base_models()
        self.kind_changed.emit(self.current_kind())

    def set_models(self, models: list[BaseModel]) -> None:
        """Every model found; the base list shows those of the chosen kind, bundled ones first."""
        self._models = list(models)
        self._fill_base_models()

    def _fill_base_models(self) -> None:
        kept = self.base.currentData()
        self.base.clear()
        for model in (m for m in self._models if m.kind == self.current_kind()):
            self.base.addItem(model.name + ("" if model.bundled else " (yours)"), str(model.path))
            self.base.setItemData(self.base.count() - 1, f"{model.summary}\n{model.path}", Qt.ItemDataRole.ToolTipRole)
        if kept is not None:
            index = self.base.findData(kept)
            if index >= 0:
                self.base.setCurrentIndex(index)
        self._update()

    def set_dataset_bars(self, bars: int | None) -> None:
        """How many bars the prepared music has: a small folder gets the fine-tuning advice in amber."""
        self._bars = bars
        self._update()

    def _update(self) -> None:
        has_base = self.base.count() > 0
        self.fine_tune.setEnabled(has_base)
        if not has_base and self.fine_tune.isChecked():
            self.scratch.setChecked(True)
        tuning = self.fine_tune.isChecked()
        self.base.setEnabled(tuning)
        self.size.setEnabled(not tuning)
        self.size.setToolTip("A fine-tuned model keeps the size of the model it starts from" if tuning else "")
        small = self._bars is not None and self._bars < SMALL_DATASET_BARS
        text = FINE_TUNE_HINT
        if small and has_base:
            text = (f"Only {self._bars:,} bars: fine-tuning is recommended. A trained model already knows "
                    "music, so a few hundred bars of yours are enough; from scratch wants thousands.")  # fmt: skip
        elif small:
            text = (f"Only {self._bars:,} bars: fine-tuning a trained model would learn more from them, but no "
                    f"{self.current_kind()} model is installed yet. From scratch, expect a rough model.")  # fmt: skip
        elif not has_base:
            text += f" (No {self.current_kind()} model is installed to fine-tune yet.)"
        self.hint.setText(text)
        self.hint.setStyleSheet(f"color: {theme.ACCENT if small and not tuning else theme.TEXT_DIM};")

    def suggest_name(self, name: str) -> None:
        """Fill the name in, unless the composer typed one."""
        if not self.name_edited or not self.name.text().strip():
            self.name.setText(name)
            self.name_edited = False

    def choice(self) -> TrainingChoice:
        base = Path(self.base.currentData()) if self.fine_tune.isChecked() and self.base.currentData() else None
        return TrainingChoice(
            name=self.name.text(),
            kind=self.current_kind(),
            size=str(self.size.currentData()),
            epochs=self.epochs.value() or None,
            device=str(self.device.currentData()),
            base_model=base,
        )

    def set_choice(self, choice: TrainingChoice) -> None:
        """Show ``choice`` in the widgets (tests, and a window that remembers)."""
        self.kind.setCurrentIndex(max(0, self.kind.findData(choice.kind)))
        self.size.setCurrentIndex(max(0, self.size.findData(choice.size)))
        self.epochs.setValue(choice.epochs or 0)
        self.device.setCurrentIndex(max(0, self.device.findData(choice.device)))
        if choice.base_model is not None and self.base.findData(str(choice.base_model)) >= 0:
            self.base.setCurrentIndex(self.base.findData(str(choice.base_model)))
            self.fine_tune.setChecked(True)
        else:
            self.scratch.setChecked(True)
        self.name.setText(choice.name)
        self.name_edited = True
