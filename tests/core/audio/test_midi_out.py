"""Live MIDI out against a private JACK dummy server: a virtual input port receives exactly what
the player sends, in order, and panic releases everything."""

from __future__ import annotations

import threading
import time
import uuid

import mido
import pytest

from core.audio.midi_out import MidiOutput, MidiPort, find_port, list_output_ports
from core.audio.player import Player
from core.audio.timeline import Kind, midi_events
from core.errors import AudioError

from tests.core.audio.helpers import ManualClock, make_score


PATIENCE_S = 30.0  # how long something that must happen is waited for: reached only when it is broken
PROBE = (15, 3)  # channel and controller of the messages that check a connection (CC 3 is undefined)


class Receiver:
    """A JACK MIDI input port of our own that collects what arrives."""

    def __init__(self) -> None:
        self.name = f"mahlernet-in-{uuid.uuid4().hex[:6]}"
        self._lock = threading.Condition()
        self._messages: list[mido.Message] = []
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)
        self.port = backend.open_input(self.name, virtual=True, callback=self._add)

    def _add(self, message: mido.Message) -> None:
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()

    def listed(self) -> MidiPort:
        """This port as other programs list it, once JACK lists it."""
        until = time.monotonic() + PATIENCE_S
        while True:
            try:
                return find_port(self.name, list_output_ports(("jack",)))
            except AudioError:
                if time.monotonic() > until:
                    raise
                time.sleep(0.02)

    def connect_from(self, output: MidiOutput) -> None:
        """Return once what ``output`` sends arrives here: probe messages are sent until one arrives,
        the last one sent is waited for (those before it arrived before it, or were lost while the
        ports were not connected yet), then all are forgotten."""
        sent = 0
        with self._lock:
            while not self._messages:
                assert sent < PATIENCE_S / 0.05, "nothing sent to the port arrived"
                output.control_change(*PROBE, sent % 128)
                sent += 1
                self._lock.wait(0.05)
            last = (sent - 1) % 128
            assert self._lock.wait_for(lambda: self._messages[-1].value == last, PATIENCE_S), self._messages
            assert all(m.type == "control_change" and (m.channel, m.control) == PROBE for m in self._messages)
            self._messages.clear()

    def messages(self, at_least: int, settle: float = 0.3) -> list[mido.Message]:
        """What arrived: once ``at_least`` messages are here (they are waited for), and nothing more
        came for ``settle`` seconds (to see any message beyond those expected)."""
        with self._lock:
            assert self._lock.wait_for(lambda: len(self._messages) >= at_least, PATIENCE_S), self._messages
            count = -1
            while len(self._messages) != count:
                count = len(self._messages)
                self._lock.wait(settle)
            return [m.copy(time=0) for m in self._messages]


@pytest.fixture
def receiver(jack_env):
    receiver = Receiver()
    receiver.listed()
    yield receiver
    receiver.port.close()


@pytest.fixture
def output(receiver):
    with MidiOutput(receiver.listed()) as output:
        receiver.connect_from(output)
        yield output


def expected_messages(score) -> list[mido.Message]:
    kinds = {
        Kind.PROGRAM: lambda e: mido.Message("program_change", channel=e.channel, program=e.data1),
        Kind.CONTROL: lambda e: mido.Message("control_change", channel=e.channel, control=e.data1, value=e.data2),
        Kind.NOTE_ON: lambda e: mido.Message("note_on", channel=e.channel, note=e.data1, velocity=e.data2),
        Kind.NOTE_OFF: lambda e: mido.Message("note_off", channel=e.channel, note=e.data1, velocity=0),
    }
    return [kinds[e.kind](e) for e in midi_events(score)]


def test_the_input_port_is_listed(receiver):
    listing = list_output_ports(("jack",))
    port = find_port(receiver.name, listing)
    assert port.api == "jack" and receiver.name in port.name
    assert port.label.endswith("[jack]")
    with pytest.raises(AudioError, match="not found"):
        find_port("no-such-port-anywhere", listing)


def test_program_changes_per_channel(output, receiver):
    for channel, program in [(0, 40), (1, 42), (9, 0), (15, 73)]:
        output.program_change(channel, program)
    assert receiver.messages(at_least=4) == [
        mido.Message("program_change", channel=c, program=p) for c, p in [(0, 40), (1, 42), (9, 0), (15, 73)]
    ]


def test_player_sends_exactly_the_notes_and_programs_in_order(output, receiver):
    score = make_score({
        ("violin", 40, 0): [(0, 240, 76, 90), (240, 240, 74, 80), (480, 480, 72, 70)],
        ("cello", 42, 1): [(0, 960, 48, 60)],
        ("drums", 0, 9): [(0, 60, 36, 100), (480, 60, 38, 100)],
    })
    player = Player(output)
    assert player.play(score)
    assert player.wait(10)
    expected = expected_messages(score)
    assert receiver.messages(at_least=len(expected)) == expected
    player.close()


def test_panic_releases_every_sounding_note(output, receiver):
    score = make_score({("organ", 19, 0): [(0, 9600, 60, 90), (0, 9600, 64, 90)], ("bass", 32, 5): [(0, 9600, 36, 90)]})
    clock = ManualClock()
    player = Player(output, clock=clock)
    player.play(score)
    clock.settle()  # the three notes of time 0 were sent
    assert output.sounding == {(0, 60), (0, 64), (5, 36)}
    player.stop()
    messages = receiver.messages(at_least=3 + 3 + 32)  # notes on and off, CC 64 and 123 on 16 channels
    ons = [(m.channel, m.note) for m in messages if m.type == "note_on"]
    last_on = max(i for i, m in enumerate(messages) if m.type == "note_on")
    after = messages[last_on + 1 :]
    offs = [(m.channel, m.note) for m in after if m.type == "note_off"]
    assert sorted(ons) == sorted(offs) == [(0, 60), (0, 64), (5, 36)]
    for number in (64, 123):
        assert sorted(m.channel for m in after if m.type == "control_change" and m.control == number) == list(range(16))
    assert output.sounding == set()
    player.close()


def test_sending_to_a_closed_port_is_an_audio_error(output):
    output.close()
    with pytest.raises(AudioError):
        output.note_on(0, 60, 100)
