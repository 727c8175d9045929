"""The window's side of playback: play/stop, panic, audition, sounding keys, the cursor position.

The player is :class:`app.playback.PlaybackController` (a thread over ``core.audio``). Opening the
outputs (loading a soundfont, starting an audio driver) can take a moment, so it happens in a
background task after the window is up, and again when the settings change; until it is done, or
when no output can be opened, commands say why through ``problem`` instead of failing silently.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.playback import PlaybackController
from app.workers import CancelledFn, ProgressFn, Task
from core.audio.outputs import OutputSettings
from core.music.score import Score


class Transport(QObject):
    position_changed = Signal(float)  # tick of the piece being played
    playing_changed = Signal(bool)
    problem = Signal(str)  # one line: why something could not be played
    outputs_ready = Signal(str)  # what plays now, in words

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = PlaybackController(parent=self)
        self.controller.positionChanged.connect(self._on_position)
        self.controller.stateChanged.connect(lambda state: self.playing_changed.emit(state == "playing"))
        self.controller.error.connect(self.problem)
        self.ready = False
        self._opening: Task | None = None
        self._playing_piece = False  # positions of an audition are not positions in the piece

    def _on_position(self, tick: int) -> None:
        if self._playing_piece:
            self.position_changed.emit(float(tick))

    def open_outputs(self, soundfont: str = "", midi_port: str = "", audio_drivers: tuple[str, ...] | None = None) -> Task:
        """Open the synth (and the MIDI port) in the background; ``audio_drivers``: FluidSynth's
        drivers to try (default: those of this platform)."""
        settings = OutputSettings(
            use_synth=True, soundfont=soundfont or None, audio_drivers=audio_drivers, midi_port=midi_port or None
        )

        def job(progress: ProgressFn, cancelled: CancelledFn) -> list[str]:
            return self.controller.apply_settings(settings)

        self.ready = False
        task = Task(job, name="open audio outputs", parent=self)
        task.result.connect(self._on_opened)
        task.error.connect(lambda error: self.problem.emit(f"audio: {error}"))
        self._opening = task
        return task.start()

    def _on_opened(self, problems: list[str]) -> None:
        """Outputs are open (or known to be missing: ``controller.problems`` says why, and the window
        shows it on its audio label; a play attempt then reports it again)."""
        self.ready = True
        self.outputs_ready.emit(self.controller.outputs_description)

    @property
    def can_play(self) -> bool:
        """The outputs are open and something can be heard through them."""
        return self.ready and self.controller.can_play

    def _check_ready(self) -> bool:
        if not self.ready:
            self.problem.emit("audio is still starting; try again in a moment")
        return self.ready

    @property
    def playing(self) -> bool:
        return self.controller.state == "playing"

    def toggle(self, score: Score, from_tick: int, loop_ticks: tuple[int, int] | None = None) -> bool:
        """Stop if playing; otherwise play ``score`` from ``from_tick`` to its end, or loop the tick
        range ``loop_ticks``."""
        if self.playing:
            self.controller.stop()
            return True
        if not self._check_ready():
            return False
        self._playing_piece = True
        if loop_ticks is not None:
            start, end = loop_ticks
            return self.controller.player.play(score, start, end, loop=True, from_tick=from_tick)
        if from_tick >= score.end_tick:
            from_tick = 0
        return self.controller.play_range(score, from_tick, score.end_tick)

    def panic(self) -> bool:
        """Stop and silence everything at once."""
        self.controller.stop()
        return True

    def audition(self, fragment: Score) -> bool:
        if not self._check_ready():
            return False
        self._playing_piece = False
        return self.controller.audition(fragment)

    def key_down(self, pitch: int) -> bool:
        return self.ready and self.controller.key_down(pitch)

    def key_up(self, pitch: int) -> bool:
        if self.ready:
            self.controller.key_up(pitch)
        return self.ready

    def close(self) -> None:
        """Release audio devices when the window closes."""
        if self._opening is not None:
            self._opening.wait(5.0)
        self.controller.close()
