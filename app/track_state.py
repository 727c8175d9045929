"""How each track is shown and heard: colour, visible, muted, solo. Qt-free.

This is view state, not music: it is not part of the Score and not undoable. Tracks are matched by
index; when a change adds tracks they get default colours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from app.theme import track_color
from core.music.score import Score


@dataclass(frozen=True)
class TrackState:
    color: str
    visible: bool = True
    muted: bool = False
    solo: bool = False


def states_for(score: Score | None, old: Sequence[TrackState] = ()) -> list[TrackState]:
    """One state per track of ``score``: the old ones kept, new tracks with default colours."""
    if score is None:
        return []
    states = list(old[: len(score.tracks)])
    for index in range(len(states), len(score.tracks)):
        states.append(TrackState(track_color(index, score.tracks[index].is_drum)))
    return states


def audible(states: Sequence[TrackState]) -> list[bool]:
    """Which tracks sound: the solo tracks if any track is solo, otherwise every unmuted track."""
    any_solo = any(s.solo for s in states)
    return [s.solo if any_solo else not s.muted for s in states]


def audible_score(score: Score, states: Sequence[TrackState]) -> Score:
    """``score`` with only the tracks that sound (for the player)."""
    flags = audible(states_for(score, states))
    return score.replace(tracks=tuple(t for t, on in zip(score.tracks, flags) if on))


def heard_score(score: Score, states: Sequence[TrackState]) -> Score:
    """``score`` with only the tracks that are heard and shown (what the model hears when the
    composer keeps muted and hidden tracks from it); the others keep their place, empty."""
    states = states_for(score, states)
    flags = [on and state.visible for on, state in zip(audible(states), states)]
    return score.replace(tracks=tuple(t if on else dataclasses.replace(t, notes=()) for t, on in zip(score.tracks, flags)))


def changed(states: Sequence[TrackState], index: int, **fields: object) -> list[TrackState]:
    """A copy of ``states`` with track ``index`` changed."""
    result = list(states)
    result[index] = dataclasses.replace(result[index], **fields)  # type: ignore[arg-type]
    return result
