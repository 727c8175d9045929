"""Sinks that are not devices: fan-out and recording."""

from __future__ import annotations

import pytest

from core.audio.sinks import FanOut, RecordingSink, Sink, dispatch
from core.audio.timeline import Kind, MidiEvent


def test_recording_sink_is_a_sink_and_dispatch_maps_kinds():
    sink = RecordingSink()
    assert isinstance(sink, Sink)
    for event in [MidiEvent(0, Kind.PROGRAM, 1, 40, 0), MidiEvent(0, Kind.CONTROL, 1, 64, 127),
                  MidiEvent(0, Kind.NOTE_ON, 1, 60, 90), MidiEvent(1, Kind.NOTE_OFF, 1, 60, 0)]:
        dispatch(sink, event)
    assert [r[1:] for r in sink.received] == [("program", 1, 40, 0), ("control", 1, 64, 127),
                                             ("note_on", 1, 60, 90), ("note_off", 1, 60, 0)]


def test_fan_out_serves_every_sink_even_when_one_fails():
    class Broken(RecordingSink):
        def note_on(self, channel, pitch, velocity):
            raise OSError("gone")

    good = RecordingSink()
    fan = FanOut(Broken(), good)
    with pytest.raises(OSError, match="gone"):
        fan.note_on(0, 60, 90)
    assert good.of("note_on")[0].data1 == 60
    fan.panic()
    assert good.received[-1].what == "panic"


def test_fan_out_problem_only_when_no_sink_works():
    assert FanOut().problem == "no output chosen"
    assert FanOut(RecordingSink("a"), RecordingSink()).problem is None
    assert FanOut(RecordingSink("a"), RecordingSink("b")).problem == "a; b"
    assert FanOut(RecordingSink("a"), RecordingSink()).problems == ["a"]
