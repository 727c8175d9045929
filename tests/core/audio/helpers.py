"""Small Scores for the audio tests."""

from __future__ import annotations

import threading

from core.music.score import Note, Score, TempoChange, Track


def make_score(notes_by_track, tempos=(TempoChange(0, 500_000),), ticks_per_quarter=480, **fields) -> Score:
    """A Score from {(name, program, channel): [(start, duration, pitch, velocity), ...]}."""
    tracks = tuple(
        Track(name, program, channel, tuple(Note(*n) for n in notes))
        for (name, program, channel), notes in notes_by_track.items()
    )
    return Score(ticks_per_quarter, tracks, tuple(tempos), **fields)


def write_midi_file(path, notes, program: int = 0, channel: int = 0, bpm: int = 120, ticks_per_quarter: int = 480):
    """A one-track type-1 MIDI file (written with mido, independent of core.midi.files) from
    [(start, duration, pitch, velocity), ...]; 4/4."""
    import mido  # noqa: PLC0415

    events = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))),
              (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
              (0, mido.Message("program_change", channel=channel, program=program))]
    for start, duration, pitch, velocity in notes:
        events.append((start, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((start + duration, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
    track = mido.MidiTrack()
    now = 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_quarter)
    midi.tracks.append(track)
    midi.save(str(path))
    return path


class ManualClock:
    """A player clock (:class:`core.audio.clock.Clock`) that moves only when the test says so.

    :meth:`settle` returns once the player thread has done everything due at the current time (it
    went back to sleep after the test's last call); :meth:`advance` moves the time and settles. So
    after ``clock.advance(0.25)`` a recording sink holds exactly what is due by then, stamped with this
    clock's time, however slow or busy the machine is. ``patience`` (real seconds) only bounds how
    long a broken player is waited for."""

    def __init__(self, start: float = 10.0, patience: float = 30.0) -> None:
        self._time = start
        self._lock = threading.Condition()
        self._player_condition: threading.Condition | None = None
        self._sleeps = 0  # how many times a player thread went to sleep on this clock
        self.patience = patience

    def now(self) -> float:
        with self._lock:
            return self._time

    def __call__(self) -> float:
        """The time, for RecordingSink(clock=...)."""
        return self.now()

    def sleep(self, condition: threading.Condition, seconds: float | None) -> None:
        """The player found nothing due now: wait for the test to move the time or for a notify."""
        with self._lock:
            if self._player_condition not in (None, condition):
                raise RuntimeError("a ManualClock drives one player")
            self._player_condition = condition
            self._sleeps += 1
            self._lock.notify_all()
        condition.wait()

    def settle(self) -> None:
        """Wait until the player thread has caught up with everything done so far: wake it while
        holding its condition, then wait for its next sleep, which comes from a look at the time and
        the state made after this call began."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._player_condition is not None, self.patience):
                raise AssertionError(f"no player thread slept on this clock within {self.patience} s")
            condition = self._player_condition
        assert condition is not None
        with condition:
            with self._lock:
                seen = self._sleeps
            condition.notify_all()
        with self._lock:
            if not self._lock.wait_for(lambda: self._sleeps > seen, self.patience):
                raise AssertionError(f"the player thread did not go back to sleep within {self.patience} s")

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds`` and let the player catch up."""
        self.advance_to(self.now() + seconds)

    def advance_to(self, when: float) -> None:
        """Move the time to ``when`` (never back) and let the player catch up."""
        self.settle()
        with self._lock:
            if when < self._time:
                raise ValueError(f"a clock does not go back ({when} < {self._time})")
            self._time = when
        self.settle()
