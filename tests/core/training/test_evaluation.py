"""core.training.evaluation: free-running figures come from the app's sampler, compared step by step."""

import numpy as np
import torch

from core.training import evaluation
from core.model.batching import PairSet
from core.training.evaluation import _compare, evaluate
from core.generation.sampler import Sampler
from core.model.network import MahlerNet, NetworkConfig
from core.representation.events import N_INSTRUMENTS, N_PITCHES, EventArrays
from tests.core.synthetic import random_pieces


def bar(offsets, durations, pitches) -> EventArrays:
    n = len(offsets)
    pitch = np.array(pitches)
    return EventArrays(
        offset=np.array(offsets), duration=np.array(durations), pitch=pitch, instrument=np.where(pitch >= 0, 3, -1),
        beat=np.zeros(n, int), velocity=np.where(pitch >= 0, 4, -1), is_pause=pitch < 0,
        active_pitches=np.zeros((n, N_PITCHES), bool), active_instruments=np.zeros((n, N_INSTRUMENTS), bool),
    )  # fmt: skip


def test_steps_are_compared_in_place_notes_only_for_pitch_and_missing_steps_are_wrong():
    original = bar([0, 6, 6, 12], [6, 6, 6, 0], [60, 64, -1, -1])  # two notes, then two pauses
    decoded = bar([0, 6], [6, 12], [60, 65])  # closed the bar early, second pitch one semitone off
    counts = {name: np.zeros(4) for name in ("offset", "duration", "pitch", "instrument")}
    _compare(original, decoded, counts)
    assert counts["offset"].tolist() == [2, 4, 0, 2]  # two steps reached and right, two missing
    assert counts["duration"].tolist() == [1, 4, 6, 2]
    assert counts["pitch"].tolist() == [1, 2, 1, 2]  # over the two notes only; distance 1 semitone
    assert counts["instrument"].tolist() == [2, 2, 0, 2]


def test_evaluate_decodes_free_running_bars_through_the_sampler(monkeypatch):
    torch.manual_seed(0)
    model = MahlerNet(NetworkConfig(encoder_layers=1, encoder_size=8, decoder_layers=1, decoder_size=8, z_dim=4)).eval()
    pairs = PairSet(random_pieces(2, bars=4, seed=1))
    rows = []
    original = Sampler.decode

    def spy(self, state, plans, carry, streams, *args, **kwargs):
        rows.append(len(plans))
        assert self.controls.temperatures.as_tuple() == (0.0,) * 5 and self.controls.clamp_ranges
        return original(self, state, plans, carry, streams, *args, **kwargs)

    monkeypatch.setattr(Sampler, "decode", spy)
    report = evaluate(model, pairs, pairs.pairs, batch_size=4)
    assert sum(rows) == len(pairs.pairs) == report["bars"]
    for entry in report["properties"].values():
        assert 0 <= entry["free_running_accuracy"] <= 1
    rows.clear()
    evaluate(model, pairs, pairs.pairs, batch_size=4, free=False)
    assert rows == [] and evaluation.Sampler is Sampler
