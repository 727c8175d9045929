"""From the decoded events of a MIDI file's tracks to the parts of a Score (used by core.midi_io).

One Score track per (MIDI track, channel, program) that plays notes, in the order first heard. The
program of a note is the last program change on its channel at or before it, in any track (a
synthesizer hears a channel, not a track); at one tick a track's own program change wins over
another track's. Control changes go to the first Score track of their MIDI track and channel; those
of a channel without notes in their track (a set-up track that sets volumes) go to the first Score
track that plays on that channel anywhere, and are dropped, with a warning, when none does.

A MIDI track without notes on exactly one channel that no other track plays (an instrument with
nothing to play yet, as ``write_midi`` writes an empty Score track) is kept as an empty track.

Names: a MIDI track's name when it is one Score track; "<name>: <instrument>" when it splits (plus
the channel where that is still ambiguous); the General MIDI instrument when it has no name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from core.gm import instrument_name
from core.midi_events import TrackEvents, pair_notes
from core.score import ControlChange, KeySignature, Note, TempoChange, TimeSignature, Track

TRACK_NAME, TEMPO, METER, KEY = 0x03, 0x51, 0x58, 0x59
META_TYPES = frozenset({TRACK_NAME, TEMPO, METER, KEY})
_new_note = partial(tuple.__new__, Note)
_new_control = partial(tuple.__new__, ControlChange)


@dataclass
class _Part:
    """A Score track while it is being put together."""

    midi_track: int
    channel: int
    program: int
    notes: tuple[Note, ...]
    controls: list[ControlChange] = field(default_factory=list)
    end_tick: int = 0


class Assembler:
    """Builds the Score tracks and maps of one file; ``warn`` collects repairs, ``fail`` makes the
    error for a file over a limit."""

    def __init__(
        self,
        tracks: list[TrackEvents],
        warn: Callable[[str], None],
        fail: Callable[[str], Exception],
        max_notes: int,
        max_parts: int,
    ) -> None:
        self.tracks = tracks
        self.warn = warn
        self.fail = fail
        self.max_notes = max_notes
        self.max_parts = max_parts
        self.programs = _ProgramChanges(tracks)

    # --------------------------------------------------------------------------------- tracks
    def score_tracks(self) -> list[Track]:
        played = set()
        note_ons = 0
        for events in self.tracks:
            on = ((events.status >> 4) == 9) & (events.data2 > 0)
            played.update(np.unique(events.status[on] & 0x0F).tolist())
            note_ons += int(np.count_nonzero(on))
        if note_ons > self.max_notes:  # before pairing: that would take memory in proportion
            raise self.fail(f"the file holds more than {self.max_notes} notes (the limit)")
        parts: list[_Part] = []
        orphans: dict[int, list[ControlChange]] = {}
        counts = {"notes": 0, "unreleased": 0, "zero": 0}
        for index, events in enumerate(self.tracks):
            controls = _controls(events)
            mine = self.parts_of(index, events, counts)
            if not mine:
                mine = self.silent_part(index, events, played)
            for part in mine:
                part.controls = list(controls.pop(part.channel, ()))
            for channel, changes in controls.items():
                orphans.setdefault(channel, []).extend(changes)
            parts += mine
            if len(parts) > self.max_parts:
                raise self.fail(f"the file holds more than {self.max_parts} instruments (the limit)")
        dropped = 0
        for channel, changes in orphans.items():
            target = next((p for p in parts if p.channel == channel), None)
            if target is None:
                dropped += len(changes)
            else:
                target.controls += changes
        self.say_counts(counts, dropped)
        return self.named(parts)

    def parts_of(self, index: int, events: TrackEvents, counts: dict[str, int]) -> list[_Part]:
        """The parts of MIDI track ``index`` that play notes: one per (channel, program)."""
        paired = pair_notes(events)
        counts["notes"] += len(paired.start)
        if counts["notes"] > self.max_notes:
            raise self.fail(f"the file holds more than {self.max_notes} notes (the limit)")
        counts["unreleased"] += paired.unreleased
        zero = paired.duration == 0
        counts["zero"] += int(np.count_nonzero(zero))
        duration = np.where(zero, 1, paired.duration)
        if len(duration) == 0:
            return []
        program = self.programs.at(index, paired.channel, paired.start, paired.order)
        group = paired.channel * 128 + program
        # One sort: by part, then in the Score's note order inside each part.
        order = np.lexsort((paired.velocity, paired.pitch, duration, paired.start, group))
        group = group[order]
        columns = [c[order].tolist() for c in (paired.start, duration, paired.pitch, paired.velocity)]
        ends = (paired.start + duration)[order]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]).tolist()
        first_heard = np.minimum.reduceat(paired.order[order], starts).tolist()
        parts = []
        for (first, last), _ in sorted(zip(zip(starts, starts[1:] + [len(group)]), first_heard), key=lambda b: b[1]):
            notes = tuple(map(_new_note, zip(*(column[first:last] for column in columns))))
            channel, program = divmod(int(group[first]), 128)
            parts.append(_Part(index, channel, program, notes, end_tick=int(ends[first:last].max())))
        return parts

    def silent_part(self, index: int, events: TrackEvents, played: set[int]) -> list[_Part]:
        """An empty instrument for a note-less MIDI track on one channel that nobody plays."""
        channels = np.unique(events.status & 0x0F).tolist()
        if len(channels) != 1 or channels[0] in played:
            return []
        channel = channels[0]
        last = np.array([2**24 - 2])  # after every event of the track
        program = int(self.programs.at(index, np.array([channel]), np.array([events.end_tick]), last)[0])
        return [_Part(index, channel, program, ())]

    def say_counts(self, counts: dict[str, int], dropped: int) -> None:
        ignored = sum(int(np.count_nonzero(((e.status >> 4) == 0xA) | (e.status >= 0xD0))) for e in self.tracks)
        for number, one, many in (
            (
                counts["unreleased"],
                "note was never released; it ends where its track ends",
                "notes were never released; they end where their track ends",
            ),
            (
                counts["zero"],
                "note ended at the tick it started; it was given 1 tick",
                "notes ended at the tick they started; they were given 1 tick",
            ),
            (
                dropped,
                "control change on a channel without notes was dropped",
                "control changes on channels without notes were dropped",
            ),
            (ignored, "pitch-bend or aftertouch event is not kept", "pitch-bend and aftertouch events are not kept"),
        ):
            if number:
                self.warn(f"{number} {one if number == 1 else many}")

    def named(self, parts: list[_Part]) -> list[Track]:
        names = [_track_name(events) for events in self.tracks]
        labels: list[str] = []
        for index, name in enumerate(names):
            labels += _labels(name, [p for p in parts if p.midi_track == index])
        return [
            Track.from_checked(label, p.program, p.channel, p.notes, tuple(sorted(p.controls)), p.end_tick)
            for label, p in zip(labels, sorted(parts, key=lambda p: p.midi_track))
        ]

    # ----------------------------------------------------------------------------------- maps
    def maps(self) -> tuple[list[TempoChange], list[TimeSignature], list[KeySignature]]:
        """Tempo, meter and key changes of all tracks, with invalid ones dropped (and said)."""
        tempos: list[TempoChange] = []
        meters: list[TimeSignature] = []
        keys: list[KeySignature] = []
        metas = sorted(
            (tick, index, kind, payload)
            for index, events in enumerate(self.tracks)
            for tick, kind, payload in events.metas
            if kind != TRACK_NAME
        )
        for tick, _, kind, payload in metas:
            shown = payload[:8].hex() or "empty"
            if kind == TEMPO:
                value = int.from_bytes(payload, "big") if len(payload) == 3 else 0
                if value:
                    tempos.append(TempoChange(tick, value))
                else:
                    self.warn(f"an invalid tempo ({shown}) at tick {tick} was ignored")
            elif kind == METER:
                if len(payload) >= 2 and payload[0] >= 1 and payload[1] <= 7:
                    meters.append(TimeSignature(tick, payload[0], 2 ** payload[1]))
                else:
                    self.warn(f"an invalid time signature ({shown}) at tick {tick} was ignored")
            elif kind == KEY:
                sharps = int.from_bytes(payload[:1], "big", signed=True) if len(payload) == 2 else 99
                if -7 <= sharps <= 7 and payload[1] in (0, 1):
                    keys.append(KeySignature(tick, sharps, payload[1] == 1))
                else:
                    self.warn(f"an invalid key signature ({shown}) at tick {tick} was ignored")
        return tempos, meters, keys

    def title(self) -> str:
        """The name of the first track when it is a conductor track (no notes), or of a lone track."""
        first = self.tracks[0]
        if len(self.tracks) > 1 and bool(np.any((first.status >> 4) == 9)):
            return ""
        return _track_name(first) or ""


class _ProgramChanges:
    """Program changes of all tracks, to look up the program in force for a note.

    The look-up key packs (channel, tick, rank) into one int64: channel < 16 (4 bits), tick < 2**32
    (the reader's limit), rank < 2**24 (a track has fewer events than bytes, at most 16 MB / 2).
    """

    def __init__(self, tracks: list[TrackEvents]) -> None:
        columns = []
        for index, events in enumerate(tracks):
            mine = (events.status >> 4) == 0xC
            columns.append(
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
        self.table = np.concatenate(columns, axis=1) if columns else np.zeros((5, 0), dtype=np.int64)

    def at(self, track: int, channel: np.ndarray, tick: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Program in force for events of MIDI track ``track`` (0 where none was set)."""
        pc_channel, pc_tick, pc_track, pc_order, pc_program = self.table
        if len(pc_tick) == 0 or len(tick) == 0:
            return np.zeros(len(tick), dtype=np.int64)
        rank = np.where(pc_track == track, pc_order + 1, 0)  # at one tick, other tracks' come first
        keys = (pc_channel << 56) | (pc_tick << 24) | rank
        by_key = np.argsort(keys, kind="stable")
        wanted = (channel.astype(np.int64) << 56) | (tick.astype(np.int64) << 24) | (order + 1)
        found = np.searchsorted(keys[by_key], wanted, side="right") - 1
        safe = by_key[np.maximum(found, 0)]
        return np.where((found >= 0) & (pc_channel[safe] == channel), pc_program[safe], 0)


def _controls(events: TrackEvents) -> dict[int, tuple[ControlChange, ...]]:
    """The control changes of one MIDI track by channel, sorted."""
    is_control = (events.status >> 4) == 0xB
    channel = events.status[is_control] & 0x0F
    ticks, numbers, values = events.ticks[is_control], events.data1[is_control], events.data2[is_control]
    result = {}
    for c in np.unique(channel).tolist():
        mine = channel == c
        order = np.lexsort((values[mine], numbers[mine], ticks[mine]))
        columns = (ticks[mine][order], numbers[mine][order], values[mine][order])
        result[c] = tuple(map(_new_control, zip(*(column.tolist() for column in columns))))
    return result


def _track_name(events: TrackEvents) -> str | None:
    """The first track-name meta event of a track, decoded (UTF-8, else Latin-1), or None."""
    for _, kind, payload in events.metas:
        if kind == TRACK_NAME:
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                return payload.decode("latin-1")
    return None


def _labels(name: str | None, parts: list[_Part]) -> list[str]:
    instruments = [instrument_name(p.program, p.channel) for p in parts]
    if len(parts) == 1:
        return [name if name is not None else instruments[0]]
    labels = [f"{name}: {inst}" if name else inst for inst in instruments]
    return [
        f"{label} (channel {p.channel + 1})" if labels.count(label) > 1 else label for label, p in zip(labels, parts)
    ]
