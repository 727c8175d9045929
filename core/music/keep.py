"""Keeping generated bars, the three ways a composer means it: pure functions of Scores.

A generated *fragment* (a Score of its own that starts at tick 0, ``bars`` bars long) goes into the
piece before bar ``at_bar`` (the bar after the seed) in one of three modes:

* ``insert``: the fragment goes in and everything from ``at_bar`` on moves later by its length;
* ``replace``: the fragment takes the place of the piece's bars ``at_bar`` ... ``at_bar + bars - 1``
  (those that exist; past the end of the piece it is appended);
* ``take``: the fragment is laid over the piece from ``at_bar`` on, on tracks of its own (a new take
  beside the music, nothing moves), which the app mutes at first.

A note the model wrote near the end of the fragment may hold past its last bar: every mode cuts it
at the fragment's end, so it never sounds into the music that follows. :func:`room_for` gives the
piece as a preview shows it: with the room the fragment would take (pushed music, cleared bars), but
without the fragment's notes, which the preview draws on top.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

from core.music.edits import fragment_length, insert_bars, matching_track, rescale
from core.errors import EditError
from core.music.score import DRUM_CHANNEL, Score, TempoChange, TimeSignature, Track

KeepMode = Literal["insert", "replace", "take"]
KEEP_MODES: tuple[KeepMode, ...] = get_args(KeepMode)


def clipped(fragment: Score, bars: int) -> Score:
    """``fragment`` with nothing past the end of its bar ``bars``: notes that start later are dropped,
    notes that hold past it end there (controllers, bends and pressure after it are dropped too)."""
    end = fragment_length(fragment, bars)
    tracks = tuple(
        dataclasses.replace(
            t,
            notes=tuple(n._replace(duration=min(n.duration, end - n.start)) for n in t.notes if n.start < end),
            controls=tuple(c for c in t.controls if c.tick < end),
            pitch_bends=tuple(b for b in t.pitch_bends if b.tick < end),
            pressures=tuple(p for p in t.pressures if p.tick < end),
        )
        for t in fragment.tracks
    )
    return fragment.replace(tracks=tracks)


def in_piece_order(score: Score, fragment: Score) -> Score:
    """``fragment`` with its tracks in the order of the piece's tracks they join; tracks that join
    none (new instruments) come after them, in their own order. A variation dragged out or kept as a
    take then lists its instruments as the piece does."""
    tracks = list(score.tracks)

    def place(item: tuple[int, Track]) -> tuple[int, int]:
        position, track = item
        index = matching_track(tracks, track)
        return (index, position) if index is not None else (len(tracks), position)

    ordered = sorted(enumerate(fragment.tracks), key=place)
    return fragment.replace(tracks=tuple(track for _position, track in ordered))


def remove_bars(score: Score, first: int, last: int) -> Score:
    """The piece without bars ``first``-``last``: their notes go, music after them moves earlier by
    their length, and a note that held into them from before ends at their start. The meter in force
    after them goes on where they were."""
    if not 1 <= first <= last:
        raise EditError(f"bars {first}-{last}: not a valid range (bars are numbered from 1)")
    start, end = score.bar(first).start, score.bar(last).end
    length = end - start

    def kept(tick: int) -> bool:
        return not start <= tick < end

    def moved(tick: int) -> int:
        return tick - length if tick >= end else tick

    tracks = tuple(
        dataclasses.replace(
            t,
            notes=tuple(
                n._replace(start=moved(n.start), duration=min(n.duration, start - n.start) if n.start < start else n.duration)
                for n in t.notes
                if kept(n.start)
            ),
            controls=tuple(c._replace(tick=moved(c.tick)) for c in t.controls if kept(c.tick)),
            pitch_bends=tuple(b._replace(tick=moved(b.tick)) for b in t.pitch_bends if kept(b.tick)),
            pressures=tuple(p._replace(tick=moved(p.tick)) for p in t.pressures if kept(p.tick)),
        )
        for t in score.tracks
    )
    after = score.time_signature_at(end)
    meters = [m for m in score.time_signatures if m.tick < start] + [
        dataclasses.replace(m, tick=moved(m.tick)) for m in score.time_signatures if m.tick >= end
    ]
    if not any(m.tick == start for m in meters) and score.time_signature_at(max(0, start - 1)).text != after.text:
        meters.append(TimeSignature(start, after.numerator, after.denominator))
    tempo_after = score.tempo_at(end)
    tempos = [t for t in score.tempos if t.tick < start] + [
        dataclasses.replace(t, tick=moved(t.tick)) for t in score.tempos if t.tick >= end
    ]
    if not any(t.tick == start for t in tempos) and score.tempo_at(max(0, start - 1)) != tempo_after:
        tempos.append(TempoChange(start, tempo_after))
    keys = [k for k in score.key_signatures if k.tick < start] + [
        dataclasses.replace(k, tick=moved(k.tick)) for k in score.key_signatures if k.tick >= end
    ]
    return score.replace(
        tracks=tracks,
        time_signatures=tuple(sorted(meters, key=lambda m: m.tick)),
        tempos=tuple(sorted(tempos, key=lambda t: t.tick)),
        key_signatures=tuple(sorted(keys, key=lambda k: k.tick)),
    )


def keep(score: Score, mode: KeepMode, at_bar: int, fragment: Score, bars: int, take_name: str = "take") -> Score:
    """The piece with ``fragment`` (``bars`` bars) kept before bar ``at_bar`` the way ``mode`` says
    (see the module docstring). ``take_name`` names the new tracks of a take: "Violin (take 2)"."""
    if mode not in KEEP_MODES:
        raise EditError(f"keep mode {mode!r} is not one of {', '.join(KEEP_MODES)}")
    if at_bar < 1:
        raise EditError(f"bar {at_bar}: bars are numbered from 1")
    fragment = clipped(rescale(fragment, score.ticks_per_quarter), bars)
    if mode == "insert":
        return insert_bars(score, at_bar, fragment, bars)
    if mode == "replace":
        kept = insert_bars(_without_replaced(score, at_bar, bars), at_bar, fragment, bars)
        return _without_repeated_meters(kept, score.bar(at_bar).start)
    return _with_take(score, at_bar, fragment, take_name)


def room_for(score: Score, mode: KeepMode, at_bar: int, fragment: Score, bars: int) -> Score:
    """The piece as the preview of keeping ``fragment`` shows it: with the room the fragment would
    take (later bars pushed on, or the replaced bars gone), without the fragment's own notes. For a
    take nothing moves, so this is the piece itself."""
    if mode == "take":
        return score
    empty = fragment.replace(tracks=())
    return keep(score, mode, at_bar, empty, bars)


def new_take_tracks(before: Score, after: Score) -> tuple[int, ...]:
    """Indices of the tracks ``after`` has beyond those of ``before`` (the tracks a take added)."""
    return tuple(range(len(before.tracks), len(after.tracks)))


# ---------------------------------------------------------------------------------------- helpers
def _without_replaced(score: Score, at_bar: int, bars: int) -> Score:
    """The piece without the bars a ``replace`` puts new music in (those of them that exist)."""
    last = min(at_bar + bars - 1, score.bar_count)
    if at_bar > last:
        return score
    return remove_bars(score, at_bar, last)


def _without_repeated_meters(score: Score, from_tick: int) -> Score:
    """``score`` without the meter events from ``from_tick`` on that repeat the meter already in force
    (replacing bars splices the piece's meter back in after the new ones, where it may say again what
    the new bars say: 3/4 new bars in place of 3/4 ones)."""
    meters: list[TimeSignature] = []
    for meter in score.time_signatures:
        if meter.tick >= from_tick and meters and meters[-1].text == meter.text:
            continue
        meters.append(meter)
    return score if len(meters) == len(score.time_signatures) else score.replace(time_signatures=tuple(meters))


def _with_take(score: Score, at_bar: int, fragment: Score, take_name: str) -> Score:
    at = score.bar(at_bar).start
    tracks = list(score.tracks)
    for source in in_piece_order(score, fragment).tracks:
        if not source.notes:
            continue
        channel = _free_channel(tracks, source)
        tracks.append(
            dataclasses.replace(
                source,
                name=f"{source.name or 'Track'} ({take_name})",
                channel=channel,
                notes=tuple(n._replace(start=n.start + at) for n in source.notes),
                controls=tuple(c._replace(tick=c.tick + at) for c in source.controls),
                pitch_bends=tuple(b._replace(tick=b.tick + at) for b in source.pitch_bends),
                pressures=tuple(p._replace(tick=p.tick + at) for p in source.pressures),
            )
        )
    return score.replace(tracks=tuple(tracks))


def _free_channel(tracks: list[Track], wanted: Track) -> int:
    """A channel no track uses yet (drums stay on the drum channel); when all sixteen are taken, the
    track's own (a take then shares a channel with the piece, which only matters for its program)."""
    if wanted.is_drum:
        return DRUM_CHANNEL
    used = {t.channel for t in tracks}
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    return free[0] if free else wanted.channel


def bars_text(first: int, count: int) -> str:
    """``bar 5`` or ``bars 5-8``."""
    return f"bar {first}" if count == 1 else f"bars {first}-{first + count - 1}"


def fragment_end(score: Score, fragment: Score, bars: int) -> int:
    """Length in ticks of ``bars`` bars of ``fragment`` in the piece's resolution."""
    return fragment_length(rescale(fragment, score.ticks_per_quarter), bars)
