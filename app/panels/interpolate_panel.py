"""The Interpolate panel: morph from bar A to bar B in a number of steps, then browse the steps.

It only collects settings and shows results; it never generates. Signals for the generation
integration (see :mod:`app.generation`):

* ``interpolate_requested(InterpolateRequest)``: the Interpolate button or Ctrl+I;
* ``cancel_requested()``;
* ``step_changed(index)``: the slider moved (show that step in the roll: it is already decoded);
* ``step_released(index)``: the slider was let go, or moved from the keyboard and left there for a
  moment (audition that step);
* ``insert_requested(list of step indices)``: Insert this step / Insert all steps;
* ``model_changed(name)``.

Steps count both ends (step 1 decodes A's own latent code, the last B's), as ``core.generation``
counts them; the slider runs over all decoded steps. Methods
the integration calls back: ``set_busy``, ``set_progress``, ``set_status``, ``show_steps(count)``,
``clear_steps()``.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.requests import InterpolateRequest
from app.panels.run_feedback import RunFeedback
from app.panels.steering import AttributeSliders, HumanizeBox
from app.panels.widgets import DragHandle, ModelPicker, ProgressRow, hbox
from core.music.selection import BarSelection

KEYBOARD_SETTLE_MS = 350


class InterpolatePanel(QWidget, RunFeedback):
    interpolate_requested = Signal(object)  # InterpolateRequest
    cancel_requested = Signal()
    step_changed = Signal(int)
    step_released = Signal(int)
    insert_requested = Signal(list)
    model_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self._can_play = True
        self.selection = BarSelection()

        self.model = ModelPicker("interpolate between bars")
        self.model.currentIndexChanged.connect(lambda _i: self.model_changed.emit(self.model.current_model()))
        self.bar_a = QSpinBox()
        self.bar_a.setRange(1, 9999)
        self.bar_a.setPrefix("bar ")
        self.bar_a.setToolTip("The bar to start from")
        self.bar_b = QSpinBox()
        self.bar_b.setRange(1, 9999)
        self.bar_b.setValue(2)
        self.bar_b.setPrefix("bar ")
        self.bar_b.setToolTip("The bar to arrive at")
        self.from_selection = QPushButton("From ruler")
        self.from_selection.setToolTip(
            "Take A and B from the ruler: the first and last seed bar, or the context bar and a one-bar seed"
        )
        self.from_selection.clicked.connect(self.take_selection)
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(8)
        self.steps.setToolTip("How many points to decode on the way from A to B, both ends included")
        self.method = QComboBox()
        self.method.addItem("Linear", "linear")
        self.method.addItem("Spherical (slerp)", "slerp")
        self.method.setToolTip("Linear: a straight line between the two latent codes; slerp: along the sphere (keeps their size)")
        self.hears_silent_tracks = QCheckBox("The model hears muted and hidden tracks")
        self.hears_silent_tracks.setToolTip(
            "Ticked: the model hears every track of bars A and B, muted and hidden ones too.\n"
            "Unticked: it hears only the tracks you hear and see."
        )
        self.hears_silent_tracks.setChecked(True)

        self.attributes = AttributeSliders()
        self.humanize = HumanizeBox()

        self.run_button = QPushButton("Interpolate")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Decode the steps from bar A to bar B (Ctrl+I)")
        self.run_button.clicked.connect(self.request_interpolate)
        self.progress = ProgressRow()
        self.progress.cancel_requested.connect(self.cancel_requested)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("step_slider")
        self.slider.setRange(0, 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Move through the decoded steps; let go to hear the step")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(lambda: self.step_released.emit(self.slider.value()))
        self._settled = QTimer(self)  # keyboard moves: audition once the slider stays put
        self._settled.setSingleShot(True)
        self._settled.setInterval(KEYBOARD_SETTLE_MS)
        self._settled.timeout.connect(lambda: self.step_released.emit(self.slider.value()))
        self.step_label = QLabel("")
        self.step_label.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.audition_button = QPushButton("Audition")
        self.audition_button.clicked.connect(lambda: self.step_released.emit(self.slider.value()))
        self.insert_button = QPushButton("Insert step")
        self.insert_button.setObjectName("primary")
        self.insert_button.setToolTip("Insert this step as a new bar after bar A (undoable)")
        self.insert_button.clicked.connect(lambda: self.insert_requested.emit([self.slider.value()]))
        self.insert_all_button = QPushButton("Insert all")
        self.insert_all_button.setToolTip("Insert every step, in order, after bar A (undoable)")
        self.insert_all_button.clicked.connect(lambda: self.insert_requested.emit(list(range(self._step_count))))
        self.drag_handle = DragHandle("Drag this step out as a .mid file")
        self._step_count = 0

        self._layout()
        self.clear_steps()
        self.set_selection(BarSelection())

    def _layout(self) -> None:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Model", self.model)
        form.addRow("From", self.bar_a)
        form.addRow("To", hbox(self.bar_b, self.from_selection))
        form.addRow("Steps", hbox(self.steps, None))
        form.addRow("Path", self.method)
        form.addRow("", self.hears_silent_tracks)
        attributes_box = QGroupBox("Attributes")
        attributes_box.setToolTip("Steer the steps: each slider adds one of the model's attribute vectors to both ends' codes")
        QVBoxLayout(attributes_box).addWidget(self.attributes)
        steps_box = QGroupBox("Steps")
        steps_layout = QVBoxLayout(steps_box)
        steps_layout.addWidget(self.slider)
        steps_layout.addWidget(self.step_label)
        steps_layout.addLayout(hbox(self.audition_button, self.insert_button, self.insert_all_button, None, self.drag_handle))
        steps_layout.addLayout(hbox(self.humanize, None))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(steps_box)
        layout.addWidget(attributes_box)
        layout.addStretch(1)

    # --------------------------------------------------------------------------- from window
    def set_models(self, models: Sequence[tuple[str, str]], preferred: str = "") -> None:
        self.model.set_models(models, preferred)
        self._update_enabled()

    def set_selection(self, selection: BarSelection) -> None:
        """Remember the ruler selection; A and B follow it while no steps are shown."""
        self.selection = selection
        self.from_selection.setEnabled(selection.interpolation_bars() is not None)
        if self._step_count == 0:
            self.take_selection()

    def take_selection(self) -> None:
        bars = self.selection.interpolation_bars()
        if bars is not None:
            self.bar_a.setValue(bars[0])
            self.bar_b.setValue(bars[1])

    # ------------------------------------------------------------------------------ request
    def request(self) -> InterpolateRequest | None:
        if not self.model.current_model():
            self.set_status("No model to interpolate with: none was found.", error=True)
            return None
        if self.bar_a.value() == self.bar_b.value():
            self.set_status("Bar A and bar B must be different bars.", error=True)
            return None
        return InterpolateRequest(
            model=self.model.current_model(),
            bar_a=self.bar_a.value(),
            bar_b=self.bar_b.value(),
            steps=self.steps.value(),
            method=str(self.method.currentData()),
            # Greedy, and the extra candidates per step drawn from one fixed seed (the CLI's default):
            # the same two bars morph the same way every time.
            random_seed=0,
            attributes=self.attributes.amounts(),
        )

    def request_interpolate(self) -> None:
        if self._busy:
            return
        request = self.request()
        if request is not None:
            self.interpolate_requested.emit(request)

    # ------------------------------------------------------------------------- from the run
    def model_hears_silent_tracks(self) -> bool:
        return self.hears_silent_tracks.isChecked()

    def set_can_play(self, can_play: bool, reason: str = "") -> None:
        """Audition needs a sound device: without one it is off, and its tooltip says why."""
        self._can_play = can_play
        self.audition_button.setToolTip("Play this step" if can_play else reason)
        self._update_enabled()

    def show_steps(self, count: int, step: int = 0) -> None:
        """``count`` decoded steps are ready: the slider moves over them, starting at ``step``."""
        self._step_count = count
        step = min(max(step, 0), max(0, count - 1))
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(step)
        self.slider.blockSignals(False)
        self._update_enabled()
        self._on_slider(step)
        self._settled.stop()  # shown, not heard: the composer has not moved yet

    def clear_steps(self) -> None:
        self._settled.stop()
        self._step_count = 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.step_label.setText("Decode the steps, then slide through them.")
        self._update_enabled()

    @property
    def step_count(self) -> int:
        return self._step_count

    def _on_slider(self, value: int) -> None:
        if self._step_count == 0:
            return
        self.step_label.setText(
            f"step {value + 1} of {self._step_count}  (bar {self.bar_a.value()} → bar {self.bar_b.value()})"
        )
        self.step_changed.emit(value)
        if not self.slider.isSliderDown():
            self._settled.start()

    def _update_enabled(self) -> None:
        ready = self._step_count > 0 and not self._busy
        self.run_button.setEnabled(not self._busy and bool(self.model.current_model()))
        for widget in (self.slider, self.insert_button, self.insert_all_button, self.drag_handle):
            widget.setEnabled(ready)
        self.audition_button.setEnabled(ready and self._can_play)
