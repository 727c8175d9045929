"""The fast decoder step is the network's step, regrouped: same hidden state, same logits."""

import dataclasses

import numpy as np
import pytest
import torch

from core.model.features import step_features
from core.generation.fast.lstm import NONE_CLASS
from core.generation.fast.step import fast_decoder
from core.model.network import DecoderState, MahlerNet
from tests.core.generation.helpers import TINY

CONFIGS = {
    "continuation": dataclasses.replace(TINY, output_init_std=0.5),
    "interpolation, 3 layers, no velocity, output norm": dataclasses.replace(
        TINY, use_context=False, decoder_layers=3, use_velocity=False, output_norm=True, same_step_mask=True,
        condition_size=0, output_init_std=0.5,
    ),
}  # fmt: skip
STEPS = 3


def _model(config):
    torch.manual_seed(0)
    model = MahlerNet(config)
    if model.head_norms is not None:
        for norm in model.head_norms.values():
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
            norm.weight.data.normal_()
            norm.bias.data.normal_()
    return model.eval()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_fast_step_equals_the_network(name, batch):
    config = CONFIGS[name]
    model = _model(config)
    fast = fast_decoder(model)
    generator = torch.Generator().manual_seed(1)
    z = torch.randn(batch, config.z_dim, generator=generator)
    summary = torch.randn(batch, 2 * config.encoder_size, generator=generator) if config.use_context else None
    columns = torch.tensor([[0, 7, 3, 10, 4, 1], [5, 2, 0, -1, -1, -1], [12, -1, 24, 95, 22, 7]])[:batch]
    if not config.use_velocity:
        columns = columns[:, :5]
    active = torch.rand(batch, 119, generator=generator) < 0.1
    with torch.inference_mode():
        state = model.initial_state(z, summary)
        velocity = columns[:, 5] if config.use_velocity else None
        row = step_features(columns[:, 0], columns[:, 1], columns[:, 2], columns[:, 3], columns[:, 4], velocity, active[:, :96], active[:, 96:])
        network_state = state
        for _ in range(STEPS):  # the same previous event each time: the state must carry over
            h, network_state = model.decode_step(row, network_state)

        none = torch.tensor(NONE_CLASS[: fast.columns])
        classes = torch.where(columns >= 0, columns, none) + torch.from_numpy(fast.block_starts)
        hot = torch.zeros(batch, fast.input_rows, dtype=torch.bool)
        hot.scatter_(1, classes, True)
        hot[:, fast.active_start :] = active
        rows, on = hot.nonzero(as_tuple=True)
        offsets = torch.searchsorted(rows, torch.arange(batch))
        step_state = fast.start(state)
        for _ in range(STEPS):
            base = torch.from_numpy(fast.step(on.numpy(), offsets.numpy(), step_state) + fast.h_bias)
    size = config.decoder_size
    for layer in range(config.decoder_layers):
        hidden = torch.from_numpy(step_state.hidden[:batch, layer * size : (layer + 1) * size])
        torch.testing.assert_close(hidden, network_state.h[layer], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.from_numpy(step_state.cell[:batch, layer]), network_state.c[layer], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.from_numpy(step_state.hidden[:batch, -size:]), h, atol=1e-5, rtol=1e-5)

    # The chain: each head = its share of the top output + the rows of the earlier properties.
    offset, beat, duration, pitch, instrument = (torch.tensor(v[:batch]) for v in ([0, 6, 12], [0, -1, 4], [6, 12, 0], [20, 30, 40], [1, 2, 3]))
    with torch.inference_mode():
        logits = model.chain_logits(h, offset, beat, duration, pitch, instrument, previous_pitch=torch.full((batch,), -1))
    tables = {name: torch.from_numpy(table) for name, table in fast.tables.items()}
    chain = tables["offset"][offset] + tables["beat"][torch.where(beat < 0, 8, beat)]
    expected = {"offset": base[:, fast.slices["offset"]]}
    expected["duration"] = base[:, fast.slices["duration"]] + chain[:, :60]
    chain = chain[:, 60:] + tables["duration"][duration]
    expected["pitch"] = base[:, fast.slices["pitch"]] + chain[:, :96]
    chain = chain[:, 96:] + tables["pitch"][pitch]
    expected["instrument"] = base[:, fast.slices["instrument"]] + chain[:, :23]
    if config.use_velocity:
        expected["velocity"] = base[:, fast.slices["velocity"]] + chain[:, 23:] + tables["instrument"][instrument]
    assert set(expected) == set(logits)
    for name_, value in expected.items():
        reference = logits[name_]
        masked = reference < -1e3  # the network's additive mask; here -inf
        assert torch.equal(masked, torch.isinf(value)), name_
        torch.testing.assert_close(value[~masked], reference[~masked], atol=1e-4, rtol=1e-4)


def test_tables_follow_new_weights():
    model = _model(CONFIGS["continuation"])
    first = fast_decoder(model)
    assert fast_decoder(model) is first
    with torch.no_grad():
        model.heads["offset"].bias.add_(1.0)
    second = fast_decoder(model)
    assert second is not first
    assert np.allclose(second.h_bias[:60], first.h_bias[:60] + 1.0)


def _inputs(fast, batch: int, seed: int):
    """Random previous-event rows for ``batch`` rows: (rows, offsets) of the input table."""
    generator = torch.Generator().manual_seed(seed)
    highs = torch.tensor(NONE_CLASS[: fast.columns])
    classes = (torch.rand(batch, fast.columns, generator=generator) * (highs + 1)).long()  # "none" included
    hot = torch.zeros(batch, fast.input_rows, dtype=torch.bool)
    hot.scatter_(1, classes + torch.from_numpy(fast.block_starts), True)
    hot[:, fast.active_start :] = torch.rand(batch, fast.input_rows - fast.active_start, generator=generator) < 0.1
    rows, on = hot.nonzero(as_tuple=True)
    return on.numpy(), torch.searchsorted(rows, torch.arange(batch)).numpy()


@pytest.mark.parametrize("batch", [3, 6])
def test_each_row_is_the_same_to_the_bit_alone_or_in_a_batch(batch):
    config = CONFIGS["continuation"]
    model = _model(config)
    fast = fast_decoder(model)
    generator = torch.Generator().manual_seed(2)
    z = torch.randn(batch, config.z_dim, generator=generator)
    summary = torch.randn(batch, 2 * config.encoder_size, generator=generator)
    with torch.inference_mode():
        state = model.initial_state(z, summary)
    inputs = [_inputs(fast, batch, seed) for seed in range(5)]
    together = fast.start(state)
    for on, offsets in inputs:
        logits = fast.step(on, offsets, together).copy()
    for row in range(batch):  # a batch of 3 pads its one chunk to 4 rows; 6 is a chunk of 4 and one of 2
        alone = fast.start(DecoderState(state.h[:, row : row + 1], state.c[:, row : row + 1], state.condition[row : row + 1]))
        for on, offsets in inputs:
            first, last = offsets[row], offsets[row + 1] if row + 1 < batch else len(on)
            row_logits = fast.step(on[first:last], np.array([0]), alone)
        assert np.array_equal(row_logits[0], logits[row])
        assert np.array_equal(alone.hidden[0], together.hidden[row]) and np.array_equal(alone.cell[0], together.cell[row])
