"""The C-VAE: shapes, masks, train/eval behaviour, padding-free batch norm and step-wise decoding."""

import dataclasses
import math

import pytest

import torch

from core.model.batching import PairSet
from core.model.features import step_width
from core.model.network import MASKED, MahlerNet, NetworkConfig, masked_moments
from core.model.objective import kl_divergence, loss_denominators, losses
from tests.core.synthetic import random_pieces

TINY = NetworkConfig(encoder_layers=1, encoder_size=24, decoder_layers=2, decoder_size=32, z_dim=8)


def batch_of(count=12, context_bars=1, seed=0):
    pairs = PairSet(random_pieces(4, bars=8, seed=seed), context_bars=context_bars)
    return pairs.collate(pairs.pairs[:count])


def test_paper_configuration_has_the_original_size():
    model = MahlerNet(NetworkConfig(use_velocity=False))
    assert abs(model.parameter_count() - 23.0e6) < 0.1e6  # spec 7.14: about 23.0 M
    assert model.decoder.input_size == 1902  # 366 + 1024 + 512 (spec 3.4)
    assert model.mu.in_features == 2048


def test_shapes_of_every_property():
    torch.manual_seed(0)
    batch = batch_of()
    model = MahlerNet(TINY)
    outputs = model(batch)
    steps = batch.bar.offset.shape[1]
    expected = {"offset": 60, "duration": 60, "pitch": 96, "instrument": 23, "velocity": 8}
    assert {k: tuple(v.shape) for k, v in outputs.logits.items()} == {k: (12, steps, n) for k, n in expected.items()}
    assert outputs.mu.shape == outputs.logvar.shape == outputs.z.shape == (12, 8)
    no_velocity = MahlerNet(dataclasses.replace(TINY, use_velocity=False, use_context=False))
    assert set(no_velocity(batch).logits) == {"offset", "duration", "pitch", "instrument"}
    assert no_velocity.context_encoder is None


def test_next_step_mask_forbids_pauses_on_chord_members():
    model = MahlerNet(TINY)
    h = torch.randn(5, 32)
    offset = torch.tensor([0, 0, 6, 12, 0])
    logits = model.duration_logits(h, offset, torch.zeros(5, dtype=torch.long))
    probabilities = torch.softmax(logits, -1)
    assert torch.all(probabilities[offset == 0, 0] == 0)
    assert torch.all(probabilities[offset != 0, 0] > 0)
    off = MahlerNet(dataclasses.replace(TINY, next_step_mask=False))
    assert torch.all(torch.softmax(off.duration_logits(h, offset, offset * 0), -1)[:, 0] > 0)


def test_same_step_mask_keeps_chords_ascending():
    model = MahlerNet(dataclasses.replace(TINY, same_step_mask=True))
    h = torch.randn(3, 32)
    offset, previous = torch.tensor([0, 6, 0]), torch.tensor([40, 40, -1])
    logits = model.pitch_logits(h, offset, offset * 0, torch.full((3,), 12), previous)
    assert torch.all(logits[0, :40] < MASKED / 2) and torch.all(logits[0, 40:] > MASKED / 2)
    assert torch.all(logits[1:] > MASKED / 2)  # not a chord member / nothing below to forbid


def test_dropout_obeys_train_and_eval():
    batch = batch_of()
    model = MahlerNet(dataclasses.replace(TINY, encoder_dropout=0.5, decoder_dropout=0.5, z_dropout=0.5))
    model.eval()
    first = model(batch, sample=False).logits["pitch"]
    second = model(batch, sample=False).logits["pitch"]
    assert torch.equal(first, second)
    model.train()
    third = model(batch, sample=False).logits["pitch"]
    assert not torch.allclose(first, third)


def test_log_variance_is_free_and_kl_sums_over_dimensions():
    model = MahlerNet(TINY)
    with torch.no_grad():
        model.logvar.bias.fill_(-3.0)
    _, logvar = model.encode_input(batch_of().bar, model.encode_context(batch_of().context))
    assert torch.all(logvar < 0)  # sigma^2 < 1 is possible (the original floored it at 1)
    mu, logvar = torch.ones(2, 8), torch.zeros(2, 8)
    assert torch.allclose(kl_divergence(mu, logvar), torch.full((2,), 4.0))  # 8 dims x 0.5


def test_free_bits_zero_the_kl_below_the_threshold():
    torch.manual_seed(0)
    batch = batch_of()
    model = MahlerNet(TINY)
    outputs = model(batch)
    plain, _ = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 0.0, 0.0)
    free, _ = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 1.0, 1e6)
    assert torch.allclose(plain, free)


def test_the_loss_divides_by_the_denominators_it_is_given():
    torch.manual_seed(0)
    batch = batch_of()
    outputs = MahlerNet(TINY)(batch)
    own = loss_denominators(batch, TINY.properties)
    assert own[-1] == len(batch.bar.lengths) and own[0] == batch.bar.mask.sum()  # offsets: every valid step
    plain, statistics = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 0.5, 0.0)
    given, _ = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 0.5, 0.0, denominators=own)
    assert torch.equal(plain, given)
    # Twice the counts (a global batch of two such shares): half of this share's loss.
    halved, same_statistics = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 0.5, 0.0, denominators=2 * own)
    assert torch.allclose(halved, plain / 2) and torch.equal(statistics, same_statistics)


@pytest.mark.parametrize("offset", [0.0, 50.0])
def test_masked_moments_in_one_sum_match_the_two_pass_ones(offset):
    """Mean and variance from one sum of the moments about a shift (the running mean), however far
    the shift is from the batch's mean, and only over the valid rows."""
    rows = torch.randn(40, 6, generator=torch.Generator().manual_seed(3)) * 3 + offset
    valid = torch.arange(40) % 3 != 0
    for shift in (torch.zeros(6), torch.full((6,), offset + 0.5)):
        mean, var, count = masked_moments(rows, valid, shift)
        assert count == valid.sum()
        torch.testing.assert_close(mean, rows[valid].mean(0), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(var, rows[valid].var(0, unbiased=False), rtol=1e-4, atol=1e-4)


def test_output_batch_norm_never_sees_padding():
    torch.manual_seed(0)
    batch = batch_of()
    model = MahlerNet(dataclasses.replace(TINY, output_norm=True, encoder_dropout=0, decoder_dropout=0, z_dropout=0))
    model.train()
    valid = batch.bar.mask
    torch.manual_seed(1)
    first = model(batch, sample=False).logits["offset"][valid]
    # Change what lies in the padding of the decoder inputs: valid outputs and statistics must not move.
    noisy_previous = batch.previous.replace(
        active_pitches=batch.previous.active_pitches | ~valid.unsqueeze(-1), offset=torch.where(valid, batch.previous.offset, 12)
    )
    torch.manual_seed(1)
    second = model(dataclasses.replace(batch, previous=noisy_previous), sample=False).logits["offset"][valid]
    assert torch.allclose(first, second, atol=1e-5)


def test_step_wise_decoding_equals_the_whole_bar():
    torch.manual_seed(0)
    batch = batch_of()
    model = MahlerNet(dataclasses.replace(TINY, same_step_mask=True)).eval()
    full = model(batch, sample=False).logits
    context = model.encode_context(batch.context)
    mu, _ = model.encode_input(batch.bar, context)
    state = model.initial_state(mu, context)
    rows = model.previous_rows(batch.previous)
    assert rows.shape[-1] == step_width(True)
    bar = batch.bar
    for t in range(bar.offset.shape[1]):
        h, state = model.decode_step(rows[:, t], state)
        step = model.chain_logits(h, bar.offset[:, t], batch.chain_beat[:, t], bar.duration[:, t], bar.pitch[:, t],
                                  bar.instrument[:, t], batch.previous.pitch[:, t])  # fmt: skip
        for name, logits in step.items():
            assert torch.allclose(logits, full[name][:, t], atol=1e-5), (name, t)


def test_lstm_initialisation_follows_the_original():
    model = MahlerNet(TINY)
    hidden = model.decoder.hidden_size
    bias = model.decoder.bias_ih_l0
    assert torch.all(bias[hidden : 2 * hidden] == 1.0) and torch.all(bias[:hidden] == 0) and torch.all(model.decoder.bias_hh_l0 == 0)
    assert model.heads["pitch"].weight.std() < 0.01


def test_a_learned_prior_depends_on_the_context_and_its_kl_is_the_gaussian_one():
    torch.manual_seed(1)
    model = MahlerNet(dataclasses.replace(TINY, prior="learned", prior_size=12))
    torch.nn.init.normal_(model.prior_network[2].weight, 0.0, 0.5)
    batch = batch_of(6)
    outputs = model(batch)
    assert outputs.prior_mu.shape == outputs.prior_logvar.shape == (6, 8)
    assert not torch.allclose(outputs.prior_mu[0], outputs.prior_mu[1])  # each bar's own context
    mu, logvar = torch.randn(3, 8), torch.randn(3, 8)
    assert torch.allclose(kl_divergence(mu, logvar, mu, logvar), torch.zeros(3), atol=1e-6)
    assert torch.allclose(kl_divergence(mu, logvar, torch.zeros(3, 8), torch.zeros(3, 8)), kl_divergence(mu, logvar))
    # KL(N(1, 1) || N(0, e^2)) per dimension: 0.5 * (e^-2 + e^-2 - 1 + 2)
    one = kl_divergence(torch.ones(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), torch.full((1, 1), 2.0))
    assert one.item() == pytest.approx(0.5 * (2 * math.exp(-2.0) + 1.0), rel=1e-5)
    standard = MahlerNet(TINY)
    assert standard.prior_network is None and standard(batch).prior_mu is None
    zeros, _ = standard.prior(None, rows=4)
    assert torch.equal(zeros, torch.zeros(4, 8))


def test_encoder_dropout_applies_to_a_single_layer_encoder_in_training_only():
    torch.manual_seed(2)
    model = MahlerNet(dataclasses.replace(TINY, encoder_layers=1, encoder_dropout=0.5))
    batch = batch_of(4)
    model.train()
    first, second = (model.encode_context(batch.context) for _ in range(2))
    assert not torch.equal(first, second) and (first == 0).any()
    model.eval()
    assert torch.equal(model.encode_context(batch.context), model.encode_context(batch.context))
