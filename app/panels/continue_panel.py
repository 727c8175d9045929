"""The Continue panel: settings for continuing the seed bars, the run, and the candidates it returns.

It only collects settings and shows results; it never generates. Signals for the generation
integration (see :mod:`app.generation`):

* ``continue_requested(ContinueRequest)``: the Continue button or Ctrl+Enter;
* ``cancel_requested()``;
* ``candidate_selected(index)``: a variation was picked in the list (show it as ghosts);
* ``audition_requested(index)``, ``keep_requested(index)``, ``discard_requested()``;
* ``keep_mode_changed(mode)``: how Keep puts a variation in (``insert``, ``replace`` or ``take``,
  :mod:`core.music.keep`), so the preview can show it that way;
* ``model_changed(name)``.

Methods the integration calls back: ``set_busy``, ``set_progress``, ``set_status``,
``show_candidates(labels, chosen)``, ``clear_candidates()``, ``keep_mode()``,
``model_hears_silent_tracks()``; and the window: ``set_models``,
``set_selection``, ``set_instrument_classes``.
"""

from __future__ import annotations

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
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.candidates import CandidateBox
from app.panels.instruments import AllowedInstruments
from app.panels.requests import ContinueRequest
from app.panels.run_feedback import CandidateFeedback
from app.panels.steering import AttributeSliders
from app.panels.widgets import ModelPicker, ProgressRow, TemperatureSliders, hbox, draw_seed, seed_box
from core.music.selection import BarSelection

# How each new bar's latent code is chosen (core.generation.latent), as the composer reads it.
LATENT_CHOICES = (
    ("prior", "from the music before (the model's prior)"),
    ("rerank", "best of 4 drawn from the music before"),
    ("standard", "at random, N(0, I) (the original MahlerNet)"),
)
DEFAULT_TOP_P = 0.8  # core.generation.Controls's (not imported here: it would load torch at startup)


class ContinuePanel(QWidget, CandidateFeedback):
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
        self.instrument_box = AllowedInstruments(
            "Only the instruments of the seed and context bars", "Only the checked instruments may play in the new bars"
        )
        self.instruments = self.instrument_box.instruments
        self.instruments_from_seed = self.instrument_box.from_music
        self.instruments_all, self.instruments_none = self.instrument_box.all_button, self.instrument_box.none_button

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

        self.random_seed = seed_box()
        self.new_seed_button = QPushButton("New")
        self.new_seed_button.setToolTip("Pick a new random seed")
        self.new_seed_button.clicked.connect(lambda: self.random_seed.setValue(draw_seed()))
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

        self.candidate_box = CandidateBox(
            "Play the chosen variation after the seed",
            "Keep the chosen variation after the seed, as the Keep as box says (undoable)",
        )
        box = self.candidate_box
        self.candidates, self.keep_as, self.humanize, self.drag_handle = box.candidates, box.keep_as, box.humanize, box.drag_handle
        self.audition_button, self.keep_button, self.discard_button = box.audition_button, box.keep_button, box.discard_button
        for signal in ("candidate_selected", "audition_requested", "keep_requested", "keep_mode_changed", "discard_requested"):
            getattr(box, signal).connect(getattr(self, signal))

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

        # What a composer uses on every run comes first (so the variations and Keep stay in sight on
        # a 720-pixel screen); the finer settings follow below them.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.candidate_box)
        layout.addWidget(temperature_box)
        layout.addWidget(attributes_box)
        layout.addWidget(self.instrument_box)
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
        self.instrument_box.set_classes(names)

    def instrument_class_names(self) -> tuple[str, ...]:
        """The instrument classes listed (empty while the model's are not known)."""
        return self.instrument_box.class_names()

    def allowed_instruments(self) -> tuple[int, ...] | None:
        """The checked classes, or None for the seed's and context's instruments (the default, and
        while the model's list is not known yet)."""
        return self.instrument_box.allowed()

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
            self.random_seed.setValue(draw_seed())  # shown before the run: the one it uses
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
    def model_hears_silent_tracks(self) -> bool:
        return self.hears_silent_tracks.isChecked()

    def _update_enabled(self) -> None:
        self.run_button.setEnabled(not self._busy and self.selection.seed is not None and bool(self.model.current_model()))
