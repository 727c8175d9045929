"""Scheduled sampling: the schedule, and beats/active notes recomputed from mixed events."""

import math

import torch

from core.model.batching import PairSet
from core.model.network import MahlerNet, NetworkConfig
from core.training.scheduled_sampling import mix, recompute_context, sampling_probability
from tests.core.synthetic import random_pieces

TINY = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16, z_dim=4)


def test_inverse_sigmoid_schedule_of_musicvae():
    k = 200.0
    assert sampling_probability(0, k) == 1 - k / (k + 1)
    assert math.isclose(sampling_probability(1000, k), 1 - k / (k + math.exp(5.0)))
    values = [sampling_probability(s, k) for s in range(0, 5000, 100)]
    assert values == sorted(values) and values[-1] > 0.99
    assert sampling_probability(10**6, k, ceiling=0.4) == 0.4
    assert sampling_probability(500, 0) == 0.0


def test_recomputing_true_events_gives_back_the_stored_beats_and_active_sets():
    pairs = PairSet(random_pieces(6, bars=10, seed=4))
    batch = pairs.collate(pairs.pairs)
    bar = batch.bar
    columns = {name: getattr(bar, name) for name in ("offset", "duration", "pitch", "instrument", "velocity")}
    again = recompute_context(bar, columns, batch.bar_length)
    assert torch.equal(again.beat, bar.beat)
    assert torch.equal(again.active_pitches, bar.active_pitches)
    assert torch.equal(again.active_instruments, bar.active_instruments)


def setup_mix():
    torch.manual_seed(0)
    pairs = PairSet(random_pieces(6, bars=10, seed=5))
    batch = pairs.collate(pairs.pairs[:24])
    model = MahlerNet(TINY)
    context = model.encode_context(batch.context)
    mu, _ = model.encode_input(batch.bar, context)
    top, _ = model.decode(model.previous_rows(batch.previous), model.initial_state(mu, context))
    return model, top, batch


def test_probability_zero_changes_nothing():
    model, top, batch = setup_mix()
    mixed = mix(model, top, batch, 0.0)
    for name in ("offset", "pitch", "beat", "velocity", "active_pitches", "active_instruments"):
        assert torch.equal(getattr(mixed.previous, name), getattr(batch.previous, name)), name
    assert torch.equal(mixed.chain_beat, batch.chain_beat)


def test_sampled_inputs_have_consistent_beats_and_sounding_notes():
    model, top, batch = setup_mix()
    mixed = mix(model, top, batch, 1.0)
    valid = batch.bar.mask
    assert (mixed.previous.offset != batch.previous.offset)[valid].float().mean() > 0.5
    assert torch.equal(mixed.bar.offset, batch.bar.offset)  # targets stay true
    # Whatever was sampled, input beats follow the onsets of the input events themselves.
    inputs = mixed.previous
    rows = {name: torch.cat([getattr(inputs, name)[:, 1:], torch.full_like(getattr(inputs, name)[:, :1], -1)], 1)
            for name in ("offset", "duration", "pitch", "instrument", "velocity")}  # fmt: skip
    again = recompute_context(batch.bar.replace(**rows), rows, batch.bar_length)
    inner = (torch.arange(valid.shape[1]) < (batch.bar.lengths - 1).unsqueeze(1))[:, :-1]  # events fed as inputs
    assert torch.equal(again.beat[:, :-1][inner], inputs.beat[:, 1:][inner])
    pauses = mixed.previous.pitch < 0
    assert torch.all(mixed.previous.instrument[pauses] == -1)
