"""Chords as a network condition: two chords a bar (first and second half), as vocabulary indices
on disk and as one-hot features for the decoder.

A bar's chords are ``(first half, second half)`` indices into
:data:`core.harmony.templates.VOCABULARY` (the same chord twice when it holds the whole bar). The
decoder hears them at every step of the bar: for each half a 12-way root one-hot, a 10-way quality
one-hot and a no-chord flag (:data:`CHORD_FEATURES` = 23, :data:`BAR_CHORD_FEATURES` = 46). The
chord sounding at an event's onset is not known before the decoder picks the event's offset, so
it hears both and places itself in the bar from the beat features it already gets.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # torch is imported where features are made, not by the preprocessor's import
    import torch

from core.harmony.labels import QUALITIES, Chord
from core.harmony.recogniser import ChordSpan, chords_at, recognise_frames
from core.harmony.templates import CHORD_INDEX, VOCABULARY
from core.music.score import Score

SLOTS = 2  # chords per bar: the first and second half
CHORD_FEATURES = 12 + len(QUALITIES) + 1
BAR_CHORD_FEATURES = SLOTS * CHORD_FEATURES

# Per vocabulary index: its root (-1 for no chord) and quality index (-1 for no chord).
_ROOTS = np.array([-1 if c.root is None else c.root for c in VOCABULARY], np.int64)
_QUALITIES = np.array([-1 if c.quality is None else QUALITIES.index(c.quality) for c in VOCABULARY], np.int64)
_TRANSPOSED = np.array([[CHORD_INDEX[c.transposed(s)] for s in range(12)] for c in VOCABULARY], np.int64)


def bar_chords(score: Score, bar_start_ticks: Sequence[int]) -> np.ndarray:
    """(bars, 2) int16 vocabulary indices of the chords of the half bars starting at each tick of
    ``bar_start_ticks`` (ticks of ``score``), as the recogniser hears the whole piece."""
    return chords_at_bars(recognise_frames(score, "half"), bar_start_ticks)


def chords_at_bars(spans: Sequence[ChordSpan], bar_start_ticks: Sequence[int]) -> np.ndarray:
    """:func:`bar_chords` from chord spans already known at half-bar resolution (the recogniser's
    frames or chords, or those with a composer's edits). A bar's second chord is the one at its half
    bar, which the spans hold already: where the span that starts at the barline is followed by one in
    the same bar, that one starts at the half bar; where it is not, the chord holds the whole bar
    (merged spans) or the bar has no half (shorter than two beats), and the barline's chord is the
    half bar's too. A tick inside a bar (the second 4/4 of an 8/4 bar) has one chord for both."""
    ticks = [int(tick) for tick in bar_start_ticks]
    starts = [span.start for span in spans]
    halves = []
    for tick in ticks:
        index = bisect.bisect_left(starts, tick)
        at_barline = index < len(spans) and starts[index] == tick and spans[index].beat == 1.0
        following = spans[index + 1] if at_barline and index + 1 < len(spans) else None
        halves.append(following.start if following is not None and following.bar == spans[index].bar else tick)
    chords = chords_at(spans, ticks + halves)
    indices = [CHORD_INDEX[chord] for chord in chords]
    return np.array(indices, np.int16).reshape(SLOTS, len(ticks)).T.copy()


def slots_of(chords: Sequence[Chord], per_bar: int) -> np.ndarray:
    """(bars, 2) indices of a progression played ``per_bar`` (1 or 2) chords to the bar."""
    if per_bar not in (1, 2):
        raise ValueError("chords per bar must be 1 or 2")
    indices = [CHORD_INDEX[chord] for chord in chords]
    if per_bar == 1:
        return np.array([[index, index] for index in indices], np.int16).reshape(-1, SLOTS)
    if len(indices) % 2:
        indices.append(indices[-1])  # an odd last chord holds its whole bar
    return np.array(indices, np.int16).reshape(-1, SLOTS)


def progression_of(score: Score, spans: Sequence[ChordSpan], first_bar: int, last_bar: int) -> tuple[str, int]:
    """The chords of bars ``first_bar``-``last_bar`` of ``score`` (from ``spans``) as a progression
    a composer can edit (``"C G7 Am F"``) and its chords per bar: one a bar when every bar holds one
    chord, else two (each half bar's)."""
    ticks = [score.bar(number).start for number in range(first_bar, last_bar + 1)]
    pairs = chords_at_bars(spans, ticks)
    per_bar = 1 if all(a == b for a, b in pairs) else 2
    return " ".join(VOCABULARY[int(index)].short for pair in pairs for index in pair[:per_bar]), per_bar


def transposed_indices(indices: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """``indices`` (rows, 2) with row ``i``'s chords moved by ``shifts[i]`` semitones."""
    return _TRANSPOSED[np.asarray(indices, np.int64), (np.asarray(shifts, np.int64) % 12)[:, None]]


def chord_features(indices: "torch.Tensor", dtype: "torch.dtype | None" = None) -> "torch.Tensor":
    """(B, 46) decoder features of (B, 2) chord indices: root, quality and no-chord one-hots per half
    (float32 unless ``dtype`` says otherwise)."""
    import torch  # noqa: PLC0415

    dtype = dtype or torch.float32
    indices = indices.long()
    roots = torch.from_numpy(_ROOTS).to(indices.device)[indices]
    qualities = torch.from_numpy(_QUALITIES).to(indices.device)[indices]
    parts = []
    for slot in range(SLOTS):
        root, quality = roots[:, slot], qualities[:, slot]
        parts += [
            torch.nn.functional.one_hot(root.clamp(min=0), 12) * (root >= 0).unsqueeze(-1),
            torch.nn.functional.one_hot(quality.clamp(min=0), len(QUALITIES)) * (quality >= 0).unsqueeze(-1),
            (root < 0).unsqueeze(-1),
        ]
    return torch.cat(parts, dim=-1).to(dtype)
