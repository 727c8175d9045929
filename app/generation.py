"""Continue and Interpolate in the window: runs, candidates as ghosts, Keep / Insert into the piece.

Requests from the panels run as background :class:`Task` jobs (:mod:`app.generation_jobs`, which call
``core.generation``) with progress and Cancel; the window stays responsive meanwhile. Variations are
shown as ghost notes in the roll after the seed; interpolation steps are all decoded at once, so the
slider then moves through them instantly.

The preview shows the new bars where Keep would put them, in the room Keep would make: the roll
shows the piece as it would be around them (later bars pushed on for an insert, the replaced bars
gone), never the new notes over the music they would push; and it zooms so that they can be read.
Keep (insert, replace, or a new take on tracks of its own, muted at first: :mod:`core.music.keep`) and
Insert put music into the piece through the document (undoable); undoing them brings the variations
or steps back, so the next one can be tried. Candidates and steps can be dragged out and auditioned
(through the ``audition_requested`` signal, which the window connects to the player). Errors (no
model, a model of the wrong kind, bars that are not in the piece, a damaged model file) end the run
with their one-line reason in the panel.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    run_arrange,
    run_continue,
    run_generate,
    run_interpolate,
)
from app.panels.arrange_panel import ArrangePanel
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel
from app.panels.requests import ArrangeRequest, ContinueRequest, GenerateRequest, InterpolateRequest
from app.piano_roll import PianoRoll
from app.theme import track_color
from app.workers import CancelledFn, ProgressFn, Task
from core.audio.humanize import humanize
from core.music.edits import insert_bars, matching_track, rescale
from core.errors import MahlerNetError
from core.music.keep import KeepMode, bars_text, clipped, fragment_end, in_piece_order, keep, new_take_tracks, room_for
from core.music.score import Note, Score, Track

READABLE_FRACTION = 0.3  # new bars narrower than this part of the roll are zoomed in on
MAX_UNDO_RECORDS = 32  # Keeps whose undo brings their variations back

__all__ = ["Candidate", "GenerationController", "GenerationReport", "InterpolationSteps", "ghost_groups", "joined"]


# ----------------------------------------------------------------------------------- helpers
def ghost_groups(
    score: Score,
    fragment: Score,
    at_tick: int,
    colors: Sequence[str],
    visible: Sequence[bool] | None = None,
    new_tracks: bool = False,
) -> list[tuple[str, list[Note]]]:
    """The notes of ``fragment`` placed at ``at_tick`` of ``score``, grouped with the colour of the
    track they would join, or the colour each new track would get (one each, in the order Keep adds
    them). Notes that would join a hidden track (``visible`` False) are not drawn. With
    ``new_tracks`` (a take) every fragment track is a new track."""
    fragment = in_piece_order(score, rescale(fragment, score.ticks_per_quarter))
    tracks: list[Track] = list(score.tracks)
    groups = []
    for track in fragment.tracks:
        if not track.notes:
            continue
        index = None if new_tracks else matching_track(tracks, track)
        if index is None:
            index = len(tracks)
            tracks.append(track)
        if visible is not None and index < len(visible) and not visible[index]:
            continue
        colour = colors[index] if index < len(colors) else track_color(index, track.is_drum)
        groups.append((colour, [Note(n.start + at_tick, n.duration, n.pitch, n.velocity) for n in track.notes]))
    return groups


def joined(steps: Sequence[Score]) -> tuple[Score, int]:
    """Several one-bar fragments one after the other, as one fragment, and its bar count."""
    result = steps[0]
    for count, step in enumerate(steps[1:], start=1):
        result = insert_bars(result, count + 1, step, bars=1)
    return result, len(steps)


CandidatePanel = ContinuePanel | ArrangePanel  # the panels that offer variations to keep


@dataclass(frozen=True)
class KeptRecord:
    """A Keep or Insert that undo can take back: the piece before it, and what was on offer then
    (and by which panel)."""

    before: Score
    candidates: tuple[Candidate, ...] = ()
    chosen: int = 0
    steps: InterpolationSteps | None = None
    step: int = 0
    panel: CandidatePanel | None = None


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
    """Connects the panels to the document, the roll and the background tasks. Continue and Arrange
    both offer variations; one set is on offer at a time, in the panel that made it."""

    audition_requested = Signal(object, int)  # a Score to play, from this bar
    generated = Signal(object)  # GenerationReport of each generation that gave a result
    take_kept = Signal(tuple)  # the Track objects a Keep added as a new take (the window mutes them)

    def __init__(
        self,
        document: Document,
        roll: PianoRoll,
        continue_panel: ContinuePanel,
        interpolate_panel: InterpolatePanel,
        colors: Callable[[], Sequence[str]],
        model_for: Callable[[str], ModelLoader],
        parent: QObject | None = None,
        visible: Callable[[], Sequence[bool]] | None = None,
        heard: Callable[[Score], Score] | None = None,
        arrange_panel: ArrangePanel | None = None,
    ) -> None:
        """``visible``: which tracks are shown (ghosts of hidden tracks are not drawn); ``heard``: the
        piece as the model hears it when the composer keeps muted and hidden tracks from it."""
        super().__init__(parent)
        self.document = document
        self.roll = roll
        self.continue_panel = continue_panel
        self.interpolate_panel = interpolate_panel
        self.arrange_panel = arrange_panel
        self.offering: CandidatePanel = continue_panel  # the panel whose variations are on offer
        self.colors = colors
        self.visible = visible or (lambda: [])
        self.heard = heard or (lambda score: score)
        self.model_for = model_for
        self.task: Task | None = None
        self.candidates: list[Candidate] = []
        self.steps: InterpolationSteps | None = None
        self._generated_from: Score | None = None
        self._kept: list[KeptRecord] = []
        self._takes = 0

        continue_panel.continue_requested.connect(self.start_continue)
        if arrange_panel is not None:
            arrange_panel.arrange_requested.connect(self.start_arrange)
        for panel in self._candidate_panels():
            panel.cancel_requested.connect(self.cancel)
            panel.candidate_selected.connect(self.show_candidate)
            panel.keep_requested.connect(self.keep)
            panel.keep_mode_changed.connect(lambda _mode: self._show_current_candidate())
            panel.discard_requested.connect(self.discard)
            panel.audition_requested.connect(self.audition_candidate)
            panel.drag_handle.mime_provider = self.candidate_mime
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

    def _candidate_panels(self) -> list[CandidatePanel]:
        return [panel for panel in (self.continue_panel, self.arrange_panel) if panel is not None]

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

    def _finished(self, panel: CandidatePanel | InterpolatePanel, task: Task) -> None:
        panel.set_busy(False)
        self.task = None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _still_current(self, panel: CandidatePanel | InterpolatePanel) -> bool:
        if self.document.score is not self._generated_from:
            panel.set_status("The piece changed while generating: results dropped.", error=True)
            return False
        return True

    # -------------------------------------------------------------------------------- preview
    def _preview(self, fragment: Score, at_bar: int, bars: int, mode: KeepMode, caption: str) -> None:
        """Show ``fragment`` where keeping it in ``mode`` would put it: the roll shows the piece with
        the room it would take and the new notes (of shown tracks) in it, zoomed to be read."""
        score = self.document.score
        if score is None:
            return
        self.roll.set_score(room_for(score, mode, at_bar, fragment, bars))
        at = score.bar(at_bar).start
        end = at + fragment_end(score, fragment, bars)
        shown = clipped(rescale(fragment, score.ticks_per_quarter), bars)
        self.roll.set_ghost_notes(
            ghost_groups(score, shown, at, self.colors(), self.visible(), new_tracks=mode == "take")
        )
        self.roll.set_step_highlight(at, end, caption)
        self._reveal_readable(at, end)

    def _reveal_readable(self, start: int, end: int) -> None:
        """Bring ``start``-``end`` into sight; when it would be too narrow to read, zoom in on it,
        with the music before it (half its length, at least a bar: where it comes from) and a
        little of what follows."""
        view = self.roll.view
        readable = (end - start) * view.px_per_tick >= READABLE_FRACTION * view.width
        if readable and start >= view.left_tick and end <= view.right_tick:
            return
        if readable:
            self.roll.reveal(start, end)
            return
        score = self.document.score
        bar_before = score.bar_at(start - 1).length if score is not None and start > 0 else 0
        lead = max((end - start) / 2, bar_before)
        self.roll.zoom_to_ticks(max(0.0, start - lead), end + lead / 2)

    def refresh_preview(self) -> None:
        """Draw the preview again (a track was hidden or shown, or changed colour)."""
        if self.candidates:
            self._show_current_candidate()
        elif self.steps is not None:
            self.show_step(self.interpolate_panel.slider.value())

    def _end_preview(self) -> None:
        """The roll shows the piece itself again, with no ghosts."""
        self.roll.clear_ghosts()
        self.roll.clear_step_highlight()
        if self.roll.score is not self.document.score:
            self.roll.set_score(self.document.score)

    # ------------------------------------------------------------------------------- continue
    def start_continue(self, request: ContinueRequest) -> Task | None:
        score = self.document.score
        if score is not None and not self.continue_panel.model_hears_silent_tracks():
            score = self.heard(score)
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
        self._on_candidates(list(result.candidates), notes=result.notes, panel=self.continue_panel)

    # -------------------------------------------------------------------------------- arrange
    def start_arrange(self, request: ArrangeRequest) -> Task | None:
        """Arrange the request's progression (the Arrange panel shows the run and its variations)."""
        assert self.arrange_panel is not None
        score = self.document.score
        load = self.model_for(request.model)
        self.discard()
        return self._run(
            lambda progress, cancelled: run_arrange(score, request, load, progress, cancelled),
            self.arrange_panel,
            "arranging",
            lambda result: self._on_arranged(result),
        )

    def _on_arranged(self, result: ContinueResult) -> None:
        self.generated.emit(result.report)
        self._on_candidates(list(result.candidates), panel=self.arrange_panel)

    # ----------------------------------------------------------------------------- variations
    def _on_candidates(
        self, candidates: list[Candidate], chosen: int = 0, restored: bool = False, notes: tuple[str, ...] = (),
        panel: CandidatePanel | None = None,
    ) -> None:  # fmt: skip
        panel = panel or self.continue_panel
        if not self._still_current(panel):
            return
        self.offering = panel
        self.candidates = list(candidates)
        panel.show_candidates([c.label for c in self.candidates], chosen)
        count = len(self.candidates)
        if not count:
            panel.set_status("The model gave no variation.", error=True)
            return
        first = self.candidates[0]
        again = "Back after undo: " if restored else ""
        said = "".join(f" Note: {note[0].upper()}{note[1:]}." for note in notes)  # e.g. drums left out
        panel.set_status(
            f"{again}{count} variation{'s' if count != 1 else ''} of {bars_text(first.at_bar, first.bars)}, dashed "
            f"in the roll. Audition one; Keep puts it after bar {first.at_bar - 1} (Ctrl+Z undoes).{said}"
        )

    def _show_current_candidate(self) -> None:
        self.show_candidate(self.offering.candidates.currentRow())

    def show_candidate(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        mode = self.offering.keep_mode()
        what = {"insert": "new", "replace": "replacing", "take": "take on"}[mode]
        caption = f"{what} {bars_text(candidate.at_bar, candidate.bars)}: variation {index + 1} of {len(self.candidates)}"
        self._preview(candidate.fragment, candidate.at_bar, candidate.bars, mode, caption)

    def keep(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        mode = self.offering.keep_mode()
        take_name = f"take {self._takes + 1}"
        try:
            kept = keep(score, mode, candidate.at_bar, candidate.fragment, candidate.bars, take_name)
        except MahlerNetError as error:
            self.offering.set_status(str(error), error=True)
            return
        panel = self.offering
        self._remember(KeptRecord(score, tuple(self.candidates), index, panel=panel))
        self.discard()
        name = candidate.label.split(" · ")[0]
        verb = {"insert": "Keep", "replace": "Keep (replace)", "take": "Keep as take"}[mode]
        if mode == "take":  # said before the piece changes, so the new tracks are muted when first shown
            self._takes += 1
            self.take_kept.emit(tuple(kept.tracks[i] for i in new_take_tracks(score, kept)))
        self.document.apply(kept, f"{verb} {name}")
        where = {
            "insert": f"inserted before bar {candidate.at_bar}",
            "replace": f"in place of {bars_text(candidate.at_bar, candidate.bars)}",
            "take": f"as {take_name} on tracks of its own (muted: unmute them in Tracks)",
        }[mode]
        panel.set_status(f"Kept {name} {where}. Ctrl+Z undoes and brings the variations back.")

    def discard(self) -> None:
        self.candidates = []
        for panel in self._candidate_panels():
            panel.clear_candidates()
        self._end_preview()

    def audition_candidate(self, index: int) -> None:
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return
        candidate = self.candidates[index]
        mode = self.offering.keep_mode()
        with_candidate = keep(score, "insert" if mode == "take" else mode, candidate.at_bar, candidate.fragment, candidate.bars)
        first = self.roll.selection.seed.first if self.roll.selection.seed else candidate.at_bar
        heard = with_candidate.slice_bars(first, candidate.at_bar + candidate.bars - 1)
        new_bars = (heard.bar(candidate.at_bar - first + 1).start, heard.end_tick + 1)  # the composer's bars play as written
        self.audition_requested.emit(humanized(heard, self.offering.humanize.strength(), new_bars), 1)

    def candidate_mime(self) -> QMimeData | None:
        index = self.offering.candidates.currentRow()
        score = self.document.score
        if score is None or not 0 <= index < len(self.candidates):
            return None
        candidate = self.candidates[index]
        stem = f"variation {index + 1}"
        fragment = in_piece_order(score, clipped(candidate.fragment, candidate.bars))
        fragment = humanized(fragment, self.offering.humanize.strength())
        return midi_file_mime(self.document.temporary_midi(fragment, stem))

    # ---------------------------------------------------------------------------- interpolate
    def start_interpolate(self, request: InterpolateRequest) -> Task | None:
        score = self.document.score
        if score is not None and not self.interpolate_panel.model_hears_silent_tracks():
            score = self.heard(score)
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

    def _on_steps(self, steps: InterpolationSteps, step: int = 0, restored: bool = False) -> None:
        if not self._still_current(self.interpolate_panel):
            return
        self.steps = steps
        self.interpolate_panel.show_steps(len(steps.steps), step)
        again = "Back after undo: " if restored else ""
        self.interpolate_panel.set_status(
            f"{again}{len(steps.steps)} steps from bar {steps.bar_a} to bar {steps.bar_b} decoded. Slide through "
            f"them: each is drawn dashed after bar {steps.bar_a} and heard when you let go; Insert puts it there "
            "(Ctrl+Z undoes)."
        )

    def show_step(self, index: int) -> None:
        score = self.document.score
        if score is None or self.steps is None or not 0 <= index < len(self.steps.steps):
            return
        count, a, b = len(self.steps.steps), self.steps.bar_a, self.steps.bar_b
        caption = f"step {index + 1} of {count}: bar {a} → bar {b}"
        self._preview(self.steps.steps[index], self.steps.insert_at, 1, "insert", caption)

    def audition_step(self, index: int) -> None:
        if self.steps is None or not 0 <= index < len(self.steps.steps):
            return
        self.audition_requested.emit(humanized(self.steps.steps[index], self.interpolate_panel.humanize.strength()), 1)

    def insert_steps(self, indices: list[int]) -> None:
        score = self.document.score
        if score is None or self.steps is None or not indices:
            return
        fragment, count = joined([clipped(self.steps.steps[i], 1) for i in indices])
        at = self.steps.insert_at
        self._remember(KeptRecord(score, steps=self.steps, step=indices[0]))
        self.clear_steps()
        what = f"step {indices[0] + 1}" if count == 1 else f"{count} steps"
        self.document.apply(insert_bars(score, at, fragment, count), f"Insert interpolation {what}")
        self.interpolate_panel.set_status(f"Inserted {what} after bar {at - 1}. Ctrl+Z undoes and brings the steps back.")

    def clear_steps(self) -> None:
        self.steps = None
        self.interpolate_panel.clear_steps()
        self._end_preview()

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
    def _remember(self, record: KeptRecord) -> None:
        self._kept = [*self._kept[-(MAX_UNDO_RECORDS - 1) :], record]

    def _on_piece_changed(self, score: Score | None) -> None:
        """Candidates and steps belong to the piece they were made from: any change drops them, and
        the panels' words about them go too. Undoing a Keep or Insert (the piece is again the very
        one it was made from) brings back what was on offer then."""
        if self.candidates or self.steps is not None:
            self.discard()
            self.clear_steps()
            for panel in (*self._candidate_panels(), self.interpolate_panel):
                panel.set_status("")
        if score is None:
            return
        for panel in (*self._candidate_panels(), self.interpolate_panel):
            if panel.status_text() == "Open a piece first.":
                panel.set_status("")
        record = next((r for r in reversed(self._kept) if r.before is score), None)
        if record is None or self.busy:
            return
        self._generated_from = score
        if record.candidates:
            self._on_candidates(list(record.candidates), record.chosen, restored=True, panel=record.panel)
        if record.steps is not None:
            self._on_steps(record.steps, record.step, restored=True)
