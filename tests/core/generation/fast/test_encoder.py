"""The fast encoders are the network's encoders, regrouped: same summaries."""

import numpy as np
import pytest
import torch

from core.generation.bars import event_batch
from core.generation.fast.encoder import fast_encoder
from core.representation.events import EventArrays
from tests.core.generation.helpers import random_model


def _events(length: int, seed: int, velocity: bool = True) -> EventArrays:
    """``length`` random events (some pauses, some off-grid beats) in the representation's classes."""
    rng = np.random.default_rng(seed)
    pause = rng.random(length) < 0.2

    def column(high: int, none_where: np.ndarray) -> np.ndarray:
        return np.where(none_where, -1, rng.integers(0, high, length))

    return EventArrays(
        offset=rng.integers(0, 60, length),
        duration=np.where(pause, 0, rng.integers(1, 60, length)),
        pitch=column(96, pause),
        instrument=column(23, pause),
        beat=column(8, rng.random(length) < 0.3),
        velocity=column(8, pause | (not velocity)),
        is_pause=pause,
        active_pitches=rng.random((length, 96)) < 0.05,
        active_instruments=rng.random((length, 23)) < 0.1,
    )


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("velocity", [True, False])
def test_summaries_equal_the_network_encoders(layers, velocity):
    model = random_model(encoder_layers=layers, use_velocity=velocity)
    with torch.no_grad():
        for encoder in (model.context_encoder, model.input_encoder):
            encoder.initial.normal_()  # trained initial states are not zero
    bars = [_events(length, seed, velocity) for seed, length in enumerate([9, 1, 5, 0])]
    with torch.inference_mode():
        context = event_batch(bars, [False, True, True, True])  # different lengths, START tokens
        expected = model.encode_context(context)
        fast = fast_encoder(model.context_encoder, velocity, start=True)
        torch.testing.assert_close(fast.summaries(context), expected, atol=1e-5, rtol=1e-5)
        single = event_batch(bars[:1], [False])  # batch 1 takes the one-row products
        torch.testing.assert_close(fast.summaries(single), model.encode_context(single), atol=1e-5, rtol=1e-5)

        bar, its_context = event_batch(bars[:3], [False] * 3), expected[:3]
        mu, logvar = model.encode_input(bar, its_context)
        fast_input = fast_encoder(model.input_encoder, velocity, start=False)
        fast_mu, fast_logvar = model.latent(fast_input.summaries(bar), its_context)
        torch.testing.assert_close(fast_mu, mu, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(fast_logvar, logvar, atol=1e-5, rtol=1e-5)


def test_encoder_tables_follow_new_weights():
    model = random_model()
    encoder = model.context_encoder
    first = fast_encoder(encoder, True, start=True)
    assert fast_encoder(encoder, True, start=True) is first
    with torch.no_grad():
        encoder.forward_lstm.bias_ih_l0.add_(1.0)
    assert fast_encoder(encoder, True, start=True) is not first


def test_a_small_batch_of_uneven_rows_gives_each_row_exactly_its_summary_alone():
    model = random_model(seed=3)
    fast = fast_encoder(model.context_encoder, True, start=True)
    bars = [_events(length, 10 + seed) for seed, length in enumerate([3, 11, 0, 7])]  # padded to 12 steps
    starts = [True, False, True, False]
    together = fast.summaries(event_batch(bars, starts)).numpy()
    for row, (bar, start) in enumerate(zip(bars, starts)):
        alone = fast.summaries(event_batch([bar], [start])).numpy()
        assert np.array_equal(together[row], alone[0])


@pytest.mark.parametrize("layers", [1, 2])
def test_a_large_batch_takes_one_product_per_step_and_matches_the_network(layers):
    model = random_model(encoder_layers=layers)
    bars = [_events(length, seed) for seed, length in enumerate([9, 1, 5, 0, 12, 3, 7])]
    with torch.inference_mode():
        batch = event_batch(bars, [seed % 2 == 0 for seed in range(len(bars))])
        fast = fast_encoder(model.context_encoder, True, start=True)
        torch.testing.assert_close(fast.summaries(batch), model.encode_context(batch), atol=1e-5, rtol=1e-5)
