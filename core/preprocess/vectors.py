"""Events -> rows (spec 2.8) and rows -> bars (spec 2.10).

Each section of a chunk is walked in time order. A note start becomes a row whose offset is the time
since the previous row; a gap longer than the longest class is bridged by *pause* rows that stop at
barlines (or segment boundaries of long bars); an offset that is no class is split by a pause on the
q*/2 grid, or the note is dropped. Between sections, pauses run up to the next section. Then the rows
are cut into bars: a pause that reaches a barline closes the bar it fills, a note on a barline opens
the next one; the first row of a bar counts its offset from the barline, and an empty bar is one pause
(one per segment in a long bar).

Fixed against the original (spec section 6, item 4): barlines and beats are counted from the start of
the section, not from the start of the chunk, so they stay right after a meter change that falls in
the middle of the previous meter's bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.preprocess import report as reasons
from core.preprocess.normalize import normalizer_for
from core.preprocess.report import Tally
from core.preprocess.segment import Chunk
from core.representation.events import N_BEATS, N_INSTRUMENTS, N_PITCHES
from core.representation.meters import Meter
from core.representation.vocabulary import CLASS_OF_UNITS, HALF_BEAT_UNITS

LOWEST = 17  # MIDI pitch of pitch index 0


@dataclass(frozen=True)
class SectionInfo:
    meter: Meter
    unit: int
    start: int
    end: int
    anchors: tuple[tuple[int, int], ...]  # (chunk tick, working file tick) where the mapping restarts


@dataclass(frozen=True)
class ChunkRows:
    """The rows of one chunk in stream form (offsets from the previous row), with the section of each."""

    sections: tuple[SectionInfo, ...]
    tick: np.ndarray
    is_pause: np.ndarray
    offset: np.ndarray
    beat: np.ndarray
    pitch: np.ndarray  # MIDI pitch, -1 for pauses
    duration: np.ndarray
    instrument: np.ndarray
    velocity: np.ndarray  # MIDI velocity, -1 for pauses
    section: np.ndarray
    active_pitches: np.ndarray  # [n, 96] bool
    active_instruments: np.ndarray  # [n, 23] bool

    def __len__(self) -> int:
        return len(self.tick)


class _Rows:
    """Growing row columns of one chunk (private)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []  # finished blocks of columns
        self.count = 0
        self.intervals: list[np.ndarray] = []  # [k, 4]: row, end row, pitch, instrument

    def add_block(self, *columns: np.ndarray) -> None:
        self.parts.append(tuple(np.asarray(c) for c in columns))
        self.count += len(columns[0])


def chunk_rows(chunk: Chunk, tally: Tally) -> ChunkRows:
    """Rows of a chunk (spec 2.8)."""
    rows = _Rows()
    infos = []
    for section_index, section in enumerate(chunk.sections):
        infos.append(SectionInfo(section.meter, section.unit, section.start, section.end, tuple(section.anchors)))
        following = chunk.sections[section_index + 1].start if section_index + 1 < len(chunk.sections) else None
        _section_rows(section, section_index, following, rows, tally)
    columns = [np.concatenate(c) if rows.parts else np.zeros(0, np.int64) for c in zip(*rows.parts)] or [
        np.zeros(0, np.int64)
    ] * 9
    tick, is_pause, offset, beat, pitch, duration, instrument, velocity, section = columns
    n = rows.count
    active_pitches = np.zeros((n, N_PITCHES), bool)
    active_instruments = np.zeros((n, N_INSTRUMENTS), bool)
    if rows.intervals:
        spans = np.concatenate(rows.intervals)
        first = spans[:, 0] + 1  # a note is active from the row after its own ...
        lengths = np.maximum(spans[:, 1] - first, 0)  # ... to the row before its end was heard
        total = int(lengths.sum())
        if total:
            row = np.arange(total) + np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
            active_pitches[row, np.repeat(spans[:, 2] - LOWEST, lengths)] = True
            active_instruments[row, np.repeat(spans[:, 3], lengths)] = True
    return ChunkRows(
        sections=tuple(infos),
        tick=tick.astype(np.int64),
        is_pause=is_pause.astype(bool),
        offset=offset.astype(np.int16),
        beat=beat.astype(np.int16),
        pitch=pitch.astype(np.int16),
        duration=duration.astype(np.int16),
        instrument=instrument.astype(np.int16),
        velocity=velocity.astype(np.int16),
        section=section.astype(np.int32),
        active_pitches=active_pitches,
        active_instruments=active_instruments,
    )


_CLASS_OF_UNITS = np.full(max(CLASS_OF_UNITS) + 1, -1, np.int64)
for _units, _index in CLASS_OF_UNITS.items():
    _CLASS_OF_UNITS[_units] = _index


def _beats(meter: Meter, units: np.ndarray) -> np.ndarray:
    position = units % meter.bar_units
    beat = position // HALF_BEAT_UNITS
    return np.where((position % HALF_BEAT_UNITS == 0) & (beat < N_BEATS), beat, -1)


def _section_rows(section, section_index: int, following: int | None, rows: _Rows, tally: Tally) -> None:
    """Rows of one section (spec 2.8). Onsets a class away from the previous row (and, when they open
    a bar, from its barline) become rows all at once; only the others are walked one by one, adding
    the pauses that a long rest or an inexpressible offset needs, or dropping the note."""
    meter, unit, start = section.meter, section.unit, section.start
    time = section.time
    count = len(time)
    bar_ticks = meter.bar_units * unit
    previous = np.concatenate([[start], time[:-1]])
    gap = time - previous
    offset = np.where(gap % unit == 0, _CLASS_OF_UNITS[np.minimum(gap // unit, len(_CLASS_OF_UNITS) - 1)], -1)
    offset[gap == 0] = 0
    offset[gap > meter.max_units * unit] = -1
    bar_start = start + (time - start) // bar_ticks * bar_ticks
    opens = previous < bar_start
    opens[0] = True
    into_bar = time - bar_start
    into_class = np.where(into_bar % unit == 0, _CLASS_OF_UNITS[np.minimum(into_bar // unit, len(_CLASS_OF_UNITS) - 1)], -1)
    irregular = (offset < 0) | (opens & (into_bar > 0) & (into_class < 0))
    kept = np.ones(count, bool)
    pause_ticks: list[int] = []
    pause_offsets: list[int] = []
    pause_before: list[int] = []
    last = int(time[-1]) if count else start
    if irregular.any():
        walker = _Walker(section, pause_ticks, pause_offsets, pause_before)
        times = time.tolist()
        pending = np.flatnonzero(irregular).tolist()
        state_after: dict[int, tuple[int, bool]] = {}
        position = 0
        while position < len(pending):
            k = pending[position]
            position += 1
            if k == 0:
                state = (start, True)
            elif k - 1 in state_after:
                state = state_after[k - 1]
            else:
                state = (times[k - 1], False)
            walker.last, walker.last_is_pause = state
            if walker.bridge(times[k], k):
                offset[k] = 0 if times[k] == walker.last else CLASS_OF_UNITS[(times[k] - walker.last) // unit]
                state_after[k] = (times[k], False)
            else:
                tally.drop(reasons.UNPLACEABLE_OFFSET)
                kept[k] = False
                state_after[k] = (walker.last, walker.last_is_pause)
                if k + 1 < count and (position == len(pending) or pending[position] != k + 1):
                    pending.insert(position, k + 1)  # its offset now counts from elsewhere
        if count:
            last = state_after.get(count - 1, (int(time[-1]), False))[0]

    notes = np.flatnonzero(kept)
    pauses = len(pause_ticks)
    trigger = np.concatenate([notes, np.array(pause_before, np.int64)])
    sub = np.concatenate([np.full(len(notes), 1 << 30), np.arange(pauses)])
    order = np.lexsort((sub, trigger))
    is_pause = np.concatenate([np.zeros(len(notes), bool), np.ones(pauses, bool)])[order]
    tick = np.concatenate([time[notes], np.array(pause_ticks, np.int64)])[order]

    def merged(note_values: np.ndarray, pause_value: int | list[int]) -> np.ndarray:
        fill = np.array(pause_value, np.int64) if isinstance(pause_value, list) else np.full(pauses, pause_value)
        return np.concatenate([note_values[notes], fill])[order]

    base = rows.count
    rows.add_block(
        tick,
        is_pause,
        merged(offset, pause_offsets),
        _beats(meter, (tick - start) // unit),
        merged(section.pitch, -1),
        merged(section.duration, 0),
        merged(section.instrument, -1),
        merged(section.velocity, -1),
        np.full(len(tick), section_index),
    )
    if len(notes):
        row_trigger = time[trigger[order]]  # the onset whose processing emitted each row
        note_rows = base + np.flatnonzero(~is_pause)
        end_row = base + np.searchsorted(row_trigger, section.end_time[notes], side="left")
        rows.intervals.append(np.stack([note_rows, end_row, section.pitch[notes], section.instrument[notes]], axis=1))
    if following is not None:
        _walk_to(section, section_index, last, following, rows)


class _Walker:
    """The step-by-step part of :func:`_section_rows`: pauses before one onset (private)."""

    def __init__(self, section, ticks: list[int], offsets: list[int], before: list[int]):
        self.meter = section.meter
        self.unit = section.unit
        self.start = section.start
        self.geometry = normalizer_for(section.meter, section.unit)
        self.bar_ticks = section.meter.bar_units * section.unit
        self.max_ticks = section.meter.max_units * section.unit
        self.half_beat = HALF_BEAT_UNITS * section.unit
        self.ticks, self.offsets, self.before = ticks, offsets, before
        self.last = section.start
        self.last_is_pause = True

    def exact(self, ticks: int) -> int | None:
        if ticks <= 0 or ticks % self.unit:
            return None
        return CLASS_OF_UNITS.get(ticks // self.unit)

    def pause(self, to: int, before: int) -> bool:
        index = self.exact(to - self.last)
        if index is None or index > self.meter.max_class:
            return False
        self.ticks.append(to)
        self.offsets.append(index)
        self.before.append(before)
        self.last, self.last_is_pause = to, True
        return True

    def next_half_beat(self, after: int) -> int:
        return self.start + ((after - self.start) // self.half_beat + 1) * self.half_beat

    def bridge(self, time: int, before: int) -> bool:
        """Pauses so that a row at ``time`` has an expressible offset (and offset from its barline)."""
        start, exact = self.start, self.exact
        while time - self.last > self.max_ticks:
            boundary = start + self.geometry.next_boundary(self.last - start)
            following = boundary + self.geometry.segment_at(boundary - start)
            if following - self.last <= self.max_ticks:
                boundary = following
            if not self.pause(boundary, before):
                return False
        gap = time - self.last
        if gap > 0 and exact(gap) is None:
            grid = self.next_half_beat(self.last)
            if grid > time or exact(grid - self.last) is None or (time > grid and exact(time - grid) is None):
                return False
            self.pause(grid, before)
        bar_start = start + (time - start) // self.bar_ticks * self.bar_ticks
        if self.last < bar_start or (self.last == bar_start and self.last_is_pause):
            if time > bar_start and exact(time - bar_start) is None:  # the first row of its bar
                if self.last < bar_start and not self.pause(bar_start, before):
                    return False
                grid = self.next_half_beat(bar_start)
                if grid > time or exact(time - grid) is None:
                    return False
                self.pause(grid, before)
        return True


def _walk_to(section, section_index: int, last: int, target: int, rows: _Rows) -> None:
    """Pauses from ``last`` to the next section's start, each stopping at the next barline."""
    geometry = normalizer_for(section.meter, section.unit)
    ticks: list[int] = []
    previous = last
    while last < target:
        boundary = min(target, section.start + geometry.next_boundary(last - section.start))
        ticks.append(boundary)
        last = boundary
    if not ticks:
        return
    reached = np.array(ticks, np.int64)
    unit = section.unit
    steps = reached - np.concatenate([[previous], reached[:-1]])
    offset = _CLASS_OF_UNITS[steps // unit]
    if np.any(offset < 0) or np.any(steps % unit):
        raise AssertionError("a pause between sections is not a class")
    count = len(reached)
    rows.add_block(
        reached,
        np.ones(count, bool),
        offset,
        _beats(section.meter, (reached - section.start) // unit),
        np.full(count, -1),
        np.zeros(count, np.int64),
        np.full(count, -1),
        np.full(count, -1),
        np.full(count, section_index),
    )


@dataclass(frozen=True)
class BarRows:
    """The bars of one chunk in bar form: ``rows`` indexes into the chunk's rows (-1: an inserted
    pause), ``offset``/``beat`` are the final columns, ``active_from`` the row whose active sets a row
    gets (-1: none), and per bar its start tick, section and bounds."""

    rows: np.ndarray
    offset: np.ndarray
    beat: np.ndarray
    active_from: np.ndarray
    bar_start: np.ndarray  # chunk ticks
    bar_section: np.ndarray
    bounds: np.ndarray  # bars + 1


def chunk_bars(rows: ChunkRows) -> BarRows:
    """Cut a chunk's rows into bars (spec 2.10)."""
    bar_starts: list[int] = []
    bar_sections: list[int] = []
    for index, info in enumerate(rows.sections):
        bar = info.meter.bar_units * info.unit
        bar_starts.extend(range(info.start, info.end, bar))
        bar_sections.extend([index] * len(range(info.start, info.end, bar)))
    bar_ends = np.array(bar_starts[1:] + [rows.sections[-1].end], np.int64)
    note_bar = np.searchsorted(bar_ends, rows.tick, side="right")
    pause_bar = np.searchsorted(bar_ends, rows.tick, side="left")
    row_bar = np.where(rows.is_pause, pause_bar, note_bar)
    if len(row_bar) and (np.any(np.diff(row_bar) < 0) or row_bar[-1] >= len(bar_starts)):
        raise AssertionError("rows are not in bar order")
    firsts = np.searchsorted(row_bar, np.arange(len(bar_starts) + 1), side="left")
    out_rows: list[int] = []
    out_offset: list[int] = []
    out_beat: list[int] = []
    out_active: list[int] = []
    bounds = [0]
    n = len(rows)
    offsets = rows.offset.tolist()
    beats = rows.beat.tolist()
    ticks = rows.tick.tolist()
    for bar_index, bar_start in enumerate(bar_starts):
        low, high = int(firsts[bar_index]), int(firsts[bar_index + 1])
        info = rows.sections[bar_sections[bar_index]]
        unit = info.unit
        if low == high:
            active = low if low < n else -1
            reached = 0
            for segment in info.meter.segments:
                reached += segment
                out_rows.append(-1)
                out_offset.append(CLASS_OF_UNITS[segment])
                out_beat.append(info.meter.beat_of(reached) if reached < info.meter.bar_units else 0)
                out_active.append(active)
        else:
            out_rows.extend(range(low, high))
            out_offset.append(CLASS_OF_UNITS[(ticks[low] - bar_start) // unit] if ticks[low] > bar_start else 0)
            out_offset.extend(offsets[low + 1 : high])
            out_beat.extend(beats[low:high])
            out_active.extend(range(low, high))
        bounds.append(len(out_rows))
    return BarRows(
        rows=np.array(out_rows, np.int64),
        offset=np.array(out_offset, np.int16),
        beat=np.array(out_beat, np.int16),
        active_from=np.array(out_active, np.int64),
        bar_start=np.array(bar_starts, np.int64),
        bar_section=np.array(bar_sections, np.int32),
        bounds=np.array(bounds, np.int64),
    )
