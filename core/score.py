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
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Iterable, NamedTuple

DEFAULT_TEMPO = 500_000  # microseconds per quarter note: 120 quarter notes per minute
DRUM_CHANNEL = 9  # 0-based: the General MIDI percussion channel "10"


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


class ControlChange(NamedTuple):
    """A MIDI control change (sustain pedal = number 64) kept so that a round trip loses nothing."""

    tick: int
    number: int
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
    """One instrument: a named track on one MIDI channel with one General MIDI program."""

    name: str
    program: int = 0
    channel: int = 0
    notes: tuple[Note, ...] = ()
    controls: tuple[ControlChange, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.program <= 127:
            raise ValueError(f"track {self.name!r}: program {self.program} is outside 0-127")
        if not 0 <= self.channel <= 15:
            raise ValueError(f"track {self.name!r}: channel {self.channel} is outside 0-15")
        notes = tuple(sorted(Note(*n) for n in self.notes))
        if notes:
            if min(n.start for n in notes) < 0 or min(n.duration for n in notes) < 1:
                raise ValueError(f"track {self.name!r}: a note starts before 0 or is shorter than 1 tick")
            if min(n.pitch for n in notes) < 0 or max(n.pitch for n in notes) > 127:
                raise ValueError(f"track {self.name!r}: a pitch is outside 0-127")
            if min(n.velocity for n in notes) < 1 or max(n.velocity for n in notes) > 127:
                raise ValueError(f"track {self.name!r}: a velocity is outside 1-127")
        controls = tuple(sorted(ControlChange(*c) for c in self.controls))
        if any(not (c.tick >= 0 and 0 <= c.number <= 127 and 0 <= c.value <= 127) for c in controls):
            raise ValueError(f"track {self.name!r}: a control change is out of range")
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "controls", controls)

    @property
    def is_drum(self) -> bool:
        """True for the General MIDI percussion channel (channel 10, 0-based 9)."""
        return self.channel == DRUM_CHANNEL

    @property
    def end_tick(self) -> int:
        return max((n.end for n in self.notes), default=0)

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        if not self.notes:
            return None
        return min(n.pitch for n in self.notes), max(n.pitch for n in self.notes)


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
            if tempo.us_per_quarter < 1:
                raise ValueError(f"tempo at tick {tempo.tick} is not positive")
        for meter in self.time_signatures:
            if meter.numerator < 1 or meter.denominator < 1:
                raise ValueError(f"meter {meter.text} at tick {meter.tick} is not valid")

    # ----------------------------------------------------------------------------------- contents
    @property
    def notes_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

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

    def seconds_at(self, tick: int | float) -> float:
        """Time in seconds from the start of the piece to ``tick``, through the tempo map."""
        segments = self._tempo_segments
        index = bisect.bisect_right([s[0] for s in segments], tick) - 1
        tick0, second0, tempo = segments[max(index, 0)]
        return second0 + (tick - tick0) * tempo / (1e6 * self.ticks_per_quarter)

    def tick_at(self, seconds: float) -> float:
        """Inverse of :meth:`seconds_at` (a float tick; round where an integer is needed)."""
        segments = self._tempo_segments
        index = bisect.bisect_right([s[1] for s in segments], seconds) - 1
        tick0, second0, tempo = segments[max(index, 0)]
        return tick0 + (seconds - second0) * 1e6 * self.ticks_per_quarter / tempo

    @property
    def duration_seconds(self) -> float:
        return self.seconds_at(self.end_tick)

    # ---------------------------------------------------------------------------------- meter map
    def time_signature_at(self, tick: int) -> TimeSignature:
        """The meter in force at ``tick`` (4/4 before the first time signature)."""
        index = bisect.bisect_right([m.tick for m in self.time_signatures], tick) - 1
        return self.time_signatures[index] if index >= 0 else TimeSignature(0, 4, 4)

    def bars(self, until_tick: int | None = None) -> tuple[Bar, ...]:
        """The bar grid from tick 0 up to ``until_tick`` (default: the end of the music), at least
        one bar. A meter change starts a new bar; if it falls inside a bar, that bar ends early."""
        end = self.end_tick if until_tick is None else until_tick
        return self._bar_grid(max(end, 1))

    def bar(self, number: int) -> Bar:
        """Bar ``number`` (from 1), extending the grid past the end of the music if needed."""
        if number < 1:
            raise ValueError(f"bar {number}: bars are numbered from 1")
        grid = self._bar_grid(self.end_tick or 1)
        while len(grid) < number:
            grid = self._bar_grid(grid[-1].end + (number - len(grid)) * max(b.length for b in grid))
        return grid[number - 1]

    def bar_at(self, tick: int) -> Bar:
        """The bar that holds ``tick``."""
        grid = self._bar_grid(max(tick + 1, self.end_tick, 1))
        index = bisect.bisect_right([b.start for b in grid], tick) - 1
        return grid[max(index, 0)]

    @property
    def bar_count(self) -> int:
        return len(self.bars())

    def _bar_grid(self, until_tick: int) -> tuple[Bar, ...]:
        meters = list(self.time_signatures)
        if not meters or meters[0].tick > 0:
            meters.insert(0, TimeSignature(0, 4, 4))
        bars: list[Bar] = []
        for index, meter in enumerate(meters):
            next_change = meters[index + 1].tick if index + 1 < len(meters) else None
            length = meter.bar_ticks(self.ticks_per_quarter)
            tick = meter.tick
            while (next_change is None and tick < until_tick) or (next_change is not None and tick < next_change):
                end = tick + length if next_change is None else min(tick + length, next_change)
                bars.append(Bar(len(bars) + 1, tick, end, meter.numerator, meter.denominator))
                tick = end
            if next_change is None and not bars:
                bars.append(Bar(1, tick, tick + length, meter.numerator, meter.denominator))
        return tuple(bars)

    # ------------------------------------------------------------------------------------ slicing
    def slice_ticks(self, start: int, end: int) -> "Score":
        """The music from ``start`` to ``end`` as a Score of its own that starts at tick 0: notes
        starting in the range are kept (cut at ``end``), the tempo and meter in force at ``start``
        are kept at tick 0, and later changes inside the range are shifted."""
        if not 0 <= start < end:
            raise ValueError(f"empty or negative tick range {start}-{end}")
        tracks = []
        for track in self.tracks:
            notes = tuple(
                Note(n.start - start, min(n.end, end) - n.start, n.pitch, n.velocity)
                for n in track.notes
                if start <= n.start < end
            )
            controls = tuple(
                ControlChange(c.tick - start, c.number, c.value) for c in track.controls if start <= c.tick < end
            )
            tracks.append(dataclasses.replace(track, notes=notes, controls=controls))
        return self.replace(
            tracks=tuple(tracks),
            tempos=_shift_map(self.tempos, start, end, TempoChange(0, self.tempo_at(start))),
            time_signatures=_shift_map(
                self.time_signatures,
                start,
                end,
                dataclasses.replace(self.time_signature_at(start), tick=0),
            ),
            key_signatures=_shift_map(self.key_signatures, start, end, None),
            warnings=(),
        )

    def slice_bars(self, first: int, last: int) -> "Score":
        """Bars ``first`` to ``last`` (from 1, inclusive) as a Score of their own."""
        if not 1 <= first <= last:
            raise ValueError(f"bars {first}-{last}: not a valid range (bars are numbered from 1)")
        return self.slice_ticks(self.bar(first).start, self.bar(last).end)


def _canonical_map(events: Iterable, what: str) -> tuple:
    """Sort a tempo/meter/key map by tick and keep only the last event at each tick."""
    by_tick: dict[int, object] = {}
    for event in events:
        if event.tick < 0:
            raise ValueError(f"{what} change at negative tick {event.tick}")
        by_tick[event.tick] = event
    return tuple(by_tick[t] for t in sorted(by_tick))


def _shift_map(events: tuple, start: int, end: int, at_start: object | None) -> tuple:
    shifted = [dataclasses.replace(e, tick=e.tick - start) for e in events if start < e.tick < end]
    return tuple(([at_start] if at_start is not None else []) + shifted)
