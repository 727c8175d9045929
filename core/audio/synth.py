"""The built-in General MIDI synth: FluidSynth with a soundfont, played live or rendered offline.

A :class:`Synth` is a sink for the player (note on/off, program and control changes, panic). For live
sound, :meth:`Synth.start` tries the audio drivers that suit this platform in turn and keeps the first
that opens a device. FluidSynth itself reports success even when no driver could be created, so the
driver pointer is checked, and when none works the Synth stays usable (offline rendering, MIDI out
elsewhere) with ``audio_driver`` None and the reason, collected from FluidSynth's own log, in
``audio_problem`` for the UI to show.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from pathlib import Path

from core.audio import _fluid
from core.audio._native_logs import quiet_native_libraries
from core.audio.soundfont import find_soundfont
from core.errors import AudioError
from core.music.score import DRUM_CHANNEL

SAMPLE_RATE = 44100
DEFAULT_GAIN = 0.5
DRIVER_ENV_VAR = "MAHLERNET_AUDIO_DRIVER"
DRUM_BANK = 128

# Drivers worth trying, most likely to work first. "file" (writes fluidsynth.wav in the working
# folder) and SDL (needs the application to initialise SDL) are never chosen automatically.
_DRIVERS_BY_PLATFORM = {
    "linux": ("pulseaudio", "pipewire", "jack", "alsa", "oss"),
    "darwin": ("coreaudio", "portaudio", "jack"),
    "win32": ("wasapi", "dsound", "waveout", "portaudio"),
}
_DRIVERS_OTHER = ("pulseaudio", "jack", "oss", "portaudio")


def preferred_drivers(platform: str | None = None) -> tuple[str, ...]:
    """Audio drivers to try on ``platform``, in order; ``$MAHLERNET_AUDIO_DRIVER`` (a comma-separated
    list) overrides them."""
    forced = os.environ.get(DRIVER_ENV_VAR, "").strip()
    if forced:
        return tuple(name.strip() for name in forced.split(",") if name.strip())
    platform = sys.platform if platform is None else platform
    for prefix, drivers in _DRIVERS_BY_PLATFORM.items():
        if platform.startswith(prefix):
            return drivers
    return _DRIVERS_OTHER


_live_synths: "weakref.WeakSet[Synth]" = weakref.WeakSet()


@atexit.register
def _close_live_synths() -> None:
    """Stop audio threads before the interpreter goes away (they may log through Python)."""
    for synth in list(_live_synths):
        synth.close()


class Synth:
    """One FluidSynth instance with one soundfont loaded; thread-safe (FluidSynth's API is).

    ``soundfont`` is found with :func:`~core.audio.soundfont.find_soundfont` when not given; a
    missing soundfont or library raises AudioError here, so that callers learn it at once."""

    def __init__(self, soundfont: str | os.PathLike[str] | None = None, *, sample_rate: int = SAMPLE_RATE,
                 gain: float = DEFAULT_GAIN, reverb: bool = True) -> None:
        fluidsynth = _fluid.fluidsynth_module()
        self.soundfont = find_soundfont(soundfont)
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._closed = True  # until the soundfont is loaded
        self._driver_pointer: int | None = None
        self.audio_driver: str | None = None
        self.audio_problem: str | None = "audio output not started"
        self._fs = fluidsynth.Synth(gain=float(gain), samplerate=float(sample_rate))
        self._fs.setting("synth.reverb.active", 1 if reverb else 0)
        mark = _fluid.log_mark()
        self._sfid = self._fs.sfload(str(self.soundfont))
        if self._sfid < 0:
            reasons = "; ".join(_fluid.errors_since(mark)) or "FluidSynth could not load it"
            self._fs.delete()
            raise AudioError(f"{self.soundfont}: not a usable soundfont ({reasons})")
        self._closed = False
        _live_synths.add(self)
        for channel in range(16):
            self._select(channel, 0)

    # ------------------------------------------------------------------------------- live output
    def start(self, drivers: tuple[str, ...] | list[str] | None = None) -> str | None:
        """Open live audio output with the first driver of ``drivers`` (default:
        :func:`preferred_drivers`) that works. Returns its name, or None with the reason in
        ``audio_problem``; never raises for a missing device."""
        with self._lock:
            if self._driver_pointer:
                return self.audio_driver
            fluidsynth = _fluid.fluidsynth_module()
            compiled = set(_fluid.compiled_audio_drivers(self._fs.settings))
            os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never let libjack spawn a server
            quiet_native_libraries()
            reasons: list[str] = []
            for name in drivers or preferred_drivers():
                if compiled and name not in compiled:
                    continue
                self._fs.setting("audio.driver", name)
                if name == "jack":
                    self._fs.setting("audio.jack.autoconnect", 1)
                    self._fs.setting("audio.jack.id", "MahlerNet Studio")
                mark = _fluid.log_mark()
                pointer = fluidsynth.new_fluid_audio_driver(self._fs.settings, self._fs.synth)
                if pointer:
                    self._driver_pointer = pointer
                    self.audio_driver = name
                    self.audio_problem = None
                    return name
                errors = _fluid.errors_since(mark)
                reasons.append(f"{name}: {errors[-1] if errors else 'no device'}")
            tried = "; ".join(reasons) or f"no driver of {', '.join(drivers or preferred_drivers())} is compiled in"
            self.audio_problem = f"no audio device could be opened ({tried})"
            return None

    def stop(self) -> None:
        """Close live audio output (the synth itself stays usable)."""
        with self._lock:
            if self._driver_pointer:
                _fluid.fluidsynth_module().delete_fluid_audio_driver(self._driver_pointer)
            self._driver_pointer = None
            self.audio_driver = None
            self.audio_problem = "audio output not started"

    def close(self) -> None:
        """Release the driver and the synth; the object cannot be used afterwards."""
        if self._closed:
            return
        self.stop()
        with self._lock:
            self._fs.audio_driver = None
            self._fs.delete()
            self._closed = True

    def __enter__(self) -> "Synth":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def problem(self) -> str | None:
        """Why this sink cannot be heard right now (None when live audio is running)."""
        return self.audio_problem

    @property
    def name(self) -> str:
        return f"FluidSynth ({self.audio_driver or 'no audio'}, {Path(self.soundfont).name})"

    @property
    def active_voices(self) -> int:
        """Voices sounding now (0 once every note and its release has died away)."""
        return int(self._fs.get_active_voice_count())

    # ----------------------------------------------------------------------------- sink protocol
    def program_change(self, channel: int, program: int) -> None:
        if self._closed:
            return
        self._select(channel, program)

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        if self._closed:
            return
        self._fs.noteon(channel, pitch, velocity)

    def note_off(self, channel: int, pitch: int) -> None:
        if self._closed:
            return
        self._fs.noteoff(channel, pitch)

    def control_change(self, channel: int, number: int, value: int) -> None:
        if self._closed:
            return
        self._fs.cc(channel, number, value)

    def panic(self) -> None:
        """Release every key on every channel, sustain pedal up (release tails die away naturally)."""
        if self._closed:
            return
        for channel in range(16):
            self._fs.cc(channel, 64, 0)
            self._fs.all_notes_off(channel)

    def silence(self) -> None:
        """Cut every sound at once, release tails included."""
        if self._closed:
            return
        for channel in range(16):
            self._fs.all_sounds_off(channel)

    def program_of(self, channel: int) -> tuple[int, int]:
        """(bank, program) selected on ``channel`` (bank 128 is the percussion bank)."""
        _sfid, bank, program = self._fs.program_info(channel)
        return int(bank), int(program)

    # ---------------------------------------------------------------------------------- internals
    @property
    def synth_pointer(self) -> int:
        """The fluid_synth_t pointer (for :mod:`core.audio.render`)."""
        return self._fs.synth

    def _select(self, channel: int, program: int) -> None:
        """Select ``program`` on ``channel``: the drum bank on channel 10 (falling back to the
        standard kit when the soundfont lacks the asked one), bank 0 elsewhere."""
        bank = DRUM_BANK if channel == DRUM_CHANNEL else 0
        if bank == DRUM_BANK and not self._fs.sfpreset_name(self._sfid, bank, program):
            program = 0
        self._fs.program_select(channel, self._sfid, bank, program)
