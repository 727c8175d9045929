"""Edits of a piece as pure functions: each takes a Score and returns a new one.

The app's undo stack keeps the Score before and after every edit, so undo gives back the exact piece;
these functions only compute the "after". They never mutate their input (Scores are immutable anyway)
and raise :class:`core.errors.EditError` with a one-line reason for an edit that cannot be made.

Generated music arrives as a *fragment*: a Score of its own that starts at tick 0 (as
``Score.slice_bars`` gives and as generation returns). :func:`insert_bars` puts a fragment into a piece
before a bar, moving the rest of the piece later; :func:`overlay` lays it over the piece without
moving anything. Fragment tracks join the piece's track that plays the same program on the same kind
of channel; a fragment track with no match becomes a new track.

Note edits (the piano roll's) are planned as a :class:`NoteEdit`: which notes leave which track and
which arrive, and the notes selected afterwards. :func:`change_notes` applies one to a Score touching
only the tracks it names, in time proportional to the track (slices and a merge in C), not by
rebuilding or re-checking every note; the piano roll reads the same changes to update its drawing
without re-indexing the track.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from core.errors import EditError
from core.music.grid import Grid
from core.music.score import DRUM_CHANNEL, ControlChange, Note, Score, TempoChange, TimeSignature, Track
from core.music.selection import NoteSelection


def clear_bars(score: Score, first: int, last: int, tracks: Iterable[int] | None = None) -> Score:
    """The piece without the notes that start in bars ``first``-``last`` (of the given track
    indices, or of every track)."""
    start, end = _bar_span(score, first, last)
    chosen = _track_set(score, tracks)
    new_tracks = tuple(
        dataclasses.replace(t, notes=tuple(n for n in t.notes if not start <= n.start < end)) if i in chosen else t
        for i, t in enumerate(score.tracks)
    )
    return score.replace(tracks=new_tracks)


def transpose_bars(
    score: Score, first: int, last: int, semitones: int, tracks: Iterable[int] | None = None
) -> Score:
    """The piece with the notes that start in bars ``first``-``last`` moved by ``semitones``.
    Drum tracks are left alone (their pitches are instruments, not notes)."""
    start, end = _bar_span(score, first, last)
    chosen = _track_set(score, tracks)
    new_tracks = []
    for index, track in enumerate(score.tracks):
        if index not in chosen or track.is_drum:
            new_tracks.append(track)
            continue
        notes = []
        for note in track.notes:
            if start <= note.start < end:
                pitch = note.pitch + semitones
                if not 0 <= pitch <= 127:
                    raise EditError(
                        f"transposing bars {first}-{last} by {semitones:+d} takes a note of "
                        f"{track.name or 'a track'} outside the MIDI range"
                    )
                note = note._replace(pitch=pitch)
            notes.append(note)
        new_tracks.append(dataclasses.replace(track, notes=tuple(notes)))
    return score.replace(tracks=tuple(new_tracks))


def set_track(score: Score, index: int, **changes: object) -> Score:
    """The piece with track ``index`` changed (``name=``, ``program=``, ``channel=``)."""
    if not 0 <= index < len(score.tracks):
        raise EditError(f"track {index + 1} does not exist (the piece has {len(score.tracks)})")
    try:
        track = dataclasses.replace(score.tracks[index], **changes)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise EditError(f"track {index + 1}: {error}") from None
    return score.replace(tracks=score.tracks[:index] + (track,) + score.tracks[index + 1 :])


def fragment_length(fragment: Score, bars: int | None = None) -> int:
    """Length in ticks of a fragment of ``bars`` bars (default: all the bars its notes reach)."""
    count = fragment.bar_count if bars is None else bars
    if count < 1:
        raise EditError(f"a fragment of {count} bars is empty")
    return fragment.bar(count).end


def insert_bars(score: Score, at_bar: int, fragment: Score, bars: int | None = None) -> Score:
    """The piece with ``fragment`` (``bars`` bars long, default: as many as its notes reach) put
    before bar ``at_bar``; everything from that barline on moves later by the fragment's length.
    ``at_bar`` may be one past the last bar, to append. The fragment's tempo and meter changes after
    its start are kept; the piece's own meter at ``at_bar`` goes on after the fragment."""
    if at_bar < 1:
        raise EditError(f"bar {at_bar}: bars are numbered from 1")
    fragment = rescale(fragment, score.ticks_per_quarter)
    at = score.bar(at_bar).start
    length = fragment_length(fragment, bars)
    shifted = _shift_from(score, at, length)
    merged = overlay(shifted, fragment, at)
    kept = [m for m in merged.time_signatures if not at <= m.tick < at + length or m.tick == 0]
    added = [dataclasses.replace(m, tick=m.tick + at) for m in fragment.time_signatures if m.tick < length]
    if not any(m.tick == at + length for m in kept):
        added.append(dataclasses.replace(score.time_signature_at(at), tick=at + length))
    meters = _without_redundant(kept, added)
    inner_tempos = [dataclasses.replace(t, tick=t.tick + at) for t in fragment.tempos if 0 < t.tick < length]
    tempos = [t for t in merged.tempos if not at < t.tick < at + length] + inner_tempos
    if inner_tempos and not any(t.tick == at + length for t in tempos):
        tempos.append(TempoChange(at + length, score.tempo_at(at)))
    return merged.replace(time_signatures=tuple(meters), tempos=tuple(tempos))


def overlay(score: Score, fragment: Score, at_tick: int) -> Score:
    """The piece with the notes of ``fragment`` added from ``at_tick`` on; nothing else moves.
    The piece's tempo and meter maps stay as they are."""
    if at_tick < 0:
        raise EditError(f"tick {at_tick} is before the start of the piece")
    fragment = rescale(fragment, score.ticks_per_quarter)
    tracks = list(score.tracks)
    for piece_track in fragment.tracks:
        notes = tuple(Note(n.start + at_tick, n.duration, n.pitch, n.velocity) for n in piece_track.notes)
        controls = tuple(ControlChange(c.tick + at_tick, c.number, c.value) for c in piece_track.controls)
        bends = tuple(b._replace(tick=b.tick + at_tick) for b in piece_track.pitch_bends)
        pressures = tuple(p._replace(tick=p.tick + at_tick) for p in piece_track.pressures)
        if not notes and not controls and not bends and not pressures:
            continue
        index = matching_track(tracks, piece_track)
        if index is None:
            channel = _free_channel(tracks, piece_track)
            tracks.append(
                dataclasses.replace(
                    piece_track, channel=channel, notes=notes, controls=controls, pitch_bends=bends, pressures=pressures
                )
            )
        else:
            target = tracks[index]
            tracks[index] = dataclasses.replace(  # at one tick the fragment's bend or pressure wins
                target,
                notes=target.notes + notes,
                controls=target.controls + controls,
                pitch_bends=target.pitch_bends + bends,
                pressures=target.pressures + pressures,
            )
    return score.replace(tracks=tuple(tracks))


def rescale(fragment: Score, ticks_per_quarter: int) -> Score:
    """``fragment`` in another tick resolution (times rounded to the nearest tick, durations kept at
    least one tick)."""
    if fragment.ticks_per_quarter == ticks_per_quarter:
        return fragment
    factor = ticks_per_quarter / fragment.ticks_per_quarter

    def tick(value: int) -> int:
        return round(value * factor)

    tracks = tuple(
        _retimed(t, tick, tuple(Note(tick(n.start), max(1, tick(n.end) - tick(n.start)), n.pitch, n.velocity) for n in t.notes))
        for t in fragment.tracks
    )
    return fragment.replace(
        ticks_per_quarter=ticks_per_quarter,
        tracks=tracks,
        tempos=tuple(dataclasses.replace(e, tick=tick(e.tick)) for e in fragment.tempos),
        time_signatures=tuple(dataclasses.replace(e, tick=tick(e.tick)) for e in fragment.time_signatures),
        key_signatures=tuple(dataclasses.replace(e, tick=tick(e.tick)) for e in fragment.key_signatures),
    )


def _retimed(track: Track, tick: Callable[[int], int], notes: tuple[Note, ...]) -> Track:
    """``track`` with ``notes`` (already retimed by the caller, who decides what a note's end becomes)
    and its control changes, pitch bends and channel pressure moved to ``tick(their tick)``."""
    return dataclasses.replace(
        track,
        notes=notes,
        controls=tuple(c._replace(tick=tick(c.tick)) for c in track.controls),
        pitch_bends=tuple(b._replace(tick=tick(b.tick)) for b in track.pitch_bends),
        pressures=tuple(p._replace(tick=tick(p.tick)) for p in track.pressures),
    )


# ------------------------------------------------------------------------------------ note edits
INSERT_ONE_BY_ONE_BELOW = 16  # fewer added notes than this are inserted one by one, more in one pass


@dataclass(frozen=True)
class NoteChange:
    """Notes taken out of and put into track ``track`` (its index in the piece)."""

    track: int
    removed: tuple[Note, ...] = ()
    added: tuple[Note, ...] = ()

    def inverse(self) -> "NoteChange":
        return NoteChange(self.track, self.added, self.removed)


@dataclass(frozen=True)
class NoteEdit:
    """A planned note edit: the changes per track and the notes selected once it is made."""

    changes: tuple[NoteChange, ...]
    selection: NoteSelection

    @property
    def empty(self) -> bool:
        return not any(c.removed or c.added for c in self.changes)

    def apply(self, score: Score) -> Score:
        return change_notes(score, self.changes)


@dataclass(frozen=True)
class Clip:
    """Copied notes: per source track, the notes with their start relative to ``origin``."""

    origin: int
    notes: tuple[tuple[int, Note], ...]

    @property
    def tracks(self) -> tuple[int, ...]:
        return tuple(sorted({track for track, _note in self.notes}))

    @property
    def length(self) -> int:
        return max((note.end for _t, note in self.notes), default=0)


def change_notes(score: Score, changes: Sequence[NoteChange]) -> Score:
    """The piece with each change's ``removed`` notes taken out of its track and ``added`` notes put
    in. A removed note that the track does not hold, or an added note out of range, raises
    :class:`EditError` (and nothing changes)."""
    tracks = list(score.tracks)
    for change in changes:
        if not 0 <= change.track < len(tracks):
            raise EditError(f"track {change.track + 1} does not exist (the piece has {len(tracks)})")
        if change.removed or change.added:
            tracks[change.track] = _changed_track(tracks[change.track], change.removed, change.added)
    return score.replace(tracks=tuple(tracks))


def _changed_track(track: Track, removed: Sequence[Note], added: Sequence[Note]) -> Track:
    name = track.name or "a track"
    for note in added:
        if note.start < 0 or note.duration < 1:
            raise EditError(f"{name}: a note would start before the piece or last less than a tick")
        if not 0 <= note.pitch <= 127 or not 1 <= note.velocity <= 127:
            raise EditError(f"{name}: a note's pitch or velocity would leave the MIDI range")
    notes = track.notes
    gone = sorted(removed)
    kept: list[Note] = []
    if len(gone) != len(notes) or gone != list(notes):  # else every note goes (a whole-track edit)
        positions: list[int] = []
        last: Note | None = None
        for note in gone:
            low = positions[-1] + 1 if note == last else 0
            index = bisect.bisect_left(notes, note, low)
            if index >= len(notes) or notes[index] != note:
                raise EditError(f"{name} has no note {note.pitch} at tick {note.start} to change")
            positions.append(index)
            last = note
        begin = 0
        for index in positions:
            kept.extend(notes[begin:index])
            begin = index + 1
        kept.extend(notes[begin:])
    new = sorted(n if type(n) is Note else Note(*n) for n in added)
    if len(new) < INSERT_ONE_BY_ONE_BELOW:
        for note in new:
            bisect.insort(kept, note)
    else:  # each new note's place by binary search, then one pass of slices
        merged: list[Note] = []
        begin = 0
        for note in new:
            index = bisect.bisect_right(kept, note, begin)
            merged.extend(kept[begin:index])
            merged.append(note)
            begin = index
        merged.extend(kept[begin:])
        kept = merged
    end_tick = track.__dict__.get("end_tick")  # known already: keep it known without a walk
    if end_tick is not None and (not removed or max(n.end for n in removed) < end_tick):
        end_tick = max([end_tick] + [n.end for n in new])
    else:
        end_tick = None
    return Track.from_checked(
        track.name, track.program, track.channel, tuple(kept), track.controls, end_tick, track.pitch_bends, track.pressures
    )


def notes_in_span(score: Score, start: int, end: int, tracks: Iterable[int] | None = None) -> NoteSelection:
    """The notes that start in ticks ``[start, end)`` of the given tracks (default: every track)."""
    pairs = []
    for index in sorted(_track_set(score, tracks)):
        notes = score.tracks[index].notes
        low = bisect.bisect_left(notes, (start,))
        high = bisect.bisect_left(notes, (end,))
        pairs.extend((index, note) for note in notes[low:high])
    return NoteSelection(frozenset(pairs))


def notes_in_bars(score: Score, first: int, last: int, tracks: Iterable[int] | None = None) -> NoteSelection:
    """The notes that start in bars ``first``-``last`` (Ctrl+A in the seed bars)."""
    start, end = _bar_span(score, first, last)
    return notes_in_span(score, start, end, tracks)


def _edit(selection: NoteSelection, transform) -> NoteEdit:
    """Each selected note replaced by ``transform(track, note)`` (a Note, or None to delete it)."""
    changes = []
    pairs = []
    for track, notes in selection.by_track.items():
        added = []
        for note in notes:
            new = transform(track, note)
            if new is not None:
                added.append(new)
                pairs.append((track, new))
        changes.append(NoteChange(track, notes, tuple(added)))
    return NoteEdit(tuple(changes), NoteSelection(frozenset(pairs)))


def _check_selected(score: Score, selection: NoteSelection) -> None:
    for track in selection.by_track:
        if not 0 <= track < len(score.tracks):
            raise EditError(f"track {track + 1} does not exist (the piece has {len(score.tracks)})")


def move_notes(score: Score, selection: NoteSelection, ticks: int, semitones: int) -> NoteEdit:
    """Move the selected notes ``ticks`` later and ``semitones`` up, all together: the move stops
    where the first note would reach tick 0 or a note the end of the MIDI range."""
    _check_selected(score, selection)
    if not selection:
        return NoteEdit((), selection)
    pitches = [note.pitch for _t, note in selection]
    ticks = max(ticks, -min(note.start for _t, note in selection))
    semitones = min(max(semitones, -min(pitches)), 127 - max(pitches))
    if ticks == 0 and semitones == 0:
        return NoteEdit((), selection)
    return _edit(selection, lambda _t, n: Note(n.start + ticks, n.duration, n.pitch + semitones, n.velocity))


def resize_notes(score: Score, selection: NoteSelection, ticks: int, minimum: int = 1) -> NoteEdit:
    """Make the selected notes ``ticks`` longer (shorter when negative), none shorter than
    ``minimum`` ticks."""
    _check_selected(score, selection)
    if ticks == 0:
        return NoteEdit((), selection)
    return _edit(
        selection, lambda _t, n: n._replace(duration=max(min(minimum, n.duration), n.duration + ticks, 1))
    )


def delete_notes(score: Score, selection: NoteSelection) -> NoteEdit:
    """Take the selected notes out of the piece."""
    _check_selected(score, selection)
    return _edit(selection, lambda _t, _n: None)


def add_notes(score: Score, track: int, notes: Sequence[Note]) -> NoteEdit:
    """Put ``notes`` into track ``track`` (the pencil); the new notes are selected."""
    if not 0 <= track < len(score.tracks):
        raise EditError(f"track {track + 1} does not exist (the piece has {len(score.tracks)})")
    added = tuple(Note(*n) for n in notes)
    return NoteEdit((NoteChange(track, (), added),), NoteSelection.of_track(track, added))


def set_velocities(score: Score, selection: NoteSelection, change: int) -> NoteEdit:
    """Make the selected notes ``change`` louder (softer when negative), kept within 1-127."""
    _check_selected(score, selection)
    if change == 0:
        return NoteEdit((), selection)
    return _edit(selection, lambda _t, n: n._replace(velocity=min(127, max(1, n.velocity + change))))


def quantize_notes(score: Score, selection: NoteSelection, grid: Grid, lengths: bool = True) -> NoteEdit:
    """Snap the selected notes' starts to the nearest line of ``grid`` and, with ``lengths``, their
    ends too (a note never shorter than one grid step)."""
    _check_selected(score, selection)
    nearest = functools.cache(lambda tick: grid.nearest(score, tick))  # notes share most of their times

    def snapped(_track: int, note: Note) -> Note:
        start = nearest(note.start)
        if not lengths:
            return note._replace(start=start)
        end = nearest(note.end)
        if end <= start:
            end = grid.next(score, start)
        return note._replace(start=start, duration=end - start)

    return _edit(selection, snapped)


def copy_notes(selection: NoteSelection) -> Clip:
    """The selected notes as a clip, their times relative to the earliest one."""
    origin = selection.start or 0
    notes = tuple(
        sorted((track, note._replace(start=note.start - origin)) for track, note in selection)
    )
    return Clip(origin, notes)


def paste_notes(score: Score, clip: Clip, at_tick: int, track: int | None = None) -> NoteEdit:
    """Put the clip's notes into the piece from ``at_tick`` on: into track ``track`` when it is
    given and the clip holds one track's notes (copying a line to another instrument), else each
    note into the track it came from. The pasted notes are selected."""
    if at_tick < 0:
        raise EditError(f"tick {at_tick} is before the start of the piece")
    if not clip.notes:
        return NoteEdit((), NoteSelection())
    single = len(clip.tracks) == 1
    per_track: dict[int, list[Note]] = {}
    for source, note in clip.notes:
        target = track if track is not None and single else source
        per_track.setdefault(target, []).append(note._replace(start=note.start + at_tick))
    for target in per_track:
        if not 0 <= target < len(score.tracks):
            raise EditError(f"track {target + 1} does not exist (the piece has {len(score.tracks)}): paste into another")
    changes = tuple(NoteChange(target, (), tuple(notes)) for target, notes in sorted(per_track.items()))
    pairs = frozenset((c.track, n) for c in changes for n in c.added)
    return NoteEdit(changes, NoteSelection(pairs))


def duplicate_notes(score: Score, selection: NoteSelection, grid: Grid | None = None) -> NoteEdit:
    """A copy of the selected notes right after them (their span, rounded up to the grid when one is
    given); the copies are selected."""
    _check_selected(score, selection)
    if not selection:
        return NoteEdit((), selection)
    start, end = selection.start or 0, selection.end or 0
    at = end
    if grid is not None:
        step = grid.step(score.ticks_per_quarter)
        steps = -(-(end - start) // step)  # ceiling
        at = start + round(max(1, steps) * step)
    return paste_notes(score, copy_notes(selection), at)


# ---------------------------------------------------------------------------------------- helpers
def _bar_span(score: Score, first: int, last: int) -> tuple[int, int]:
    if not 1 <= first <= last:
        raise EditError(f"bars {first}-{last}: not a valid range (bars are numbered from 1)")
    return score.bar(first).start, score.bar(last).end


def _without_redundant(kept: list[TimeSignature], added: list[TimeSignature]) -> list[TimeSignature]:
    """``kept`` plus those of ``added`` that change the meter (an added event equal to the meter in
    force before it would only clutter the file); on equal ticks an added event wins."""
    by_tick: dict[int, tuple[TimeSignature, bool]] = {m.tick: (m, False) for m in kept}
    for meter in added:
        by_tick[meter.tick] = (meter, True)
    result: list[TimeSignature] = []
    for tick in sorted(by_tick):
        meter, is_added = by_tick[tick]
        before = result[-1].text if result else "4/4"
        if is_added and meter.text == before:
            continue
        result.append(meter)
    return result


def _track_set(score: Score, tracks: Iterable[int] | None) -> set[int]:
    return set(range(len(score.tracks))) if tracks is None else set(tracks)


def _shift_from(score: Score, at: int, length: int) -> Score:
    """Everything that starts at or after tick ``at`` moved ``length`` ticks later."""

    def move(tick: int) -> int:
        return tick + length if tick >= at else tick

    tracks = tuple(_retimed(t, move, tuple(n._replace(start=move(n.start)) for n in t.notes)) for t in score.tracks)
    return score.replace(
        tracks=tracks,
        tempos=tuple(dataclasses.replace(e, tick=move(e.tick)) if e.tick > 0 else e for e in score.tempos),
        time_signatures=tuple(
            dataclasses.replace(e, tick=move(e.tick)) if e.tick > 0 else e for e in score.time_signatures
        ),
        key_signatures=tuple(
            dataclasses.replace(e, tick=move(e.tick)) if e.tick > 0 else e for e in score.key_signatures
        ),
    )


def matching_track(tracks: list[Track], wanted: Track) -> int | None:
    """The piece's track that should receive ``wanted``'s notes: same drum-ness and program, the same
    channel preferred, then the same name."""
    candidates = [i for i, t in enumerate(tracks) if t.is_drum == wanted.is_drum and t.program == wanted.program]
    for index in candidates:
        if tracks[index].channel == wanted.channel:
            return index
    for index in candidates:
        if tracks[index].name == wanted.name:
            return index
    return candidates[0] if candidates else None


def _free_channel(tracks: list[Track], wanted: Track) -> int:
    if wanted.is_drum:
        return DRUM_CHANNEL
    used = {t.channel for t in tracks}
    if wanted.channel not in used and wanted.channel != DRUM_CHANNEL:
        return wanted.channel
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    return free[0] if free else wanted.channel
