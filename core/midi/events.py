"""Decoding the MIDI track chunks of a file into event arrays, fast and safely, and pairing notes.

This is the inner loop of :func:`core.midi.files.read_midi`. A track chunk is a chain of events, each
``delta-time (VLQ) + status + data``; where one event ends depends on the events before it (running
status, meta and SysEx lengths), so a MIDI file cannot be split into events without walking it. A
plain Python walk costs ~1-2 µs per event (seconds for a big orchestral file); here the walk is one
array lookup per event:

1. For *every* byte position ``p`` of the chunk, and each of the three running-status states (none,
   one data byte, two data bytes), numpy computes where an event starting at ``p`` would end and
   which state follows, or ``-1`` where such an event would be malformed (a 5-byte VLQ, a data byte
   above 127, running status with no status before it, a system status that a file may not hold, a
   meta or SysEx length past the chunk end, an event past the chunk end).
2. A tight Python loop follows that table from byte 0: ``node = next[node]``. It can only move
   forward, so it ends after at most one step per byte.
3. The events found are decoded with numpy (delta times, running status, data bytes); note-ons and
   note-offs are paired with numpy too (see :func:`pair_notes`).

Consecutive chunks of up to 64 KB in all go through steps 1 and 3 together, laid side by side with
``_PAD`` zero bytes after each: most files are a few small tracks, and numpy's cost per call, not
per byte, is what they spend their time on (about 0.5 ms per track when each was decoded on its
own); a larger chunk goes alone, so that its table stays near the CPU cache. Every check stops at
the end of an event's own chunk, so the tracks cannot see each other.

Measured: the 305,000 events of the large test piece of ``benchmarks/open_midi.py`` (1 MB, 16 tracks)
are decoded and walked in ~70 ms; grouping the chunks, with the notes paired per block of tracks
(:mod:`core.midi.assembling`), took reading the 619-file corpus from 3.3-3.8 to 1.6-1.9 CPU seconds
(``benchmarks/preprocess.py --breakdown``; ``benchmarks/README.md`` has both figures).

A malformed event ends the track there: what came before it is kept and the caller turns
:attr:`TrackEvents.problem` into a warning. Memory stays in proportion to the largest chunk: about
20 bytes per byte at the peak (the walk table is 12; its other inputs are computed a window at a
time).
"""

from __future__ import annotations

import array
import functools
from dataclasses import dataclass

import numpy as np

# Negative entries of the walk table.
_BAD = -1  # malformed event: stop and report
_END = -2  # "End of Track" meta event: a clean stop
_NO_MORE = -3  # the chunk ends right after the previous event
_PAST = -4  # the previous event ran past the end of the chunk
_EMPTY = -5  # a chunk of no bytes
_WINDOW = 1 << 18  # rows of the walk table computed at a time
_PAD = 16  # zero bytes after every chunk: an event's look-ahead (at most 7 bytes) stays in them
_GROUP_BYTES = 1 << 16  # chunks decoded together, at most (a longer chunk is decoded alone)
EMPTY_TRACK = "the track is empty (no End of Track event)"  # the problem of a chunk of no bytes


@dataclass(frozen=True)
class TrackEvents:
    """The events of one track chunk.

    Channel events are parallel arrays (``status`` with running status resolved); meta events that
    matter to a Score are a short list; ``end_tick`` is the tick of the last event read.
    """

    ticks: np.ndarray  # int64, one per channel event
    order: np.ndarray  # int64, index of the event in the chunk (ties at one tick keep file order)
    status: np.ndarray  # uint8
    data1: np.ndarray  # uint8
    data2: np.ndarray  # uint8 (0 for one-byte messages)
    metas: list[tuple[int, int, bytes]]  # (tick, meta type, payload) for the types asked for
    end_tick: int
    problem: str | None  # why reading stopped early, or None


# What a byte in the status position means: the number of data bytes of a channel message (1, 2),
# or a code for the rest.
_RUNNING, _META, _SYSEX, _ILLEGAL = 0, 3, 4, 5
_KIND = np.full(256, _ILLEGAL, dtype=np.int8)
_KIND[:0x80] = _RUNNING
_KIND[0x80:0xC0] = 2
_KIND[0xC0:0xE0] = 1
_KIND[0xE0:0xF0] = 2
_KIND[[0xF0, 0xF7]] = _SYSEX
_KIND[0xFF] = _META


def _vlq_lengths(hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position below ``n``: the length (1-4) of a variable-length quantity starting there,
    and whether it would run longer than 4 bytes (not allowed in a MIDI file)."""
    c1 = hi[:n]
    c2 = c1 & hi[1 : n + 1]
    c3 = c2 & hi[2 : n + 2]
    too_long = c3 & hi[3 : n + 3]
    return 1 + c1.view(np.int8) + c2.view(np.int8) + c3.view(np.int8), too_long


def _vlq_values(b: np.ndarray, lengths: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Values of the variable-length quantities starting at positions ``at`` (int64)."""
    length = lengths[at]
    value = (b[at] & 0x7F).astype(np.int64)
    for k in (1, 2, 3):
        more = length > k
        value = np.where(more, (value << 7) | (b[at + k] & 0x7F), value)
    return value


def _after_delta(arr: np.ndarray, longer: list[tuple[int, np.ndarray]], extra: int, lo: int, hi: int) -> np.ndarray:
    """``arr[p + vlq_len[p] + extra]`` for ``lo <= p < hi``, without a gather: ``longer`` holds,
    for VLQ lengths 2-4, the mask of the positions whose delta time has that length."""
    out = arr[lo + 1 + extra : hi + 1 + extra].copy()
    for length, mask in longer:
        np.copyto(out, arr[lo + length + extra : hi + length + extra], where=mask)
    return out


def _next_table(
    b: np.ndarray, w: int, chunk_end: np.ndarray, hi: np.ndarray, vlq_len: np.ndarray, vlq_bad: np.ndarray
) -> np.ndarray:
    """The walk table: ``table[state * w + p]`` is the node after an event that starts at byte ``p``
    in running-status ``state`` (0: none, 1 or 2: data bytes of the running status); or a negative
    code: ``_BAD``, ``_END``, ``_NO_MORE`` (``p`` is the end of its chunk), ``_PAST`` (``p`` is in
    the padding after it: the event before ran past the chunk). ``chunk_end[p]`` is the end of the
    chunk that position ``p`` belongs to. Rows are computed a window at a time, so that the
    temporary arrays stay small next to the table (12 bytes per byte of the file).
    """
    table = np.empty(3 * w, dtype=np.int32)
    for lo in range(0, w, _WINDOW):
        _fill_rows(table, b, w, chunk_end, hi, vlq_len, vlq_bad, lo, min(lo + _WINDOW, w))
    position = np.arange(w, dtype=np.int64)
    past = np.flatnonzero(position > chunk_end)
    at_end = np.flatnonzero(position == chunk_end)
    for state in (0, 1, 2):
        rows = table[state * w : state * w + w]
        rows[past] = _PAST
        rows[at_end] = _NO_MORE
    return table


def _fill_rows(
    table: np.ndarray,
    b: np.ndarray,
    w: int,
    chunk_end: np.ndarray,
    hi: np.ndarray,
    vlq_len: np.ndarray,
    vlq_bad: np.ndarray,
    lo: int,
    up: int,
) -> None:
    """Rows ``lo`` to ``up`` of the walk table. Each column is ``a[p] + k[p] * state``: an event
    with its own status byte ends at the same place in any state (k = 0; the state its status
    sets is folded into ``a``), a meta or SysEx event keeps the state (k = w), and a running-status
    event has ``state`` data bytes (``state * w + q + state``, so k = w + 1)."""
    lengths = vlq_len[lo:up]
    q = np.arange(lo, up, dtype=np.int32) + lengths  # where the status (or first data) byte sits
    longer = [(length, mask) for length in (2, 3, 4) if (mask := lengths == length).any()]
    kind = _KIND[_after_delta(b, longer, 0, lo, up)]
    size = kind.astype(np.int32)  # data bytes of a channel message (1 or 2)
    data1_bad = _after_delta(hi, longer, 1, lo, up)
    data2_bad = _after_delta(hi, longer, 2, lo, up)

    channel_ok = ((kind == 1) & ~data1_bad) | ((kind == 2) & ~data1_bad & ~data2_bad)
    running = kind == _RUNNING
    a = np.where(channel_ok, size * w + q + 1 + size, np.int32(_BAD))
    a = np.where(running, q, a)
    k = np.where(running, np.int32(w + 1), np.int32(0))

    # Meta: FF type VLQ-length payload; SysEx: F0/F7 VLQ-length payload. Both keep running status
    # (the standard says they cancel it; real files rely on it either way, and keeping it is safe).
    special = np.nonzero((kind == _META) | (kind == _SYSEX))[0]
    if len(special):
        end = chunk_end[lo:up][special]
        length_at = q[special] + np.where(kind[special] == _META, 2, 1)
        inside = length_at < end
        special, length_at, end = special[inside], length_at[inside], end[inside]
        good = ~vlq_bad[length_at]
        special, length_at, end = special[good], length_at[good], end[good]
        stop = length_at + vlq_len[length_at] + _vlq_values(b, vlq_len, length_at)
        fits = stop <= end  # a payload past the chunk end is malformed, not merely long
        special, stop = special[fits], stop[fits]
        is_end = (b[q[special]] == 0xFF) & (b[q[special] + 1] == 0x2F)
        a[special] = np.where(is_end, _END, stop)
        k[special] = np.where(is_end, 0, w)
    bad = vlq_bad[lo:up]
    a[bad] = _BAD
    k[bad] = 0

    for state in (0, 1, 2):
        rows = table[state * w + lo : state * w + up]
        np.add(a, k * state, out=rows, casting="unsafe")
        if state == 0:
            rows[running] = _BAD  # a data byte with no status to run on
        elif state == 2:
            rows[running & data1_bad] = _BAD  # two data bytes expected, the second is not data


def parse_tracks(chunks: list[bytes], meta_types: frozenset[int]) -> list[TrackEvents]:
    """Decode the MTrk chunk bodies of one file. ``meta_types`` are the meta event types whose
    payloads to keep.

    Consecutive chunks of up to ``_GROUP_BYTES`` together are decoded in one numpy pass (why: the
    module docstring).
    """
    result: list[TrackEvents] = []
    for first, last in consecutive_groups([len(chunk) for chunk in chunks], _GROUP_BYTES):
        result += _parse_group(chunks[first:last], meta_types)
    return result


def consecutive_groups(sizes: list[int], budget: int) -> list[tuple[int, int]]:
    """Ranges ``(first, last)`` (last excluded) of consecutive items whose ``sizes`` add up to at most
    ``budget``; an item larger than the budget makes a range of its own."""
    groups: list[tuple[int, int]] = []
    first = total = 0
    for index, size in enumerate(sizes):
        if index > first and total + size > budget:
            groups.append((first, index))
            first, total = index, 0
        total += size
    groups.append((first, len(sizes)))
    return groups


def _parse_group(chunks: list[bytes], meta_types: frozenset[int]) -> list[TrackEvents]:
    """:func:`parse_tracks` for chunks laid side by side, each followed by ``_PAD`` zero bytes; the
    walk and every check stop at each chunk's own end."""
    lengths = [len(chunk) for chunk in chunks]
    bases = np.cumsum([0] + [length + _PAD for length in lengths[:-1]]).tolist()
    data = bytes(_PAD).join(chunks) + bytes(2 * _PAD)  # the last chunk's padding, then look-ahead room
    w = len(data) - _PAD  # positions the walk can reach: every chunk and its padding
    b = np.frombuffer(data, dtype=np.uint8)
    hi = b >= 0x80
    vlq_len, vlq_bad = _vlq_lengths(hi, w + 8)
    chunk_end = np.repeat(np.add(bases, lengths), [length + _PAD for length in lengths]).astype(np.int64)
    table = _next_table(b, w, chunk_end, hi, vlq_len, vlq_bad)

    step = memoryview(table).cast("B").cast("i")
    visited = array.array("i")  # 4 bytes per event, not a Python int
    append = visited.append
    walks: list[tuple[int, int, int]] = []  # per chunk: first and last visited index, final node
    for base, length in zip(bases, lengths):
        first = len(visited)
        node = base if length else _EMPTY
        while node >= 0:  # each event is at least two bytes long: at most length / 2 steps
            append(node)
            node = step[node]
        walks.append((first, len(visited), node))
    del step, table
    nodes = np.frombuffer(visited, dtype=np.int32) % np.int32(w)

    keep = np.ones(len(nodes), dtype=bool)
    counts, problems = [], []
    for (first, last, node), base, length in zip(walks, bases, lengths):
        problem, drop = None, 0
        if node == _EMPTY:
            problem = EMPTY_TRACK
        elif node == _BAD:
            at = int(nodes[last - 1]) - base
            why = why_malformed(chunks[len(counts)], at, visited[last - 1] // w)
            problem, drop = f"malformed event at byte {at} of {length} ({why})", 1
        elif node == _NO_MORE:
            drop = 1  # the track simply ends (its End of Track event is missing)
        elif node == _PAST:
            at = nodes[last - 2] - base
            problem, drop = f"the event at byte {at} runs past the end of the track ({length} bytes)", 2
        keep[last - drop : last] = False
        counts.append(last - first - drop)
        problems.append(problem)
    return _decode(b, data, vlq_len, nodes[keep].astype(np.int64), counts, meta_types, problems)


def why_malformed(chunk: bytes, at: int, running: int) -> str:
    """What is wrong with the event at byte ``at`` of ``chunk``, which the walk found malformed
    with ``running`` (0, 1 or 2) data bytes of running status in force: said once per track, so a
    plain Python look at a few bytes."""
    position = at
    while position < len(chunk) and chunk[position] & 0x80:
        position += 1
        if position - at == 4:
            return "a delta time longer than 4 bytes"
    position += 1  # the status byte, or the first data byte of running status
    status = chunk[position] if position < len(chunk) else 0
    if status < 0x80:
        if running == 0:
            return "running status with no status byte before it"
        data = chunk[position : position + running]
    elif status in (0xF0, 0xF7, 0xFF):
        what = "meta event" if status == 0xFF else "SysEx message"
        return f"a {what} whose length is not valid or runs past the end of the track"
    elif status >= 0xF0:
        return f"status byte 0x{status:02X}, which a MIDI file may not hold"
    else:
        data = chunk[position + 1 : position + 1 + int(_KIND[status])]
    if any(byte >= 0x80 for byte in data):
        return "a data byte above 127"
    return "an event that cannot be decoded"


def _empty_events(problem: str | None) -> TrackEvents:
    empty_i = np.zeros(0, dtype=np.int64)
    empty_u = np.zeros(0, dtype=np.uint8)
    return TrackEvents(empty_i, empty_i, empty_u, empty_u, empty_u, [], 0, problem)


@functools.lru_cache(maxsize=8)
def _meta_table(meta_types: frozenset[int]) -> np.ndarray:
    """(256,) bool: the meta event types in ``meta_types``."""
    table = np.zeros(256, dtype=bool)
    table[sorted(meta_types)] = True
    return table


def _decode(
    b: np.ndarray,
    data: bytes,
    vlq_len: np.ndarray,
    starts: np.ndarray,
    counts: list[int],
    meta_types: frozenset[int],
    problems: list[str | None],
) -> list[TrackEvents]:
    """Decode the events that start at byte positions ``starts`` (found by the walk): the first
    ``counts[0]`` belong to the first chunk, the next ``counts[1]`` to the second, and so on."""
    if len(starts) == 0:
        return [_empty_events(problem) for problem in problems]
    p = starts
    bounds = np.cumsum([0] + counts)
    track = np.repeat(np.arange(len(counts)), counts)
    ticks = np.cumsum(_vlq_values(b, vlq_len, p))
    before = np.concatenate([[0], ticks])[bounds[:-1]]  # ticks of the earlier chunks
    ticks -= before[track]
    q = p + vlq_len[p]
    s = b[q]
    explicit = (s >= 0x80) & (s < 0xF0)
    channel = explicit | (s < 0x80)
    index = np.arange(len(p), dtype=np.int32)
    # A chunk's first channel event has its own status (the walk refuses running status before
    # one), so the running status never reaches back into the chunk before.
    last_explicit = np.maximum.accumulate(np.where(explicit, index, 0))
    status = s[last_explicit]
    data_at = q + explicit
    sel = np.nonzero(channel)[0]
    c_status = status[sel]
    data1 = b[data_at[sel]]
    data2 = np.where((c_status >= 0xC0) & (c_status < 0xE0), 0, b[data_at[sel] + 1]).astype(np.uint8)
    c_ticks = ticks[sel]
    c_order = sel - bounds[track[sel]]  # index of the event in its own chunk

    metas: list[list[tuple[int, int, bytes]]] = [[] for _ in counts]
    meta_at = np.nonzero(s == 0xFF)[0]
    if len(meta_at):
        kinds = b[q[meta_at] + 1]
        keep = _meta_table(meta_types)[kinds]  # a table lookup: np.isin costs ~100 µs a call
        wanted, kinds = meta_at[keep], kinds[keep]
        length_at = q[wanted] + 2  # inside the chunk: the walk checked these events' lengths
        begin = length_at + vlq_len[length_at]
        end = begin + _vlq_values(b, vlq_len, length_at)
        columns = (track[wanted], ticks[wanted], kinds, begin, end)
        for owner, tick, kind, first, last in zip(*(column.tolist() for column in columns)):
            metas[owner].append((tick, kind, data[first:last]))

    cut = np.searchsorted(sel, bounds).tolist()
    result = []
    for number, problem in enumerate(problems):
        if counts[number] == 0:
            result.append(_empty_events(problem))
            continue
        mine = slice(cut[number], cut[number + 1])
        end_tick = int(ticks[bounds[number + 1] - 1])
        columns = (c_ticks[mine], c_order[mine], c_status[mine], data1[mine], data2[mine])
        result.append(TrackEvents(*columns, metas[number], end_tick, problem))
    return result


@dataclass(frozen=True)
class FileEvents:
    """The channel events of consecutive tracks of a file, one after the other, with their track;
    for the steps that are cheaper done for many tracks at once than once per track (note pairing,
    programs)."""

    track: np.ndarray  # int64, index of the event's track in the file
    ticks: np.ndarray
    order: np.ndarray
    status: np.ndarray
    data1: np.ndarray
    data2: np.ndarray
    end_tick: np.ndarray  # int64, per track from ``first_track`` on: the tick of its last event
    first_track: int = 0

    @classmethod
    def of(cls, tracks: list[TrackEvents]) -> "FileEvents":
        """The events of all ``tracks`` of a file."""
        sizes = [len(events.ticks) for events in tracks]
        return cls(
            track=np.repeat(np.arange(len(tracks), dtype=np.int64), sizes),
            ticks=np.concatenate([events.ticks for events in tracks]),
            order=np.concatenate([events.order for events in tracks]),
            status=np.concatenate([events.status for events in tracks]),
            data1=np.concatenate([events.data1 for events in tracks]),
            data2=np.concatenate([events.data2 for events in tracks]),
            end_tick=np.array([events.end_tick for events in tracks], dtype=np.int64),
        )

    def between(self, first: int, last: int) -> "FileEvents":
        """The events of tracks ``first`` to ``last - 1`` (views of these arrays, nothing copied)."""
        lo, hi = np.searchsorted(self.track, [first, last]).tolist()
        return FileEvents(
            track=self.track[lo:hi],
            ticks=self.ticks[lo:hi],
            order=self.order[lo:hi],
            status=self.status[lo:hi],
            data1=self.data1[lo:hi],
            data2=self.data2[lo:hi],
            end_tick=self.end_tick[first - self.first_track : last - self.first_track],
            first_track=first,
        )


@dataclass(frozen=True)
class PairedNotes:
    """Notes of a file as parallel arrays (grouped by track, channel and pitch; sort before use)."""

    track: np.ndarray
    start: np.ndarray
    duration: np.ndarray  # >= 0; 0 where note-on and note-off share a tick
    pitch: np.ndarray
    velocity: np.ndarray
    channel: np.ndarray
    order: np.ndarray  # event index of the note-on in its track
    unreleased: int  # notes never released, closed at their track's end


def pair_notes(events: FileEvents) -> PairedNotes:
    """Pair note-ons with note-offs (note-on with velocity 0 is a note-off), first in first out
    per track, channel and pitch: a note-off ends the *oldest* sounding note of its pitch, so
    overlapping notes of one pitch always pair the same way. A note-off with nothing sounding is
    ignored; a note still sounding at the end of its track is closed there."""
    kind = events.status >> 4
    on = (kind == 9) & (events.data2 > 0)
    off = (kind == 8) | ((kind == 9) & (events.data2 == 0))
    note_at = np.nonzero(on | off)[0]
    pitch_key = (events.status[note_at] & 0x0F).astype(np.int16) * 128 + events.data1[note_at]
    track = events.track[note_at].astype(np.int16)  # fewer than 2**15 tracks (the reader's limit)
    # Two stable radix sorts of 16-bit keys (much faster than one of a 64-bit key): grouped by
    # track, then channel and pitch, in file order inside.
    sort = np.argsort(pitch_key, kind="stable")
    sort = sort[np.argsort(track[sort], kind="stable")]
    by_key = note_at[sort]
    key = track[sort].astype(np.int64) * 2048 + pitch_key[sort]
    is_on = on[by_key]
    count = len(by_key)
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PairedNotes(empty, empty, empty, empty, empty, empty, empty, 0)

    first = np.ones(count, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    segment = np.cumsum(first) - 1
    step = np.where(is_on, 1, -1)
    total = np.cumsum(step)
    base = (total - step)[first][segment]
    level = total - base  # sounding notes of this key after the event, had nothing been ignored
    big = 2 * count + 2  # makes each key's running minimum start afresh
    low = np.minimum.accumulate(level - segment * big) + segment * big
    low = np.minimum(low, 0)
    low_before = np.zeros(count, dtype=np.int64)
    low_before[1:] = low[:-1]
    low_before[first] = 0
    valid_off = ~is_on & ~(low < low_before)  # an off that finds nothing sounding sets a new low

    on_rank = np.cumsum(is_on) - 1
    first_on_rank = (on_rank - is_on + 1)[first][segment]  # ons before this key's first event
    local_on = on_rank - first_on_rank
    offs_in_key = np.bincount(segment[valid_off], minlength=segment[-1] + 1)
    on_index = by_key[is_on]
    on_local = local_on[is_on]
    on_segment = segment[is_on]
    released = on_local < offs_in_key[on_segment]
    off_index = by_key[valid_off]  # grouped by key like the ons: the k-th off of a key ends its k-th on

    track = events.track[on_index]
    start = events.ticks[on_index]
    end = events.end_tick[track - events.first_track]
    end[released] = events.ticks[off_index]
    return PairedNotes(
        track=track,
        start=start,
        duration=end - start,
        pitch=events.data1[on_index].astype(np.int64),
        velocity=events.data2[on_index].astype(np.int64),
        channel=(events.status[on_index] & 0x0F).astype(np.int64),
        order=events.order[on_index],
        unreleased=int(len(on_index) - released.sum()),
    )
