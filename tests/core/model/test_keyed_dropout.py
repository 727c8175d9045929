"""Keyed dropout (core/model/keyed_dropout.py): masks that are a function of each row's key, the site and
the element's position only, at the asked rate; LSTMs run layer by layer with keyed dropout between
their layers take the steps of the fused call; the network drops by the keys it is given."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.model.keyed_dropout import dropout, keyed_dropout, mix32, row_keys, run_lstm


def test_the_hash_stays_in_32_bits_and_spreads_neighbours():
    values = torch.arange(1 << 16, dtype=torch.int64)
    hashed = mix32(values)
    assert int(hashed.min()) >= 0 and int(hashed.max()) < 2**32
    assert len(torch.unique(hashed)) == len(values)  # a bijection of 32-bit values
    bits = torch.stack([(hashed >> bit) & 1 for bit in range(32)]).float().mean(dim=1)
    assert torch.all((bits - 0.5).abs() < 0.01)  # every output bit is set half the time


def test_a_rows_mask_depends_on_its_key_site_and_position_only():
    keys = row_keys(12345, torch.arange(64))
    whole = keyed_dropout(torch.ones(64, 40, 32), 0.25, keys, site=3)
    # The rate and the scale of F.dropout.
    assert float((whole == 0).float().mean()) == pytest.approx(0.25, abs=0.01)
    assert torch.all((whole == 0) | torch.isclose(whole, torch.tensor(1 / 0.75)))
    # Another process holding rows 30..39 of the same global batch draws their masks.
    assert torch.equal(keyed_dropout(torch.ones(10, 40, 32), 0.25, row_keys(12345, torch.arange(30, 40)), 3), whole[30:40])
    # A batch padded further keeps the masks of the steps it shares.
    assert torch.equal(keyed_dropout(torch.ones(64, 57, 32), 0.25, keys, 3)[:, :40], whole)
    # Another site, step or row draws another mask.
    assert not torch.equal(keyed_dropout(torch.ones(64, 40, 32), 0.25, keys, 4), whole)
    assert not torch.equal(keyed_dropout(torch.ones(64, 40, 32), 0.25, row_keys(12346, torch.arange(64)), 3), whole)
    assert not torch.equal(whole[0], whole[1])


def test_dropout_is_the_identity_in_eval_mode_and_torchs_without_keys():
    values = torch.randn(8, 5)
    assert torch.equal(dropout(values, 0.5, False, row_keys(1, torch.arange(8)), 0), values)
    torch.manual_seed(3)
    unkeyed = dropout(values, 0.5, True, None, 0)
    torch.manual_seed(3)
    assert torch.equal(unkeyed, nn.functional.dropout(values, 0.5, True))
    assert torch.equal(keyed_dropout(values, 1.0, row_keys(1, torch.arange(8)), 0), torch.zeros_like(values))


def test_an_lstm_run_layer_by_layer_takes_the_steps_of_the_fused_call():
    torch.manual_seed(0)
    lstm = nn.LSTM(5, 7, 3, batch_first=True)
    rows, state = torch.randn(4, 6, 5, requires_grad=True), (torch.randn(3, 4, 7), torch.randn(3, 4, 7))
    fused, (h, c) = lstm(rows, state)
    (fused_gradient,) = torch.autograd.grad(fused.sum(), rows)
    lstm.dropout = 1e-12  # keyed dropout keeps every element: the layer-by-layer path, nothing dropped
    keys = row_keys(9, torch.arange(4))
    layered, (layered_h, layered_c) = run_lstm(lstm, rows, state, keys, 10)
    (layered_gradient,) = torch.autograd.grad(layered.sum(), rows)
    for ours, theirs in ((layered, fused), (layered_h, h), (layered_c, c), (layered_gradient, fused_gradient)):
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)
    lstm.dropout = 0.5  # dropped between layers: other outputs, the same for the same keys
    dropped, _ = run_lstm(lstm, rows, state, keys, 10)
    assert not torch.allclose(dropped, fused)
    assert torch.equal(run_lstm(lstm, rows[2:], (state[0][:, 2:], state[1][:, 2:]), keys[2:], 10)[0], dropped[2:])


def test_the_network_drops_by_the_keys_it_is_given():
    from core.model.batching import PairSet
    from core.model.network import MahlerNet, NetworkConfig
    from tests.core.synthetic import random_pieces

    pairs = PairSet(random_pieces(2, bars=6, seed=1))
    config = NetworkConfig(encoder_layers=2, encoder_size=8, decoder_layers=2, decoder_size=8, z_dim=4, encoder_dropout=0.4,
                           decoder_dropout=0.4, z_dropout=0.4, output_init_std=0.5)  # fmt: skip
    torch.manual_seed(0)
    model = MahlerNet(config).train()
    batch = pairs.collate(pairs.pairs[:6])
    keys = row_keys(77, torch.arange(6))
    torch.manual_seed(1)
    first = model(batch, sample=False, keys=keys).logits["pitch"]
    torch.manual_seed(2)  # torch's generator plays no part
    assert torch.equal(model(batch, sample=False, keys=keys).logits["pitch"], first)
    assert not torch.equal(model(batch, sample=False, keys=row_keys(78, torch.arange(6))).logits["pitch"], first)
    assert not torch.equal(model.eval()(batch, sample=False, keys=keys).logits["pitch"], first)
