"""Reading and writing Standard MIDI Files: ``read_midi(path) -> Score``, ``write_midi(score, path)``.

Reading is in three layers, each with one job:

1. **Container** (here, plain Python on bytes, no per-event work): an optional RIFF/RMID wrapper,
   the ``MThd`` header read as unsigned fields and checked (format 0 or 1; format 2 is refused
   because its tracks are independent songs; ticks per quarter > 0, or SMPTE time converted to
   ticks), then the chunk table: every chunk length is checked against the bytes really there,
   ``MTrk`` chunks are kept, other chunks skipped, garbage after the last chunk ignored.
2. **Events** (:mod:`core.midi.events`): the track chunks decoded with numpy, small ones many at a
   time, and a one-lookup-per-event walk; a malformed event ends its track with a warning instead of
   failing the file.
3. **Music** (:mod:`core.midi.assembling`, numpy): notes paired first in, first out per channel and
   pitch (note-on with velocity 0 is a note-off), programs followed per channel across all tracks,
   tempo, meter and key maps merged, and Score tracks built.

A malformed event ends its track: what came before it is kept, and a warning names the Score tracks
that MIDI track became (as the app shows them) and the bar where it stops; so does a track that the
end of a truncated file cuts short, and the tracks its header declares but the file lost are
counted. Those warnings come first. A file of which no note could be read that way is refused
with the reason: it is broken, not an empty piece.

One Score track per (MIDI track, channel, program): a MIDI track that plays two channels, or that
changes program between notes, becomes several Score tracks (named "<track name>: <instrument>"),
so every Score track has one channel and one program. A program change in any track applies to its
channel from its tick on (as a synthesizer hears it). Control changes (sustain pedal and all others),
pitch bends and channel pressure are kept with the first Score track of their channel, so that
saving a file loses none of them. Polyphonic aftertouch is not kept (a warning counts it); SysEx,
lyrics and other text events are skipped. At one tick, the last tempo, meter or key event in file
order is the one kept (the one a player applies last). Channel 10 (index 9) is the drum kit.

Why not a library? mido is pure Python: a 1 MB orchestral file takes seconds. symusic (C++, 0.6)
parses it in milliseconds, but its tracks do not keep their MIDI channel, it drops notes that are
never released, keeps zero-length notes, follows programs per track rather than per channel, and
refuses a whole file for one malformed event (where a composer would rather get the music before
it); and a crash inside a C++ extension on a hostile file would take the app down with it. The
numpy decoder here reads such a file in ~0.1 s of CPU (``benchmarks/open_midi.py``; where the time
goes: :mod:`core.midi.events`).

The reader makes no ``Note`` objects: each track's notes stay numpy columns until something asks
for ``Track.notes`` (:class:`~core.music.score.NoteColumns` says why: the garbage collector walks
every note object it tracks). The benchmark's large piece (152,000 notes) reads in ~95 ms of CPU
where making its notes as objects had cost ~190 ms, and ~240-330 ms in a process holding torch's
objects, as the app's does.

Every file that cannot be read raises :class:`MidiFileError` naming the file and one reason.
Repairs (a truncated track, notes never released, a tempo of 0, ...) are noted in
``Score.warnings``, never printed. Limits (file size, tracks, notes, bars, ticks) are the
``MAX_*`` constants below; a file over one is refused with a message that names it.
"""

from __future__ import annotations

import os
import secrets
import struct
from pathlib import Path

from core.errors import MidiFileError
from core.midi.assembling import META_TYPES, Assembler
from core.midi.events import EMPTY_TRACK, TrackEvents, parse_tracks
from core.midi.writing import encode_midi
from core.music.score import Score, TempoChange

MAX_FILE_BYTES = 16 * 1024 * 1024  # real orchestral files are a few MB; reading peaks at ~20x this
MAX_TRACKS = 1024  # MIDI track chunks
MAX_CHUNKS = 4096  # all chunks, known or not
MAX_NOTES = 1_000_000
MAX_SCORE_TRACKS = 1024  # (track, channel, program) combinations
MAX_BARS = 100_000
MAX_TICK = 2**32 - 1
MAX_WARNINGS = 20

_SMPTE_RATES = {24: (24, 1_000_000), 25: (25, 1_000_000), 29: (30, 1_001_000), 30: (30, 1_000_000)}


def read_midi(path: str | os.PathLike) -> Score:
    """Read a Standard MIDI File (type 0 or 1, optionally in a RIFF/RMID wrapper) into a Score."""
    path = Path(path)
    try:
        if path.is_dir():
            raise MidiFileError(path, "is a folder, not a MIDI file")
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise MidiFileError(path, f"cannot be read: {error.strerror or error}") from None
    return read_midi_bytes(data, path)


def read_midi_bytes(data: bytes, source: str | os.PathLike = "<memory>") -> Score:
    """Like :func:`read_midi` for the bytes of a file; ``source`` names it in errors."""
    return _Reader(Path(source)).read(bytes(data))


def write_midi(score: Score, path: str | os.PathLike) -> None:
    """Write ``score`` as a type 1 Standard MIDI File (see :mod:`core.midi.writing`). The file is
    replaced in one step, so a failed write never leaves half a file behind."""
    path = Path(path)
    data = encode_midi(score, path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        try:
            with temporary.open("xb") as file:  # "x": never clobber; the umask sets the mode
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise MidiFileError(path, f"cannot be written: {error.strerror or error}") from None


class _Reader:
    """One reading of one file: the path for messages and the warnings noticed on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []
        self.declared = 0  # tracks the header declares
        self.cut_short: dict[int, str] = {}  # track chunks that the file's end cuts short, and how

    def fail(self, reason: str) -> MidiFileError:
        return MidiFileError(self.path, reason)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # ------------------------------------------------------------------------------ container
    def read(self, data: bytes) -> Score:
        if not data:
            raise self.fail("the file is empty")
        if len(data) > MAX_FILE_BYTES:
            raise self.fail(f"the file is larger than the limit of {MAX_FILE_BYTES // 2**20} MB")
        if data[:4] == b"RIFF":
            data = self.unwrap_riff(data)
        fmt, declared, division, offset = self.header(data)
        chunks = self.track_chunks(data, offset)
        if not chunks:
            raise self.fail("the file holds no track ('MTrk' chunk)")
        self.declared = declared
        if declared < len(chunks):  # more declared than held: said by damage(), as tracks missing
            self.warn(f"the header declares {declared} tracks but the file holds {len(chunks)}")
        if fmt == 0 and len(chunks) > 1:
            self.warn(f"a format 0 file should hold one track; all {len(chunks)} were read")
        ticks_per_quarter, smpte_tempo = self.division(division)
        return self.music(parse_tracks(chunks, META_TYPES), ticks_per_quarter, smpte_tempo)

    def unwrap_riff(self, data: bytes) -> bytes:
        """The Standard MIDI File inside a RIFF ``RMID`` file (its ``data`` chunk)."""
        if len(data) < 12 or data[8:12] != b"RMID":
            kind = data[8:12].decode("latin-1") if len(data) >= 12 else "?"
            raise self.fail(f"is a RIFF file of type {kind!r}, not RIFF MIDI ('RMID')")
        position = 12
        while position + 8 <= len(data):
            chunk_id = data[position : position + 4]
            (length,) = struct.unpack_from("<I", data, position + 4)
            body = position + 8
            if chunk_id == b"data":
                if body + length > len(data):
                    self.warn(f"the RIFF 'data' chunk claims {length} bytes but {len(data) - body} remain")
                return data[body : body + length]
            position = body + length + (length & 1)  # RIFF chunks are padded to an even length
        raise self.fail("the RIFF MIDI file has no 'data' chunk")

    def header(self, data: bytes) -> tuple[int, int, int, int]:
        """Format, declared track count, raw division and the offset after the header chunk."""
        if data[:4] != b"MThd":
            raise self.fail("is not a MIDI file (it does not start with 'MThd')")
        if len(data) < 14:
            raise self.fail(f"the MIDI header is truncated ({len(data)} bytes)")
        length, fmt, declared, division = struct.unpack_from(">IHHH", data, 4)
        if length < 6:
            raise self.fail(f"the MIDI header chunk is {length} bytes long (at least 6 expected)")
        if 8 + length > len(data):
            raise self.fail(f"the MIDI header claims {length} bytes but the file ends before")
        if fmt == 2:
            raise self.fail("MIDI format 2 (independent sequences) is not supported, only formats 0 and 1")
        if fmt > 2:
            raise self.fail(f"unknown MIDI format {fmt} (only formats 0 and 1 exist for songs)")
        return fmt, declared, division, 8 + length

    def division(self, division: int) -> tuple[int, int | None]:
        """Ticks per quarter, and for SMPTE time the fixed tempo that makes those ticks exact."""
        if not division & 0x8000:
            if division == 0:
                raise self.fail("the time division is zero ticks per quarter note")
            return division, None
        frames, per_frame = 256 - (division >> 8), division & 0xFF
        if frames not in _SMPTE_RATES:
            raise self.fail(f"SMPTE time division with {frames} frames per second (24, 25, 29.97 or 30 expected)")
        if per_frame == 0:
            raise self.fail("SMPTE time division with zero ticks per frame")
        nominal, tempo = _SMPTE_RATES[frames]
        ticks_per_quarter = nominal * per_frame
        self.warn(
            f"SMPTE time ({'29.97' if frames == 29 else frames} frames per second x {per_frame}) was "
            f"converted to {ticks_per_quarter} ticks per quarter at {60_000_000 / tempo:.3f} quarters per minute"
        )
        return ticks_per_quarter, tempo

    def track_chunks(self, data: bytes, position: int) -> list[bytes]:
        """The bodies of the ``MTrk`` chunks, checked against the bytes really in the file."""
        tracks: list[bytes] = []
        chunks = 0
        while position < len(data):
            if len(data) - position < 8:
                self.warn(f"{len(data) - position} stray bytes at the end of the file were ignored")
                break
            chunk_id = data[position : position + 4]
            (length,) = struct.unpack_from(">I", data, position + 4)
            body = position + 8
            chunks += 1
            if chunks > MAX_CHUNKS:
                raise self.fail(f"the file holds more than {MAX_CHUNKS} chunks (the limit)")
            if chunk_id == b"MTrk":
                if len(tracks) == MAX_TRACKS:
                    raise self.fail(f"the file holds more than {MAX_TRACKS} tracks (the limit)")
                if body + length > len(data):
                    self.cut_short[len(tracks)] = f"its chunk claims {length} bytes but {len(data) - body} remain"
                tracks.append(data[body : body + length])
            elif not all(0x20 <= c < 0x7F for c in chunk_id) or body + length > len(data):
                self.warn(f"{len(data) - position} bytes after the last track are not MIDI chunks and were ignored")
                break
            position = body + length
        return tracks

    # ---------------------------------------------------------------------------------- music
    def music(self, tracks: list[TrackEvents], ticks_per_quarter: int, smpte_tempo: int | None) -> Score:
        last_tick = max(events.end_tick for events in tracks)
        if last_tick > MAX_TICK:
            raise self.fail(f"the file has events at tick {last_tick}, beyond the limit of {MAX_TICK}")
        assembler = Assembler(tracks, self.warn, self.fail, MAX_NOTES, MAX_SCORE_TRACKS)
        tempos, meters, keys = assembler.maps()
        if smpte_tempo is not None:
            if tempos:
                self.warn(f"{len(tempos)} tempo events were ignored (SMPTE time does not use them)")
            tempos = [TempoChange(0, smpte_tempo)]
        score = Score(
            ticks_per_quarter,
            tuple(assembler.score_tracks()),
            tuple(tempos),
            tuple(meters),
            tuple(keys),
            title=assembler.title(),
        )
        if score.bar_count > MAX_BARS:
            raise self.fail(f"the piece is longer than {MAX_BARS} bars (the limit)")
        damage = self.damage(tracks, assembler, score)
        if damage and score.notes_count == 0:  # a broken file, not an empty piece
            raise self.fail(f"no note could be read: {damage[0][0]}")
        self.warnings[:0] = [warning for _, warning in damage]  # first: what is missing matters most
        if len(self.warnings) > MAX_WARNINGS:
            extra = len(self.warnings) - MAX_WARNINGS + 1
            self.warnings[MAX_WARNINGS - 1 :] = [f"... and {extra} more warnings"]
        return score.replace(warnings=tuple(self.warnings))

    def damage(self, tracks: list[TrackEvents], assembler: Assembler, score: Score) -> list[tuple[str, str]]:
        """What of the file could not be read, track by track: for each, the short reason (for a
        refusal) and the warning in the words of the app, which names the Score tracks that the
        damaged MIDI track became and the bar where it stops; then the tracks that a file cut short
        lost altogether."""
        said: list[tuple[str, str]] = []
        for index, events in enumerate(tracks):
            cut, problem = self.cut_short.get(index), events.problem
            where = f"stops at bar {score.bar_at(events.end_tick).number}" if events.end_tick else "stops at its start"
            if cut is not None:
                reason = f"the file is cut short in MIDI track {index + 1} ({cut})"
                said.append((reason, f"the file is cut short: {assembler.who(index)} {where} ({cut})"))
            elif problem == EMPTY_TRACK:
                said.append((f"MIDI track {index + 1}: {problem}", f"MIDI track {index + 1}: {problem}"))
            elif problem is not None:
                warning = f"{assembler.who(index)} {where}: {problem}; the rest of that track is missing"
                said.append((f"MIDI track {index + 1}: {problem}", warning))
        if self.declared > len(tracks):  # the file ends early (maybe at a chunk's end), or lies
            missing = self.declared - len(tracks)
            plural = missing > 1
            numbers = f"{len(tracks) + 1}-{self.declared}" if plural else f"{len(tracks) + 1}"
            counted = f"{missing} more track{'s' if plural else ''} that its header declares"
            which = f"(MIDI track{'s' if plural else ''} {numbers} of {self.declared})"
            verb = "are" if plural else "is"
            warning = f"the file ends after {assembler.who(len(tracks) - 1)}: {counted} {which} {verb} missing"
            said.append((f"{counted} {verb} missing", warning))
        return said
