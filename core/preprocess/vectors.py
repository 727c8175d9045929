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
from core.representation.events import N_INSTRUMENTS, N_PITCHES
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
    """Rows of a chunk (spec 2.8)."""
    ticks: list[int] = []
    pauses: list[bool] = []
    offsets: list[int] = []
    beats: list[int] = []
    pitches: list[int] = []
    durations: list[int] = []
    instruments: list[int] = []
    velocities: list[int] = []
    sections: list[int] = []
    intervals: list[tuple[int, int, int, int]] = []  # (row, end row, pitch, instrument)
    last = 0
    last_is_pause = True  # nothing emitted yet counts as a barline
    infos = []

    for section_index, section in enumerate(chunk.sections):
        meter, unit, start = section.meter, section.unit, section.start
        geometry = normalizer_for(meter, unit)
        bar_ticks = meter.bar_units * unit
        max_ticks = meter.max_units * unit
        half_beat = HALF_BEAT_UNITS * unit
        emitted: dict[int, int] = {}
        last = start
        infos.append(SectionInfo(meter, unit, start, section.end, tuple(section.anchors)))

        def exact(ticks_: int) -> int | None:
            if ticks_ <= 0 or ticks_ % unit:
                return None
            return CLASS_OF_UNITS.get(ticks_ // unit)

        def pause(to: int) -> bool:
            nonlocal last, last_is_pause
            index = exact(to - last)
            if index is None or index > meter.max_class:
                return False
            ticks.append(to)
            pauses.append(True)
            offsets.append(index)
            beats.append(meter.beat_of((to - start) // unit))
            pitches.append(-1)
            durations.append(0)
            instruments.append(-1)
            velocities.append(-1)
            sections.append(section_index)
            last, last_is_pause = to, True
            return True

        def next_half_beat(after: int) -> int:
            return start + ((after - start) // half_beat + 1) * half_beat

        def bridge(time: int) -> bool:
            """Pauses so that a row at ``time`` has an expressible offset (and bar offset)."""
            while time - last > max_ticks:
                boundary = start + geometry.next_boundary(last - start)
                following = boundary + geometry.segment_at(boundary - start)
                if following - last <= max_ticks:
                    boundary = following
                if not pause(boundary):
                    return False
            gap = time - last
            if gap > 0 and exact(gap) is None:
                grid = next_half_beat(last)
                if grid > time or exact(grid - last) is None or (time > grid and exact(time - grid) is None):
                    return False
                pause(grid)
            bar_start = start + (time - start) // bar_ticks * bar_ticks
            if last < bar_start or (last == bar_start and last_is_pause):
                if time > bar_start and exact(time - bar_start) is None:  # first row of its bar
                    if last < bar_start and not pause(bar_start):
                        return False
                    grid = next_half_beat(bar_start)
                    if grid > time or exact(time - grid) is None:
                        return False
                    pause(grid)
            return True

        for time, kind, pitch, instrument, index, velocity, note_id in section.events:
            if kind == 0:
                row = emitted.pop(note_id, None)
                if row is not None:
                    intervals.append((row, len(ticks), pitch, instrument))
                continue
            if not bridge(time):
                tally.drop(reasons.UNPLACEABLE_OFFSET)
                continue
            emitted[note_id] = len(ticks)
            ticks.append(time)
            pauses.append(False)
            offsets.append(0 if time == last else CLASS_OF_UNITS[(time - last) // unit])
            beats.append(meter.beat_of((time - start) // unit))
            pitches.append(pitch)
            durations.append(index)
            instruments.append(instrument)
            velocities.append(velocity)
            sections.append(section_index)
            last, last_is_pause = time, False
        for row in emitted.values():  # cannot happen: every start has its end in the same list
            intervals.append((row, len(ticks), -1, -1))
        if section_index + 1 < len(chunk.sections):
            target = chunk.sections[section_index + 1].start
            while last < target:
                boundary = min(target, start + geometry.next_boundary(last - start))
                if not pause(boundary):
                    raise AssertionError(f"pause from {last} to {boundary} is not a class")

    n = len(ticks)
    active_pitches = np.zeros((n + 1, N_PITCHES), np.int32)
    active_instruments = np.zeros((n + 1, N_INSTRUMENTS), np.int32)
    if intervals:
        spans = np.array([iv for iv in intervals if iv[2] >= 0], dtype=np.int64).reshape(-1, 4)
        first = spans[:, 0] + 1
        keep = first < spans[:, 1]
        spans, first = spans[keep], first[keep]
        np.add.at(active_pitches, (first, spans[:, 2] - LOWEST), 1)
        np.add.at(active_pitches, (spans[:, 1], spans[:, 2] - LOWEST), -1)
        np.add.at(active_instruments, (first, spans[:, 3]), 1)
        np.add.at(active_instruments, (spans[:, 1], spans[:, 3]), -1)
    active_pitches = np.cumsum(active_pitches[:n], axis=0) > 0
    active_instruments = np.cumsum(active_instruments[:n], axis=0) > 0
    return ChunkRows(
        sections=tuple(infos),
        tick=np.array(ticks, np.int64),
        is_pause=np.array(pauses, bool),
        offset=np.array(offsets, np.int16),
        beat=np.array(beats, np.int16),
        pitch=np.array(pitches, np.int16),
        duration=np.array(durations, np.int16),
        instrument=np.array(instruments, np.int16),
        velocity=np.array(velocities, np.int16),
        section=np.array(sections, np.int32),
        active_pitches=active_pitches,
        active_instruments=active_instruments,
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
