"""Building MIDI files byte by byte, so that tests can make any file, broken ones included, without
shipping binary fixtures."""

from __future__ import annotations

import struct


def vlq(value: int) -> bytes:
    """A variable-length quantity (no limit on length, so tests can make illegal ones too)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.insert(0, (value & 0x7F) | 0x80)
        value >>= 7
    return bytes(out)


def event(delta: int, *data: int) -> bytes:
    return vlq(delta) + bytes(data)


def meta(delta: int, kind: int, payload: bytes) -> bytes:
    return vlq(delta) + bytes([0xFF, kind]) + vlq(len(payload)) + payload


def end_of_track(delta: int = 0) -> bytes:
    return meta(delta, 0x2F, b"")


def tempo(delta: int, us_per_quarter: int) -> bytes:
    return meta(delta, 0x51, us_per_quarter.to_bytes(3, "big"))


def meter(delta: int, numerator: int, exponent: int) -> bytes:
    return meta(delta, 0x58, bytes([numerator, exponent, 24, 8]))


def name(text: str | bytes, delta: int = 0) -> bytes:
    return meta(delta, 0x03, text.encode("utf-8") if isinstance(text, str) else text)


def chunk(body: bytes, kind: bytes = b"MTrk", length: int | None = None) -> bytes:
    return kind + struct.pack(">I", len(body) if length is None else length) + body


def header(fmt: int = 1, tracks: int = 1, division: int = 480, length: int = 6) -> bytes:
    return b"MThd" + struct.pack(">IHHH", length, fmt, tracks, division)


def smf(*bodies: bytes, fmt: int = 1, division: int = 480, tracks: int | None = None) -> bytes:
    """A whole file from track bodies (each gets its MTrk chunk header)."""
    count = len(bodies) if tracks is None else tracks
    return header(fmt, count, division) + b"".join(chunk(body) for body in bodies)


def notes_body(notes: list[tuple[int, int, int, int]], channel: int = 0, program: int | None = None) -> bytes:
    """A track body playing (start, duration, pitch, velocity) notes with note-on/note-off pairs."""
    events = []
    for start, duration, pitch, velocity in notes:
        events.append((start, 1, bytes([0x90 | channel, pitch, velocity])))
        events.append((start + duration, 0, bytes([0x80 | channel, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    body = b""
    if program is not None:
        body += event(0, 0xC0 | channel, program)
    tick = 0
    for at, _, data in events:
        body += vlq(at - tick) + data
        tick = at
    return body + end_of_track()


def riff(midi: bytes, form: bytes = b"RMID", chunk_id: bytes = b"data") -> bytes:
    """A RIFF file (RMID) holding ``midi`` in its data chunk, after an INFO list chunk."""
    info = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"  # odd length: padded
    body = form + info + chunk_id + struct.pack("<I", len(midi)) + midi
    return b"RIFF" + struct.pack("<I", len(body)) + body
