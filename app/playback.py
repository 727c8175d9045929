"""The Qt face of the player: transport, playback cursor, auditions and keyboard clicks as signals.

:class:`PlaybackController` owns one :class:`core.audio.player.Player` (a Python thread) and the
outputs chosen in the settings. The player's hooks run on the player thread; here they only emit
signals, which Qt queues to receivers in the GUI thread, so slots never run on the player thread.

Wiring in the main window (what each view needs):

* Space -> :meth:`toggle`, Esc -> :meth:`stop` (:meth:`panic` also silences when stopped); loop button -> :meth:`set_loop` / ``play(..., loop=True)``;
* piano roll cursor <- :attr:`positionChanged` (tick) and :attr:`barChanged` (bar from 1);
  a click on the ruler -> :meth:`seek`;
* candidates and interpolation steps -> :meth:`audition` (a Score of its own) or
  :meth:`play_range` (a tick range of the document, e.g. the bars a candidate would replace);
* keyboard click -> :meth:`sound_key` (or :meth:`key_down` / :meth:`key_up` for press and release);
* settings dialog -> :meth:`apply_settings` with an :class:`~core.audio.outputs.OutputSettings`,
  ports from :func:`core.audio.midi_out.list_output_ports`; :attr:`problems` says what is missing.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal

from core.audio.outputs import Outputs, OutputSettings
from core.audio.player import AUDITION_CHANNEL, Player, PlayerState
from core.audio.sinks import Sink
from core.music.score import Score


class _SignallingPlayer(Player):
    """A Player whose hooks emit the controller's signals (from whatever thread calls them)."""

    def __init__(self, controller: "PlaybackController", sink: Sink | None) -> None:
        super().__init__(sink)
        self._controller = controller
        self._last_bar = 0

    def position_changed(self, tick: int, bar: int) -> None:
        self._controller.positionChanged.emit(tick)
        if bar != self._last_bar:
            self._last_bar = bar
            self._controller.barChanged.emit(bar)

    def state_changed(self, state: PlayerState) -> None:
        self._controller.stateChanged.emit(state.value)

    def finished(self) -> None:
        self._controller.finished.emit()

    def error(self, message: str) -> None:
        self._controller.error.emit(message)


class PlaybackController(QObject):
    """Transport and auditioning for the app. Call :meth:`close` before the app quits (done
    automatically on QCoreApplication.aboutToQuit)."""

    positionChanged = Signal(int)  # play position in ticks, about 30 times a second while playing
    barChanged = Signal(int)  # bar (from 1) that holds the play position, when it changes
    stateChanged = Signal(str)  # "playing", "paused" or "stopped"
    finished = Signal()  # the end of the range was reached (not emitted by stop())
    error = Signal(str)  # one line for the user: no output, a device that failed, ...
    outputsChanged = Signal(str)  # what plays now, in words (after apply_settings)

    def __init__(self, sink: Sink | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._outputs: Outputs | None = None
        self._player = _SignallingPlayer(self, sink)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    # ---------------------------------------------------------------------------------- outputs
    def apply_settings(self, settings: OutputSettings) -> list[str]:
        """Open the outputs ``settings`` asks for (stopping playback) and play through them from
        now on. Returns the problems (also in :attr:`problems`); never raises for a missing device."""
        self._player.stop()
        self._player.set_sink(None)
        if self._outputs is None:
            self._outputs = Outputs()
        self._outputs.apply(settings)
        self._player.set_sink(self._outputs.sink)
        self.outputsChanged.emit(self._outputs.description)
        return self.problems

    @property
    def problems(self) -> list[str]:
        """Why some chosen output cannot be heard (empty when everything works)."""
        if self._outputs is not None:
            return self._outputs.problems
        sink = self._player.sink
        problem = getattr(sink, "problem", None) if sink is not None else "no output chosen"
        return [problem] if problem else []

    @property
    def can_play(self) -> bool:
        """Whether anything can be heard: the synth has a sound device, or a MIDI port is open."""
        outputs = self._outputs
        if outputs is None:
            return False
        synth_heard = outputs.synth is not None and outputs.synth.audio_driver is not None
        midi_heard = outputs.midi is not None and not outputs.midi.problem
        return synth_heard or midi_heard

    @property
    def outputs_description(self) -> str:
        return self._outputs.description if self._outputs is not None else "custom output"

    # -------------------------------------------------------------------------------- transport
    @property
    def state(self) -> str:
        return self._player.state.value

    @property
    def position(self) -> int:
        return self._player.position

    @property
    def player(self) -> Player:
        """The underlying core player (for what this class does not wrap)."""
        return self._player

    def load(self, score: Score, cursor: int = 0) -> None:
        """The document's Score, played by toggle() from the cursor (stops playback)."""
        self._player.load(score, cursor)

    def play(self, score: Score | None = None, *, loop: bool = False) -> bool:
        """Play ``score`` (default: the loaded one, from the cursor) to its end."""
        return self._player.play(score, loop=loop)

    def play_range(self, score: Score, start: int, end: int, *, loop: bool = False) -> bool:
        """Play ticks ``start``-``end`` of ``score`` (a selection), optionally looping."""
        return self._player.play(score, start, end, loop=loop)

    def play_bars(self, score: Score, first: int, last: int | None = None, *, loop: bool = False) -> bool:
        """Play bars ``first`` to ``last`` (from 1, inclusive), optionally looping."""
        return self._player.play_bars(score, first, last, loop=loop)

    def audition(self, fragment: Score, *, loop: bool = False) -> bool:
        """Play a Score of its own from its start: a candidate variation, an interpolation step."""
        return self._player.audition(fragment, loop=loop)

    def toggle(self) -> bool:
        """Space: play / pause / resume."""
        return self._player.toggle()

    def stop(self) -> None:
        """Esc: stop and silence."""
        self._player.stop()

    def panic(self) -> None:
        """Stop and silence everything, even when nothing was playing."""
        self._player.panic()

    def pause(self) -> None:
        self._player.pause()

    def seek(self, tick: int) -> None:
        self._player.seek(tick)

    def set_loop(self, loop: bool) -> None:
        self._player.set_loop(loop)

    # ------------------------------------------------------------------------------ single keys
    def sound_key(self, pitch: int, program: int = 0, velocity: int = 100, duration: float = 0.5) -> bool:
        """Sound one key for ``duration`` seconds with GM ``program`` (the keyboard was clicked)."""
        return self._player.sound_note(pitch, velocity, duration, channel=AUDITION_CHANNEL, program=program)

    def key_down(self, pitch: int, program: int = 0, velocity: int = 100) -> bool:
        return self._player.key_down(pitch, velocity, channel=AUDITION_CHANNEL, program=program)

    def key_up(self, pitch: int) -> None:
        self._player.key_up(pitch, channel=AUDITION_CHANNEL)

    def close(self) -> None:
        """Stop, end the player thread and release the outputs (idempotent)."""
        self._player.close()
        if self._outputs is not None:
            self._outputs.close()
            self._outputs = None
