"""The window's side of the models: the two pickers, the model and device in the status bar, and the
background search and loads that feed them (:class:`app.models.ModelService` does the work).

Each panel lists the models of its own kind first, the bundled ``classical-<kind>`` first of all, and
remembers the composer's pick per kind. A pick is loaded in the background at once, so that Continue
rarely has to wait for it. No model at all, or a model that cannot be read, is said in one line in
the panels and the status bar; the window works on without one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.generation_jobs import GenerationReport
from app.models import ModelScan, ModelService
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel
from app.settings import AppSettings
from app.status_line import StatusLine
from core.representation.instruments import MAHLERNET, TABLES

KINDS = ("continuation", "interpolation")


def no_model_text(scan: ModelScan) -> str:
    """Why the pickers are empty, and what to do about it."""
    if not scan.folders:  # the search itself failed
        return f"The model search failed: {'; '.join(scan.problems)}"
    where = ", ".join(str(f) for f in scan.folders)
    problems = "".join(f" {problem}." for problem in scan.problems)
    return (
        f"No model found (looked in {where}).{problems} Train one (`mahlernet train`) or put a model "
        "(NAME.safetensors with its NAME.json card) in one of these folders, then Generate > Refresh Models (F5)."
    )


class ModelPickers(QObject):
    def __init__(
        self,
        models: ModelService,
        continue_panel: ContinuePanel,
        interpolate_panel: InterpolatePanel,
        status: StatusLine,
        settings: AppSettings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.models = models
        self.panels = {"continuation": continue_panel, "interpolation": interpolate_panel}
        self.status = status
        self.settings = settings
        models.scanned.connect(self._on_scan)
        models.loaded.connect(lambda name, _model: self.status.show_model(f"{name} (loaded)"))
        models.load_failed.connect(self._on_failed)
        continue_panel.model_changed.connect(lambda name: self.picked("continuation", name))
        interpolate_panel.model_changed.connect(lambda name: self.picked("interpolation", name))

    def start(self) -> None:
        """Look for models (in the background) and say so in the pickers."""
        for panel in self.panels.values():
            panel.model.set_searching()
        self.models.start_scan()

    def _on_scan(self, scan: ModelScan) -> None:
        for kind, panel in self.panels.items():
            # A panel lists the models of its job, then the broken ones (greyed, the reason as tooltip).
            entries = sorted((m for m in scan.models if m.kind == kind or m.problem), key=lambda m: (bool(m.problem), m.name != f"classical-{kind}", m.name))
            panel.set_models([(m.name, f"{m.summary}\n{m.path}", m.problem) for m in entries], self.settings.model(kind))
        self.status.show_device(self.models.device_text())
        if not any(not m.problem for m in scan.models):
            text = no_model_text(scan)
            self.status.show_model("none found", text)
            for panel in self.panels.values():
                panel.set_status(text, error=True)
            return
        for kind, panel in self.panels.items():
            panel.set_status("")
            self.picked(kind, panel.model.current_model())
        if scan.problems:
            self.status.show_problems(scan.problems)

    def picked(self, kind: str, name: str) -> None:
        """Remember the pick and load it in the background (the status bar follows)."""
        if not name:
            return
        self.settings.set_model(kind, name)
        if kind == "continuation":
            self._show_instruments_of(name)
        if self.models.loaded_model(name) is not None:
            self.status.show_model(f"{name} (loaded)")
        else:
            self.status.show_model(f"{name} (loading…)")
            self.models.load(name)

    def _show_instruments_of(self, name: str) -> None:
        """The Continue panel lists the instrument classes of the picked model's table ("Drums" for
        a drum model where a classical one has "English horn"); a list already right is kept, with
        the composer's checks."""
        entry = self.models.entry(name)
        table = TABLES.get(entry.instruments if entry is not None else "", MAHLERNET)
        panel = self.panels["continuation"]
        if panel.instrument_class_names() != table.names:
            panel.set_instrument_classes(table.names)

    def _on_failed(self, name: str, reason: str) -> None:
        self.status.show_model(f"{name} (cannot be loaded)", reason)
        for kind, panel in self.panels.items():
            if panel.model.current_model() == name:
                panel.set_status(f"Model {name} cannot be loaded: {reason}", error=True)

    def on_generated(self, report: GenerationReport) -> None:
        self.status.show_generation(report)
        self.status.show_model(f"{report.model} (loaded)")
        self.status.show_device(self.models.device_text())
