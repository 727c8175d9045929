"""Steering controls shared by the generation panels: attribute sliders and the Humanize amount.

* :class:`AttributeSliders`: one slider per attribute vector of the model (note density, register,
  polyphony, rhythmic busyness, stepwise motion, note length), from -3 to +3 vector lengths, and a
  Reset. Their amounts travel in the panel's request; the job adds the vectors to the latent codes
  (:mod:`core.model.attributes`). For the picked model, each slider's tooltip says what its vector
  was measured to do on held-out bars (the card's table: its own attribute and what else moves with
  it), and a model without vectors greys the sliders out and says why.
* :class:`HumanizeBox`: how much expressive timing and dynamics auditions and dragged-out MIDI files
  get (0% = as written; :mod:`core.audio.humanize`). Only the new bars are humanized: the composer's
  own bars play as written.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSpinBox, QVBoxLayout, QWidget

from app import theme
from app.models import ModelEntry
from app.panels.widgets import SliderGrid, SliderRow
from core.model.attributes import ATTRIBUTES, DESCRIPTIONS, IN_WORDS, VECTORS_SUFFIX

STEPS_PER_UNIT = 10  # slider steps per vector length
MAX_AMOUNT = 3.0
LABELS = {name: words.capitalize() for name, words in IN_WORDS.items()}  # "Note density", "Stepwise motion", ...


class AttributeSliders(QWidget):
    """A slider per attribute (-3 to +3 vector lengths, 0 = untouched) and a Reset button."""

    changed = Signal(object)  # tuple of (name, amount) with amount != 0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        limit = int(MAX_AMOUNT * STEPS_PER_UNIT)
        rows = [SliderRow(name, LABELS[name], self._plain_tooltip(name), -limit, limit, 0, 1, 5) for name in ATTRIBUTES]
        self.grid = SliderGrid(rows, "attribute", 34, "Set every attribute back to 0 (the model's own choice)", self._on_slider)
        QVBoxLayout(self).addWidget(self.grid)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.sliders, self._values, self.reset_button = self.grid.sliders, self.grid.values, self.grid.reset_button
        self.reset_button.setObjectName("attributes_reset")
        self.reset_button.clicked.connect(self.reset)
        self.steerable = True  # the picked model has attribute vectors (or none is known yet)
        self._show_values()

    @staticmethod
    def _plain_tooltip(name: str) -> str:
        return f"Move the {DESCRIPTIONS[name]} of the new bars (in lengths of the model's attribute vector)"

    def set_model(self, entry: ModelEntry | None) -> None:
        """Show what the vectors of the picked model do, or grey the sliders out when it has none.
        The composer's settings stay, for when a model with vectors is picked again."""
        self.steerable = entry is None or entry.attribute_vectors
        self.grid.setEnabled(self.steerable)
        if entry is not None and not entry.attribute_vectors:
            missing = f"{entry.name} has no attribute vectors ({entry.path.stem}{VECTORS_SUFFIX}); scripts/attribute_vectors.py computes them"
            tips = dict.fromkeys(self.sliders, missing)
        else:
            effects = {effect.name: effect.describe() for effect in (entry.attribute_effects if entry is not None else ())}
            tips = {name: self._plain_tooltip(name) + (f"\n{effects[name]}" if name in effects else "") for name in self.sliders}
        for name, slider in self.sliders.items():
            slider.setToolTip(tips[name])
            self.grid.labels[name].setToolTip(tips[name])
        self._show_values()

    def amounts(self) -> tuple[tuple[str, float], ...]:
        """The attributes the composer moved, with their amounts in vector lengths (none while the
        picked model has no vectors to move them with)."""
        if not self.steerable:
            return ()
        return tuple((name, s.value() / STEPS_PER_UNIT) for name, s in self.sliders.items() if s.value())

    def set_amounts(self, amounts: dict[str, float]) -> None:
        for name, slider in self.sliders.items():
            slider.setValue(round(amounts.get(name, 0.0) * STEPS_PER_UNIT))

    def reset(self) -> None:
        self.set_amounts({})

    def _on_slider(self) -> None:
        self._show_values()
        self.changed.emit(self.amounts())

    def _show_values(self) -> None:
        for name, slider in self.sliders.items():
            value = slider.value() / STEPS_PER_UNIT
            label = self._values[name]
            label.setText(f"{value:+.1f}" if value else "0")
            label.setStyleSheet("" if not value or not self.steerable else f"color: {theme.ACCENT};")


class HumanizeBox(QSpinBox):
    """Humanize strength in percent (0 = play exactly as written)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("humanize")
        self.setRange(0, 100)
        self.setSingleStep(10)
        self.setSuffix("%")
        self.setPrefix("Humanize ")
        self.setValue(0)
        self.setToolTip(
            "Expressive timing and dynamics for auditions and dragged-out files: a melody lead, a little "
            "timing jitter, accents and phrase dynamics. Only the new bars; your own bars play as written."
        )

    def strength(self) -> float:
        return self.value() / 100.0
