"""Encoding a Score as the bytes of a type 1 Standard MIDI File (used by ``core.midi.files.write_midi``).

Layout: track 1 is the conductor (the title as its name, then every time signature, key signature
and tempo); then one MIDI track per Score track, named after it, on the track's own channel (10 for
drums), with its program changes, control changes, pitch bends, channel pressure and notes. Note-offs
are written as note-ons of velocity 0 so that running status keeps files small. Names are UTF-8 (MIDI
leaves the encoding open; readers that assume Latin-1, such as mido, show accented letters garbled).

Program changes: a player hears a channel, not a track, and a program change holds for the whole
channel until the next one. A Score track whose channel plays only its program sets it once, at
tick 0. Where Score tracks of several programs share a channel (a MIDI track that changed program
between notes, read back as one Score track per program), the channel's notes are followed in the
order a player meets them (by tick, then track), and each note whose program differs from the one
then in force gets a program change right before it, in its own track; where notes of several
programs start at one tick, each of those tracks sets its program right before its own notes. So
every note-on finds its own program in force, in any General MIDI player, and the file reads back
as the same Score. Channels are kept, not re-allocated: the Score's tracks on one channel share its
controllers (pedal, volume, bends) as they did in the file, and 15 melodic channels would not hold
an orchestra's programs anyway. What one channel cannot do is sound two programs at once: a note
still ringing when the program changes keeps the sound it started with in common synthesizers (GM
leaves it open), and at one tick the players that merge tracks in file order (as mido and most
sequencers do) give each track its own program. An empty Score track on a channel that other
tracks play writes no program change (it would only change theirs).

At one tick a track writes its note-offs first, then program change, control changes, pitch bend
and channel pressure, then note-ons, so a note that ends where the next one of the same pitch starts
stays two notes, a sustain pedal pressed with a chord holds it, and a note starts with the bend set
at its tick. Notes that start together are written in the Score's order (shorter first), which is the
order in which the reader's first-in-first-out pairing gives their note-offs back.

One thing MIDI cannot say: when a note lies wholly inside a longer note of the same pitch on the same
track (say 0-960 and 240-480), a note-off does not name the note it ends, so any reader (ours pairs
first in, first out) gets 0-480 and 240-960 back: the same sounding pitch, the ends swapped. Every
other valid Score reads back equal to itself.

Channel events are encoded with numpy (a 100,000-note Score takes milliseconds): each event becomes
a row ``[delta VLQ (4 bytes), status, data1, data2]`` and a mask keeps the bytes that exist.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from core.errors import MidiFileError
from core.music.score import Score, Track

MAX_DELTA = 0x0FFFFFFF  # the largest delta time a 4-byte variable-length quantity holds
_OFF, _PROGRAM, _CONTROL, _BEND, _PRESSURE, _ON = range(6)  # order of events at one tick


def encode_midi(score: Score, path: str | os.PathLike = "<memory>") -> bytes:
    """The bytes of ``score`` as a type 1 MIDI file; ``path`` names the file in errors."""
    programs = program_changes(score.tracks)
    tracks = [_conductor(score, path)] + [_instrument(t, ticks, path) for t, ticks in zip(score.tracks, programs)]
    if len(tracks) > 0xFFFF:
        raise MidiFileError(path, f"{len(tracks) - 1} tracks cannot be written (a MIDI file holds at most 65534)")
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), score.ticks_per_quarter)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(body)) + body for body in tracks)


def _vlq(value: int) -> bytes:
    out = bytearray([value & 0x7F])
    value >>= 7
    while value:
        out.insert(0, (value & 0x7F) | 0x80)
        value >>= 7
    return bytes(out)


def _meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + _vlq(len(payload)) + payload


def _conductor(score: Score, path: str | os.PathLike) -> bytes:
    events: list[tuple[int, int, bytes]] = []  # (tick, order at the tick, event bytes)
    for meter in score.time_signatures:
        exponent = meter.denominator.bit_length() - 1
        clocks = max(1, 96 // meter.denominator)  # MIDI clocks per metronome click: one beat
        events.append((meter.tick, 0, _meta(0x58, bytes([meter.numerator, exponent, clocks, 8]))))
    for key in score.key_signatures:
        events.append((key.tick, 1, _meta(0x59, bytes([key.sharps & 0xFF, int(key.minor)]))))
    for tempo in score.tempos:
        events.append((tempo.tick, 2, _meta(0x51, tempo.us_per_quarter.to_bytes(3, "big"))))
    events.sort(key=lambda e: (e[0], e[1]))
    body = bytearray()
    if score.title:
        body += b"\x00" + _meta(0x03, score.title.encode("utf-8"))
    tick = 0
    for at, _, event in events:
        body += _delta(at - tick, path) + event
        tick = at
    body += _delta(max(score.end_tick - tick, 0), path) + b"\xff\x2f\x00"
    return bytes(body)


def _delta(delta: int, path: str | os.PathLike) -> bytes:
    if delta > MAX_DELTA:
        raise MidiFileError(path, f"a gap of {delta} ticks between events is longer than a MIDI file can hold")
    return _vlq(delta)


def program_changes(tracks: tuple[Track, ...]) -> list[np.ndarray]:
    """For each Score track, the ticks at which its MIDI track sets its program (see the module
    docstring): tick 0 where its channel plays one program; where tracks of several programs share
    a channel, the note-on ticks at which the channel's program, followed in time order, must change
    (in the track that plays that note); none for an empty track on a channel that others play."""
    at_start = np.zeros(1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    by_channel: dict[int, list[int]] = {}
    for index, track in enumerate(tracks):
        if track.note_count:
            by_channel.setdefault(track.channel, []).append(index)
    result = [at_start if track.channel not in by_channel else none for track in tracks]
    for indices in by_channel.values():
        if len({tracks[i].program for i in indices}) == 1:
            for index in indices:
                result[index] = at_start
            continue
        starts = [tracks[i].note_columns.start for i in indices]
        ticks = np.concatenate(starts)
        owner = np.repeat(np.array(indices), [len(s) for s in starts])
        order = np.lexsort((owner, ticks))  # the order a player merging the tracks meets the notes
        ticks, owner = ticks[order], owner[order]
        program = np.array([track.program for track in tracks])[owner]
        change = np.r_[True, program[1:] != program[:-1]]
        # Where notes of several programs start at one tick, each of those tracks sets its own
        # program right before its notes: correct whichever track a reader lets go first.
        first = np.flatnonzero(np.r_[True, ticks[1:] != ticks[:-1]])
        mixed = np.minimum.reduceat(program, first) != np.maximum.reduceat(program, first)
        change |= np.repeat(mixed, np.diff(np.r_[first, len(ticks)]))
        for index in indices:
            result[index] = np.unique(ticks[change & (owner == index)])
    return result


def _instrument(track: Track, program_ticks: np.ndarray, path: str | os.PathLike) -> bytes:
    channel = track.channel
    head = b"\x00" + _meta(0x03, track.name.encode("utf-8"))
    columns = track.note_columns
    controls = np.array(track.controls, dtype=np.int64).reshape(-1, 3)
    bends = np.array(track.pitch_bends, dtype=np.int64).reshape(-1, 2) + [0, 8192]  # 0-16383 on the wire
    pressures = np.array(track.pressures, dtype=np.int64).reshape(-1, 2)
    count, programs = len(columns), len(program_ticks)
    parts = [  # (ticks, kind, status, data1, data2) of each kind of event, in the order written at a tick
        (columns.end, _OFF, 0x90, columns.pitch, np.zeros(count, dtype=np.int64)),
        (program_ticks, _PROGRAM, 0xC0, np.full(programs, track.program), np.zeros(programs, dtype=np.int64)),
        (controls[:, 0], _CONTROL, 0xB0, controls[:, 1], controls[:, 2]),
        (bends[:, 0], _BEND, 0xE0, bends[:, 1] & 0x7F, bends[:, 1] >> 7),
        (pressures[:, 0], _PRESSURE, 0xD0, pressures[:, 1], np.zeros(len(pressures), dtype=np.int64)),
        (columns.start, _ON, 0x90, columns.pitch, columns.velocity),
    ]
    ticks = np.concatenate([part[0] for part in parts])
    kind = np.concatenate([np.full(len(part[0]), part[1]) for part in parts])
    rank = np.concatenate([np.arange(len(part[0])) for part in parts])
    status = np.concatenate([np.full(len(part[0]), part[2] | channel) for part in parts])
    data1 = np.concatenate([part[3] for part in parts])
    data2 = np.concatenate([part[4] for part in parts])
    order = np.lexsort((rank, kind, ticks))
    ticks, status, data1, data2 = ticks[order], status[order], data1[order], data2[order]

    delta = np.diff(ticks, prepend=0)
    if len(delta) and delta.max() > MAX_DELTA:
        raise MidiFileError(path, f"track {track.name!r} has a gap between events too long for a MIDI file")
    new_status = np.ones(len(status), dtype=bool)  # running status from the second event on
    new_status[1:] = status[1:] != status[:-1]
    rows = np.empty((len(delta), 7), dtype=np.uint8)
    keep = np.ones((len(delta), 7), dtype=bool)
    for column, shift in enumerate((21, 14, 7)):
        rows[:, column] = ((delta >> shift) & 0x7F) | 0x80
        keep[:, column] = delta >= (1 << shift)
    rows[:, 3] = delta & 0x7F
    rows[:, 4] = status
    keep[:, 4] = new_status
    rows[:, 5] = data1
    rows[:, 6] = data2
    keep[:, 6] = (status < 0xC0) | (status >= 0xE0)  # program change and channel pressure: one data byte
    return head + rows[keep].tobytes() + b"\x00\xff\x2f\x00"  # End of Track
