"""Tokenisation (spec 2.2-2.3): the notes of a Score, cleaned the way a performer's MIDI needs it.

The notes of every track are walked in time order (at one tick: note ends, then meter changes, then
note starts) keeping, per track, the time of its last onset and the notes that just ended:

* *legato overlap*: a note shorter than a q* that a newer note of its track overlaps by less than
  half its length is cut where the newer note begins;
* *staccato compensation*: when a track starts a note, the short notes of its previous onset are
  extended to it if the gap is under a q*; after a longer rest they get the longest of q*, q*/2,
  q*/4, q*/3, q*/6 whose grid their start lies on;
* *chord snapping*: a start less than q*/16 after the track's last onset joins that onset;
* a pitch started again while it sounds ends the sounding note (or drops it, if it sounded over 25/3
  quarters: a stuck note).

Pitches are folded into range; programs the instrument table ignores are dropped, and so are drums
unless the table has a drum class (then only keys outside the GM percussion keys 35-81 are dropped).

Fixes against the original (spec section 6, item 3): every threshold is in q* of the meter in force
(the original used real quarters here and q* later), and the stuck-note limit is 25/3 quarters at any
resolution (the original used 4000 ticks whatever the file's resolution). Notes come from the Score,
already paired, so a note-off never ends the wrong note.

All state is per track, so tracks are tokenised one by one. A track with no chord to snap and no
pitch restarted while it sounds (almost every track of a quantised score) takes a vectorised path;
other tracks take the step-by-step walk. Both give the same tokens (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.preprocess import report as reasons
from core.preprocess.report import Tally
from core.representation.instruments import DRUM_KEYS, InstrumentTable
from core.representation.meters import Meter
from core.representation.pitch import HIGHEST_PITCH
from core.representation.events import LOWEST_PITCH
from core.music.score import DEFAULT_TEMPO, Score

STUCK_NOTE_QUARTERS = Fraction(25, 3)  # 4000 ticks at the original's 480 ticks per quarter
_GRID_DIVISORS = (1, 2, 4, 3, 6)  # staccato notes after a long rest become q*/1, q*/2, ... (first fit)


@dataclass(frozen=True)
class MeterSection:
    """A stretch of the piece under one time signature: ``meter`` is None when it is unsupported."""

    tick: int
    numerator: int
    denominator: int
    meter: Meter | None
    default: bool = False  # the implied 4/4 before the first time signature

    @property
    def text(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Tokens:
    """Cleaned notes as columns, sorted by (start, pitch, source order). ``tempo`` is the tempo in
    force at the start (µs per quarter), ``instrument`` the instrument class."""

    start: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    instrument: np.ndarray
    track: np.ndarray
    tempo: np.ndarray
    velocity: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


class _Context:
    """The meter and tempo maps as arrays, for lookups of many ticks at once."""

    def __init__(self, score: Score, sections: list[MeterSection]):
        tpq = score.ticks_per_quarter
        self.ticks = np.array([s.tick for s in sections], np.int64)
        self.qstar = np.array([int(s.meter.quarters_per_qstar * tpq) if s.meter else tpq for s in sections], np.int64)
        # Grids count from the section start; in the meters beyond the original's, from the barline.
        self.grid_bar = np.array(
            [s.meter.unit_ticks(tpq) * s.meter.bar_units if s.meter and not s.meter.original else 0 for s in sections],
            np.int64,
        )
        self.stuck_limit = float(STUCK_NOTE_QUARTERS * tpq)
        self.tempo_ticks = np.array([t.tick for t in score.tempos], np.int64)
        self.tempo_values = np.array([t.us_per_quarter for t in score.tempos], np.int64)

    def section_on(self, ticks: np.ndarray) -> np.ndarray:
        """Section of note starts (a start on a meter change belongs to the new meter)."""
        return np.searchsorted(self.ticks, ticks, side="right") - 1

    def section_off(self, ticks: np.ndarray) -> np.ndarray:
        """Section of note ends (an end on a meter change is heard before the change)."""
        return np.maximum(np.searchsorted(self.ticks, ticks, side="left") - 1, 0)

    def tempo(self, ticks: np.ndarray) -> np.ndarray:
        if len(self.tempo_ticks) == 0:
            return np.full(len(ticks), DEFAULT_TEMPO, np.int64)
        index = np.searchsorted(self.tempo_ticks, ticks, side="right") - 1
        return np.where(index >= 0, self.tempo_values[np.maximum(index, 0)], DEFAULT_TEMPO)


def fold_pitches(pitch: np.ndarray) -> np.ndarray:
    """Vectorised :func:`core.representation.pitch.fold_pitch`."""
    low = pitch < LOWEST_PITCH
    high = pitch > HIGHEST_PITCH
    pitch = np.where(low, pitch + 12 * ((LOWEST_PITCH - pitch + 11) // 12), pitch)
    return np.where(high, pitch - 12 * ((pitch - HIGHEST_PITCH + 11) // 12), pitch)


def tokenize(
    score: Score, sections: list[MeterSection], table: InstrumentTable, tally: Tally, vectorised: bool = True
) -> Tokens:
    """The valid notes of ``score``; ``sections`` is its meter map (the first at tick 0). Notes that
    cross a section boundary are split there first. ``vectorised=False`` forces the
    step-by-step walk for every track (the reference the vectorised path is tested against)."""
    context = _Context(score, sections)
    blocks: list[np.ndarray] = []
    track_ids: list[int] = []
    instruments: list[int] = []
    for track_index, track in enumerate(score.tracks):
        count = track.note_count
        instrument = table.class_of_track(track)
        if instrument is None:
            tally.drop(reasons.DRUMS if track.is_drum else reasons.IGNORED_PROGRAM, count)
            continue
        if count:
            notes = track.note_columns
            values = np.stack([notes.start, notes.duration, notes.pitch, notes.velocity], axis=1)
            if track.is_drum:
                values = _drum_keys_only(values, tally)
                if not len(values):
                    continue
            blocks.append(values)
            track_ids.append(track_index)
            instruments.append(instrument)
    if not blocks:
        empty = np.zeros(0, np.int64)
        return Tokens(empty, empty, empty, empty, empty, empty, empty)
    flat = np.concatenate(blocks)
    lane = np.repeat(np.arange(len(blocks)), [len(b) for b in blocks])  # kept-track number of each note
    ids = np.arange(len(flat))
    flat, lane, ids = _split_at_meter_changes(flat, lane, ids, context.ticks[1:], tally)
    start, duration, pitch, velocity = flat[:, 0], flat[:, 1], fold_pitches(flat[:, 2]), flat[:, 3]

    end = start + duration
    found = _onsets(start, end, lane, context)
    walk = _needs_walk(start, end, pitch, lane, len(blocks), found) if vectorised else np.ones(len(blocks), bool)
    keep = np.ones(len(flat), bool)
    new_start = start.copy()
    new_duration = duration.copy()
    fast = ~walk[lane]
    if fast.any():
        if not walk.any():
            new_duration = _fast_tracks(start, duration, lane, ids, context, found)
        else:
            subset = _onsets(start[fast], end[fast], lane[fast], context)
            new_duration[fast] = _fast_tracks(start[fast], duration[fast], lane[fast], ids[fast], context, subset)
    for number in np.flatnonzero(walk).tolist():
        members = np.flatnonzero(lane == number)
        kept, starts, durations = _walk_track(
            start[members], duration[members], pitch[members], ids[members], context, tally
        )
        keep[members] = kept
        new_start[members[kept]] = starts
        new_duration[members[kept]] = durations
    tempo = context.tempo(start)
    start, duration, pitch, velocity = new_start[keep], new_duration[keep], pitch[keep], velocity[keep]
    lane, ids, tempo = lane[keep], ids[keep], tempo[keep]
    sort = np.lexsort((ids, pitch, start))
    start, duration, pitch, velocity, lane, tempo = (c[sort] for c in (start, duration, pitch, velocity, lane, tempo))
    instrument = np.array(instruments, np.int64)[lane]
    duplicate = np.zeros(len(start), bool)
    duplicate[1:] = (
        (start[1:] == start[:-1])
        & (pitch[1:] == pitch[:-1])
        & (duration[1:] == duration[:-1])
        & (instrument[1:] == instrument[:-1])
    )
    empty_note = ~duplicate & (duration <= 0)
    tally.drop(reasons.DUPLICATE, int(duplicate.sum()))
    tally.drop(reasons.ZERO_LENGTH, int(empty_note.sum()))
    keep = ~(duplicate | empty_note)
    track = np.array(track_ids, np.int64)[lane]
    return Tokens(start[keep], duration[keep], pitch[keep], instrument[keep], track[keep], tempo[keep], velocity[keep])


def _drum_keys_only(notes: np.ndarray, tally: Tally) -> np.ndarray:
    """The drum notes (rows of start, duration, key, velocity) whose key is a General MIDI percussion
    key; the others (GS and GM2 extensions such as 27-34 or 82-87) are dropped under their reason."""
    low, high = DRUM_KEYS
    keep = (notes[:, 2] >= low) & (notes[:, 2] <= high)
    tally.drop(reasons.DRUM_KEY, int((~keep).sum()))
    return notes[keep]


def _split_at_meter_changes(
    flat: np.ndarray, lane: np.ndarray, ids: np.ndarray, edges: np.ndarray, tally: Tally
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut notes that sound across a meter change into one note per section (the original dropped
    them). The pieces keep the note's source order and stay sorted by track and start."""
    if len(edges) == 0:
        return flat, lane, ids
    first = np.searchsorted(edges, flat[:, 0], side="right")
    last = np.searchsorted(edges, flat[:, 0] + flat[:, 1], side="left")
    crossing = np.flatnonzero(last > first)
    if len(crossing) == 0:
        return flat, lane, ids
    tally.trim(reasons.SPLIT_AT_METER, len(crossing))
    pieces, piece_lane, piece_ids = [], [], []
    for index in crossing.tolist():
        start, duration, pitch, velocity = flat[index].tolist()
        cuts = [start] + edges[first[index] : last[index]].tolist() + [start + duration]
        for begin, end in zip(cuts, cuts[1:]):
            pieces.append((begin, end - begin, pitch, velocity))
            piece_lane.append(lane[index])
            piece_ids.append(ids[index])
    keep = np.ones(len(flat), bool)
    keep[crossing] = False
    flat = np.concatenate([flat[keep], np.array(pieces, np.int64)])
    lane = np.concatenate([lane[keep], np.array(piece_lane, np.int64)])
    ids = np.concatenate([ids[keep], np.array(piece_ids, np.int64)])
    order = np.lexsort((flat[:, 3], flat[:, 2], flat[:, 1], flat[:, 0], lane))  # a Score track's order
    return flat[order], lane[order], ids[order]


# ------------------------------------------------------------------------------ vectorised path
def _lane_key(lane: np.ndarray, ticks: np.ndarray, shift: int) -> np.ndarray:
    """One sortable number per (track, tick), so that all tracks are handled in one pass."""
    return lane * shift + ticks


def _distinct_sorted(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` of keys that are already sorted (notes come sorted by track, then start)."""
    if len(keys) == 0:
        return keys
    fresh = np.empty(len(keys), bool)
    fresh[0] = True
    np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
    return keys[fresh]


@dataclass(frozen=True)
class _Onsets:
    """The distinct onsets of every track: ``keys`` (track * shift + tick, sorted), their track,
    tick, meter section and q* in ticks."""

    shift: int
    keys: np.ndarray
    lane: np.ndarray
    tick: np.ndarray
    section: np.ndarray
    qstar: np.ndarray


def _onsets(start: np.ndarray, end: np.ndarray, lane: np.ndarray, context: _Context) -> _Onsets:
    shift = int(end.max()) + 1
    keys = _distinct_sorted(_lane_key(lane, start, shift))
    onset_lane, tick = np.divmod(keys, shift)
    section = context.section_on(tick)
    return _Onsets(shift, keys, onset_lane, tick, section, context.qstar[section])


def _needs_walk(
    start: np.ndarray, end: np.ndarray, pitch: np.ndarray, lane: np.ndarray, lanes: int, onsets: _Onsets
) -> np.ndarray:
    """Per kept track: True when it restarts a pitch that still sounds or has a chord to snap, the
    two things the vectorised path does not do."""
    walk = np.zeros(lanes, bool)
    by_pitch = np.lexsort((start, pitch, lane))
    same = (lane[by_pitch][1:] == lane[by_pitch][:-1]) & (pitch[by_pitch][1:] == pitch[by_pitch][:-1])
    walk[lane[by_pitch][1:][same & (start[by_pitch][1:] < end[by_pitch][:-1])]] = True
    gaps = np.diff(onsets.tick, prepend=0)
    first = np.ones(len(gaps), bool)
    first[1:] = onsets.lane[1:] != onsets.lane[:-1]
    gaps = np.where(first, onsets.tick, gaps)
    walk[onsets.lane[(gaps > 0) & (16 * gaps < onsets.qstar)]] = True
    return walk


def _fast_tracks(
    start: np.ndarray, duration: np.ndarray, lane: np.ndarray, ids: np.ndarray, context: _Context, found: _Onsets
) -> np.ndarray:
    """New durations of the notes of tracks that need no walk (legato overlap removal and staccato
    compensation, computed for all notes at once; no start moves on these tracks)."""
    end = start + duration
    onset_keys, onset_lane, onsets = found.keys, found.lane, found.tick
    onset_section, onset_q = found.section, found.qstar
    end_keys = _lane_key(lane, end, found.shift)

    # Legato overlap: the track's latest onset before the end cuts a short note it overlaps by under half.
    end_q = context.qstar[context.section_off(end)]
    seen_by = np.searchsorted(onset_keys, end_keys, side="left")
    latest = onsets[seen_by - 1]
    cut = (duration < end_q) & (latest > start) & (2 * (end - latest) < duration)
    duration = np.where(cut, latest - start, duration)
    cut_end = start + duration

    # The onset of the same track that finds each note in its list of ended notes, if any.
    index = np.minimum(seen_by, len(onsets) - 1)
    listed = (seen_by < len(onsets)) & (onset_lane[index] == lane)
    survivors = _prune_ended(np.where(listed, seen_by, len(onsets)), end, ids, cut_end, end_q, listed)

    onset = onsets[index]
    q = onset_q[index]
    before = np.maximum(index - 1, 0)
    reset = (index == 0) | (onset_lane[before] != lane) | (onset_section[before] != onset_section[index])
    last_start = np.where(reset, 0, onsets[before])
    compensate = survivors & (duration < 2 * q) & (8 * np.abs(start - last_start) < q)
    gap = onset - cut_end
    extend = compensate & (gap < q)
    new_duration = np.where(extend, onset - start, duration)
    regrid = compensate & ~extend
    if np.any(regrid):
        origin = context.ticks[onset_section[index]]
        bar = context.grid_bar[onset_section[index]]
        position = np.where(bar > 0, (start - origin) % np.maximum(bar, 1), start - origin).astype(np.float64)
        chosen = np.zeros(len(start), np.float64)
        for divisor in reversed(_GRID_DIVISORS):  # the first fitting grid wins: fill from the last
            grid = q / divisor
            rest = np.mod(position, grid)
            fits = regrid & ((16 * rest <= q) | (16 * (grid - rest) <= q))
            chosen = np.where(fits, grid, chosen)
        new_duration = np.where(regrid & (chosen > 0), chosen.astype(np.int64), new_duration)
    return new_duration


def _prune_ended(
    seen_by: np.ndarray, end: np.ndarray, ids: np.ndarray, cut_end: np.ndarray, end_q: np.ndarray, listed: np.ndarray
) -> np.ndarray:
    """Which notes are still in the ended list when the next onset comes: a note leaves the list when
    a later note of the same gap between onsets ends q*/8 or more after it. Only the few gaps where
    that can happen (ends q*/8 apart) are replayed one note at a time."""
    survivors = listed.copy()
    order = np.lexsort((ids, end, seen_by))  # by gap, then in the order the note ends were heard
    group_of = seen_by[order]
    firsts = np.concatenate([[0], np.flatnonzero(np.diff(group_of)) + 1])
    lowest_end = np.minimum.reduceat(cut_end[order], firsts)
    highest_limit = np.maximum.reduceat((cut_end - end_q / 8)[order], firsts)
    lasts = np.append(firsts[1:], len(order))
    replay = (highest_limit >= lowest_end) & listed[order[firsts]]
    for first, last in zip(firsts[replay].tolist(), lasts[replay].tolist()):
        kept: list[int] = []
        for member in order[first:last].tolist():
            kept = [m for m in kept if cut_end[member] - cut_end[m] < end_q[member] / 8]
            kept.append(member)
        survivors[order[first:last]] = False
        survivors[kept] = True
    return survivors


# ------------------------------------------------------------------------------ step-by-step path
_END, _METER, _START = 0, 1, 2


def _walk_track(
    start: np.ndarray, duration: np.ndarray, pitch: np.ndarray, ids: np.ndarray, context: _Context, tally: Tally
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept mask, starts, durations) of one track by walking its events one at a time."""
    starts = start.tolist()
    ends = (start + duration).tolist()
    pitches = pitch.tolist()
    order = ids.tolist()
    count = len(starts)
    events = [(ends[i], _END, order[i], i) for i in range(count)]
    events += [(starts[i], _START, order[i], i) for i in range(count)]
    events += [(tick, _METER, index, index) for index, tick in enumerate(context.ticks.tolist()) if index]
    events.sort()
    qstars = context.qstar.tolist()
    origins = context.ticks.tolist()
    bars = context.grid_bar.tolist()
    qstar, origin, bar = qstars[0], origins[0], bars[0]
    new_start = [0] * count
    new_duration = [0] * count
    valid = [False] * count
    last_start = 0
    ended: list[int] = []
    sounding: dict[int, int] = {}

    def end_note(i: int, tick: int) -> None:
        nonlocal ended
        length = tick - new_start[i]
        if length < qstar and last_start > new_start[i] and tick - last_start < length / 2:
            length = last_start - new_start[i]  # legato overlap removal
        new_duration[i] = length
        stop = new_start[i] + length
        ended = [m for m in ended if stop - (new_start[m] + new_duration[m]) < qstar / 8]
        ended.append(i)

    for tick, kind, index, i in events:
        if kind == _END:
            if sounding.get(pitches[i]) == i:
                del sounding[pitches[i]]
                end_note(i, tick)
        elif kind == _METER:
            qstar, origin, bar = qstars[index], origins[index], bars[index]
            for note in sounding.values():  # none: notes are split at meter changes
                valid[note] = False
            sounding.clear()
            if last_start < tick:
                last_start = 0
        else:
            for m in ended:  # staccato compensation of the previous onset's short notes
                if new_duration[m] < 2 * qstar and abs(new_start[m] - last_start) < qstar / 8:
                    gap = tick - (new_start[m] + new_duration[m])
                    if gap < qstar:
                        new_duration[m] = tick - new_start[m]
                    else:
                        position = new_start[m] - origin
                        if bar:
                            position %= bar
                        for divisor in _GRID_DIVISORS:
                            grid = qstar / divisor
                            rest = position % grid
                            if 16 * rest <= qstar or 16 * (grid - rest) <= qstar:
                                new_duration[m] = int(grid)
                                break
            ended = []
            if 16 * (tick - last_start) < qstar:
                placed = last_start  # chord snapping
            else:
                placed = last_start = tick
            previous = sounding.get(pitches[i])
            if previous is not None:
                if tick - new_start[previous] < context.stuck_limit:
                    end_note(previous, tick)
                else:
                    valid[previous] = False
                    tally.drop(reasons.RETRIGGERED)
            new_start[i] = placed
            valid[i] = True
            sounding[pitches[i]] = i
    for note in sounding.values():  # never ended: cannot happen with paired notes
        valid[note] = False
    keep = np.array(valid, bool)
    return keep, np.array(new_start, np.int64)[keep], np.array(new_duration, np.int64)[keep]
