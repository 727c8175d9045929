"""File > Export Audio: the piece rendered to a WAV file by FluidSynth, off the GUI thread.

Hearing the music needs no sound card: :func:`core.audio.render.render` runs its own FluidSynth with
no audio driver (as ``mahlernet render`` does), in a background :class:`Task`, with a progress
dialog whose Cancel stops it. The soundfont is the one the settings name, else the one the project
finds (:func:`core.audio.soundfont.find_soundfont`). The WAV is written only once the whole piece is
rendered, so a cancelled or failed export leaves no half file; a failure is one line in a dialog.

Humanize (:class:`core.audio.humanize.Performance`, chosen in :mod:`app.export_audio_dialog`) is
applied in the same background task, to the copy that is rendered: the piece in the window never
changes, and at 0% the rendered score is the piece itself (the WAV is the one an export without
Humanize writes, byte for byte).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from app.workers import CancelledFn, ProgressFn, Task
from core.audio.humanize import Performance
from core.errors import MahlerNetError
from core.music.score import Score

WAV_FILTER = "WAV audio (*.wav);;All files (*)"
RENDER_SHARE = 0.95  # of the progress bar; writing the file is the rest


def render_to_wav(score: Score, path: Path, soundfont: str, progress: ProgressFn, cancelled: CancelledFn) -> Path:
    """Render ``score`` with ``soundfont`` ("" = the one the project finds) and write it to ``path``
    as 16-bit stereo WAV. Raises Cancelled (nothing written) when ``cancelled()`` turns true."""
    from core.audio.render import render, write_wav

    progress(0.0, "loading the soundfont…")
    audio = render(
        score,
        soundfont=soundfont or None,
        progress=lambda fraction: progress(RENDER_SHARE * fraction, "rendering…"),
        cancel=cancelled,
    )
    progress(RENDER_SHARE, f"writing {path.name}…")
    write_wav(path, audio)
    progress(1.0, "done")
    return path


class AudioExporter(QObject):
    """One export at a time, with a progress dialog; ``finished(path or None)`` when it ends."""

    finished = Signal(object)  # the Path written, or None (cancelled or failed)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.task: Task | None = None
        self.dialog: QProgressDialog | None = None
        self.last_error = ""

    @property
    def busy(self) -> bool:
        return self.task is not None

    def export(self, score: Score, path: str | Path, soundfont: str = "", performance: Performance = Performance()) -> Task | None:
        """Start rendering ``score`` to ``path`` (a ``.wav`` suffix is added when there is none),
        played as ``performance`` says (as written by default)."""
        if self.task is not None:
            return None
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".wav")
        self.last_error = ""
        dialog = QProgressDialog(f"Rendering {path.name}…", "Cancel", 0, 1000, self._parent)
        dialog.setWindowTitle("Export Audio")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        task = Task(lambda progress, cancelled: render_to_wav(performance.apply(score), path, soundfont, progress, cancelled), "export audio", self)
        dialog.canceled.connect(task.cancel)
        task.progress.connect(lambda fraction, message: self._on_progress(fraction, message, path))
        task.result.connect(self.finished.emit)
        task.error.connect(self._on_error)
        task.cancelled.connect(lambda: self.finished.emit(None))
        task.finished.connect(self._on_done)
        self.task, self.dialog = task, dialog
        dialog.show()
        return task.start()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_progress(self, fraction: float, message: str, path: Path) -> None:
        # setValue of a modal progress dialog runs the event loop, where the export may finish and
        # drop the dialog: the label goes first, and nothing touches the dialog after setValue
        dialog = self.dialog
        if dialog is not None:
            dialog.setLabelText(f"{path.name}: {message}")
            dialog.setValue(int(fraction * 1000))

    def _on_error(self, error: BaseException) -> None:
        first = (str(error).splitlines() or [""])[0]
        self.last_error = first if isinstance(error, MahlerNetError) else f"{type(error).__name__}: {first}"
        QMessageBox.critical(self._parent, "Cannot export audio", self.last_error)
        self.finished.emit(None)

    def _on_done(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.task, self.dialog = None, None
