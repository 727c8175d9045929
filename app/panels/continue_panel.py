"""The Continue panel: settings for continuing the seed bars, the run, and the candidates it returns.

It only collects settings and shows results; it never generates. Signals for the generation
integration (see :mod:`app.generation`):

* ``continue_requested(ContinueRequest)``: the Continue button or Ctrl+Enter;
* ``cancel_requested()``;
* ``candidate_selected(index)``: a variation was picked in the list (show it as ghosts);
* ``audition_requested(index)``, ``keep_requested(index)``, ``discard_requested()``;
* ``keep_mode_changed(mode)``: how Keep puts a variation in (``insert``, ``replace`` or ``take``,
  :mod:`core.keep`), so the preview can show it that way;
* ``model_changed(name)``.

Methods the integration calls back: ``set_busy``, ``set_progress``, ``set_status``,
``show_candidates(labels, chosen)``, ``clear_candidates()``, ``keep_mode()``,
``model_hears_silent_tracks()``; and the window: ``set_models``,
``set_selection``, ``set_instrument_classes``.
"""

from __future__ import annotations

import random
from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.requests import ContinueRequest
from app.panels.steering import AttributeSliders, HumanizeBox
from app.panels.widgets import DragHandle, ModelPicker, ProgressRow, TemperatureSliders, hbox
from core.selection import BarSelection

MAX_SEED = 2**31 - 1
# How each new bar's latent code is chosen (core.generation.latent), as the composer reads it.
LATENT_CHOICES = (
    ("prior", "from the music before (the model's prior)"),
    ("rerank", "best of 4 drawn from the music before"),
    ("standard", "at random, N(0, I) (the original MahlerNet)"),
)
DEFAULT_TOP_P = 0.8  # core.generation.Controls's (not imported here: it would load torch at startup)
# How Keep puts the chosen variation into the piece (core.keep), as the composer reads it.
KEEP_CHOICES = (
    ("insert", "Insert (push later bars on)"),
    ("replace", "Replace the bars after the seed"),
    ("take", "New take on its own tracks (muted)"),
)


class ContinuePanel(QWidget):
    continue_requested = Signal(object)  # ContinueRequest
    cancel_requested = Signal()
    candidate_selected = Signal(int)
    audition_requested = Signal(int)
    keep_requested = Signal(int)
    keep_mode_changed = Signal(str)
    discard_requested = Signal()
    model_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = BarSelection()
        self._busy = False
        self._can_play = True

        self.model = ModelPicker("continue music")
        self.model.currentIndexChanged.connect(lambda _i: self.model_changed.emit(self.model.current_model()))
        self.selection_label = QLabel()
        self.selection_label.setWordWrap(True)
        self.bars = QSpinBox()
        self.bars.setRange(1, 32)
        self.bars.setValue(4)
        self.bars.setSuffix(" bars")
        self.bars.setToolTip("How many new bars to write after the seed")
        self.variations = QSpinBox()
        self.variations.setRange(1, 8)
        self.variations.setValue(3)
        self.variations.setToolTip("How many different continuations to offer")
        self.seeded = QRadioButton("Seeded")
        self.seeded.setToolTip("The first new bar starts from the seed bars' latent code: it stays close to them")
        self.free = QRadioButton("Free")
        self.free.setToolTip("The first new bar starts from a random latent code: it may go anywhere")
        self.seeded.setChecked(True)
        start_group = QButtonGroup(self)
        start_group.addButton(self.seeded)
        start_group.addButton(self.free)

        self.temperatures = TemperatureSliders()
        self.attributes = AttributeSliders()
        self.humanize = HumanizeBox()
        self.instruments = QListWidget()
        self.instruments.setObjectName("allowed_instruments")
        self.instruments.setMaximumHeight(118)
        self.instruments.setToolTip("Only the checked instruments may play in the new bars")
        self.instruments_from_seed = QCheckBox("Only the instruments of the seed and context bars")
        self.instruments_from_seed.setToolTip("Untick to choose the instruments yourself, from the list")
        self.instruments_from_seed.setChecked(True)
        self.instruments_from_seed.toggled.connect(self._update_instrument_list)
        self.instruments_all = QPushButton("All")
        self.instruments_all.clicked.connect(lambda: self._check_all(True))
        self.instruments_none = QPushButton("None")
        self.instruments_none.clicked.connect(lambda: self._check_all(False))

        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setDecimals(2)
        self.top_p.setValue(DEFAULT_TOP_P)
        self.top_p.setToolTip("Nucleus sampling: choose only among the likeliest notes whose chances add up to this (1 = off)")
        self.latent = QComboBox()
        for key, label in LATENT_CHOICES:
            self.latent.addItem(label, key)
        self.latent.setToolTip("How each new bar's latent code is drawn")

        self.random_seed = QSpinBox()
        self.random_seed.setRange(0, MAX_SEED)
        self.random_seed.setValue(random.randrange(MAX_SEED))
        self.random_seed.setToolTip("The same seed and settings give the same music")
        self.new_seed_button = QPushButton("New")
        self.new_seed_button.setToolTip("Pick a new random seed")
        self.new_seed_button.clicked.connect(lambda: self.random_seed.setValue(random.randrange(MAX_SEED)))
        self.new_seed_each_run = QCheckBox("new seed each run")
        self.new_seed_each_run.setToolTip("Each Continue draws a new seed first; the box shows the one it used")
        self.new_seed_each_run.setChecked(True)
        self.hears_silent_tracks = QCheckBox("The model hears muted and hidden tracks")
        self.hears_silent_tracks.setToolTip(
            "Ticked: the model hears every track of the seed and context bars, muted and hidden ones too.\n"
            "Unticked: it hears only the tracks you hear and see."
        )
        self.hears_silent_tracks.setChecked(True)

        self.run_button = QPushButton("Continue")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Continue the music after the seed bars (Ctrl+Return)")
        self.run_button.clicked.connect(self.request_continue)
        self.progress = ProgressRow()
        self.progress.cancel_requested.connect(self.cancel_requested)

        self.candidates = QListWidget()
        self.candidates.setObjectName("candidates")
        self.candidates.setMaximumHeight(80)  # about four rows: Keep stays in sight on a laptop screen
        self.candidates.currentRowChanged.connect(self._on_candidate_row)
        self.audition_button = QPushButton("Audition")
        self.audition_button.setToolTip("Play the chosen variation after the seed")
        self.audition_button.clicked.connect(lambda: self.audition_requested.emit(self.candidates.currentRow()))
        self.keep_button = QPushButton("Keep")
        self.keep_button.setObjectName("primary")
        self.keep_button.setToolTip("Keep the chosen variation after the seed, as the Keep as box says (undoable)")
        self.keep_as = QComboBox()
        self.keep_as.setObjectName("keep_mode")
        for key, label in KEEP_CHOICES:
            self.keep_as.addItem(label, key)
        self.keep_as.setToolTip(
            "Insert: the variation goes in after the seed and the later bars move on.\n"
            "Replace: it takes the place of the bars after the seed.\n"
            "New take: it goes on tracks of its own over the bars after the seed, muted at first."
        )
        self.keep_as.currentIndexChanged.connect(lambda _i: self.keep_mode_changed.emit(self.keep_mode()))
        self.keep_button.clicked.connect(lambda: self.keep_requested.emit(self.candidates.currentRow()))
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Forget all variations")
        self.discard_button.clicked.connect(self.discard_requested)
        self.drag_handle = DragHandle("Drag the chosen variation out as a .mid file")

        self._layout()
        self.set_instrument_classes([])
        self.clear_candidates()
        self.set_selection(BarSelection())

    def _layout(self) -> None:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Model", self.model)
        form.addRow("Bars", self.selection_label)
        form.addRow("Length", hbox(self.bars, QLabel("Variations"), self.variations))
        form.addRow("Start", hbox(self.seeded, self.free, None))
        form.addRow("Latent", self.latent)
        form.addRow("Top-p", self.top_p)
        form.addRow("Seed", hbox(self.random_seed, self.new_seed_button))
        form.addRow("", self.new_seed_each_run)
        form.addRow("", self.hears_silent_tracks)

        temperature_box = QGroupBox("Temperature")
        QVBoxLayout(temperature_box).addWidget(self.temperatures)
        attributes_box = QGroupBox("Attributes")
        attributes_box.setToolTip("Steer the new bars: each slider adds one of the model's attribute vectors to their latent codes")
        QVBoxLayout(attributes_box).addWidget(self.attributes)
        instruments_box = QGroupBox("Allowed instruments")
        instruments_layout = QVBoxLayout(instruments_box)
        instruments_layout.addWidget(self.instruments_from_seed)
        instruments_layout.addWidget(self.instruments)
        instruments_layout.addLayout(hbox(self.instruments_all, self.instruments_none, None))
        candidates_box = QGroupBox("Variations")
        candidates_layout = QVBoxLayout(candidates_box)
        candidates_layout.addWidget(self.candidates)
        keep_row = QFormLayout()
        keep_row.addRow("Keep as", self.keep_as)
        candidates_layout.addLayout(keep_row)
        candidates_layout.addLayout(hbox(self.audition_button, self.keep_button, self.discard_button, None, self.drag_handle))
        candidates_layout.addLayout(hbox(self.humanize, None))

        # What a composer uses on every run comes first (so the variations and Keep stay in sight on
        # a 720-pixel screen); the finer settings follow below them.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(candidates_box)
        layout.addWidget(temperature_box)
        layout.addWidget(attributes_box)
        layout.addWidget(instruments_box)
        layout.addStretch(1)

    # --------------------------------------------------------------------------- from window
    def set_models(self, models: Sequence[tuple[str, str]], preferred: str = "") -> None:
        self.model.set_models(models, preferred)
        self._update_enabled()

    def set_selection(self, selection: BarSelection) -> None:
        self.selection = selection
        if selection.seed is None:
            text = f"<span style='color:{theme.TEXT_DIM}'>Drag on the ruler to pick the seed bars</span>"
        else:
            text = f"<span style='color:{theme.ACCENT}'>seed {selection.seed.text.split(' ', 1)[1]}</span>"
            if selection.context is not None:
                text += f", <span style='color:{theme.CONTEXT}'>context {selection.context.text.split(' ', 1)[1]}</span>"
            text += f" → new from bar {selection.seed.last + 1}"
        self.selection_label.setText(text)
        self._update_enabled()

    def set_instrument_classes(self, names: Sequence[str]) -> None:
        """The model's instrument classes (index = class), all allowed at first."""
        self.instruments.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.instruments.addItem(item)
        if not names:
            item = QListWidgetItem("(the model's instruments appear here)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.instruments.addItem(item)
        self._update_instrument_list()

    def instrument_class_names(self) -> tuple[str, ...]:
        """The instrument classes listed (empty while the model's are not known)."""
        items = [self.instruments.item(r) for r in range(self.instruments.count())]
        return tuple(i.text() for i in items if i.flags() & Qt.ItemFlag.ItemIsUserCheckable)

    def _update_instrument_list(self) -> None:
        """The list and its buttons are live only when the composer chooses the instruments."""
        chosen = not self.instruments_from_seed.isChecked()
        for widget in (self.instruments, self.instruments_all, self.instruments_none):
            widget.setEnabled(chosen)

    def _check_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for row in range(self.instruments.count()):
            item = self.instruments.item(row)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(state)

    def allowed_instruments(self) -> tuple[int, ...] | None:
        """The checked classes, or None for the seed's and context's instruments (the default, and
        while the model's list is not known yet)."""
        items = [self.instruments.item(r) for r in range(self.instruments.count())]
        checkable = [i for i in items if i.flags() & Qt.ItemFlag.ItemIsUserCheckable]
        if self.instruments_from_seed.isChecked() or not checkable:
            return None
        return tuple(r for r, i in enumerate(checkable) if i.checkState() == Qt.CheckState.Checked)

    # ------------------------------------------------------------------------------ request
    def request(self, new_seed: bool = False) -> ContinueRequest | None:
        """The settings as a request, or None (with the reason shown) when they are incomplete. With
        ``new_seed`` and "new seed each run" ticked, a new random seed is drawn (and shown) first."""
        if self.selection.seed is None:
            self.set_status("Pick the seed bars on the ruler first (drag over bar numbers).", error=True)
            return None
        if not self.model.current_model():
            self.set_status("No model to continue with: none was found.", error=True)
            return None
        allowed = self.allowed_instruments()
        if allowed == ():
            self.set_status("Allow at least one instrument.", error=True)
            return None
        if new_seed and self.new_seed_each_run.isChecked():
            self.random_seed.setValue(random.randrange(MAX_SEED))  # shown before the run: the one it uses
        context = self.selection.context
        return ContinueRequest(
            model=self.model.current_model(),
            seed_first=self.selection.seed.first,
            seed_last=self.selection.seed.last,
            context=(context.first, context.last) if context is not None else None,
            bars=self.bars.value(),
            variations=self.variations.value(),
            seeded=self.seeded.isChecked(),
            temperatures=self.temperatures.temperatures(),
            allowed_instruments=allowed,
            random_seed=self.random_seed.value(),
            top_p=round(self.top_p.value(), 2),
            latent=self.latent.currentData(),
            attributes=self.attributes.amounts(),
        )

    def request_continue(self) -> None:
        if self._busy:
            return
        request = self.request(new_seed=True)
        if request is not None:
            self.continue_requested.emit(request)

    # ------------------------------------------------------------------------- from the run
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.set_busy(busy)
        self._update_enabled()

    @property
    def busy(self) -> bool:
        return self._busy

    def set_can_play(self, can_play: bool, reason: str = "") -> None:
        """Audition needs a sound device: without one it is off, and its tooltip says why."""
        self._can_play = can_play
        self.audition_button.setToolTip("Play the chosen variation after the seed" if can_play else reason)
        self._update_enabled()

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.progress.set_progress(fraction, message)

    def set_status(self, text: str, error: bool = False) -> None:
        self.progress.set_status(text, error)

    def status_text(self) -> str:
        return self.progress.status.text()

    def keep_mode(self) -> str:
        """``insert``, ``replace`` or ``take`` (core.keep's modes)."""
        return str(self.keep_as.currentData())

    def model_hears_silent_tracks(self) -> bool:
        return self.hears_silent_tracks.isChecked()

    def show_candidates(self, labels: Sequence[str], chosen: int = 0) -> None:
        """List the variations (``chosen`` is selected)."""
        self.candidates.clear()
        self.candidates.addItems(list(labels))
        if labels:
            self.candidates.setCurrentRow(min(max(chosen, 0), len(labels) - 1))
        self._update_enabled()

    def clear_candidates(self) -> None:
        self.candidates.clear()
        self._update_enabled()

    def _on_candidate_row(self, row: int) -> None:
        self._update_enabled()
        if row >= 0:
            self.candidate_selected.emit(row)

    def _update_enabled(self) -> None:
        has_candidate = self.candidates.currentRow() >= 0
        self.run_button.setEnabled(not self._busy and self.selection.seed is not None and bool(self.model.current_model()))
        for widget in (self.keep_button, self.discard_button, self.drag_handle):
            widget.setEnabled(has_candidate and not self._busy)
        self.audition_button.setEnabled(has_candidate and not self._busy and self._can_play)
