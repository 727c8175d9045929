"""Telling the composer when a model cannot continue a piece's drums.

A model whose instrument table has no drum class (the classical models) never hears the drum channel:
its continuation of a pop song has no drums, and without a word that would look like the model's
choice. :func:`dropped_drums_note` gives the one line that says so.
"""

from __future__ import annotations

import numpy as np

from core.representation.instruments import InstrumentTable
from core.music.score import Score


def drum_notes_in(score: Score, first_bar: int, last_bar: int) -> int:
    """Drum-channel notes that start in Score bars ``first_bar..last_bar`` (from 1)."""
    start, end = score.bar(first_bar).start, score.bar(last_bar).end
    starts = [track.note_columns.start for track in score.tracks if track.is_drum]
    return sum(int(np.count_nonzero((start <= s) & (s < end))) for s in starts)


def dropped_drums_note(score: Score, table: InstrumentTable, heard: tuple[int, int] | None) -> str | None:
    """A one-line note when ``score`` plays drums in the ``heard`` bars (first, last) and ``table``
    has no drum class, so the new bars have none; None otherwise."""
    if table.has_drums or heard is None or not any(t.is_drum and t.note_count for t in score.tracks):
        return None
    count = drum_notes_in(score, *heard)
    if not count:
        return None
    first, last = heard
    where = f"bar {first}" if first == last else f"bars {first}-{last}"
    return (
        f"drums not continued: {where} play {count} drum notes (channel 10), but this model's instrument "
        f"table ({table.name}) has no drum class; use a drum model such as pop-game-continuation"
    )
