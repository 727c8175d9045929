"""The Arrange panel: a chord progression, a style (the selected bar's, or drawn at random), and the
arrangements a chord-conditioned model makes of it (:mod:`core.generation.arrange`).

It only collects settings and shows results; it never generates. The progression is prefilled with
the chord lane's chords of the selected bars (:meth:`suggest_progression`, which the window calls)
until the composer types in it; a name that is not a chord is said in the panel, never sent. The
arrangement goes where Continue's would: before the bar after the selection (after the piece
without one), kept as the Keep as box says. Arrange is on only for a model that hears chords; for
another the panel says which bundled model to pick. The attribute sliders move the held code, as
they move the seed's code in Continue.

Signals for the generation integration (see :mod:`app.generation`): ``arrange_requested(ArrangeRequest)``,
``cancel_requested()``, ``model_changed(name)``, and the :class:`CandidateBox`'s
``candidate_selected``, ``audition_requested``, ``keep_requested``, ``keep_mode_changed``,
``discard_requested``. Methods it calls back, as on the Continue panel: ``set_busy``,
``set_progress``, ``set_status``, ``show_candidates``, ``clear_candidates``, ``keep_mode``.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.candidates import CandidateBox
from app.panels.instruments import AllowedInstruments
from app.panels.requests import ArrangeRequest
from app.panels.run_feedback import CandidateFeedback
from app.panels.steering import AttributeSliders
from app.panels.widgets import ModelPicker, ProgressRow, TemperatureSliders, hbox, draw_seed, seed_box
from core.errors import MahlerNetError
from core.harmony.labels import parse_progression
from core.music.selection import BarSelection

ARRANGER = "classical-arranger"  # the bundled chord-conditioned model


class ArrangePanel(QWidget, CandidateFeedback):
    arrange_requested = Signal(object)  # ArrangeRequest
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
        self._hears_chords = False
        self._typed = False  # the composer typed in the progression: suggestions no longer replace it

        self.model = ModelPicker("arrange a chord progression")
        self.model.currentIndexChanged.connect(lambda _i: self.model_changed.emit(self.model.current_model()))
        self.model_note = QLabel("")
        self.model_note.setWordWrap(True)
        self.selection_label = QLabel()
        self.selection_label.setWordWrap(True)
        self.progression = QLineEdit()
        self.progression.setObjectName("progression")
        self.progression.setPlaceholderText("C G Am F")
        self.progression.setToolTip(
            "The chords to arrange, one bar (or half bar) each: C, Am, G7, Bbmaj7, F#m7b5, Bdim7, Dsus4, Eb+, N (no chord).\n"
            "Selecting bars fills in their chords from the chord lane."
        )
        self.progression.textEdited.connect(self._on_typed)
        self.progression.returnPressed.connect(self.request_arrange)
        self.chords_per_bar = QComboBox()
        self.chords_per_bar.addItem("1 chord a bar", 1)
        self.chords_per_bar.addItem("2 chords a bar", 2)
        self.chords_per_bar.setToolTip("One chord a bar, or two (first and second half)")
        self.from_bar = QRadioButton("Selected bar")
        self.from_bar.setToolTip("Hold the latent code of the last selected bar: the arrangement plays in its style")
        self.at_random = QRadioButton("Random")
        self.at_random.setToolTip("Hold a latent code drawn from the model: each variation in a style of its own")
        self.at_random.setChecked(True)
        style_group = QButtonGroup(self)
        style_group.addButton(self.from_bar)
        style_group.addButton(self.at_random)
        self.from_bar.toggled.connect(lambda _on: self._update_enabled())
        self.variations = QSpinBox()
        self.variations.setRange(1, 8)
        self.variations.setValue(3)
        self.variations.setToolTip("How many different arrangements to offer")
        self.random_seed = seed_box()
        self.new_seed_each_run = QCheckBox("new seed each run")
        self.new_seed_each_run.setChecked(True)

        self.temperatures = TemperatureSliders()
        self.attributes = AttributeSliders()
        self.instrument_box = AllowedInstruments(
            "The style bar's instruments (random style: those of the first bar)",
            "Only the checked instruments may play in the arrangement",
        )
        self.run_button = QPushButton("Arrange")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Arrange the progression: one bar per chord slot, one style held")
        self.run_button.clicked.connect(self.request_arrange)
        self.progress = ProgressRow()
        self.progress.cancel_requested.connect(self.cancel_requested)
        self.candidate_box = CandidateBox(
            "Play the chosen arrangement after the selected bars",
            "Keep the chosen arrangement after the selected bars (after the piece without a selection), as Keep as says (undoable)",
        )
        box = self.candidate_box
        self.candidates, self.keep_button, self.humanize, self.drag_handle = box.candidates, box.keep_button, box.humanize, box.drag_handle
        for signal in ("candidate_selected", "audition_requested", "keep_requested", "keep_mode_changed", "discard_requested"):
            getattr(box, signal).connect(getattr(self, signal))

        self._layout()
        self.set_selection(BarSelection())

    def _layout(self) -> None:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Model", self.model)
        form.addRow("", self.model_note)
        form.addRow("Bars", self.selection_label)
        form.addRow("Chords", self.progression)
        form.addRow("", self.chords_per_bar)
        form.addRow("Style", hbox(self.from_bar, self.at_random, None))
        form.addRow("Variations", self.variations)
        form.addRow("Seed", hbox(self.random_seed, self.new_seed_each_run))
        temperature_box = QGroupBox("Temperature")
        QVBoxLayout(temperature_box).addWidget(self.temperatures)
        attributes_box = QGroupBox("Attributes")
        attributes_box.setToolTip("Steer the arrangement: each slider adds one of the model's attribute vectors to the held latent code")
        QVBoxLayout(attributes_box).addWidget(self.attributes)
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
    def set_models(self, models: Sequence[tuple[str, ...]], preferred: str = "") -> None:
        self.model.set_models(models, preferred)
        self._update_enabled()

    def set_model_hears_chords(self, hears: bool) -> None:
        """Whether the picked model is chord-conditioned; Arrange is off (and the panel says which
        model to pick) when it is not."""
        self._hears_chords = hears
        name = self.model.current_model()
        self.model_note.setText(
            "" if hears or not name else
            f"<span style='color:#ff8a80'>{name} does not hear chords: pick {ARRANGER} to arrange.</span>"
        )  # fmt: skip
        self._update_enabled()

    def set_instrument_classes(self, names: Sequence[str]) -> None:
        self.instrument_box.set_classes(names)

    def set_selection(self, selection: BarSelection) -> None:
        """The ruler's selection: its last bar is the style bar, and the arrangement goes after it."""
        if selection.seed is not self.selection.seed:
            self._typed = False  # new bars: their chords may be suggested again
        self.selection = selection
        if selection.seed is None:
            text = f"<span style='color:{theme.TEXT_DIM}'>No bars selected: the arrangement goes after the piece</span>"
        else:
            text = (f"<span style='color:{theme.ACCENT}'>{selection.seed.text}</span>: style bar {selection.seed.last}, "
                    f"new from bar {selection.seed.last + 1}")  # fmt: skip
        self.selection_label.setText(text)
        self._update_enabled()

    def suggest_progression(self, text: str, per_bar: int) -> None:
        """The chords of the selected bars, shown unless the composer has typed a progression of their own."""
        if self._typed or not text:
            return
        self.progression.setText(text)
        self.chords_per_bar.setCurrentIndex(self.chords_per_bar.findData(per_bar))

    def _on_typed(self, _text: str) -> None:
        self._typed = True

    # ------------------------------------------------------------------------------ request
    def request(self, new_seed: bool = False) -> ArrangeRequest | None:
        """The settings as a request, or None (with the reason shown) when they cannot be arranged."""
        if not self.model.current_model():
            self.set_status("No model to arrange with: none was found.", error=True)
            return None
        if not self._hears_chords:
            self.set_status(f"{self.model.current_model()} does not hear chords: pick {ARRANGER} to arrange.", error=True)
            return None
        try:
            chords = parse_progression(self.progression.text())
        except MahlerNetError as error:
            self.set_status(f"{error}.", error=True)
            return None
        if self.from_bar.isChecked() and self.selection.seed is None:
            self.set_status("Pick the style bar on the ruler first, or choose a random style.", error=True)
            return None
        allowed = self.instrument_box.allowed()
        if allowed == ():
            self.set_status("Allow at least one instrument.", error=True)
            return None
        if new_seed and self.new_seed_each_run.isChecked():
            self.random_seed.setValue(draw_seed())
        seed = self.selection.seed
        return ArrangeRequest(
            model=self.model.current_model(),
            progression=" ".join(chord.short for chord in chords),
            chords_per_bar=int(self.chords_per_bar.currentData()),
            style_bar=seed.last if self.from_bar.isChecked() and seed is not None else None,
            at_bar=seed.last + 1 if seed is not None else None,
            variations=self.variations.value(),
            temperatures=self.temperatures.temperatures(),
            allowed_instruments=allowed,
            random_seed=self.random_seed.value(),
            attributes=self.attributes.amounts(),
        )

    def request_arrange(self) -> None:
        if self._busy:
            return
        request = self.request(new_seed=True)
        if request is not None:
            self.arrange_requested.emit(request)

    # ------------------------------------------------------------------------- from the run
    def _update_enabled(self) -> None:
        ready = bool(self.model.current_model()) and self._hears_chords
        self.run_button.setEnabled(not self._busy and ready and (self.at_random.isChecked() or self.selection.seed is not None))
