"""Continue and Interpolate in the window: runs, candidates as ghosts, Keep / Insert into the piece.

Requests from the panels run as background :class:`Task` jobs (:mod:`app.generation_jobs`, which call
``core.generation``) with progress and Cancel; the window stays responsive meanwhile. Variations are
shown as ghost notes in the roll after the seed; interpolation steps are all decoded at once, so the
slider then moves through them instantly. Keep and Insert put music into the piece through the
document (undoable); candidates and steps can be dragged out and auditioned (through the
``audition_requested`` signal, which the window connects to the player). Errors (no model, a model
of the wrong kind, bars that are not in the piece, a damaged model file) end the run with their
one-line reason in the panel.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QMimeData, QObject, Signal

from app.document import Document
from app.dragdrop import midi_file_mime
from app.generation_jobs import (
    Candidate,
    ContinueResult,
    GenerateResult,
    GenerationReport,
    InterpolateResult,
    InterpolationSteps,
    ModelLoader,
    run_continue,
    run_generate,
    run_interpolate,
)
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel
from app.panels.requests import ContinueRequest, GenerateRequest, InterpolateRequest
from app.piano_roll import PianoRoll
from app.theme import track_color
from app.workers import CancelledFn, ProgressFn, Task
from core.audio.humanize import humanize
from core.edits import insert_bars, matching_track, rescale
from core.errors import MahlerNetError
from core.score import Note, Score

__all__ = ["Candidate", "GenerationController", "GenerationReport", "InterpolationSteps", "ghost_groups", "joined"]


# ----------------------------------------------------------------------------------- helpers
def ghost_groups(score: Score, fragment: Score, at_tick: int, colors: Sequence[str]) -> list[tuple[str, list[Note]]]:
    """The notes of ``fragment`` placed at ``at_tick`` of ``score``, grouped with the colour of the
    track they would join (or the colour a new track would get)."""
    fragment = rescale(fragment, score.ticks_per_quarter)
    tracks = list(score.tracks)
    groups = []
    for track in fragment.tracks:
        if not track.notes:
            continue
        index = matching_track(tracks, track)
        colour = colors[index] if index is not None and index < len(colors) else track_color(len(tracks), track.is_drum)
        groups.append((colour, [Note(n.start + at_tick, n.duration, n.pitch, n.velocity) for n in track.notes]))
    return groups


def joined(steps: Sequence[Score]) -> tuple[Score, int]:
    """Several one-bar fragments one after the other, as one fragment, and its bar count."""
    result = steps[0]
    for count, step in enumerate(steps[1:], start=1):
        result = insert_bars(result, count + 1, step, bars=1)
    return result, len(steps)


def failure_text(error: BaseException) -> str:
    """One line for the panel: our own errors as they are, anything else (a bug) named as such."""
    if isinstance(error, MahlerNetError):
        return str(error)
    first = (str(error).splitlines() or [""])[0][:160]
    return f"Generation failed ({type(error).__name__}: {first}); details are in the log."


def humanized(score: Score, strength: float, within: tuple[int, int] | None = None) -> Score:
    """``score`` as a performer might play it (``strength`` 0-1; 0 gives it back unchanged); only
    notes starting in ``within`` change."""
    return humanize(score, strength, within=within) if strength > 0 else score


class GenerationController(QObject):
    """Connects the two panels to the document, the roll and the background tasks."""

    audition_requested = Signal(object, int)  # a Score to play, from this bar
    generated = Signal(object)  # GenerationReport of each generation that gave a result

    def __init__(
        self,
        document: Document,
        roll: PianoRoll,
        continue_panel: ContinuePanel,
        interpolate_panel: InterpolatePanel,
        colors: Callable[[], Sequence[str]],
        model_for: Callable[[str], ModelLoader],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.roll = roll
        self.continue_panel = continue_panel
        self.interpolate_panel = interpolate_panel
        self.colors = colors
        self.model_for = model_for
        self.task: Task | None = None
        self.candidates: list[Candidate] = []
        self.steps: InterpolationSteps | None = None
        self._generated_from: Score | None = None

        continue_panel.continue_requested.connect(self.start_continue)
        continue_panel.cancel_requested.connect(self.cancel)
        continue_panel.candidate_selected.connect(self.show_candidate)
        continue_panel.keep_requested.connect(self.keep)
        continue_panel.discard_requested.connect(self.discard)
        continue_panel.audition_requested.connect(self.audition_candidate)
        continue_panel.drag_handle.mime_provider = self.candidate_mime
        interpolate_panel.interpolate_requested.connect(self.start_interpolate)
        interpolate_panel.cancel_requested.connect(self.cancel)
        interpolate_panel.step_changed.connect(self.show_step)
        interpolate_panel.step_released.connect(self.audition_step)
        interpolate_panel.insert_requested.connect(self.insert_steps)
        interpolate_panel.drag_handle.mime_provider = self.step_mime
        document.score_changed.connect(self._on_piece_changed)

    @property
    def busy(self) -> bool:
        return self.task is not None

    # -------------------------------------------------------------------------------- running
    def _run(
        self,
        job: Callable[[ProgressFn, CancelledFn], Any],
        panel: Any,  # ContinuePanel, InterpolatePanel or GenerateDialog
        name: str,
        on_result: Callable[[Any], None],
        needs_piece: bool = True,
    ) -> Task | None:
        if self.task is not None:
            panel.set_status("A generation is already running.", error=True)
            return None
        score = self.document.score
        if score is None and needs_piece:
            panel.set_status("Open a piece first.", error=True)
            return None
        self._generated_from = score
        task = Task(job, name=name, parent=self)
        panel.set_busy(True)
        panel.set_status(f"{name.capitalize()}…")
        task.progress.connect(panel.set_progress)
        task.result.connect(on_result)
        task.error.connect(lambda error: panel.set_status(failure_text(error), error=True))
        task.cancelled.connect(lambda: panel.set_status("Cancelled."))
        task.finished.connect(lambda: self._finished(panel, task))
        self.task = task
        return task.start()

    def _finished(self, panel: ContinuePanel | InterpolatePanel, task: Task) -> None:
        panel.set_busy(False)
        self.task = None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _still_current(self, panel: ContinuePanel | InterpolatePanel) -> bool:
        if self.document.score is not self._generated_from:
            panel.set_status("The piece changed while generating: results dropped.", error=True)
            return False
        return True

    # ------------------------------------------------------------------------------- continue
    def start_continue(self, request: ContinueRequest) -> Task | None:
        score = self.document.score
        load = self.model_for(request.model)
        self.discard()
        return self._run(
            lambda progress, cancelled: run_continue(score, request, load, progress, cancelled),
            self.continue_panel,
            "continuing",
            self._on_continued,
        )

    def _on_continued(self, result: ContinueResult) -> None:
        self.generated.emit(result.report)
        self._on_candidates(list(result.candidates))

    def _on_candidates(self, candidates: list[Candidate]) -> None:
        if not self._still_current(self.continue_panel):
            return
        self.candidates = list(candidates)
        self.continue_panel.show_candidates([c.label for c in self.candidates])
        count = len(self.candidates)
        if not count:
            self.continue_panel.set_status("The model gave no variation.", error=True)
            return
        first = self.candidates[0]
        last = first.at_bar + first.bars - 1
        bars = f"bar {last}" if first.bars == 1 else f"bars {first.at_bar}-{last}"
        self.continue_panel.set_status(
            f"{count} variation{'s' if count != 1 else ''} of {bars}, dashed in the roll. "
            f"Audition one; Keep inserts it before bar {first.at_bar} (Ctrl+Z undoes)."
        )

    def show_candidate(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        at = score.bar(candidate.at_bar).start
        self.roll.set_ghost_notes(ghost_groups(score, candidate.fragment, at, self.colors()))
        length = rescale(candidate.fragment, score.ticks_per_quarter).bar(candidate.bars).end
        last = candidate.at_bar + candidate.bars - 1
        bars = f"bar {last}" if candidate.bars == 1 else f"bars {candidate.at_bar}-{last}"
        self.roll.set_step_highlight(at, at + length, f"new {bars}: variation {index + 1} of {len(self.candidates)}")
        self.roll.reveal(at, at + length)

    def keep(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        kept = insert_bars(score, candidate.at_bar, candidate.fragment, candidate.bars)
        self.discard()
        self.document.apply(kept, f"Keep {candidate.label}")
        self.continue_panel.set_status(f"Kept {candidate.label}. Undo with Ctrl+Z.")

    def discard(self) -> None:
        self.candidates = []
        self.continue_panel.clear_candidates()
        self.roll.clear_ghosts()
        self.roll.clear_step_highlight()

    def audition_candidate(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        with_candidate = insert_bars(score, candidate.at_bar, candidate.fragment, candidate.bars)
        first = self.roll.selection.seed.first if self.roll.selection.seed else candidate.at_bar
        heard = with_candidate.slice_bars(first, candidate.at_bar + candidate.bars - 1)
        new_bars = (heard.bar(candidate.at_bar - first + 1).start, heard.end_tick + 1)  # the composer's bars play as written
        self.audition_requested.emit(humanized(heard, self.continue_panel.humanize.strength(), new_bars), 1)

    def candidate_mime(self) -> QMimeData | None:
        index = self.continue_panel.candidates.currentRow()
        if not 0 <= index < len(self.candidates):
            return None
        candidate = self.candidates[index]
        stem = f"variation {index + 1}"
        fragment = humanized(candidate.fragment, self.continue_panel.humanize.strength())
        return midi_file_mime(self.document.temporary_midi(fragment, stem))

    # ---------------------------------------------------------------------------- interpolate
    def start_interpolate(self, request: InterpolateRequest) -> Task | None:
        score = self.document.score
        load = self.model_for(request.model)
        self.clear_steps()
        return self._run(
            lambda progress, cancelled: run_interpolate(score, request, load, progress, cancelled),
            self.interpolate_panel,
            "interpolating",
            self._on_interpolated,
        )

    def _on_interpolated(self, result: InterpolateResult) -> None:
        self.generated.emit(result.report)
        self._on_steps(result.steps)

    def _on_steps(self, steps: InterpolationSteps) -> None:
        if not self._still_current(self.interpolate_panel):
            return
        self.steps = steps
        self.interpolate_panel.show_steps(len(steps.steps))
        self.interpolate_panel.set_status(
            f"{len(steps.steps)} steps from bar {steps.bar_a} to bar {steps.bar_b} decoded. Slide through them: "
            f"each is drawn dashed after bar {steps.bar_a} and heard when you let go; Insert puts it there "
            "(Ctrl+Z undoes)."
        )

    def show_step(self, index: int) -> None:
        score = self.document.score
        if score is None or self.steps is None or not 0 <= index < len(self.steps.steps):
            return
        bar = score.bar(self.steps.insert_at)
        step = self.steps.steps[index]
        self.roll.set_ghost_notes(ghost_groups(score, step, bar.start, self.colors()))
        end = bar.start + rescale(step, score.ticks_per_quarter).bar(1).length
        count, a, b = len(self.steps.steps), self.steps.bar_a, self.steps.bar_b
        self.roll.set_step_highlight(bar.start, end, f"step {index + 1} of {count}: bar {a} → bar {b}")
        self.roll.reveal(bar.start, end)

    def audition_step(self, index: int) -> None:
        if self.steps is None or not 0 <= index < len(self.steps.steps):
            return
        self.audition_requested.emit(humanized(self.steps.steps[index], self.interpolate_panel.humanize.strength()), 1)

    def insert_steps(self, indices: list[int]) -> None:
        score = self.document.score
        if score is None or self.steps is None or not indices:
            return
        fragment, count = joined([self.steps.steps[i] for i in indices])
        at = self.steps.insert_at
        self.clear_steps()
        what = f"step {indices[0] + 1}" if count == 1 else f"{count} steps"
        self.document.apply(insert_bars(score, at, fragment, count), f"Insert interpolation {what}")
        self.interpolate_panel.set_status(f"Inserted {what} after bar {at - 1}. Undo with Ctrl+Z.")

    def clear_steps(self) -> None:
        self.steps = None
        self.interpolate_panel.clear_steps()
        self.roll.clear_step_highlight()
        self.roll.clear_ghosts()

    def step_mime(self) -> QMimeData | None:
        if self.steps is None:
            return None
        index = self.interpolate_panel.slider.value()
        step = humanized(self.steps.steps[index], self.interpolate_panel.humanize.strength())
        return midi_file_mime(self.document.temporary_midi(step, f"step {index + 1}"))

    # ------------------------------------------------------------------------------- generate
    def start_generate(self, request: GenerateRequest, dialog: Any) -> Task | None:
        """A new piece or bars after the open one from the model's opening context (``dialog``
        shows the progress). The window asks to save a changed piece before a new one replaces it."""
        score = self.document.score
        load = self.model_for(request.model)
        self.discard()
        self.clear_steps()

        def on_result(result: GenerateResult) -> None:
            self._on_generated(result, dialog)

        return self._run(
            lambda progress, cancelled: run_generate(score, request, load, progress, cancelled),
            dialog, "generating", on_result, needs_piece=request.append,
        )  # fmt: skip

    def _on_generated(self, result: GenerateResult, dialog: Any) -> None:
        self.generated.emit(result.report)
        if not self._still_current(dialog):  # the piece changed meanwhile: never overwrite that work
            return
        if result.append:
            self.document.apply(result.score, f"Generate {result.bars} bars")
            dialog.set_status(f"Appended {result.bars} bars ({result.notes} notes). Undo with Ctrl+Z.")
        else:
            self.document.set_score(result.score, None)
            dialog.set_status(f"A new piece of {result.bars} bars ({result.notes} notes). Save it to keep it.")

    # ---------------------------------------------------------------------------------- piece
    def _on_piece_changed(self, score: Score | None) -> None:
        """Candidates and steps belong to the piece they were made from: any change drops them."""
        if self.candidates or self.steps is not None:
            self.discard()
            self.clear_steps()
