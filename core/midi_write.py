"""Encoding a Score as the bytes of a type 1 Standard MIDI File (used by ``core.midi_io.write_midi``).

Layout: track 1 is the conductor (the title as its name, then every time signature, key signature
and tempo); then one MIDI track per Score track, named after it, on the track's own channel (10 for
drums), starting with its program change, then its control changes and notes. Note-offs are written
as note-ons of velocity 0 so that running status keeps files small. Names are UTF-8 (MIDI leaves the
encoding open; readers that assume Latin-1, such as mido, show accented letters garbled).

At one tick a track writes its note-offs first, then control changes, then note-ons, so a note that
ends where the next one of the same pitch starts stays two notes, and a sustain pedal pressed with a
chord holds it. Notes that start together are written in the Score's order (shorter first), which is
the order in which the reader's first-in-first-out pairing gives their note-offs back.

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
from core.score import Score, Track

MAX_DELTA = 0x0FFFFFFF  # the largest delta time a 4-byte variable-length quantity holds
_OFF, _CONTROL, _ON = 0, 1, 2  # order of events at one tick


def encode_midi(score: Score, path: str | os.PathLike = "<memory>") -> bytes:
    """The bytes of ``score`` as a type 1 MIDI file; ``path`` names the file in errors."""
    tracks = [_conductor(score, path)] + [_instrument(track, path) for track in score.tracks]
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


def _instrument(track: Track, path: str | os.PathLike) -> bytes:
    channel = track.channel
    head = (
        b"\x00"
        + _meta(0x03, track.name.encode("utf-8"))
        + b"\x00"
        + bytes([0xC0 | channel, track.program])
    )
    notes = np.array(track.notes, dtype=np.int64).reshape(-1, 4)
    controls = np.array(track.controls, dtype=np.int64).reshape(-1, 3)
    count = len(notes)
    ticks = np.concatenate([notes[:, 0] + notes[:, 1], controls[:, 0], notes[:, 0]])
    kind = np.concatenate([np.full(count, _OFF), np.full(len(controls), _CONTROL), np.full(count, _ON)])
    rank = np.concatenate([np.arange(count), np.arange(len(controls)), np.arange(count)])
    status = np.concatenate(
        [np.full(count, 0x90 | channel), np.full(len(controls), 0xB0 | channel), np.full(count, 0x90 | channel)]
    )
    data1 = np.concatenate([notes[:, 2], controls[:, 1], notes[:, 2]])
    data2 = np.concatenate([np.zeros(count, dtype=np.int64), controls[:, 2], notes[:, 3]])
    order = np.lexsort((rank, kind, ticks))
    ticks, status, data1, data2 = ticks[order], status[order], data1[order], data2[order]

    delta = np.diff(ticks, prepend=0)
    if len(delta) and delta.max() > MAX_DELTA:
        raise MidiFileError(path, f"track {track.name!r} has a gap between events too long for a MIDI file")
    new_status = np.ones(len(status), dtype=bool)  # running status after the program change
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
    return head + rows[keep].tobytes() + b"\x00\xff\x2f\x00"  # End of Track
