"""Humanize: micro-timing and dynamics that keep every pitch and the order of the notes, leave the
composer's bars alone when asked, and scale with the strength."""

import numpy as np
import pytest

from core.audio.humanize import HumanizeModel, Performance, humanize, strength_of
from core.errors import AudioError
from core.music.score import Note, Score, TempoChange, TimeSignature, Track


def song(bars: int = 8) -> Score:
    # a sixteenth-note melody over three-note chords on every beat (120 bpm, 4/4)
    melody = tuple(Note(i * 120, 120, 72 + (i * 5) % 12, 80) for i in range(bars * 16))
    chords = tuple(Note(b * 480, 480, p, 64) for b in range(bars * 4) for p in (48, 55, 64))
    tracks = (Track("Right", 0, 0, melody), Track("Left", 0, 1, chords))
    return Score(480, tracks, (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))


def order(score: Score) -> list[tuple[int, int]]:
    """(original rank of the onset, pitch) of every note in the order it sounds."""
    notes = sorted((n.start, t, n.pitch) for t, track in enumerate(score.tracks) for n in track.notes)
    return [(t, p) for _, t, p in notes]


def test_pitches_and_the_order_of_onsets_are_kept():
    original = song()
    played = humanize(original, 1.0, seed=3)
    for before, after in zip(original.tracks, played.tracks):
        assert [n.pitch for n in before.notes] == [n.pitch for n in after.notes]
        starts = [n.start for n in after.notes]
        assert starts == sorted(starts)
    pairs = [(a.start, b.start) for t in range(2) for a, b in zip(original.tracks[t].notes, played.tracks[t].notes)]
    for (a0, a1), (b0, b1) in zip(pairs, pairs[1:]):
        if a0 < b0:
            assert a1 <= b1  # a note that came first still comes first
    moved = [abs(b - a) for a, b in pairs]
    assert max(moved) > 0 and max(moved) <= 0.4 * 120 + 1  # within 40% of a sixteenth


def test_timing_and_velocity_deviations_follow_the_model():
    original = song(16)
    played = humanize(original, 1.0, seed=1)
    ms_per_tick = 500 / 480
    melody = np.array([(b.start - a.start) * ms_per_tick for a, b in zip(original.tracks[0].notes, played.tracks[0].notes)])
    on_beat = melody[::4]  # the melody is the top of a chord on each beat: it leads by about 20 ms
    off_beat = np.delete(melody, np.s_[::4])
    assert -30 < on_beat.mean() < -10 and abs(off_beat.mean()) < 5
    assert 4 < off_beat.std() < 16  # about 10 ms of jitter (clipped to the gap)
    velocity = np.array([n.velocity for n in played.tracks[0].notes])
    assert velocity[::16].mean() > velocity[2::4].mean() + 4  # downbeats louder than the offbeat sixteenths
    assert velocity.min() >= 1 and velocity.max() <= 127


def test_strength_scales_and_zero_changes_nothing():
    original = song()
    assert humanize(original, 0.0) is original
    half = humanize(original, 0.5, seed=2)
    full = humanize(original, 1.0, seed=2)

    def spread(played):
        return np.mean([abs(b.velocity - a.velocity) for a, b in zip(original.tracks[1].notes, played.tracks[1].notes)])

    assert 0 < spread(half) < spread(full)
    assert humanize(original, 0.5, seed=2) == half  # seeded: the same performance again
    assert strength_of(50) == 0.5 and strength_of(250) == 1.0 and strength_of(-3) == 0.0


def test_notes_outside_the_range_asked_are_left_alone():
    original = song()
    played = humanize(original, 1.0, seed=4, within=(4 * 1920, 8 * 1920))
    for before, after in zip(original.tracks, played.tracks):
        kept = [n for n in before.notes if n.start < 4 * 1920]
        assert list(after.notes[: len(kept)]) == kept
        assert [n for n in after.notes if n.start >= 4 * 1920] != [n for n in before.notes if n.start >= 4 * 1920]


def test_repeated_notes_never_overlap_and_bad_strengths_are_refused():
    legato = Score(480, (Track("P", 0, 0, tuple(Note(i * 240, 240, 60, 70) for i in range(32))),), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))
    played = humanize(legato, 1.0, seed=5, model=HumanizeModel(jitter_ms=40.0))
    notes = played.tracks[0].notes
    assert all(a.end <= b.start for a, b in zip(notes, notes[1:]))
    with pytest.raises(AudioError, match="humanize strength 1.5: use 0 to 1"):
        humanize(legato, 1.5)


def deviations(original: Score, played: Score) -> tuple[float, float]:
    """Mean absolute change of velocity and of onset (ticks) over every note."""
    pairs = [(a, b) for t0, t1 in zip(original.tracks, played.tracks) for a, b in zip(t0.notes, t1.notes)]
    return (float(np.mean([abs(b.velocity - a.velocity) for a, b in pairs])), float(np.mean([abs(b.start - a.start) for a, b in pairs])))


def test_an_export_performance_is_as_written_at_zero_and_moves_by_the_asked_amount():
    original = song(16)
    assert Performance().apply(original) is original  # 0%: the very score, so the export is unchanged
    assert Performance(0.0, (2, 3)).apply(original) is original
    full = deviations(original, Performance(1.0).apply(original))
    for strength in (0.3, 0.6):
        played = Performance(strength).apply(original)
        for before, after in zip(original.tracks, played.tracks):
            assert [n.pitch for n in before.notes] == [n.pitch for n in after.notes]
            assert [n.start for n in after.notes] == sorted(n.start for n in after.notes)
        velocity, timing = deviations(original, played)
        assert velocity == pytest.approx(strength * full[0], rel=0.15)  # rounding to whole velocities and ticks
        assert timing == pytest.approx(strength * full[1], rel=0.15)


def test_an_export_performance_of_some_bars_leaves_the_others_as_written():
    original = song(8)
    played = Performance(1.0, (3, 4)).apply(original)
    inside = (original.bar(3).start, original.bar(4).end)
    assert played == humanize(original, 1.0, within=inside)
    for before, after in zip(original.tracks, played.tracks):
        outside = [(a, b) for a, b in zip(before.notes, after.notes) if not inside[0] <= a.start < inside[1]]
        assert outside and all(a == b for a, b in outside)
    with pytest.raises(AudioError, match="humanize strength 2: use 0 to 1"):
        Performance(2.0)
    with pytest.raises(AudioError, match="humanize bars 4-3"):
        Performance(0.5, (4, 3))
