"""``main.py --screenshot``: bring the window into a scripted state, then save a picture of it.

The state is what a composer would reach by hand: the piece open, bars selected on the ruler
(``--select 9-10:8`` = seed bars 9-10, context bar 8, done by ``main.py``), and optionally a
generation run to its end
(``--run continue``: the variations shown as ghosts after the seed; ``--run interpolate``: the steps
between the ends of the selection, the slider on the middle step), or the piano roll's editing tools
shown at work (``--run edit``: a drum groove pasted over the seed bars, their notes selected, the
pencil drawing a note; see :func:`show_editing`). Every step waits for the window
itself (the model search, the generation task), polling with a timer so the event loop keeps
running; a step that does not finish in time is reported and the picture is taken anyway.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from core.music.selection import BarSelection

POLL_MS = 100
STEP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ShotPlan:
    out: Path
    wait_for_models: bool
    run: str | None = None  # "continue", "interpolate" or "edit"


def parse_selection(text: str) -> BarSelection:
    """``"9-10"`` (seed bars) or ``"9-10:8"`` / ``"9:7-8"`` (seed, then context bars)."""

    def bars(part: str) -> tuple[int, int]:
        first, _, last = part.partition("-")
        return int(first), int(last or first)

    try:
        seed, _, context = text.partition(":")
        selection = BarSelection().with_seed(*bars(seed))
        return selection.with_context(*bars(context)) if context else selection
    except ValueError:
        raise ValueError(
            f"--select {text!r}: expected seed bars such as 9-10, optionally :context such as 9-10:8"
        ) from None


class Shot:
    """Runs a :class:`ShotPlan` on a shown window, then quits the application with 0 (saved) or 1."""

    def __init__(self, app: QApplication, window: MainWindow, plan: ShotPlan) -> None:
        self.app = app
        self.window = window
        self.plan = plan
        self.steps: list[tuple[str, Callable[[], None], Callable[[], bool]]] = []
        if plan.wait_for_models:
            self.steps.append(("the model search", lambda: None, lambda: window.models.scan is not None))
        if plan.run == "continue":
            self.steps.append(("the continuation", self._continue, self._continued))
        elif plan.run == "interpolate":
            self.steps.append(("the interpolation", self._interpolate, self._interpolated))
        elif plan.run == "edit":
            self.steps.append(("the editing", lambda: show_editing(window), lambda: True))
        self._deadline = 0.0

    def start(self, delay_ms: int = 300) -> None:
        QTimer.singleShot(delay_ms, self._next)

    def _next(self) -> None:
        if not self.steps:
            self._shoot()
            return
        _name, act, _done = self.steps[0]
        act()
        self._deadline = time.monotonic() + STEP_TIMEOUT_S
        QTimer.singleShot(POLL_MS, self._poll)

    def _poll(self) -> None:
        name, _act, done = self.steps[0]
        finished = done()
        if finished or time.monotonic() > self._deadline:
            if not finished:
                print(f"screenshot: {name} did not finish in {STEP_TIMEOUT_S:.0f} s", file=sys.stderr)
            self.steps.pop(0)
            QTimer.singleShot(0, self._next)
        else:
            QTimer.singleShot(POLL_MS, self._poll)

    # ---------------------------------------------------------------------------- generation
    def _continue(self) -> None:
        self.window.docks["continue"].raise_()
        self.window.continue_panel.new_seed_each_run.setChecked(False)
        self.window.continue_panel.request_continue()

    def _continued(self) -> bool:
        if self.window.generation.busy:
            return False
        print(f"continue: {self.window.continue_panel.progress.status.text()}")
        return True

    def _interpolate(self) -> None:
        self.window.docks["interpolate"].raise_()
        self.window.interpolate_panel.take_selection()
        self.window.interpolate_panel.request_interpolate()

    def _interpolated(self) -> bool:
        if self.window.generation.busy:
            return False
        panel = self.window.interpolate_panel
        if panel.step_count:
            panel.slider.setValue(panel.step_count // 2)
        print(f"interpolate: {panel.progress.status.text()}")
        return True

    # --------------------------------------------------------------------------------- shoot
    def _shoot(self) -> None:
        self.app.processEvents()
        ok = self.window.grab().save(str(self.plan.out))
        print(f"{'saved' if ok else 'could not save'} {self.plan.out}", file=sys.stdout if ok else sys.stderr)
        self.app.exit(0 if ok else 1)


def show_editing(window: MainWindow) -> None:
    """The roll mid-edit, as a composer gets it by hand: a two-bar drum groove laid over the seed bars
    (so the drum lane shows, with its General MIDI names), every note of the seed bars selected
    (Ctrl+A), the pencil tool on a 1/8 grid drawing a note into the piano part, the view on the
    seed bars."""
    from core.music import edits
    from core.music.grid import Grid
    from core.music.score import DRUM_CHANNEL, Note, Score, Track

    score = window.document.score
    seed = window.roll.selection.seed
    if score is None or seed is None:
        return
    tpq = score.ticks_per_quarter
    eighth = tpq // 2
    bars = [score.bar(n) for n in seed]
    hits = []
    for bar in bars:
        for tick in range(bar.start, bar.end, eighth):
            beat = (tick - bar.start) // tpq
            hits.append(Note(tick, eighth // 2, 42, 70 if (tick - bar.start) % tpq else 95))  # closed hi-hat
            if (tick - bar.start) % tpq == 0:
                hits.append(Note(tick, eighth, 36 if beat % 2 == 0 else 38, 110))  # kick, snare
    groove = Score(tpq, (Track("Drums", 0, DRUM_CHANNEL, hits),))
    window.document.apply(edits.overlay(score, groove, 0), "Paste drum groove")
    roll = window.roll
    roll.editor.select_all()
    roll.editor.set_grid(Grid(8))
    roll.editor.set_tool("pencil")
    piano = next((i for i, t in enumerate(window.document.score.tracks) if t.program == 0 and not t.is_drum), 0)
    roll.editor.set_active_track(piano)
    first = score.bar(max(1, seed.first - 1)).start
    last = score.bar(seed.last + 1).end
    roll.view.fit(first, last, 40, 84)
    roll._changed()
    after = score.bar(seed.last + 1)
    roll.show_drawn_note(Note(after.start + tpq, 2 * tpq, 74, 90))
