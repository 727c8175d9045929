"""The chord recogniser on chords whose answer is known: every quality, inversions, passing notes."""

from __future__ import annotations

import numpy as np
import pytest

from core.harmony.labels import NO_CHORD, QUALITIES, Chord
from core.harmony.recogniser import (
    STEPS_PER_QUARTER, RecogniserSettings, _beat_position_weights, beat_length, chord_at, chords_at, recognise_chords,
    recognise_frames, viterbi,
)
from core.music.score import Note, Score, TimeSignature, Track
from tests.core.harmony.chord_scores import BAR, TICKS, block_chords, voiced


@pytest.mark.parametrize("quality", QUALITIES)
def test_each_quality_in_root_position_on_every_root(quality: str):
    chords = [Chord(root, quality) for root in range(12)]
    spans = recognise_chords(block_chords([voiced(chord) for chord in chords]), "bar")
    assert [span.chord for span in spans] == chords
    assert [(span.bar, span.beat) for span in spans] == [(n, 1.0) for n in range(1, 13)]


# aug and dim7 divide the octave evenly: in inversion their bass note is as much a root as any.
# A major seventh over its third is as much a minor triad over a bass (E-G-B over C).
@pytest.mark.parametrize(
    ("quality", "inversion"),
    [(q, i) for q in ("maj", "min", "dim", "sus4") for i in (1, 2)]
    + [(q, i) for q in ("dom7", "min7", "hdim7") for i in (1, 2, 3)] + [("maj7", 2), ("maj7", 3)],
)
def test_inversions_keep_the_root(quality: str, inversion: int):
    chords = [Chord(root, quality) for root in (0, 4, 9)]
    spans = recognise_chords(block_chords([voiced(chord, inversion) for chord in chords]), "bar")
    assert [span.chord for span in spans] == chords


def test_symmetric_chords_take_the_bass_as_root():
    spans = recognise_chords(block_chords([voiced(Chord(0, "dim7"), 1)]), "bar")
    assert spans[0].chord == Chord(3, "dim7")


def _c_major_with_passing_melody() -> Score:
    """Two bars: C and G held in the bass, and a melody in eighths E F G F | E D C D whose F and D
    pass between chord tones on the off-beats."""
    held = [Note(0, 2 * BAR, 36, 80), Note(0, 2 * BAR, 55, 80)]
    melody = [64, 65, 67, 65, 64, 62, 60, 62] * 2
    eighth = TICKS // 2
    notes = held + [Note(i * eighth, eighth, pitch, 80) for i, pitch in enumerate(melody)]
    return Score(TICKS, (Track("piano", notes=tuple(notes)),), time_signatures=(TimeSignature(0, 4, 4),))


def test_passing_notes_do_not_flip_the_chord():
    score = _c_major_with_passing_melody()
    for resolution in ("beat", "half", "bar"):
        frames = recognise_frames(score, resolution)
        assert {frame.chord for frame in frames} == {Chord(0, "maj")}, resolution
    # Without the off-beat weighting and the Viterbi penalty, the same notes do flip some beats:
    # the smoothing is what holds the chord.
    raw = recognise_frames(score, "beat", RecogniserSettings(change_penalty=0.0, offbeat_weight=1.0))
    assert {frame.chord for frame in raw} != {Chord(0, "maj")}


def test_a_real_change_at_the_half_bar_is_kept_and_listed():
    score = block_chords([voiced(Chord(0, "maj")), voiced(Chord(7, "dom7")), voiced(Chord(9, "min"))], length=BAR // 2)
    spans = recognise_chords(score, "half")
    assert [(s.bar, s.beat, s.chord.label) for s in spans] == [(1, 1.0, "C:maj"), (1, 3.0, "G:dom7"), (2, 1.0, "A:min"), (2, 3.0, "N")]
    assert chord_at(spans, BAR // 2 + 5) == Chord(7, "dom7")
    assert spans[-1].end == 2 * BAR


def test_chords_at_many_ticks_are_those_found_one_at_a_time():
    score = block_chords([voiced(Chord(0, "maj")), voiced(Chord(7, "dom7")), voiced(Chord(9, "min"))], length=BAR // 2)
    spans = recognise_chords(score, "half")
    ticks = [-1, 0, 5, BAR // 2 - 1, BAR // 2, BAR, 2 * BAR - 1, 2 * BAR, 10 * BAR]
    assert chords_at(spans, ticks) == [NO_CHORD, Chord(0, "maj"), Chord(0, "maj"), Chord(0, "maj"), Chord(7, "dom7"),
                                       Chord(9, "min"), NO_CHORD, NO_CHORD, NO_CHORD]  # fmt: skip
    assert chords_at(spans, ticks) == [chord_at(spans, tick) for tick in ticks]
    assert chords_at([], [0, 5]) == [NO_CHORD, NO_CHORD]


def test_off_beat_weights_follow_each_bar_of_a_changing_meter():
    """The weight of every grid step, against a walk of the bars: 1 in the first half of each beat,
    the off-beat weight after; 3/4, then 6/8 (beats of dotted quarters) from a barline, then a bar
    of 5/8 cut short by a change of meter inside it."""
    score = Score(TICKS, (Track("p", notes=(Note(0, 9 * TICKS, 60, 80),)),), time_signatures=(
        TimeSignature(0, 3, 4), TimeSignature(3 * TICKS, 6, 8), TimeSignature(6 * TICKS, 5, 8), TimeSignature(8 * TICKS, 4, 4),
    ))  # fmt: skip
    step = TICKS // STEPS_PER_QUARTER
    total = 9 * TICKS // step + 1
    expected = []
    for index in range(total):
        bar = score.bar_at(index * step)
        beat = beat_length(bar, TICKS)
        expected.append(1.0 if (index * step - bar.start) % beat < beat / 2 else 0.25)
    assert _beat_position_weights(score, score.bars()[:1], total, step, 0.25).tolist() == expected


def test_the_sounding_grid_made_in_chunks_gives_the_profiles_made_whole(monkeypatch):
    """Notes across chunk edges, overlapping notes of one pitch, a drum track left out: the profiles
    from chunks of 7 grid steps are those from one chunk."""
    import core.harmony.recogniser as recogniser

    rng = np.random.default_rng(3)
    notes = tuple(Note(int(s), int(d), int(p), 80) for s, d, p in zip(
        rng.integers(0, 8 * BAR, 300), rng.integers(1, BAR, 300), rng.integers(30, 90, 300)))  # fmt: skip
    drums = Track("drums", 0, 9, (Note(0, 8 * BAR, 36, 90),))
    score = Score(TICKS, (Track("p", notes=notes), drums), time_signatures=(TimeSignature(0, 4, 4),))
    bars, bounds = score.bars(until_tick=9 * BAR), [bar * BAR // 2 for bar in range(18)]
    whole = recogniser.profiles(score, bars, bounds, 0.5)
    monkeypatch.setattr(recogniser, "CHUNK_STEPS", 7)
    chunked = recogniser.profiles(score, bars, bounds, 0.5)
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))
    assert whole[0].sum() > 0 and whole[1].sum() > 0


def test_silence_is_no_chord_and_three_four_has_its_own_half_bar():
    score = block_chords([voiced(Chord(2, "min")), [], voiced(Chord(5, "maj"))], length=3 * TICKS, meter=(3, 4))
    spans = recognise_chords(score, "half")
    assert [(s.bar, s.chord) for s in spans] == [(1, Chord(2, "min")), (2, NO_CHORD), (3, Chord(5, "maj"))]
    frames = recognise_frames(score, "half")
    assert [f.beat for f in frames[:2]] == [1.0, 3.0]  # 3/4 splits after two beats


def test_drum_tracks_are_left_out():
    drums = Track("kit", 0, 9, tuple(Note(i * TICKS, TICKS, 37 + i, 90) for i in range(4)))
    chord = Track("piano", notes=tuple(Note(0, BAR, p, 80) for p in voiced(Chord(10, "maj"))))
    score = Score(TICKS, (drums, chord), time_signatures=(TimeSignature(0, 4, 4),))
    assert recognise_chords(score, "bar")[0].chord == Chord(10, "maj")


def test_viterbi_keeps_a_state_through_a_blip_smaller_than_two_changes():
    scores = np.array([[1.0, 0.0], [0.45, 0.5], [1.0, 0.0]])
    assert viterbi(scores, change_penalty=0.1).tolist() == [0, 0, 0]
    assert viterbi(scores, change_penalty=0.0).tolist() == [0, 1, 0]
