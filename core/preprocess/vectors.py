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
the middle of the previous meter's bar. Where the original failed (a first row of a bar whose offset
from the barline is no class: an assertion that dropped the rest of the chunk), a pause on the
barline and the q*/2 grid is tried, else that note alone is dropped. As in the original, a pause row
carries the active sets of the moment the onset after it is processed.
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


def chunk_rows(chunk: Chunk, tally: Tally) -> ChunkRows:
    """Rows of a chunk (spec 2.8), all sections at once. Onsets a class away from the previous row
    (and, when they open a bar, from its barline) become rows directly; only the others are walked,
    adding the pauses that a long rest or an inexpressible offset needs, or dropping the note. Pauses
    then run from each section's last row up to the next section."""
    sections = chunk.sections
    infos = tuple(SectionInfo(s.meter, s.unit, s.start, s.end, tuple(s.anchors)) for s in sections)
    sizes = [len(s.time) for s in sections]
    section = np.repeat(np.arange(len(sections)), sizes)
    time = np.concatenate([s.time for s in sections])
    count = len(time)
    start = np.array([s.start for s in sections], np.int64)[section]
    unit = np.array([s.unit for s in sections], np.int64)[section]
    bar_ticks = np.array([s.meter.bar_units * s.unit for s in sections], np.int64)[section]
    max_ticks = np.array([s.meter.max_units * s.unit for s in sections], np.int64)[section]
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    opens_section = np.zeros(count, bool)
    opens_section[firsts] = True

    previous = np.where(opens_section, start, np.concatenate([[0], time[:-1]]))
    gap = time - previous
    offset = _class_of(gap, unit)
    offset[gap > max_ticks] = -1
    bar_start = start + (time - start) // bar_ticks * bar_ticks
    opens = (previous < bar_start) | opens_section
    into_bar = time - bar_start
    irregular = (offset < 0) | (opens & (into_bar > 0) & (_class_of(into_bar, unit) < 0))
    kept = np.ones(count, bool)
    pause_ticks: list[int] = []
    pause_offsets: list[int] = []
    pause_before: list[int] = []
    pause_order: list[int] = []
    last_of: dict[int, tuple[int, bool]] = {}  # row -> (last tick, last is a pause) after it
    if irregular.any():
        _walk_irregular(sections, section, time, offset, kept, np.flatnonzero(irregular).tolist(), opens_section,
                        last_of, (pause_ticks, pause_offsets, pause_before, pause_order), tally)  # fmt: skip
    # Pauses from each section's last row to the next section's start.
    for index in range(len(sections) - 1):
        final = firsts[index] + sizes[index] - 1
        last = last_of.get(final, (int(time[final]), False))[0]
        for tick, step in _pauses_to(sections[index], last, sections[index + 1].start):
            pause_ticks.append(tick)
            pause_offsets.append(step)
            pause_before.append(final)
            pause_order.append(1 << 40)  # after the section's last note

    notes = np.flatnonzero(kept)
    pauses = len(pause_ticks)
    anchor = np.concatenate([notes, np.array(pause_before, np.int64)])
    sub = np.concatenate([np.full(len(notes), 1 << 30), np.array(pause_order, np.int64)])
    order = np.lexsort((sub, anchor))
    is_pause = np.concatenate([np.zeros(len(notes), bool), np.ones(pauses, bool)])[order]
    tick = np.concatenate([time[notes], np.array(pause_ticks, np.int64)])[order]
    row_section = section[anchor[order]] if count else np.zeros(0, np.int64)

    def merged(name: str, pause_value: int) -> np.ndarray:
        values = np.concatenate([getattr(s, name) for s in sections])[notes]
        return np.concatenate([values, np.full(pauses, pause_value, values.dtype)])[order]

    row_offset = np.concatenate([offset[notes], np.array(pause_offsets, np.int64)])[order]
    row_start = np.array([s.start for s in sections], np.int64)[row_section]
    row_unit = np.array([s.unit for s in sections], np.int64)[row_section]
    beat = np.full(len(tick), -1, np.int64)
    for index, info in enumerate(infos):
        here = row_section == index
        beat[here] = _beats(info.meter, (tick[here] - row_start[here]) // row_unit[here])
    pitch = merged("pitch", -1)
    instrument = merged("instrument", -1)

    # Active sets: a note sounds from the row after its own to the last row emitted before its end
    # is heard (ends come before starts at one tick; at the latest, at the end of its section).
    trigger = np.where(is_pause & (sub[order] == 1 << 40), np.iinfo(np.int64).max // 4, time[anchor[order]])
    key = row_section.astype(np.int64) * _SECTION_KEY + np.minimum(trigger, _SECTION_KEY - 1)
    note_rows = np.flatnonzero(~is_pause)
    end_time = np.concatenate([s.end_time for s in sections])[notes]
    end_key = section[notes] * _SECTION_KEY + np.minimum(end_time, _SECTION_KEY - 2)
    end_row = np.searchsorted(key, end_key, side="left")
    n = len(tick)
    active_pitches = np.zeros((n, N_PITCHES), bool)
    active_instruments = np.zeros((n, N_INSTRUMENTS), bool)
    first = note_rows + 1
    lengths = np.maximum(end_row - first, 0)
    total = int(lengths.sum())
    if total:
        row = np.arange(total) + np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
        active_pitches[row, np.repeat(pitch[note_rows] - LOWEST, lengths)] = True
        active_instruments[row, np.repeat(instrument[note_rows], lengths)] = True
    return ChunkRows(
        sections=infos,
        tick=tick,
        is_pause=is_pause,
        offset=row_offset.astype(np.int16),
        beat=beat.astype(np.int16),
        pitch=pitch.astype(np.int16),
        duration=merged("duration", 0).astype(np.int16),
        instrument=instrument.astype(np.int16),
        velocity=merged("velocity", -1).astype(np.int16),
        section=row_section.astype(np.int32),
        active_pitches=active_pitches,
        active_instruments=active_instruments,
    )


_SECTION_KEY = 1 << 40  # chunk ticks stay far below this
_CLASS_OF_UNITS = np.full(max(CLASS_OF_UNITS) + 1, -1, np.int64)
for _units, _index in CLASS_OF_UNITS.items():
    _CLASS_OF_UNITS[_units] = _index


def _beats(meter: Meter, units: np.ndarray) -> np.ndarray:
    position = units % meter.bar_units
    beat = position // HALF_BEAT_UNITS
    return np.where((position % HALF_BEAT_UNITS == 0) & (beat < N_BEATS), beat, -1)


def _class_of(ticks: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Class of each length in ticks (0 for 0), or -1 where no class has that length."""
    units = ticks // unit
    found = _CLASS_OF_UNITS[np.clip(units, 0, len(_CLASS_OF_UNITS) - 1)]
    return np.where((ticks % unit == 0) & (units < len(_CLASS_OF_UNITS)), found, -1)


def _walk_irregular(sections, section, time, offset, kept, pending, opens_section, last_of, pauses, tally) -> None:
    """Pauses before (or dropping of) the rows that cannot follow their predecessor directly."""
    pause_ticks, pause_offsets, pause_before, pause_order = pauses
    walkers: dict[int, _Walker] = {}
    times = time.tolist()
    position = 0
    while position < len(pending):
        k = pending[position]
        position += 1
        index = int(section[k])
        walker = walkers.get(index)
        if walker is None:
            walker = walkers[index] = _Walker(sections[index], [], [], [])
        if opens_section[k]:
            state = (sections[index].start, True)
        else:
            state = last_of.get(k - 1, (times[k - 1], False))
        walker.last, walker.last_is_pause = state
        mark = len(walker.ticks)
        placed = walker.bridge(times[k], k)
        for j in range(mark, len(walker.ticks)):
            pause_ticks.append(walker.ticks[j])
            pause_offsets.append(walker.offsets[j])
            pause_before.append(k)
            pause_order.append(j - mark)
        if placed:
            gap = times[k] - walker.last
            offset[k] = 0 if gap == 0 else CLASS_OF_UNITS[gap // walker.unit]
            last_of[k] = (times[k], False)
        else:
            tally.drop(reasons.UNPLACEABLE_OFFSET)
            kept[k] = False
            last_of[k] = (walker.last, walker.last_is_pause)
            follower = k + 1
            if follower < len(times) and not opens_section[follower]:
                if position == len(pending) or pending[position] != follower:
                    pending.insert(position, follower)  # its offset now counts from elsewhere


def _pauses_to(section, last: int, target: int) -> list[tuple[int, int]]:
    """(tick, offset class) of the pauses from ``last`` to ``target``, each stopping at the next barline."""
    geometry = normalizer_for(section.meter, section.unit)
    result = []
    while last < target:
        boundary = min(target, section.start + geometry.next_boundary(last - section.start))
        step = boundary - last
        if step % section.unit or (step // section.unit) not in CLASS_OF_UNITS:
            raise AssertionError(f"a pause of {step} ticks between sections is not a class")
        result.append((boundary, CLASS_OF_UNITS[step // section.unit]))
        last = boundary
    return result


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
    """Cut a chunk's rows into bars (spec 2.10): a pause on a barline closes the bar before it, a
    note on a barline opens the bar after it; the first row of a bar counts its offset from the
    barline; an empty bar is one pause per segment with the active sets of the next row."""
    starts, sections, units = [], [], []
    for index, info in enumerate(rows.sections):
        starts.append(np.arange(info.start, info.end, info.meter.bar_units * info.unit, dtype=np.int64))
        sections.append(np.full(len(starts[-1]), index, np.int32))
        units.append(np.full(len(starts[-1]), info.unit, np.int64))
    bar_start, bar_section, bar_unit = np.concatenate(starts), np.concatenate(sections), np.concatenate(units)
    bars, n = len(bar_start), len(rows)
    bar_end = np.append(bar_start[1:], rows.sections[-1].end)
    closing = np.searchsorted(bar_end, rows.tick, side="left")  # a pause on a barline closes the bar before
    opening = np.searchsorted(bar_end, rows.tick, side="right")  # a note on a barline opens the bar after
    row_bar = np.where(rows.is_pause, closing, opening)
    if n and (np.any(np.diff(row_bar) < 0) or row_bar[-1] >= bars):
        raise AssertionError("rows are not in bar order")
    counts = np.bincount(row_bar, minlength=bars)
    first_row = np.concatenate([[0], np.cumsum(counts)[:-1]])
    segment_count = np.array([len(info.meter.segments) for info in rows.sections], np.int64)
    empty = counts == 0
    length = np.where(empty, segment_count[bar_section], counts)
    bounds = np.concatenate([[0], np.cumsum(length)])
    total = int(bounds[-1])

    out_rows = np.full(total, -1, np.int64)
    out_offset = np.zeros(total, np.int16)
    out_beat = np.zeros(total, np.int16)
    out_active = np.full(total, -1, np.int64)
    position = bounds[row_bar] + np.arange(n) - first_row[row_bar]
    out_rows[position] = np.arange(n)
    out_offset[position] = rows.offset
    out_beat[position] = rows.beat
    out_active[position] = np.arange(n)
    opened = np.flatnonzero(~empty)
    lead = first_row[opened]  # the first row of each bar that has rows: offset from its barline
    into = (rows.tick[lead] - bar_start[opened]) // bar_unit[opened]
    out_offset[bounds[opened]] = _CLASS_OF_UNITS[into]
    for bar in np.flatnonzero(empty).tolist():
        meter = rows.sections[bar_section[bar]].meter
        at = int(bounds[bar])
        reached = 0
        for segment in meter.segments:
            reached += segment
            out_offset[at] = CLASS_OF_UNITS[segment]
            out_beat[at] = meter.beat_of(reached) if reached < meter.bar_units else 0
            out_active[at] = first_row[bar] if first_row[bar] < n else -1
            at += 1
    return BarRows(
        rows=out_rows,
        offset=out_offset,
        beat=out_beat,
        active_from=out_active,
        bar_start=bar_start,
        bar_section=bar_section,
        bounds=bounds.astype(np.int64),
    )
