"""The window's side of the models: the pickers of the Continue, Interpolate and Arrange panels, the model and device in the status bar, and the
background search and loads that feed them (:class:`app.models.ModelService` does the work).

Each panel lists the models of its own kind first, the bundled ``classical-<kind>`` first of all, and
remembers the composer's pick per kind. A pick is loaded in the background at once, so that Continue
rarely has to wait for it. No model at all, or a model that cannot be read, is said in one line in
the panels and the status bar; the window works on without one.

The status bar's "model:" is the model of the panel in front (Continue or Interpolate) and its
state, not whichever model happened to load last.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.generation_jobs import GenerationReport
from app.models import ModelScan, ModelService
from app.panels.arrange_panel import ArrangePanel
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel
from app.settings import AppSettings
from app.status_line import StatusLine
from core.representation.instruments import MAHLERNET, TABLES

KINDS = ("continuation", "interpolation", "arranger")


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
        arrange_panel: ArrangePanel | None = None,
    ) -> None:
        super().__init__(parent)
        self.models = models
        self.panels: dict[str, ContinuePanel | InterpolatePanel | ArrangePanel] = {"continuation": continue_panel, "interpolation": interpolate_panel}
        if arrange_panel is not None:
            self.panels["arranger"] = arrange_panel
            arrange_panel.model_changed.connect(lambda name: self.picked("arranger", name))
        self.status = status
        self.settings = settings
        self.active_kind = KINDS[0]
        self._shown: dict[str, tuple[str, str]] = {}  # kind -> (text, details) of its panel's model
        models.scanned.connect(self._on_scan)
        models.loaded.connect(self._on_loaded)
        models.load_failed.connect(self._on_failed)
        continue_panel.model_changed.connect(lambda name: self.picked("continuation", name))
        interpolate_panel.model_changed.connect(lambda name: self.picked("interpolation", name))

    # ------------------------------------------------------------------------- the status bar
    def set_active(self, kind: str) -> None:
        """The panel of ``kind`` came to the front: the status bar shows its model."""
        self.active_kind = kind
        if kind in self._shown:
            self.status.show_model(*self._shown[kind])

    def _show(self, kind: str, text: str, details: str = "") -> None:
        self._shown[kind] = (text, details)
        if kind == self.active_kind:
            self.status.show_model(text, details)

    def _kinds_using(self, name: str) -> list[str]:
        return [kind for kind, panel in self.panels.items() if panel.model.current_model() == name]

    def _on_loaded(self, name: str, _model: object) -> None:
        for kind in self._kinds_using(name):
            self._show(kind, f"{name} (loaded)")

    def _panel_kinds(self) -> list[str]:
        return [kind for kind in KINDS if kind in self.panels]

    def start(self) -> None:
        """Look for models (in the background) and say so in the pickers."""
        for panel in self.panels.values():
            panel.model.set_searching()
        self.models.start_scan()

    def _on_scan(self, scan: ModelScan) -> None:
        for kind, panel in self.panels.items():
            # A panel lists the models of its job, then the broken ones (greyed, the reason as tooltip);
            # Arrange lists the chord-conditioned models (whatever their kind) first, then the others,
            # which it says cannot arrange.
            if kind == "arranger":
                entries = sorted((m for m in scan.models), key=lambda m: (bool(m.problem), not m.chords, m.name != f"classical-{kind}", m.name))
            else:
                entries = sorted((m for m in scan.models if m.kind == kind or m.problem), key=lambda m: (bool(m.problem), m.name != f"classical-{kind}", m.name))
            panel.set_models([(m.name, f"{m.summary}\n{m.path}", m.problem) for m in entries], self.settings.model(kind))
        self.status.show_device(self.models.device_text())
        if not any(not m.problem for m in scan.models):
            text = no_model_text(scan)
            for kind in self._panel_kinds():
                self._show(kind, "none found", text)
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
        if kind in ("continuation", "arranger"):
            self._show_instruments_of(kind, name)
        entry = self.models.entry(name)
        if kind == "arranger":
            self.panels[kind].set_model_hears_chords(entry is not None and entry.chords)  # type: ignore[union-attr]
        self.panels[kind].attributes.set_model(entry)
        if self.models.loaded_model(name) is not None:
            self._show(kind, f"{name} (loaded)")
        else:
            self._show(kind, f"{name} (loading…)")
            self.models.load(name)

    def _show_instruments_of(self, kind: str, name: str) -> None:
        """The Continue (or Arrange) panel lists the instrument classes of the picked model's table
        ("Drums" for a drum model where a classical one has "English horn"); a list already right is
        kept, with the composer's checks."""
        entry = self.models.entry(name)
        table = TABLES.get(entry.instruments if entry is not None else "", MAHLERNET)
        box = self.panels[kind].instrument_box  # type: ignore[union-attr]
        if box.class_names() != table.names:
            box.set_classes(table.names)

    def _on_failed(self, name: str, reason: str) -> None:
        for kind in self._kinds_using(name):
            self._show(kind, f"{name} (cannot be loaded)", reason)
            self.panels[kind].set_status(f"Model {name} cannot be loaded: {reason}", error=True)

    def on_generated(self, report: GenerationReport) -> None:
        self.status.show_generation(report)
        kind = {"arrangement": "arranger"}.get(report.what, report.what)
        if kind in self.panels:
            self._show(kind, f"{report.model} (loaded)")
        self.status.show_device(self.models.device_text())
