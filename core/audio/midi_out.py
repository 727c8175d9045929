"""Live MIDI out to a synthesizer, a DAW or another program, through mido's rtmidi backend.

Listing ports never raises: with no ALSA sequencer (no /dev/snd) or no JACK server, rtmidi raises an
OSError subclass instead of returning no ports, so each MIDI system is asked in turn and what goes
wrong becomes a reason in :class:`PortListing`. A :class:`MidiOutput` is a player sink that remembers
which keys it holds down, so that :meth:`MidiOutput.panic` can release exactly those and then send
"sustain off" and "all notes off" (CC 64, CC 123) on every channel.

JACK applies a new connection, and hands on what a port was given, in its process cycles, on the
server's clock (a period is ~20 ms at JACK's defaults, longer on a loaded machine): a port that sends
at once after it connects loses its first messages (the program change), and one closed at once
after sending loses its last (the panic of Ctrl-C). A JACK port therefore waits
:data:`JACK_SETTLE_S` after opening and before closing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from core.audio._native_logs import quiet_native_libraries
from core.errors import AudioError

# rtmidi API name -> mido backend suffix
_MIDO_APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "core": "MACOSX_CORE", "winmm": "WINDOWS_MM"}
_DEFAULT_ORDER = {"linux": ("alsa", "jack"), "darwin": ("core", "jack"), "win32": ("winmm",)}
API_ENV_VAR = "MAHLERNET_MIDI_API"
JACK_SETTLE_S = 0.3  # a dozen JACK periods at its defaults (see the module docstring)


@dataclass(frozen=True)
class MidiPort:
    """An output port of one MIDI system (``api``: alsa, jack, core or winmm)."""

    name: str
    api: str

    @property
    def label(self) -> str:
        return f"{self.name} [{self.api}]"


@dataclass(frozen=True)
class PortListing:
    """The output ports found, and why some MIDI systems could not be asked."""

    ports: tuple[MidiPort, ...]
    problems: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        """Why the list is empty (None when it is not)."""
        if self.ports:
            return None
        return "; ".join(self.problems) if self.problems else "no MIDI output ports"

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.ports]


def midi_apis(platform: str | None = None) -> tuple[str, ...]:
    """MIDI systems to ask, in order: ``$MAHLERNET_MIDI_API`` (comma-separated) if set, otherwise
    the platform's own system first, each only if python-rtmidi was built with it."""
    forced = os.environ.get(API_ENV_VAR, "").strip()
    if forced:
        return tuple(a.strip() for a in forced.split(",") if a.strip())
    platform = sys.platform if platform is None else platform
    order = next((apis for prefix, apis in _DEFAULT_ORDER.items() if platform.startswith(prefix)), ("jack",))
    try:
        import rtmidi  # noqa: PLC0415 - native module, loaded only when MIDI is used

        compiled = {rtmidi.get_api_name(a) for a in rtmidi.get_compiled_api()}
    except ImportError:
        return ()
    return tuple(a for a in order if a in compiled)


def _backend(api: str) -> Any:
    if api not in _MIDO_APIS:
        raise AudioError(f"unknown MIDI system {api!r} (known: {', '.join(_MIDO_APIS)})")
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # asking for ports must not spawn a server
    quiet_native_libraries()
    import mido  # noqa: PLC0415

    return mido.Backend(f"mido.backends.rtmidi/{_MIDO_APIS[api]}", load=True)


def list_output_ports(apis: tuple[str, ...] | None = None) -> PortListing:
    """Output ports of every available MIDI system; never raises."""
    apis = midi_apis() if apis is None else apis
    if not apis:
        return PortListing((), ("python-rtmidi is not installed or has no MIDI system built in",))
    ports: list[MidiPort] = []
    problems: list[str] = []
    for api in apis:
        try:
            names = _backend(api).get_output_names()
        except (OSError, AudioError, ImportError) as error:  # rtmidi's SystemError is an OSError
            problems.append(f"{api}: {_describe(api, error)}")
            continue
        ports += [MidiPort(name, api) for name in names]
    return PortListing(tuple(ports), tuple(problems))


def find_port(wanted: str, listing: PortListing | None = None) -> MidiPort:
    """The port named ``wanted``: its exact name or label first, then the only port whose name
    contains it (case-insensitive). Raises AudioError naming the ports there are."""
    listing = list_output_ports() if listing is None else listing
    for port in listing.ports:
        if wanted in (port.name, port.label):
            return port
    matches = [p for p in listing.ports if wanted.lower() in p.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not listing.ports:
        raise AudioError(f"MIDI port {wanted!r}: there are no MIDI output ports ({listing.reason})")
    known = ", ".join(repr(p.label) for p in listing.ports)
    what = "matches several ports" if matches else "not found"
    raise AudioError(f"MIDI port {wanted!r}: {what} (ports: {known})")


class MidiOutput:
    """An open MIDI output port, usable as a player sink (thread-safe)."""

    def __init__(self, port: MidiPort | str, api: str | None = None) -> None:
        if isinstance(port, str):
            port = find_port(port, list_output_ports((api,) if api else None))
        self.port = port
        self._lock = threading.Lock()
        self._sounding: set[tuple[int, int]] = set()
        self._channels_used: set[int] = set()
        self.problem: str | None = None
        self._closed = True
        try:
            import mido  # noqa: PLC0415

            self._mido = mido
            self._out = _backend(port.api).open_output(port.name)
            self._closed = False
            self._settle()
        except (OSError, ImportError) as error:
            raise AudioError(f"MIDI port {port.label}: cannot be opened ({_describe(port.api, error)})") from error

    @property
    def name(self) -> str:
        return f"MIDI out {self.port.label}"

    def _settle(self) -> None:
        """Give a JACK port the process cycles it needs to connect, or to hand on what it was sent."""
        if self.port.api == "jack":
            time.sleep(JACK_SETTLE_S)

    def _send(self, kind: str, **fields: int) -> None:
        if self._closed:
            raise AudioError(f"MIDI port {self.port.label}: is closed")
        message = self._mido.Message(kind, **fields)
        try:
            self._out.send(message)
        except (OSError, ValueError) as error:
            self.problem = f"MIDI port {self.port.label}: {error}"
            raise AudioError(self.problem) from error

    def program_change(self, channel: int, program: int) -> None:
        with self._lock:
            self._channels_used.add(channel)
            self._send("program_change", channel=channel, program=program)

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        with self._lock:
            self._channels_used.add(channel)
            self._sounding.add((channel, pitch))
            self._send("note_on", channel=channel, note=pitch, velocity=velocity)

    def note_off(self, channel: int, pitch: int) -> None:
        with self._lock:
            self._sounding.discard((channel, pitch))
            self._send("note_off", channel=channel, note=pitch, velocity=0)

    def control_change(self, channel: int, number: int, value: int) -> None:
        with self._lock:
            self._channels_used.add(channel)
            self._send("control_change", channel=channel, control=number, value=value)

    @property
    def sounding(self) -> set[tuple[int, int]]:
        """(channel, pitch) of the keys this port holds down now."""
        with self._lock:
            return set(self._sounding)

    def panic(self) -> None:
        """Release every held key, then sustain off (CC 64) and all notes off (CC 123) on all 16
        channels, so that even notes sent by someone else, or held by the pedal, stop."""
        with self._lock:
            for channel, pitch in sorted(self._sounding):
                self._send("note_off", channel=channel, note=pitch, velocity=0)
            self._sounding.clear()
            for channel in range(16):
                self._send("control_change", channel=channel, control=64, value=0)
                self._send("control_change", channel=channel, control=123, value=0)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.problem = f"MIDI port {self.port.label}: is closed"
                self._settle()
                self._out.close()

    def __enter__(self) -> "MidiOutput":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _describe(api: str, error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if api == "alsa" and "sequencer" in text:
        return f"no ALSA sequencer ({text})"
    if api == "jack" and "not running" in text:
        return f"no JACK server ({text})"
    return text
