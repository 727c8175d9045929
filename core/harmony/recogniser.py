"""The chord recogniser: the chord of each bar, half bar or beat of a Score.

Each frame (a bar, half a bar or a beat) gets a pitch-class profile: how long each pitch class
sounds in it (duration-weighted, octave doublings counted), plus a bass profile (how long each
pitch class is the lowest note). Every chord of the vocabulary scores the frame by the cosine of the
profile with its template, a bonus when its root is in the bass and a small prior per quality
(triads before sevenths, sus4 and aug last). A Viterbi pass over the frames then picks the chord
sequence that scores best when each change costs a penalty: a passing note that briefly tips one
frame towards another chord does not flip it. Frames where nothing sounds are no chord (``N``).
Drum tracks are left out.

Speed: the preprocessor labels every bar of every file, so this runs on whole corpora. The grid of
sounding pitches is summed along contiguous rows in int32, the beat weights and the chord bonuses
are whole-array operations, the Viterbi pass updates its scores in place, and the chords at many
ticks are found with one search (:func:`chords_at`): labelling the bars of the corpus's 619 files
takes ~2.5 CPU s of encoding's ~4.4 s, where it had taken ~7 s of ~9.2 s, with the same chords in
every file (``benchmarks/preprocess.py``; figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Iterator, Literal, Sequence

import numpy as np

from core.harmony.labels import NO_CHORD, Chord
from core.harmony.templates import QUALITY_INDEX, VOCABULARY, template_matrix
from core.music.score import Bar, NoteColumns, Score

Resolution = Literal["bar", "half", "beat"]
RESOLUTIONS: tuple[Resolution, ...] = ("bar", "half", "beat")
STEPS_PER_QUARTER = 12  # grid of the profiles: fine enough for sixteenth triplets


@dataclass(frozen=True)
class RecogniserSettings:
    """The recogniser's weights (tuned on the Bach chorale analyses, see benchmarks/chords.py)."""

    bass_weight: float = 0.0  # how much of the bass profile joins the pitch-class profile (the bonus below does better)
    root_in_bass_bonus: float = 0.08  # added to a chord whose root is the bass (times the bass share)
    change_penalty: float = 0.05  # score a chord change costs in the Viterbi pass
    quality_prior: dict[str, float] = field(
        default_factory=lambda: {
            "maj": 0.0, "min": 0.0, "dim": -0.04, "aug": -0.12, "dom7": -0.02, "maj7": -0.06,
            "min7": -0.05, "hdim7": -0.04, "dim7": -0.03, "sus4": -0.12,
        }
    )
    no_chord_score: float = 0.3  # what "no chord" scores in a frame where notes sound
    offbeat_weight: float = 0.5  # weight of what sounds in the second half of each beat (passing notes)


@dataclass(frozen=True)
class ChordSpan:
    """One chord of a piece: from ``start`` to ``end`` (ticks) starting in ``bar`` at ``beat``
    (quarter notes from the barline, counted from 1.0)."""

    bar: int
    beat: float
    start: int
    end: int
    chord: Chord

    def as_json(self) -> dict[str, object]:
        return {"bar": self.bar, "beat": self.beat, "chord": self.chord.label}


def beat_length(bar: Bar, ticks_per_quarter: int) -> int:
    """Ticks of one beat of the bar's meter: the denominator's note, or a dotted one in compound
    meters (6/8, 9/8, 12/8 count in dotted quarters)."""
    return _beat_ticks(bar.numerator, bar.denominator, ticks_per_quarter)


@lru_cache(maxsize=64)
def _beat_ticks(numerator: int, denominator: int, ticks_per_quarter: int) -> int:
    """:func:`beat_length` of a meter, kept: a piece asks it for every bar (100,000 times for the corpus)."""
    unit = Fraction(4 * ticks_per_quarter, denominator)
    if numerator % 3 == 0 and numerator > 3 and denominator >= 8:
        unit *= 3
    return max(1, round(unit))


def frame_bounds(bar: Bar, ticks_per_quarter: int, resolution: Resolution) -> list[int]:
    """Start ticks of the bar's frames (the bar's start first)."""
    if resolution == "bar":
        return [bar.start]
    beat = beat_length(bar, ticks_per_quarter)
    starts = list(range(bar.start, bar.end, beat))
    if len(starts) > 1 and bar.end - starts[-1] < beat // 2:
        starts.pop()  # a scrap shorter than half a beat joins the beat before it
    if resolution == "beat" or len(starts) < 2:
        return starts
    return [bar.start, starts[(len(starts) + 1) // 2]]


def profiles(
    score: Score, bars: Sequence[Bar], bounds: Sequence[int], offbeat_weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 12) pitch-class and bass profiles of the frames starting at ``bounds``, in the
    ``bars`` from bar 1 (the last frame ends with the last bar), in grid steps of sounding time; a
    step in the second half of a beat counts ``offbeat_weight`` (passing notes mostly sound there,
    the chord on the beat)."""
    end = bars[-1].end
    step = max(1, score.ticks_per_quarter // STEPS_PER_QUARTER)
    total_steps = -(-max(end, 1) // step) + 1
    pitch_classes = np.empty((total_steps, 12))
    any_sounding = np.empty(total_steps, bool)
    lowest = np.empty(total_steps, np.int64)
    for first, sounding in _sounding_chunks(score, step, total_steps):
        steps = slice(first, first + sounding.shape[1])
        pitch_classes[steps] = sounding.reshape(11, 12, -1).sum(axis=0, dtype=np.float64).T
        # The lowest sounding pitch: the smallest row index where sounding (a minimum down the
        # rows runs along contiguous rows; argmax down them took ~4x as long).
        lowest_row = np.where(sounding, _ROW_INDEX, np.uint8(255)).min(axis=0)
        any_sounding[steps] = lowest_row != 255
        lowest[steps] = lowest_row
    bass = np.zeros((total_steps, 12))
    bass[np.nonzero(any_sounding)[0], lowest[any_sounding] % 12] = 1.0
    weights = _beat_position_weights(score, bars, total_steps, step, offbeat_weight)
    pitch_classes *= weights[:, None]
    bass *= weights[:, None]
    step_bounds = [b // step for b in bounds] + [max(end // step, bounds[-1] // step + 1)]
    cumulative_pc = np.vstack([np.zeros((1, 12)), np.cumsum(pitch_classes, axis=0)])
    cumulative_bass = np.vstack([np.zeros((1, 12)), np.cumsum(bass, axis=0)])
    edges = np.minimum(np.asarray(step_bounds), total_steps)
    return np.diff(cumulative_pc[edges], axis=0), np.diff(cumulative_bass[edges], axis=0)


CHUNK_STEPS = 16384  # grid steps (~340 quarter notes) of the sounding grid made at a time
_ROW_INDEX = np.arange(132, dtype=np.uint8)[:, None]


def _sounding_chunks(score: Score, step: int, total_steps: int) -> Iterator[tuple[int, np.ndarray]]:
    """The grid of sounding pitches, (132, steps) booleans (132 = 11 octaves of 12: 128 pitches and
    4 that never sound), :data:`CHUNK_STEPS` steps at a time with each chunk's first step: a
    pitch sounds at a step where more of its notes have started than ended (drum tracks left out).

    Pitch-major, so that the running counts go along contiguous rows, in int32 (NumPy would count in
    int64 by default): the corpus's longest piece took 3.4 ms, against 46 ms down the columns of
    a step-major grid in int64. In chunks, because the whole grid of the 152,000-note test piece
    of ``benchmarks/open_midi.py`` is 52 MB, and each NumPy call over it held the interpreter lock
    long enough to freeze the window for ~300 ms while the chord lane recognised it."""
    tracks = [t.note_columns for t in score.tracks if not t.is_drum] or [NoteColumns.of(())]
    pitches = np.concatenate([notes.pitch for notes in tracks])
    first = np.minimum(np.concatenate([notes.start for notes in tracks]) // step, total_steps)
    ends = np.concatenate([notes.end for notes in tracks])
    last = np.minimum(np.maximum(-(-ends // step), first + 1), total_steps)
    whole = total_steps <= CHUNK_STEPS  # one chunk: every note in it, none to pick out
    carried = np.zeros(132, np.int32)  # how many notes of each pitch sound at the chunk's start
    for chunk_start in range(0, total_steps, CHUNK_STEPS):
        width = min(CHUNK_STEPS, total_steps - chunk_start)
        counts = np.zeros((132, width + 1), np.int32)  # the last column: notes ending with the piece
        for at, change in ((first, 1), (last, -1)):
            inside = slice(None) if whole else np.flatnonzero((at >= chunk_start) & (at < chunk_start + width))
            np.add.at(counts, (pitches[inside], at[inside] - chunk_start), change)
        counts[:, 0] += carried
        np.cumsum(counts, axis=1, dtype=np.int32, out=counts)
        carried = counts[:, width - 1].copy()
        yield chunk_start, counts[:, :width] > 0


def _beat_position_weights(score: Score, bars: Sequence[Bar], total_steps: int, step: int, offbeat_weight: float) -> np.ndarray:
    """(steps,) weight of each grid step: 1 in the first half of a beat, ``offbeat_weight`` after.
    ``bars`` run from bar 1; the bars after them that the steps reach are added."""
    if offbeat_weight == 1.0:
        return np.ones(total_steps)
    bars = list(bars)
    while bars[-1].end < total_steps * step:
        bars.append(score.bar(bars[-1].number + 1))
    starts = np.array([bar.start for bar in bars])
    beats = np.array([beat_length(bar, score.ticks_per_quarter) for bar in bars])
    times = np.arange(total_steps) * step
    # Each step belongs to the last bar whose first step it is at or after (a step that two bars
    # share goes to the later one).
    owner = np.searchsorted(starts // step, np.arange(total_steps), side="right") - 1
    into_beat = (times - starts[owner]) % beats[owner]
    return np.where(into_beat < beats[owner] / 2, 1.0, offbeat_weight)


def _unit_templates() -> np.ndarray:
    templates = template_matrix()
    return templates / np.maximum(np.linalg.norm(templates, axis=1), 1e-9)[:, None]


_UNIT_TEMPLATES = _unit_templates()  # each chord's template scaled to length 1 (no chord: zeros)
_ROOTS = np.array([chord.root for chord in VOCABULARY[1:]])  # every chord but "no chord" (index 0) has a root


def chord_scores(pitch_profile: np.ndarray, bass_profile: np.ndarray, settings: RecogniserSettings) -> np.ndarray:
    """(frames, len(VOCABULARY)) score of each chord in each frame (higher fits better)."""
    totals = pitch_profile.sum(axis=1, keepdims=True)
    bass_totals = bass_profile.sum(axis=1, keepdims=True)
    silent = totals[:, 0] == 0
    pcp = pitch_profile / np.maximum(totals, 1e-9)
    bass = bass_profile / np.maximum(bass_totals, 1e-9)
    weighted = pcp + settings.bass_weight * bass
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)
    scores = (weighted / np.maximum(norms, 1e-9)) @ _UNIT_TEMPLATES.T
    priors = np.array([settings.quality_prior[chord.quality] for chord in VOCABULARY[1:]])  # index 0: no chord
    scores[:, 1:] += settings.root_in_bass_bonus * bass[:, _ROOTS] + priors
    scores[:, 0] = settings.no_chord_score
    scores[silent] = 0.0
    scores[silent, 0] = 1.0
    return scores


def viterbi(scores: np.ndarray, change_penalty: float) -> np.ndarray:
    """The chord index of each frame that maximises the summed scores minus ``change_penalty`` per change."""
    frames, states = scores.shape
    if frames == 0:
        return np.zeros(0, np.int64)
    # Each frame, a state either stays (its own best so far) or switches from the leading state
    # (the leader's best minus the penalty), whichever is higher; kept per frame: which states
    # stayed, and the leader the others came from. Five NumPy calls a frame, in place.
    best = scores[0].copy()
    stayed = np.zeros((frames, states), bool)
    leaders = np.zeros(frames, np.int64)
    for frame in range(1, frames):
        leader = best.argmax()
        switch = best[leader] - change_penalty
        np.greater_equal(best, switch, out=stayed[frame])
        np.maximum(best, switch, out=best)
        best += scores[frame]
        leaders[frame] = leader
    path = np.zeros(frames, np.int64)
    path[-1] = int(np.argmax(best))
    for frame in range(frames - 1, 0, -1):
        path[frame - 1] = path[frame] if stayed[frame, path[frame]] else leaders[frame]
    return path


def recognise_frames(
    score: Score, resolution: Resolution = "half", settings: RecogniserSettings | None = None
) -> list[ChordSpan]:
    """The chord of every frame of the piece, one :class:`ChordSpan` per frame (not merged)."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution {resolution!r} is not one of {RESOLUTIONS}")
    settings = settings or RecogniserSettings()
    bars = score.bars()
    if not bars:
        return []
    starts: list[tuple[Bar, int]] = []
    for bar in bars:
        starts += [(bar, tick) for tick in frame_bounds(bar, score.ticks_per_quarter, resolution)]
    bounds = [tick for _, tick in starts]
    end = bars[-1].end
    pitch_profile, bass_profile = profiles(score, bars, bounds, settings.offbeat_weight)
    path = viterbi(chord_scores(pitch_profile, bass_profile, settings), settings.change_penalty)
    spans = []
    for index, ((bar, tick), state) in enumerate(zip(starts, path)):
        frame_end = bounds[index + 1] if index + 1 < len(bounds) else end
        beat = 1.0 + (tick - bar.start) / score.ticks_per_quarter
        spans.append(ChordSpan(bar.number, round(beat, 4), tick, frame_end, VOCABULARY[int(state)]))
    return spans


def recognise_chords(
    score: Score, resolution: Resolution = "half", settings: RecogniserSettings | None = None
) -> list[ChordSpan]:
    """The chords of the piece: one span at every barline, and another wherever the chord changes
    inside a bar (at a half bar, or a beat with ``resolution="beat"``)."""
    merged: list[ChordSpan] = []
    for span in recognise_frames(score, resolution, settings):
        previous = merged[-1] if merged else None
        if previous is not None and previous.bar == span.bar and previous.chord == span.chord:
            merged[-1] = ChordSpan(previous.bar, previous.beat, previous.start, span.end, previous.chord)
        else:
            merged.append(span)
    return merged


def chord_at(spans: Sequence[ChordSpan], tick: int) -> Chord:
    """The chord sounding at ``tick`` (no chord outside the spans). ``spans`` in time order."""
    return chords_at(spans, [tick])[0]


def chords_at(spans: Sequence[ChordSpan], ticks: Sequence[int]) -> list[Chord]:
    """:func:`chord_at` of each of ``ticks``, with one search of the spans for them all."""
    starts = np.fromiter((span.start for span in spans), np.int64, len(spans))
    ends = np.fromiter((span.end for span in spans), np.int64, len(spans))
    wanted = np.asarray(ticks, np.int64)
    index = np.searchsorted(starts, wanted, side="right") - 1
    inside = (index >= 0) & (wanted < ends[np.maximum(index, 0)]) if len(spans) else np.zeros(len(wanted), bool)
    return [spans[i].chord if hit else NO_CHORD for i, hit in zip(index.tolist(), inside.tolist())]


__all__ = ["ChordSpan", "RecogniserSettings", "RESOLUTIONS", "chord_at", "chords_at", "recognise_chords", "recognise_frames", "QUALITY_INDEX"]
