"""The status bar's standing information: selection, file warnings, audio, model, device and the
last generation time. Each label shows the real state, and its tooltip the details."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from app import theme
from app.generation_jobs import GenerationReport
from core.music.score import Score
from core.music.selection import BarSelection


class StatusLine:
    def __init__(self, bar: QStatusBar, device_text: str) -> None:
        self.bar = bar
        self.selection = QLabel()
        self.selection.setObjectName("selection_label")
        self.warnings = QLabel()
        self.warnings.setStyleSheet("color: #e0c14a;")
        self.audio = QLabel("audio: off")
        self.model = QLabel("model: none loaded")
        self.device = QLabel(f"device: {device_text}")
        self.generation = QLabel("last generation: –")
        bar.addWidget(self.warnings)
        for label in (self.selection, self.audio, self.model, self.device, self.generation):
            bar.addPermanentWidget(label)

    def show_selection(self, selection: BarSelection) -> None:
        """``seed: bars 9-10, context: bar 8`` in the selection colours."""
        if selection.is_empty:
            self.selection.setText("no bars selected: drag on the ruler")
            return
        parts = []
        if selection.seed is not None:
            parts.append(f"<span style='color:{theme.ACCENT}'>seed: {selection.seed.text}</span>")
        if selection.context is not None:
            parts.append(f"<span style='color:{theme.CONTEXT}'>context: {selection.context.text}</span>")
        self.selection.setText(", ".join(parts))

    def show_warnings(self, score: Score | None) -> None:
        """What the MIDI reader repaired in the file just opened (first one, all in the tooltip)."""
        warnings = score.warnings if score is not None else ()
        if not warnings:
            self.warnings.setText("")
            self.warnings.setToolTip("")
            return
        more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
        self.warnings.setText(f"⚠ {warnings[0]}{more}")
        self.warnings.setToolTip("\n".join(warnings))

    def show_model(self, text: str, details: str = "") -> None:
        self.model.setText(f"model: {text}")
        self.model.setToolTip(details)

    def show_problems(self, problems: tuple[str, ...] | list[str]) -> None:
        """Problems beside a working state (a model file that could not be listed): the first in
        the message area for a while, all of them in the model label's tooltip."""
        self.model.setToolTip("\n".join(problems))
        self.bar.showMessage(problems[0], 10_000)

    def show_device(self, text: str) -> None:
        self.device.setText(f"device: {text}")

    def show_audio(self, description: str, problems: list[str]) -> None:
        self.audio.setText(f"audio: {description}" if not problems else "audio: not available")
        self.audio.setToolTip("\n".join(problems) or description)

    def show_no_sound(self, text: str, problems: list[str]) -> None:
        """Nothing can be heard: a short word on the label, the one-line reason and details beside."""
        self.audio.setText("audio: no sound device" if text.startswith("No sound device") else "audio: no sound")
        self.audio.setToolTip("\n".join([text, *problems]))

    def show_generation(self, report: GenerationReport) -> None:
        """``last continuation: 0.12 s · classical-continuation on CPU``."""
        self.generation.setText(f"last {report.text()}")
        self.generation.setToolTip(
            f"The last {report.what} took {report.seconds:.3f} s with the model {report.model} on {report.device}"
            " (not counting loading the model)"
        )
