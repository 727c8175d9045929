"""Reconstruction: an overfit model gives its bar back; accuracy counts per property."""

import numpy as np

from core.generation import reconstruct
from core.generation.reconstruction import accuracy
from core.representation.events import EventArrays
from tests.core.generation.helpers import encoded, overfit, random_model, two_bars


def test_an_overfit_model_reconstructs_its_bars():
    score = two_bars()
    model = overfit([encoded(score)], use_context=True)
    for bar in (1, 2):
        result = reconstruct(model, score, bar)
        assert result.decoded.equals(result.original)
        assert result.accuracy == {name: 1.0 for name in ("offset", "duration", "pitch", "instrument", "velocity", "event")}
        pair = result.pair()
        length = score.bar(1).length
        original = sorted(n for t in pair.tracks for n in t.notes if n.start < length)
        again = sorted(n._replace(start=n.start - length) for t in pair.tracks for n in t.notes if n.start >= length)
        assert original == again
    assert "100.0%" in result.describe()


def test_an_untrained_model_does_not():
    result = reconstruct(random_model(seed=1), two_bars(), 1)
    assert result.accuracy["event"] < 1.0


def _events(offsets, pitches):
    n = len(offsets)
    pitch = np.array(pitches)
    return EventArrays(
        offset=np.array(offsets), duration=np.where(pitch >= 0, 12, 0), pitch=pitch, instrument=np.where(pitch >= 0, 0, -1),
        beat=np.zeros(n), velocity=np.where(pitch >= 0, 3, -1), is_pause=pitch < 0,
        active_pitches=np.zeros((n, 96), bool), active_instruments=np.zeros((n, 23), bool),
    )  # fmt: skip


def test_accuracy_counts_matching_steps_over_the_original_length():
    original = _events([0, 12, 12, 12], [40, 42, 44, -1])
    shorter = _events([0, 12, 6], [40, 41, 44])
    scores = accuracy(original, shorter)
    assert scores["offset"] == 0.5  # two of four steps
    assert scores["pitch"] == 0.5
    assert scores["event"] == 0.25
    assert accuracy(original, original)["event"] == 1.0  # a pause matches a pause
