"""The Score: one clear, immutable model of a piece of music, in ticks.

Ticks are the truth: every time in a Score is an integer tick, ``ticks_per_quarter`` to the quarter
note. Seconds are derived from the tempo map; bars are derived from the time-signature map. Every
class here is immutable, so functions that "change" a Score return a new one (``dataclasses.replace``)
and an undo stack can simply keep old Scores.

Canonical form (so that two Scores holding the same music compare equal): notes, controls and the
three maps are sorted; times are non-negative; pitches, velocities, programs and channels are in
MIDI range. The constructors check this and raise ``ValueError`` for a Score that is not valid.
Bars are numbered from 1, as a musician counts them.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, partial
from operator import add, itemgetter, lt
from typing import Iterable, NamedTuple, Sequence

import numpy as np

DEFAULT_TEMPO = 500_000  # microseconds per quarter note: 120 quarter notes per minute
DRUM_CHANNEL = 9  # 0-based: the General MIDI percussion channel "10"
MAX_TEMPO = 0xFFFFFF  # the largest tempo a MIDI file can hold (3 bytes of µs per quarter)
METER_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64, 128)  # a MIDI file stores the denominator as 2**n


class Note(NamedTuple):
    """One sounding note. A NamedTuple (not a dataclass) because pieces hold 100,000 of them and
    tuples are cheap to create, compare and sort; sorting orders notes by start, then duration,
    pitch and velocity."""

    start: int
    duration: int
    pitch: int
    velocity: int

    @property
    def end(self) -> int:
        return self.start + self.duration


_new_note = partial(tuple.__new__, Note)  # skips the named tuple's own __new__: ~20 ms per 150,000 notes


def note_rows(notes: Sequence[Note]) -> np.ndarray:
    """``notes`` as an (n, 4) int64 array of (start, duration, pitch, velocity) rows, in one pass
    over the flattened tuples (``np.asarray`` on the tuples took 8x as long: 108 against 13 ms for
    152,000 notes)."""
    return np.fromiter(itertools.chain.from_iterable(notes), np.int64, 4 * len(notes)).reshape(-1, 4)


@dataclass(frozen=True, eq=False)
class NoteColumns:
    """A track's notes as four int64 arrays (start, duration, pitch, velocity) of equal length, in
    the notes' canonical order.

    Why: a ``Note`` is a tuple subclass, which Python's cyclic garbage collector tracks for as long
    as it lives, so making many of them sets off collections that walk them all. Reading the
    152,000 notes of ``benchmarks/open_midi.py``'s large piece took ~190 ms of CPU while the reader
    made them (~240-330 ms in a process holding torch's objects, as the app's does: a full
    collection walks those too), ~95 ms now that it hands its tracks these columns. The notes are
    made on first use of :attr:`Track.notes`; what needs only arrays (the piano roll, encoding,
    writing, playback, counting) reads :attr:`Track.note_columns` and never makes them. The arrays
    are read-only."""

    start: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray

    def __post_init__(self) -> None:
        for column in (self.start, self.duration, self.pitch, self.velocity):
            column.flags.writeable = False

    def __len__(self) -> int:
        return len(self.start)

    @cached_property
    def end(self) -> np.ndarray:
        """Each note's end tick, made once (playback, writing, the roll and the recogniser read it)."""
        end = self.start + self.duration
        end.flags.writeable = False
        return end

    @classmethod
    def of(cls, notes: Sequence[Note]) -> "NoteColumns":
        """The columns of ``notes`` (already in canonical order, as a Track holds them)."""
        return cls(*note_rows(notes).T.copy())

    def notes(self) -> tuple[Note, ...]:
        """The notes as :class:`Note` tuples, in order."""
        columns = (self.start.tolist(), self.duration.tolist(), self.pitch.tolist(), self.velocity.tolist())
        return tuple(map(_new_note, zip(*columns)))


class ControlChange(NamedTuple):
    """A MIDI control change (sustain pedal = number 64) kept so that a round trip loses nothing."""

    tick: int
    number: int
    value: int


class PitchBend(NamedTuple):
    """A pitch-bend change of the track's channel: ``value`` from -8192 to 8191, 0 in tune (how far
    the extremes bend is the synthesizer's bend range, two semitones unless the file sets another).
    It holds for every note of the channel until the next one. Kept so that saving loses nothing."""

    tick: int
    value: int


class ChannelPressure(NamedTuple):
    """Channel pressure (aftertouch for the whole channel, 0-127), held until the next one. Kept so
    that saving loses nothing."""

    tick: int
    value: int


@dataclass(frozen=True)
class TempoChange:
    tick: int
    us_per_quarter: int

    @property
    def bpm(self) -> float:
        """Quarter notes per minute."""
        return 60_000_000 / self.us_per_quarter


@dataclass(frozen=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int

    @property
    def text(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    def bar_ticks(self, ticks_per_quarter: int) -> int:
        """Length of one bar in ticks (rounded to the nearest tick where the division is inexact)."""
        return max(1, round(Fraction(4 * ticks_per_quarter * self.numerator, self.denominator)))


@dataclass(frozen=True)
class KeySignature:
    """A key: ``sharps`` from -7 (seven flats) to 7 (seven sharps), and major or minor."""

    tick: int
    sharps: int
    minor: bool = False

    @property
    def name(self) -> str:
        majors = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
        minors = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#"]
        return (minors if self.minor else majors)[self.sharps + 7] + ("m" if self.minor else "")


@dataclass(frozen=True)
class Track:
    """One instrument: a named track on one MIDI channel with one General MIDI program.

    A track made by a file reader (:meth:`from_checked` with :class:`NoteColumns`) makes its
    ``notes`` on first use; :attr:`note_columns` and :attr:`note_count` never need them."""

    name: str
    program: int = 0
    channel: int = 0
    # A default factory, not a default: the class then has no ``notes`` attribute, so that a
    # reader's track without its notes yet reaches __getattr__, which makes them.
    notes: tuple[Note, ...] = field(default_factory=tuple)
    controls: tuple[ControlChange, ...] = ()
    pitch_bends: tuple[PitchBend, ...] = ()
    pressures: tuple[ChannelPressure, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.program <= 127:
            raise ValueError(f"track {self.name!r}: program {self.program} is outside 0-127")
        if not 0 <= self.channel <= 15:
            raise ValueError(f"track {self.name!r}: channel {self.channel} is outside 0-15")
        notes = _canonical_notes(self.notes)
        if notes:
            durations, pitches, velocities = (list(map(itemgetter(i), notes)) for i in (1, 2, 3))
            if notes[0].start < 0 or min(durations) < 1:
                raise ValueError(f"track {self.name!r}: a note starts before 0 or is shorter than 1 tick")
            if min(pitches) < 0 or max(pitches) > 127:
                raise ValueError(f"track {self.name!r}: a pitch is outside 0-127")
            if min(velocities) < 1 or max(velocities) > 127:
                raise ValueError(f"track {self.name!r}: a velocity is outside 1-127")
        controls = tuple(sorted(ControlChange(*c) for c in self.controls))
        if any(not (c.tick >= 0 and 0 <= c.number <= 127 and 0 <= c.value <= 127) for c in controls):
            raise ValueError(f"track {self.name!r}: a control change is out of range")
        bends = held_changes(self.pitch_bends, PitchBend)
        if not _held_in_range(bends, -8192, 8191):
            raise ValueError(f"track {self.name!r}: a pitch bend is out of range (-8192 to 8191)")
        pressures = held_changes(self.pressures, ChannelPressure)
        if not _held_in_range(pressures, 0, 127):
            raise ValueError(f"track {self.name!r}: a channel pressure is out of range (0-127)")
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "controls", controls)
        object.__setattr__(self, "pitch_bends", bends)
        object.__setattr__(self, "pressures", pressures)

    @classmethod
    def from_checked(
        cls,
        name: str,
        program: int,
        channel: int,
        notes: tuple[Note, ...] | NoteColumns,
        controls: tuple[ControlChange, ...] = (),
        end_tick: int | None = None,
        pitch_bends: tuple[PitchBend, ...] = (),
        pressures: tuple[ChannelPressure, ...] = (),
    ) -> "Track":
        """A Track from parts the caller has already put in canonical form: ``notes``,
        ``controls``, ``pitch_bends`` and ``pressures`` sorted tuples of their types (the last two
        with one change a tick), every value in range (and ``end_tick``, when given, the end of
        the last note). For a reader that checked 100,000 notes in bulk (numpy) and should not pay
        for it twice; anything else should use the constructor, which checks. Given
        :class:`NoteColumns`, the track makes its notes on first use of :attr:`notes`."""
        track = object.__new__(cls)
        if end_tick is not None:
            track.__dict__["end_tick"] = end_tick  # the cached_property's slot
        if isinstance(notes, NoteColumns):
            track.__dict__["note_columns"] = notes  # the cached_property's slot; notes made on use
        else:
            object.__setattr__(track, "notes", notes)
        for attribute, value in (
            ("name", name),
            ("program", program),
            ("channel", channel),
            ("controls", controls),
            ("pitch_bends", pitch_bends),
            ("pressures", pressures),
        ):
            object.__setattr__(track, attribute, value)
        return track

    def __getattr__(self, name: str) -> object:
        """Makes the notes of a reader's track on first use (see :class:`NoteColumns`); Python
        calls this only for an attribute the track does not hold."""
        columns = self.__dict__.get("note_columns")
        if name != "notes" or columns is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        notes = columns.notes()
        object.__setattr__(self, "notes", notes)
        return notes

    @cached_property
    def note_columns(self) -> NoteColumns:
        """The notes as numpy columns, without making them where the track was read from a file."""
        return NoteColumns.of(self.notes)

    @property
    def note_count(self) -> int:
        """How many notes the track holds (without making them)."""
        notes = self.__dict__.get("notes")
        return len(notes) if notes is not None else len(self.note_columns)

    @property
    def is_drum(self) -> bool:
        """True for the General MIDI percussion channel (channel 10, 0-based 9)."""
        return self.channel == DRUM_CHANNEL

    @cached_property
    def end_tick(self) -> int:
        """Tick where the track's last note ends (0 without notes)."""
        notes = self.__dict__.get("notes")
        if notes is None:
            return int(self.note_columns.end.max(initial=0))
        return max(map(add, map(itemgetter(0), notes), map(itemgetter(1), notes)), default=0)

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        if not self.note_count:
            return None
        pitches = self.note_columns.pitch
        return int(pitches.min()), int(pitches.max())


@dataclass(frozen=True)
class Bar:
    """One bar of the bar grid: ``number`` counts from 1; ``start``/``end`` are ticks, end exclusive."""

    number: int
    start: int
    end: int
    numerator: int
    denominator: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def meter(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Score:
    """A whole piece: tracks of notes on a shared tempo and meter map.

    ``warnings`` holds what the reader noticed but could repair (never compared: two Scores with the
    same music are equal whatever was said while reading them).
    """

    ticks_per_quarter: int = 480
    tracks: tuple[Track, ...] = ()
    tempos: tuple[TempoChange, ...] = ()
    time_signatures: tuple[TimeSignature, ...] = ()
    key_signatures: tuple[KeySignature, ...] = ()
    title: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.ticks_per_quarter <= 32767:
            raise ValueError(f"ticks per quarter {self.ticks_per_quarter} is outside 1-32767")
        object.__setattr__(self, "tracks", tuple(self.tracks))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "tempos", _canonical_map(self.tempos, "tempo"))
        object.__setattr__(self, "time_signatures", _canonical_map(self.time_signatures, "meter"))
        object.__setattr__(self, "key_signatures", _canonical_map(self.key_signatures, "key"))
        for tempo in self.tempos:
            if not 1 <= tempo.us_per_quarter <= MAX_TEMPO:
                raise ValueError(
                    f"tempo {tempo.us_per_quarter} µs per quarter at tick {tempo.tick} is outside 1-{MAX_TEMPO}"
                )
        for meter in self.time_signatures:
            if not 1 <= meter.numerator <= 255 or meter.denominator not in METER_DENOMINATORS:
                raise ValueError(
                    f"meter {meter.text} at tick {meter.tick} is not valid "
                    "(numerator 1-255, denominator a power of two up to 128)"
                )
        for key in self.key_signatures:
            if not -7 <= key.sharps <= 7:
                raise ValueError(f"key signature at tick {key.tick} has {key.sharps} sharps (allowed: -7 to 7)")

    # ----------------------------------------------------------------------------------- contents
    @property
    def notes_count(self) -> int:
        return sum(t.note_count for t in self.tracks)

    @cached_property
    def end_tick(self) -> int:
        """Tick where the music ends: the end of the last note (0 for an empty piece)."""
        return max((t.end_tick for t in self.tracks), default=0)

    def replace(self, **changes: object) -> "Score":
        """A copy with some fields changed (the Score itself is never mutated)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # ---------------------------------------------------------------------------------- tempo map
    def tempo_at(self, tick: int) -> int:
        """Microseconds per quarter in force at ``tick`` (120 bpm before the first tempo event)."""
        index = bisect.bisect_right(self._tempo_ticks, tick) - 1
        return self.tempos[index].us_per_quarter if index >= 0 else DEFAULT_TEMPO

    @cached_property
    def _tempo_ticks(self) -> list[int]:
        return [t.tick for t in self.tempos]

    @cached_property
    def _tempo_segments(self) -> list[tuple[int, float, int]]:
        """(start tick, start second, µs per quarter) for each stretch of constant tempo."""
        segments: list[tuple[int, float, int]] = [(0, 0.0, DEFAULT_TEMPO)]
        for change in self.tempos:
            tick0, second0, tempo0 = segments[-1]
            second = second0 + (change.tick - tick0) * tempo0 / (1e6 * self.ticks_per_quarter)
            if change.tick == tick0:
                segments[-1] = (tick0, second0, change.us_per_quarter)
            else:
                segments.append((change.tick, second, change.us_per_quarter))
        return segments

    @cached_property
    def _segment_ticks(self) -> list[int]:
        return [s[0] for s in self._tempo_segments]

    @cached_property
    def _segment_seconds(self) -> list[float]:
        return [s[1] for s in self._tempo_segments]

    def seconds_at(self, tick: int | float) -> float:
        """Time in seconds from the start of the piece to ``tick``, through the tempo map."""
        index = bisect.bisect_right(self._segment_ticks, tick) - 1
        tick0, second0, tempo = self._tempo_segments[max(index, 0)]
        return second0 + (tick - tick0) * tempo / (1e6 * self.ticks_per_quarter)

    def tick_at(self, seconds: float) -> float:
        """Inverse of :meth:`seconds_at` (a float tick; round where an integer is needed)."""
        index = bisect.bisect_right(self._segment_seconds, seconds) - 1
        tick0, second0, tempo = self._tempo_segments[max(index, 0)]
        return tick0 + (seconds - second0) * 1e6 * self.ticks_per_quarter / tempo

    @property
    def duration_seconds(self) -> float:
        return self.seconds_at(self.end_tick)

    # ---------------------------------------------------------------------------------- meter map
    def time_signature_at(self, tick: int) -> TimeSignature:
        """The meter in force at ``tick`` (4/4 before the first time signature)."""
        index = bisect.bisect_right([m.tick for m in self.time_signatures], tick) - 1
        return self.time_signatures[index] if index >= 0 else TimeSignature(0, 4, 4)

    def key_signature_at(self, tick: int) -> KeySignature | None:
        """The key in force at ``tick`` (None before the first key signature)."""
        index = bisect.bisect_right([k.tick for k in self.key_signatures], tick) - 1
        return self.key_signatures[index] if index >= 0 else None

    def bars(self, until_tick: int | None = None) -> tuple[Bar, ...]:
        """The bars that start before ``until_tick`` (default: the end of the music), at least one.
        A meter change starts a new bar; if it falls inside a bar, that bar ends early."""
        end = self.end_tick if until_tick is None else until_tick
        return tuple(self.bar(n) for n in range(1, self.bar_at(max(end, 1) - 1).number + 1))

    def bar(self, number: int) -> Bar:
        """Bar ``number`` (from 1); the grid goes on past the end of the music in the last meter."""
        if number < 1:
            raise ValueError(f"bar {number}: bars are numbered from 1")
        segments = self._meter_segments
        segment = segments[bisect.bisect_right(self._segment_first_bars, number) - 1]
        start = segment.start + (number - segment.first_bar) * segment.bar_length
        end = start + segment.bar_length
        if segment.stop is not None:
            end = min(end, segment.stop)
        return Bar(number, start, end, segment.meter.numerator, segment.meter.denominator)

    def bar_at(self, tick: int) -> Bar:
        """The bar that holds ``tick`` (bar 1 for a negative tick)."""
        tick = max(tick, 0)
        segments = self._meter_segments
        segment = segments[bisect.bisect_right(self._segment_starts, tick) - 1]
        return self.bar(segment.first_bar + (tick - segment.start) // segment.bar_length)

    @cached_property
    def _segment_starts(self) -> list[int]:
        return [segment.start for segment in self._meter_segments]

    @cached_property
    def _segment_first_bars(self) -> list[int]:
        return [segment.first_bar for segment in self._meter_segments]

    @property
    def bar_count(self) -> int:
        """How many bars the music reaches (at least 1)."""
        return self.bar_at(max(self.end_tick, 1) - 1).number

    @cached_property
    def _meter_segments(self) -> tuple["_MeterSegment", ...]:
        """The meter map as stretches of equal bars, so that bar lookups are arithmetic (a hostile
        file may put a meter change a million bars on; nothing here walks bar by bar)."""
        meters = list(self.time_signatures)
        if not meters or meters[0].tick > 0:
            meters.insert(0, TimeSignature(0, 4, 4))
        segments = []
        first_bar = 1
        for index, meter in enumerate(meters):
            stop = meters[index + 1].tick if index + 1 < len(meters) else None
            length = meter.bar_ticks(self.ticks_per_quarter)
            segments.append(_MeterSegment(meter.tick, stop, length, first_bar, meter))
            if stop is not None:
                first_bar += -(-(stop - meter.tick) // length)  # a short last bar still counts
        return tuple(segments)

    # ------------------------------------------------------------------------------------ slicing
    def slice_ticks(self, start: int, end: int) -> "Score":
        """The music from ``start`` to ``end`` as a Score of its own that starts at tick 0: notes
        starting in the range are kept (cut at ``end``); the tempo, meter and key in force at
        ``start``, and each controller's last value before it (a held sustain pedal, a volume), are
        kept at tick 0; later changes inside the range are shifted."""
        if not 0 <= start < end:
            raise ValueError(f"empty or negative tick range {start}-{end}")
        tracks = []
        for track in self.tracks:
            notes = tuple(
                Note(n.start - start, min(n.end, end) - n.start, n.pitch, n.velocity)
                for n in track.notes
                if start <= n.start < end
            )
            in_force = {c.number: c.value for c in track.controls if c.tick < start}
            controls = tuple(ControlChange(0, number, value) for number, value in in_force.items()) + tuple(
                ControlChange(c.tick - start, c.number, c.value) for c in track.controls if start <= c.tick < end
            )
            tracks.append(
                dataclasses.replace(
                    track,
                    notes=notes,
                    controls=controls,
                    pitch_bends=_slice_held(track.pitch_bends, start, end),
                    pressures=_slice_held(track.pressures, start, end),
                )
            )
        key = self.key_signature_at(start)
        key_at_start = dataclasses.replace(key, tick=0) if key is not None else None
        return self.replace(
            tracks=tuple(tracks),
            tempos=_shift_map(self.tempos, start, end, TempoChange(0, self.tempo_at(start))),
            time_signatures=_shift_map(
                self.time_signatures,
                start,
                end,
                dataclasses.replace(self.time_signature_at(start), tick=0),
            ),
            key_signatures=_shift_map(self.key_signatures, start, end, key_at_start),
            warnings=(),
        )

    def slice_bars(self, first: int, last: int) -> "Score":
        """Bars ``first`` to ``last`` (from 1, inclusive) as a Score of their own."""
        if not 1 <= first <= last:
            raise ValueError(f"bars {first}-{last}: not a valid range (bars are numbered from 1)")
        return self.slice_ticks(self.bar(first).start, self.bar(last).end)


class _MeterSegment(NamedTuple):
    """Bars of one meter: from ``start`` to ``stop`` (None: for ever), numbered from ``first_bar``."""

    start: int
    stop: int | None
    bar_length: int
    first_bar: int
    meter: TimeSignature


def _canonical_map(events: Iterable, what: str) -> tuple:
    """Sort a tempo/meter/key map by tick and keep only the last event at each tick."""
    by_tick: dict[int, object] = {}
    for event in events:
        if event.tick < 0:
            raise ValueError(f"{what} change at negative tick {event.tick}")
        by_tick[event.tick] = event
    return tuple(by_tick[t] for t in sorted(by_tick))


def held_changes(changes: Iterable, kind: type) -> tuple:
    """``changes`` (of a :class:`PitchBend`-like ``kind``: tick and value, held until the next) in
    canonical form: sorted by tick, and of several at one tick only the last given, the one a
    player applies last and so the one heard."""
    changes = tuple(changes)
    ticks = list(map(itemgetter(0), changes))
    if set(map(type, changes)) <= {kind} and all(map(lt, ticks, ticks[1:])):
        return changes  # already canonical, as from a reader or an edit: nothing rebuilt
    by_tick = {}
    for change in changes:
        change = change if type(change) is kind else kind(*change)
        by_tick[change.tick] = change
    return tuple(by_tick[tick] for tick in sorted(by_tick))


def _held_in_range(changes: tuple, low: int, high: int) -> bool:
    """Whether sorted held ``changes`` start at tick 0 or later and their values lie in ``low``-``high``."""
    if not changes:
        return True
    values = list(map(itemgetter(1), changes))
    return changes[0].tick >= 0 and low <= min(values) and max(values) <= high


def _slice_held(changes: tuple, start: int, end: int) -> tuple:
    """Held changes (pitch bends, pressures) from ``start`` to ``end`` shifted to start at 0, with
    the one in force at ``start`` (if any) at tick 0."""
    before = bisect.bisect_left(changes, start, key=itemgetter(0))
    in_force = [changes[before - 1]._replace(tick=0)] if before else []
    return tuple(in_force + [c._replace(tick=c.tick - start) for c in changes[before:] if c.tick < end])


def _shift_map(events: tuple, start: int, end: int, at_start: object | None) -> tuple:
    shifted = [dataclasses.replace(e, tick=e.tick - start) for e in events if start < e.tick < end]
    return tuple(([at_start] if at_start is not None else []) + shifted)


def _canonical_notes(notes: Iterable) -> tuple[Note, ...]:
    """``notes`` as a sorted tuple of :class:`Note`, without rebuilding notes that already are
    :class:`Note` (the common case when a reader or an edit builds a Track of 100,000 notes)."""
    if all(type(n) is Note for n in notes):
        return tuple(sorted(notes))  # timsort over sorted input is one pass of comparisons
    return tuple(sorted(Note(*n) for n in notes))
