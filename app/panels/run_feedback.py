"""What every generation panel shows of its run, written once: busy or not, progress and status in
its :class:`~app.panels.widgets.ProgressRow`, and, for the panels that offer variations, the
:class:`~app.panels.candidates.CandidateBox` (Keep mode, the list, audition).

The controller (``app/generation.py``) calls these on whichever panel runs; a panel only says when
its buttons are enabled (``_update_enabled``). Mixed into a ``QWidget`` subclass after ``QWidget``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from app.panels.candidates import CandidateBox
    from app.panels.widgets import ProgressRow


class RunFeedback:
    """Busy state, progress and status of a panel's run."""

    progress: ProgressRow
    _busy: bool

    def _update_enabled(self) -> None:
        raise NotImplementedError

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.set_busy(busy)
        self._update_enabled()

    @property
    def busy(self) -> bool:
        return self._busy

    def set_progress(self, fraction: float, message: str = "") -> None:
        self.progress.set_progress(fraction, message)

    def set_status(self, text: str, error: bool = False) -> None:
        self.progress.set_status(text, error)

    def status_text(self) -> str:
        return self.progress.status.text()


class CandidateFeedback(RunFeedback):
    """:class:`RunFeedback` for a panel that lists variations to audition and keep."""

    candidate_box: CandidateBox

    def set_busy(self, busy: bool) -> None:
        self.candidate_box.set_busy(busy)
        super().set_busy(busy)

    def set_can_play(self, can_play: bool, reason: str = "") -> None:
        """Audition needs a sound device: without one it is off, and its tooltip says why."""
        self.candidate_box.set_can_play(can_play, reason)

    def keep_mode(self) -> str:
        """``insert``, ``replace`` or ``take`` (core.music.keep's modes)."""
        return self.candidate_box.keep_mode()

    def show_candidates(self, labels: Sequence[str], chosen: int = 0) -> None:
        """List the variations (``chosen`` is selected)."""
        self.candidate_box.show_candidates(labels, chosen)

    def clear_candidates(self) -> None:
        self.candidate_box.clear_candidates()
