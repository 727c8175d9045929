"""The outputs the user chose (built-in synth, a MIDI port, or both), opened as one sink.

The app's settings dialog and the CLI describe what they want with :class:`OutputSettings`;
:class:`Outputs` opens it, keeps going when part of it fails (no soundfont, no sound card, a MIDI
port that vanished) and says why in :attr:`Outputs.problems`, so the user can be told and the app
never crashes for want of a device.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.audio.midi_out import MidiOutput
from core.audio.sinks import FanOut
from core.audio.synth import Synth
from core.errors import AudioError

LOG = logging.getLogger("core.audio.outputs")


@dataclass(frozen=True)
class OutputSettings:
    """What to play through: the built-in synth (with an optional soundfont path and audio driver
    list) and/or a MIDI output port (a name or label from list_output_ports)."""

    use_synth: bool = True
    soundfont: str | None = None
    audio_drivers: tuple[str, ...] | None = None
    midi_port: str | None = None


class Outputs:
    """Open outputs as one sink (:attr:`sink`); reopen with :meth:`apply`, release with :meth:`close`."""

    def __init__(self, settings: OutputSettings | None = None) -> None:
        self.settings = OutputSettings(use_synth=False)
        self.synth: Synth | None = None
        self.midi: MidiOutput | None = None
        self._open_problems: list[str] = []
        self.sink = FanOut()
        if settings is not None:
            self.apply(settings)

    def apply(self, settings: OutputSettings) -> FanOut:
        """Open what ``settings`` asks for (keeping what did not change) and return the new sink."""
        old = self.settings
        self._open_problems = []
        synth_changed = (settings.use_synth, settings.soundfont, settings.audio_drivers) != (
            old.use_synth, old.soundfont, old.audio_drivers)
        if synth_changed or (settings.use_synth and self.synth is None):
            self._close_synth()
            if settings.use_synth:
                try:
                    self.synth = Synth(settings.soundfont)
                    self.synth.start(settings.audio_drivers)
                except AudioError as error:
                    self._open_problems.append(f"built-in synth: {error}")
        elif settings.use_synth and self.synth is not None and self.synth.audio_driver is None:
            self.synth.start(settings.audio_drivers)  # a device may have appeared since
        if settings.midi_port != old.midi_port or (settings.midi_port and self.midi is None):
            self._close_midi()
            if settings.midi_port:
                try:
                    self.midi = MidiOutput(settings.midi_port)
                except AudioError as error:
                    self._open_problems.append(str(error))
        self.settings = settings
        self.sink = FanOut(*[s for s in (self.synth, self.midi) if s is not None])
        for problem in self.problems:
            LOG.info("audio output: %s", problem)
        return self.sink

    @property
    def problems(self) -> list[str]:
        """Every reason part of the chosen output cannot be heard (empty when all works)."""
        problems = list(self._open_problems)
        if self.synth is not None and self.synth.problem:
            problems.append(f"built-in synth: {self.synth.problem}")
        if self.midi is not None and self.midi.problem:
            problems.append(self.midi.problem)
        if not self.settings.use_synth and not self.settings.midi_port:
            problems.append("no output chosen: enable the built-in synth or choose a MIDI port")
        return problems

    @property
    def description(self) -> str:
        """What plays, in words (for a status bar)."""
        names = [s.name for s in (self.synth, self.midi) if s is not None]
        return " + ".join(names) if names else "no output"

    def close(self) -> None:
        self._close_synth()
        self._close_midi()
        self.sink = FanOut()

    def _close_synth(self) -> None:
        if self.synth is not None:
            self.synth.close()
            self.synth = None

    def _close_midi(self) -> None:
        if self.midi is not None:
            self.midi.close()
            self.midi = None
