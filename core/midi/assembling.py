"""From the decoded events of a MIDI file's tracks to the parts of a Score (used by core.midi.files).

One Score track per (MIDI track, channel, program) that plays notes, in the order first heard. The
program of a note is the last program change on its channel at or before it, in any track (a
synthesizer hears a channel, not a track); at one tick a track's own program change wins over
another track's. Control changes, pitch bends and channel pressures go to the first Score track of
their MIDI track and channel; those of a channel without notes in their track (a set-up track that
sets volumes) go to the first Score track that plays on that channel anywhere, and are dropped, with
a warning, when none does. Of a track's pitch bends (or pressures) at one tick only the last in file
order is kept: it is the one heard. Polyphonic aftertouch is not kept (a warning counts it).

A MIDI track without notes on exactly one channel that no other track plays (an instrument with
nothing to play yet, as ``write_midi`` writes an empty Score track) is kept as an empty track.

Names: a MIDI track's name when it is one Score track; "<name>: <instrument>" when it splits (plus
the channel where that is still ambiguous); the General MIDI instrument when it has no name.

Speed: notes are paired and their programs looked up once per block of tracks (``_BLOCK_EVENTS``
events), not once per track, since numpy costs ~0.5 ms a track in call overhead alone (3,116 tracks
in the corpus; :mod:`core.midi.events` has the figure of both changes), and a block's arrays stay in
the CPU cache. A track's notes stay numpy columns (:class:`~core.music.score.NoteColumns`, slices of
one sorted array per column), made into ``Note`` tuples only where they are used (why:
:class:`~core.music.score.NoteColumns`). The changes are made by ``tuple.__new__`` on columns turned
into lists, which skips the named tuple's own ``__new__`` (for notes, ``Note(*row)`` cost ~20 ms
more CPU on the 152,000 notes of ``benchmarks/open_midi.py``'s large piece, ``Note._make`` ~6 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Callable

import numpy as np

from core.music.gm import instrument_name
from core.midi.events import FileEvents, PairedNotes, TrackEvents, consecutive_groups, pair_notes
from core.music.score import (
    ChannelPressure,
    ControlChange,
    KeySignature,
    NoteColumns,
    PitchBend,
    TempoChange,
    TimeSignature,
    Track,
    held_changes,
)

TRACK_NAME, TEMPO, METER, KEY = 0x03, 0x51, 0x58, 0x59
META_TYPES = frozenset({TRACK_NAME, TEMPO, METER, KEY})
_new_control = partial(tuple.__new__, ControlChange)
_new_bend = partial(tuple.__new__, PitchBend)
_new_pressure = partial(tuple.__new__, ChannelPressure)


@dataclass
class _Part:
    """A Score track while it is being put together."""

    midi_track: int
    channel: int
    program: int
    notes: NoteColumns
    controls: list[ControlChange] = field(default_factory=list)
    end_tick: int = 0
    bends: list[PitchBend] = field(default_factory=list)
    pressures: list[ChannelPressure] = field(default_factory=list)


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
        self.events = FileEvents.of(tracks)
        self.warn = warn
        self.fail = fail
        self.max_notes = max_notes
        self.max_parts = max_parts
        self.programs = _ProgramChanges(self.events)
        self.labels: dict[int, list[str]] = {}  # the names of the Score tracks of each MIDI track

    def who(self, index: int) -> str:
        """MIDI track ``index`` in the words of the app, which shows Score tracks by name: the names
        of the Score tracks it became (after :meth:`score_tracks`), else its own name."""
        labels = self.labels.get(index)
        if labels:
            return ", ".join(f'"{label}"' for label in labels)
        name = _track_name(self.tracks[index])
        return f'the track "{name}" (no notes read)' if name else f"MIDI track {index + 1} (no notes read)"

    # --------------------------------------------------------------------------------- tracks
    def score_tracks(self) -> list[Track]:
        events = self.events
        on = ((events.status >> 4) == 9) & (events.data2 > 0)
        if np.count_nonzero(on) > self.max_notes:  # before pairing: that would take memory in proportion
            raise self.fail(f"the file holds more than {self.max_notes} notes (the limit)")
        played = set(np.unique(events.status[on] & 0x0F).tolist())
        note_parts: dict[int, list[_Part]] = {}
        unreleased = zero = 0
        blocks = consecutive_groups([len(track.ticks) for track in self.tracks], _BLOCK_EVENTS)
        for first, last in blocks:
            paired = pair_notes(events.between(first, last))
            unreleased += paired.unreleased
            zero += int(np.count_nonzero(paired.duration == 0))
            note_parts.update(self.note_parts(paired))
        # Channel changes by kind: the _Part attribute they go to, and theirs by track and channel.
        changes_of = {
            "controls": _controls(events),
            "bends": _held(events, 0xE, _new_bend),
            "pressures": _held(events, 0xD, _new_pressure),
        }
        parts: list[_Part] = []
        orphans: dict[tuple[str, int], list] = {}  # (kind, channel): changes of a track without notes there
        for index, events_of_track in enumerate(self.tracks):
            mine = note_parts.get(index) or self.silent_part(index, events_of_track, played)
            for attribute, by_track in changes_of.items():
                changes = by_track.get(index, {})
                for part in mine:
                    setattr(part, attribute, list(changes.pop(part.channel, ())))
                for channel, extra in changes.items():
                    orphans.setdefault((attribute, channel), []).extend(extra)
            parts += mine
            if len(parts) > self.max_parts:
                raise self.fail(f"the file holds more than {self.max_parts} instruments (the limit)")
        dropped = {"controls": 0, "bends": 0, "pressures": 0}
        for (attribute, channel), changes in orphans.items():
            target = next((p for p in parts if p.channel == channel), None)
            if target is None:
                dropped[attribute] += len(changes)
            elif attribute == "controls":
                target.controls.extend(changes)  # sorted with the rest when the track is built
            else:  # a channel's held changes from two MIDI tracks: merged, one a tick
                kind = PitchBend if attribute == "bends" else ChannelPressure
                setattr(target, attribute, list(held_changes(getattr(target, attribute) + changes, kind)))
        self.say_counts(unreleased, zero, dropped["controls"], dropped["bends"] + dropped["pressures"])
        return self.named(parts)

    def note_parts(self, paired: PairedNotes) -> dict[int, list[_Part]]:
        """The parts that play notes, by MIDI track: one per (track, channel, program), in the order
        first heard within each track."""
        duration = np.where(paired.duration == 0, 1, paired.duration)
        if len(duration) == 0:
            return {}
        program = self.programs.at(paired.track, paired.channel, paired.start, paired.order)
        group = (paired.track * 16 + paired.channel) * 128 + program
        # One sort: by part, then in the Score's note order inside each part.
        order = np.lexsort((paired.velocity, paired.pitch, duration, paired.start, group))
        group = group[order]
        columns = [c[order].astype(np.int64, copy=False) for c in (paired.start, duration, paired.pitch, paired.velocity)]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        first_heard = np.minimum.reduceat(paired.order[order], starts)
        end_tick = np.maximum.reduceat((paired.start + duration)[order], starts)
        track, channel_program = np.divmod(group[starts], 16 * 128)
        bounds = zip(starts.tolist(), starts[1:].tolist() + [len(group)])
        found = [
            (int(t), first, last, int(cp), int(end))
            for t, (first, last), cp, end in zip(track, bounds, channel_program, end_tick)
        ]
        parts: dict[int, list[_Part]] = {}
        for heard in np.lexsort((first_heard, track)).tolist():  # by track, then first heard
            index, first, last, channel_program, end = found[heard]
            notes = NoteColumns(*(column[first:last] for column in columns))
            channel, program = divmod(channel_program, 128)
            parts.setdefault(index, []).append(_Part(index, channel, program, notes, end_tick=end))
        return parts

    def silent_part(self, index: int, events: TrackEvents, played: set[int]) -> list[_Part]:
        """An empty instrument for a note-less MIDI track on one channel that nobody plays."""
        channels = np.unique(events.status & 0x0F).tolist()
        if len(channels) != 1 or channels[0] in played:
            return []
        channel = channels[0]
        last = np.array([2**24 - 2])  # after every event of the track
        program = int(self.programs.at(np.array([index]), np.array([channel]), np.array([events.end_tick]), last)[0])
        return [_Part(index, channel, program, NoteColumns.of(()))]

    def say_counts(self, unreleased: int, zero: int, dropped: int, dropped_held: int) -> None:
        ignored = int(np.count_nonzero((self.events.status >> 4) == 0xA))
        for number, one, many in (
            (
                unreleased,
                "note was never released; it ends where its track ends",
                "notes were never released; they end where their track ends",
            ),
            (
                zero,
                "note ended at the tick it started; it was given 1 tick",
                "notes ended at the tick they started; they were given 1 tick",
            ),
            (
                dropped,
                "control change on a channel without notes was dropped",
                "control changes on channels without notes were dropped",
            ),
            (
                dropped_held,
                "pitch bend or channel pressure on a channel without notes was dropped",
                "pitch bends and channel pressures on channels without notes were dropped",
            ),
            (ignored, "polyphonic aftertouch event is not kept", "polyphonic aftertouch events are not kept"),
        ):
            if number:
                self.warn(f"{number} {one if number == 1 else many}")

    def named(self, parts: list[_Part]) -> list[Track]:
        names = [_track_name(events) for events in self.tracks]
        labels: list[str] = []
        for index, name in enumerate(names):
            mine = _labels(name, [p for p in parts if p.midi_track == index])
            self.labels[index] = mine
            labels += mine
        return [
            Track.from_checked(
                label,
                p.program,
                p.channel,
                p.notes,
                tuple(sorted(p.controls)),
                p.end_tick,
                tuple(p.bends),
                tuple(p.pressures),
            )
            for label, p in zip(labels, sorted(parts, key=lambda p: p.midi_track))
        ]

    # ----------------------------------------------------------------------------------- maps
    def maps(self) -> tuple[list[TempoChange], list[TimeSignature], list[KeySignature]]:
        """Tempo, meter and key changes of all tracks, with invalid ones dropped (and said)."""
        tempos: list[TempoChange] = []
        meters: list[TimeSignature] = []
        keys: list[KeySignature] = []
        # In file order at one tick (by track, then by place in the track; the sort is stable):
        # the Score keeps the last change at a tick, which is the one a player hears.
        metas = sorted(
            (
                (tick, index, kind, payload)
                for index, events in enumerate(self.tracks)
                for tick, kind, payload in events.metas
                if kind != TRACK_NAME
            ),
            key=itemgetter(0, 1),
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


_BLOCK_EVENTS = 1 << 15  # channel events paired at a time, at most (a longer track is paired alone)


class _ProgramChanges:
    """Program changes of all tracks, to look up the program in force for a note.

    The look-up key packs (channel, tick, rank) into one int64: channel < 16 (4 bits), tick < 2**32
    (the reader's limit), rank < 2**24 (a track has fewer events than bytes, at most 16 MB / 2).
    """

    def __init__(self, events: FileEvents) -> None:
        mine = (events.status >> 4) == 0xC
        self.channel = (events.status[mine] & 0x0F).astype(np.int64)
        self.tick = events.ticks[mine]
        self.track = events.track[mine]
        self.order = events.order[mine]
        self.program = events.data1[mine].astype(np.int64)
        self.place = (self.channel << 56) | (self.tick << 24)
        # Sorted by (channel, tick, order in the track), once for every look-up.
        keys = self.place | (self.order + 1)
        self.by_key = np.argsort(keys, kind="stable")
        self.keys = keys[self.by_key]
        place, track = self.place[self.by_key], self.track[self.by_key]
        # Tracks that change one channel's program at the same tick: which wins depends on the
        # track asking (its own change does), so those files are looked up a track at a time.
        self.shared_ticks = bool(np.any((place[1:] == place[:-1]) & (track[1:] != track[:-1])))

    def at(self, track: np.ndarray, channel: np.ndarray, tick: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Program in force for events of MIDI tracks ``track`` on ``channel`` at ``tick`` (0 where
        none was set); at one tick, a change earlier in the event's own track applies."""
        if len(self.tick) == 0 or len(tick) == 0:
            return np.zeros(len(tick), dtype=np.int64)
        channel, tick = channel.astype(np.int64), tick.astype(np.int64)
        if self.shared_ticks:
            result = np.zeros(len(tick), dtype=np.int64)
            for number in np.unique(track).tolist():
                asking = track == number
                result[asking] = self._at_for(number, channel[asking], tick[asking], order[asking])
            return result
        # Every tick's changes of a channel come from one track: the (channel, tick, order) order.
        place = (channel << 56) | (tick << 24)
        found = np.searchsorted(self.keys, place | _LAST_RANK, side="right") - 1  # the last change by then
        safe = self.by_key[np.maximum(found, 0)]
        own_tick = (found >= 0) & (self.place[safe] == place) & (self.track[safe] == track)
        # A change of the event's own track at its own tick applies only when it came before it.
        found = np.where(own_tick, np.searchsorted(self.keys, place | (order + 1), side="right") - 1, found)
        return self._program(self.by_key, found, channel)

    def _at_for(self, track: int, channel: np.ndarray, tick: np.ndarray, order: np.ndarray) -> np.ndarray:
        """:meth:`at` for events of one track, whatever the other tracks do at the same tick."""
        rank = np.where(self.track == track, self.order + 1, 0)  # at one tick, other tracks' come first
        keys = self.place | rank
        by_key = np.argsort(keys, kind="stable")
        found = np.searchsorted(keys[by_key], (channel << 56) | (tick << 24) | (order + 1), side="right") - 1
        return self._program(by_key, found, channel)

    def _program(self, by_key: np.ndarray, found: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """The program of change ``by_key[found]`` where there is one and it is on ``channel``, else 0."""
        safe = by_key[np.maximum(found, 0)]
        return np.where((found >= 0) & (self.channel[safe] == channel), self.program[safe], 0)


_LAST_RANK = (1 << 24) - 1


def _held(events: FileEvents, kind: int, make: Callable) -> dict[int, dict[int, tuple]]:
    """The pitch bends (``kind`` 0xE) or channel pressures (0xD) of every MIDI track by track and
    channel, sorted by tick, with only the last of a track's changes at one tick (the one heard)."""
    mine = (events.status >> 4) == kind
    result: dict[int, dict[int, tuple]] = {}
    if not mine.any():
        return result
    group = events.track[mine] * 16 + (events.status[mine] & 0x0F).astype(np.int64)
    ticks = events.ticks[mine]
    values = events.data1[mine].astype(np.int64)
    if kind == 0xE:
        values = values + (events.data2[mine].astype(np.int64) << 7) - 8192
    order = np.lexsort((events.order[mine], ticks, group))
    group, ticks, values = group[order], ticks[order], values[order]
    last = np.r_[(group[1:] != group[:-1]) | (ticks[1:] != ticks[:-1]), True]  # the last of its tick
    group, columns = group[last], [ticks[last].tolist(), values[last].tolist()]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]).tolist()
    for first, stop in zip(starts, starts[1:] + [len(group)]):
        owner, channel = divmod(int(group[first]), 16)
        result.setdefault(owner, {})[channel] = tuple(map(make, zip(*(column[first:stop] for column in columns))))
    return result


def _controls(events: FileEvents) -> dict[int, dict[int, tuple[ControlChange, ...]]]:
    """The control changes of every MIDI track by track and channel, sorted."""
    is_control = (events.status >> 4) == 0xB
    track, channel = events.track[is_control], (events.status[is_control] & 0x0F).astype(np.int64)
    ticks, numbers, values = events.ticks[is_control], events.data1[is_control], events.data2[is_control]
    result: dict[int, dict[int, tuple[ControlChange, ...]]] = {}
    if len(ticks) == 0:
        return result
    group = track * 16 + channel
    order = np.lexsort((values, numbers, ticks, group))
    group = group[order]
    columns = [column[order].tolist() for column in (ticks, numbers, values)]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]).tolist()
    for first, last in zip(starts, starts[1:] + [len(group)]):
        owner, c = divmod(int(group[first]), 16)
        changes = tuple(map(_new_control, zip(*(column[first:last] for column in columns))))
        result.setdefault(owner, {})[c] = changes
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
