"""Where the player sends music: the Sink protocol and the sinks that are not devices.

A sink takes MIDI-like calls (program change, note on/off, control change, panic). The built-in synth
(:class:`core.audio.synth.Synth`) and a MIDI output port (:class:`core.audio.midi_out.MidiOutput`) are
sinks; :class:`FanOut` sends to several at once ("synth and MIDI port"), and :class:`RecordingSink`
keeps what it receives with the time it arrived (tests, dry runs, visualisation).
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple, Protocol, runtime_checkable

from core.audio.timeline import Kind, MidiEvent


@runtime_checkable
class Sink(Protocol):
    """Anything that can sound MIDI messages. Methods are called from the player thread."""

    def program_change(self, channel: int, program: int) -> None: ...

    def note_on(self, channel: int, pitch: int, velocity: int) -> None: ...

    def note_off(self, channel: int, pitch: int) -> None: ...

    def control_change(self, channel: int, number: int, value: int) -> None: ...

    def panic(self) -> None:
        """Silence everything this sink sounds (all notes off on every channel)."""

    @property
    def problem(self) -> str | None:
        """Why nothing can be heard through this sink right now, or None when it works."""


def dispatch(sink: Sink, event: MidiEvent) -> None:
    """Send one timeline message to ``sink``."""
    if event.kind == Kind.NOTE_ON:
        sink.note_on(event.channel, event.data1, event.data2)
    elif event.kind == Kind.NOTE_OFF:
        sink.note_off(event.channel, event.data1)
    elif event.kind == Kind.PROGRAM:
        sink.program_change(event.channel, event.data1)
    else:
        sink.control_change(event.channel, event.data1, event.data2)


class Received(NamedTuple):
    """One call a RecordingSink received: ``what`` is note_on, note_off, program, control or panic."""

    time: float
    what: str
    channel: int = -1
    data1: int = 0
    data2: int = 0


class RecordingSink:
    """A sink that records every call with its monotonic arrival time (thread-safe)."""

    def __init__(self, problem: str | None = None, clock=time.monotonic) -> None:
        self.problem = problem
        self._clock = clock
        self._lock = threading.Lock()
        self._received: list[Received] = []

    def _add(self, what: str, channel: int = -1, data1: int = 0, data2: int = 0) -> None:
        with self._lock:
            self._received.append(Received(self._clock(), what, channel, data1, data2))

    def program_change(self, channel: int, program: int) -> None:
        self._add("program", channel, program)

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        self._add("note_on", channel, pitch, velocity)

    def note_off(self, channel: int, pitch: int) -> None:
        self._add("note_off", channel, pitch)

    def control_change(self, channel: int, number: int, value: int) -> None:
        self._add("control", channel, number, value)

    def panic(self) -> None:
        self._add("panic")

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def of(self, *whats: str) -> list[Received]:
        """The received calls of the given kinds, in order."""
        return [r for r in self.received if r.what in whats]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()


class FanOut:
    """Sends every call to each of several sinks (e.g. the synth and a MIDI port).

    A sink that raises does not stop the others; the first error is raised after all were served.
    It has a problem only when none of its sinks can sound."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = tuple(sinks)

    def _each(self, method: str, *args: int) -> None:
        first_error: Exception | None = None
        for sink in self.sinks:
            try:
                getattr(sink, method)(*args)
            except Exception as error:  # noqa: BLE001 - reported after the other sinks were served
                first_error = first_error or error
        if first_error is not None:
            raise first_error

    def program_change(self, channel: int, program: int) -> None:
        self._each("program_change", channel, program)

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        self._each("note_on", channel, pitch, velocity)

    def note_off(self, channel: int, pitch: int) -> None:
        self._each("note_off", channel, pitch)

    def control_change(self, channel: int, number: int, value: int) -> None:
        self._each("control_change", channel, number, value)

    def panic(self) -> None:
        self._each("panic")

    @property
    def problems(self) -> list[str]:
        """The problems of the sinks that have one."""
        return [p for p in (getattr(s, "problem", None) for s in self.sinks) if p]

    @property
    def problem(self) -> str | None:
        if not self.sinks:
            return "no output chosen"
        problems = self.problems
        return "; ".join(problems) if len(problems) == len(self.sinks) else None
