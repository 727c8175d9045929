"""Reading and writing Standard MIDI Files: ``read_midi(path) -> Score``, ``write_midi(score, path)``.

Reading is in three layers, each with one job:

1. **Container** (here, plain Python on bytes, no per-event work): an optional RIFF/RMID wrapper,
   the ``MThd`` header read as unsigned fields and checked (format 0 or 1; format 2 is refused
   because its tracks are independent songs; ticks per quarter > 0, or SMPTE time converted to
   ticks), then the chunk table: every chunk length is checked against the bytes really there,
   ``MTrk`` chunks are kept, other chunks skipped, garbage after the last chunk ignored.
2. **Events** (:mod:`core.midi_events`): each track chunk decoded with numpy and a one-lookup-per-
   event walk; a malformed event ends its track with a warning instead of failing the file.
3. **Music** (here, numpy): notes paired first in, first out per channel and pitch (note-on with
   velocity 0 is a note-off), programs followed per channel across all tracks, tempo, meter and key
   maps merged, and Score tracks built.

One Score track per (MIDI track, channel, program): a MIDI track that plays two channels, or that
changes program between notes, becomes several Score tracks (named "<track name>: <instrument>"),
so every Score track has one channel and one program. A program change in any track applies to its
channel from its tick on (as a synthesizer hears it); at one tick, a track's own program change
wins over another track's. Control changes (sustain pedal and all others) go to the first Score
track of their MIDI track and channel. Pitch bends, aftertouch and SysEx are not kept (a warning
counts them). Channel 10 (index 9) is the drum kit.

Why not a library? mido is pure Python: a 1 MB orchestral file takes seconds. symusic (C++) parses
it in milliseconds but does not keep the channel of a track, drops notes that are never released,
pairs a note-off at the note-on tick with a later note-on instead, and follows programs per track,
not per channel; and a crash inside a C++ extension on a hostile file would take the app with it.
The numpy decoder here opens such a file in well under 0.3 s (see ``benchmarks/open_midi.py``).

Every file that cannot be read raises :class:`MidiFileError` naming the file and one reason.
Repairs (a truncated track, notes never released, a tempo of 0, ...) are noted in
``Score.warnings``, never printed. Limits (file size, tracks, notes, bars, ticks) are the
``MAX_*`` constants below; a file over one is refused with a message that names it.
"""

from __future__ import annotations

import gc
import os
import struct
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np

from core.errors import MidiFileError
from core.gm import instrument_name
from core.midi_events import TrackEvents, pair_notes, parse_track
from core.midi_write import encode_midi
from core.score import ControlChange, KeySignature, Note, Score, TempoChange, TimeSignature, Track

MAX_FILE_BYTES = 16 * 1024 * 1024  # the largest real-world MIDI files are a few MB
MAX_TRACKS = 1024  # MIDI track chunks
MAX_CHUNKS = 4096  # all chunks, known or not
MAX_NOTES = 1_000_000
MAX_SCORE_TRACKS = 1024  # (track, channel, program) combinations
MAX_BARS = 100_000
MAX_TICK = 2**32 - 1
MAX_WARNINGS = 20

_TRACK_NAME, _TEMPO, _METER, _KEY = 0x03, 0x51, 0x58, 0x59
_META_TYPES = frozenset({_TRACK_NAME, _TEMPO, _METER, _KEY})
_SMPTE_RATES = {24: (24, 1_000_000), 25: (25, 1_000_000), 29: (30, 1_001_000), 30: (30, 1_000_000)}
_new_note = partial(tuple.__new__, Note)
_new_control = partial(tuple.__new__, ControlChange)


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
    """Write ``score`` as a type 1 Standard MIDI File (see :mod:`core.midi_write`). The file is
    replaced in one step, so a failed write never leaves half a file behind."""
    path = Path(path)
    data = encode_midi(score, path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".", suffix=".mid.part", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise MidiFileError(path, f"cannot be written: {error.strerror or error}") from None


@contextmanager
def _no_gc() -> Iterator[None]:
    """Building 100,000 small tuples triggers the cyclic garbage collector again and again for
    nothing (tuples of ints hold no cycles); pausing it halves the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reader:
    """One reading of one file: the path for messages and the warnings noticed on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []

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
        if declared != len(chunks):
            self.warn(f"the header declares {declared} tracks but the file holds {len(chunks)}")
        if fmt == 0 and len(chunks) > 1:
            self.warn(f"a format 0 file should hold one track; all {len(chunks)} were read")
        ticks_per_quarter, smpte_tempo = self.division(division)
        with _no_gc():
            return self.music([parse_track(c, _META_TYPES) for c in chunks], ticks_per_quarter, smpte_tempo)

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
                    self.warn(
                        f"track {len(tracks) + 1} is cut short: its chunk claims {length} bytes "
                        f"but {len(data) - body} remain"
                    )
                tracks.append(data[body : body + length])
            elif not all(0x20 <= c < 0x7F for c in chunk_id) or body + length > len(data):
                self.warn(f"{len(data) - position} bytes after the last track are not MIDI chunks and were ignored")
                break
            position = body + length
        return tracks

    # ---------------------------------------------------------------------------------- music
    def music(self, tracks: list[TrackEvents], ticks_per_quarter: int, smpte_tempo: int | None) -> Score:
        for index, events in enumerate(tracks):
            if events.problem:
                self.warn(f"track {index + 1}: {events.problem}; the rest of the track was ignored")
        last_tick = max(events.end_tick for events in tracks)
        if last_tick > MAX_TICK:
            raise self.fail(f"the file has events at tick {last_tick}, beyond the limit of {MAX_TICK}")
        tempos, meters, keys = self.maps(tracks)
        if smpte_tempo is not None:
            if tempos:
                self.warn(f"{len(tempos)} tempo events were ignored (SMPTE time does not use them)")
            tempos = [TempoChange(0, smpte_tempo)]
        programs = _ProgramChanges(tracks)
        score_tracks: list[Track] = []
        counts = {"unreleased": 0, "zero": 0, "dropped": 0, "notes": 0}
        for index, events in enumerate(tracks):
            score_tracks += self.instruments(index, events, programs, counts)
            if len(score_tracks) > MAX_SCORE_TRACKS:
                raise self.fail(f"the file holds more than {MAX_SCORE_TRACKS} instruments (the limit)")
        self.note_counts(tracks, counts)
        score = Score(
            ticks_per_quarter,
            tuple(score_tracks),
            tuple(tempos),
            tuple(meters),
            tuple(keys),
            title=self.title(tracks),
        )
        if score.bar_count > MAX_BARS:
            raise self.fail(f"the piece is longer than {MAX_BARS} bars (the limit)")
        if len(self.warnings) > MAX_WARNINGS:
            extra = len(self.warnings) - MAX_WARNINGS + 1
            self.warnings[MAX_WARNINGS - 1 :] = [f"... and {extra} more warnings"]
        return score.replace(warnings=tuple(self.warnings))

    def note_counts(self, tracks: list[TrackEvents], counts: dict[str, int]) -> None:
        if counts["unreleased"]:
            self.warn(f"{counts['unreleased']} notes were never released; they end where their track ends")
        if counts["zero"]:
            self.warn(f"{counts['zero']} notes ended at the tick they started; they were given 1 tick")
        if counts["dropped"]:
            self.warn(f"{counts['dropped']} control changes on channels without notes were dropped")
        ignored = sum(int(np.count_nonzero(((e.status >> 4) == 0xA) | (e.status >= 0xD0))) for e in tracks)
        if ignored:
            self.warn(f"{ignored} pitch-bend and aftertouch events are not kept")

    def maps(self, tracks: list[TrackEvents]) -> tuple[list[TempoChange], list[TimeSignature], list[KeySignature]]:
        """Tempo, meter and key changes of all tracks, with invalid ones dropped (and said)."""
        tempos: list[TempoChange] = []
        meters: list[TimeSignature] = []
        keys: list[KeySignature] = []
        metas = sorted(
            (tick, index, kind, payload)
            for index, events in enumerate(tracks)
            for tick, kind, payload in events.metas
            if kind != _TRACK_NAME
        )
        for tick, _, kind, payload in metas:
            if kind == _TEMPO:
                tempo = int.from_bytes(payload[:3], "big") if len(payload) == 3 else 0
                if tempo:
                    tempos.append(TempoChange(tick, tempo))
                else:
                    self.warn(f"an invalid tempo ({payload.hex() or 'empty'}) at tick {tick} was ignored")
            elif kind == _METER:
                if len(payload) >= 2 and payload[0] >= 1 and payload[1] <= 7:
                    meters.append(TimeSignature(tick, payload[0], 2 ** payload[1]))
                else:
                    self.warn(f"an invalid time signature ({payload.hex() or 'empty'}) at tick {tick} was ignored")
            elif kind == _KEY:
                sharps = int.from_bytes(payload[:1], "big", signed=True) if len(payload) == 2 else 99
                if -7 <= sharps <= 7 and payload[1] in (0, 1):
                    keys.append(KeySignature(tick, sharps, payload[1] == 1))
                else:
                    self.warn(f"an invalid key signature ({payload.hex() or 'empty'}) at tick {tick} was ignored")
        return tempos, meters, keys

    def title(self, tracks: list[TrackEvents]) -> str:
        """The name of the first track when it is a conductor track (no notes), or of a lone track."""
        first = tracks[0]
        has_notes = bool(np.any((first.status >> 4) == 9))
        if len(tracks) > 1 and has_notes:
            return ""
        return _track_name(first) or ""

    def instruments(
        self, index: int, events: TrackEvents, programs: "_ProgramChanges", counts: dict[str, int]
    ) -> list[Track]:
        """The Score tracks of MIDI track ``index``: one per (channel, program) that plays notes."""
        paired = pair_notes(events)
        counts["notes"] += len(paired.start)
        if counts["notes"] > MAX_NOTES:
            raise self.fail(f"the file holds more than {MAX_NOTES} notes (the limit)")
        counts["unreleased"] += paired.unreleased
        zero = paired.duration == 0
        counts["zero"] += int(np.count_nonzero(zero))
        duration = np.where(zero, 1, paired.duration)
        program = programs.at(index, paired.channel, paired.start, paired.order)
        group = paired.channel * 128 + program
        by_group = np.lexsort((paired.order, group))
        group_sorted = group[by_group]
        starts = np.flatnonzero(np.r_[True, group_sorted[1:] != group_sorted[:-1]]) if len(group) else []
        bounds = list(zip(list(starts), list(starts[1:]) + [len(group)]))
        bounds.sort(key=lambda b: int(paired.order[by_group[b[0]]]))  # first heard, first listed

        controls = self.controls(events)
        name = _track_name(events)
        parts = []
        for first, last in bounds:
            chosen = by_group[first:last]
            channel, prog = divmod(int(group_sorted[first]), 128)
            order = np.lexsort((paired.velocity[chosen], paired.pitch[chosen], duration[chosen], paired.start[chosen]))
            chosen = chosen[order]
            notes = tuple(
                map(
                    _new_note,
                    zip(
                        paired.start[chosen].tolist(),
                        duration[chosen].tolist(),
                        paired.pitch[chosen].tolist(),
                        paired.velocity[chosen].tolist(),
                    ),
                )
            )
            parts.append([channel, prog, notes, controls.pop(channel, ())])
        if not parts:
            parts = self.silent_track(index, events, programs, controls)
        counts["dropped"] += sum(len(c) for c in controls.values())
        return [
            Track.from_checked(label, prog, channel, notes, ctl)
            for label, (channel, prog, notes, ctl) in zip(_labels(name, parts), parts)
        ]

    def silent_track(
        self, index: int, events: TrackEvents, programs: "_ProgramChanges", controls: dict[int, tuple]
    ) -> list[list]:
        """A MIDI track without notes on one channel (an instrument with nothing to play yet, as
        :func:`write_midi` writes an empty Score track) is kept; one on several channels is not."""
        channels = np.unique(events.status & 0x0F)
        if len(channels) != 1:
            return []
        channel = int(channels[0])
        program = int(programs.at(index, np.array([channel]), np.array([events.end_tick]), np.array([2**24 - 2]))[0])
        return [[channel, program, (), controls.pop(channel, ())]]

    def controls(self, events: TrackEvents) -> dict[int, tuple[ControlChange, ...]]:
        """The control changes of one MIDI track by channel, sorted."""
        is_control = (events.status >> 4) == 0xB
        result = {}
        channel = events.status[is_control] & 0x0F
        ticks, numbers, values = events.ticks[is_control], events.data1[is_control], events.data2[is_control]
        for c in np.unique(channel).tolist():
            mine = channel == c
            order = np.lexsort((values[mine], numbers[mine], ticks[mine]))
            result[c] = tuple(
                map(
                    _new_control,
                    zip(ticks[mine][order].tolist(), numbers[mine][order].tolist(), values[mine][order].tolist()),
                )
            )
        return result


class _ProgramChanges:
    """Program changes of all tracks, to look up the program in force for a note.

    The look-up key packs (channel, tick, rank) into one int64: channel < 16 (4 bits), tick <= 2**32
    (the reader's limit), rank < 2**24 (events per track are fewer than bytes, at most 16 MB / 2).
    """

    def __init__(self, tracks: list[TrackEvents]) -> None:
        parts = []
        for index, events in enumerate(tracks):
            mine = (events.status >> 4) == 0xC
            parts.append(
                np.stack(
                    [
                        (events.status[mine] & 0x0F).astype(np.int64),
                        events.ticks[mine],
                        np.full(int(mine.sum()), index, dtype=np.int64),
                        events.order[mine],
                        events.data1[mine].astype(np.int64),
                    ]
                )
            )
        self.table = np.concatenate(parts, axis=1) if parts else np.zeros((5, 0), dtype=np.int64)

    def at(self, track: int, channel: np.ndarray, tick: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Program in force for events of MIDI track ``track`` (0 where none was set)."""
        pc_channel, pc_tick, pc_track, pc_order, pc_program = self.table
        if len(pc_tick) == 0 or len(tick) == 0:
            return np.zeros(len(tick), dtype=np.int64)
        rank = np.where(pc_track == track, pc_order + 1, 0)  # at one tick, other tracks' go first
        keys = (pc_channel << 56) | (pc_tick << 24) | rank
        by_key = np.argsort(keys, kind="stable")
        keys = keys[by_key]
        wanted = (channel.astype(np.int64) << 56) | (tick.astype(np.int64) << 24) | (order + 1)
        found = np.searchsorted(keys, wanted, side="right") - 1
        safe = np.maximum(found, 0)
        same_channel = (found >= 0) & (pc_channel[by_key][safe] == channel)
        return np.where(same_channel, pc_program[by_key][safe], 0)


def _track_name(events: TrackEvents) -> str | None:
    """The first track-name meta event of a track, decoded (UTF-8, else Latin-1), or None."""
    for _, kind, payload in events.metas:
        if kind == _TRACK_NAME:
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                return payload.decode("latin-1")
    return None


def _labels(name: str | None, parts: list[list]) -> list[str]:
    """Score track names for the parts of one MIDI track: its own name when it is one part,
    "<name>: <instrument>" when it splits (plus the channel when that is still ambiguous)."""
    instruments = [instrument_name(prog, channel) for channel, prog, _, _ in parts]
    if len(parts) == 1:
        return [name if name is not None else instruments[0]]
    labels = [f"{name}: {inst}" if name else inst for inst in instruments]
    return [
        f"{label} (channel {channel + 1})" if labels.count(label) > 1 else label
        for label, (channel, _, _, _) in zip(labels, parts)
    ]
