"""The shared products and cell: weights in column blocks, rows in chunks of 4 or 2 (each row exactly as
alone, whatever the batch), and an LSTM cell over gates in that blocked layout."""

import gc
import weakref

import numpy as np
import pytest
import torch

from core.generation.fast.lstm import (
    MAX_BLOCK, Blocks, Cell, TablesCache, as_gate_blocks, block_width, empty, gate_order, padded_rows, rows_for,
)


def test_a_batch_is_padded_to_chunks_of_four_and_a_last_chunk_of_two_or_four():
    assert [padded_rows(rows) for rows in range(1, 11)] == [2, 2, 4, 4, 6, 6, 8, 8, 10, 10]
    chunked, one_by_one = Blocks(torch.zeros(8, 16), 16, True), Blocks(torch.zeros(8, 16), 16, False)
    assert [rows_for(3, weights) for weights in ([chunked], [one_by_one], [one_by_one, chunked])] == [4, 3, 4]


@pytest.mark.parametrize(
    ("hidden", "inputs", "width"), [(256, 256, 256), (256, 512, 256), (512, 1024, 128), (24, 24, 24), (192, 384, 192)],
)  # fmt: skip
def test_a_block_lines_up_with_the_gates_and_fits_the_limit(hidden, inputs, width):
    assert block_width(hidden, inputs) == width
    assert hidden % width == 0 and width * inputs <= MAX_BLOCK


def _operands(rows: int, seed: int = 0) -> tuple[np.ndarray, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    wide = torch.randn(padded_rows(rows), 512, generator=generator).numpy()
    weight = torch.randn(256, 200, generator=generator)
    return wide[:, 128:384], weight  # a strided view, as the decoder's layers read [h below | own h]


@pytest.mark.parametrize("by_chunks", [None, False])  # this machine's choice; one row at a time, as where chunks are not exact
def test_each_row_of_a_product_is_exactly_its_result_alone(by_chunks):
    x, weight = _operands(7)
    blocks = Blocks(weight, 48, by_chunks)  # 200 columns: four blocks of 48 and one padded with zero columns
    assert blocks.count == 5
    together = blocks.output(len(x))
    blocks.product(x, together)
    result = blocks.rows_of(together, 7)
    np.testing.assert_allclose(result, x[:7] @ weight.numpy(), rtol=1e-4, atol=1e-4)
    for row in range(7):
        alone_x = np.zeros((2, 256), np.float32)
        alone_x[0] = x[row]
        alone = blocks.output(2)
        blocks.product(alone_x, alone)
        assert np.array_equal(blocks.rows_of(alone, 1)[0], result[row])


def test_rows_past_the_chunks_asked_for_are_not_written():
    x, weight = _operands(7, seed=1)
    blocks = Blocks(weight, 200)
    out = np.full((1, 8, 200), 7.0, np.float32)
    blocks.product(x, out, rows=3)  # the first chunk: rows 0-3
    assert (out[0, 4:] == 7.0).all()
    np.testing.assert_allclose(out[0, :3], x[:3] @ weight.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("width", [16, 64])  # a gate in 4 blocks, or one
def test_the_cell_on_blocked_gates_is_torchs_lstm_cell(width):
    torch.manual_seed(0)
    hidden, rows = 64, 3
    cell = torch.nn.LSTMCell(hidden, hidden)
    x, h, c = (torch.randn(rows, hidden) for _ in range(3))
    with torch.no_grad():
        expected_h, expected_c = cell(x, (h, c))
        weight = gate_order(torch.cat([cell.weight_ih, cell.weight_hh], dim=1)).t()
        bias = gate_order(cell.bias_ih + cell.bias_hh).numpy()
    blocks = Blocks(weight, width)
    padded = padded_rows(rows)
    inputs = np.zeros((padded, 2 * hidden), np.float32)
    inputs[:rows] = torch.cat([x, h], dim=1).numpy()
    gates = blocks.output(padded)
    blocks.product(inputs, gates)
    gates += as_gate_blocks(bias[None], width)
    state = np.zeros((padded, 2, hidden), np.float32)  # c and h side by side: strided views, as the decoder's
    state[:rows, 0] = c.numpy()
    Cell(gates, state[:, 0], empty(padded, hidden)).step(state[:, 1])
    np.testing.assert_allclose(state[:rows, 1], expected_h.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state[:rows, 0], expected_c.numpy(), rtol=1e-5, atol=1e-5)


def test_other_weights_are_padded_to_whole_vectors_and_give_each_row_exactly_its_result_alone():
    generator = torch.Generator().manual_seed(3)
    weight = torch.randn(256, 247, generator=generator)  # the heads of the small presets
    blocks = Blocks.of_columns(weight)
    assert (blocks.count, blocks.width) == (1, 256)
    assert Blocks.of_columns(torch.zeros(1024, 247)).width * 1024 <= MAX_BLOCK
    x = torch.randn(4, 256, generator=generator).numpy()
    together = blocks.output(4)
    blocks.product(x, together)
    for row in range(4):
        alone = blocks.output(2)
        blocks.product(np.stack([x[row], np.zeros(256, np.float32)]), alone)
        assert np.array_equal(blocks.rows_of(alone, 1)[0], blocks.rows_of(together, 4)[row])


def test_the_tables_cache_rebuilds_after_a_change_and_never_keeps_a_module_alive():
    builds = []
    cache = TablesCache(lambda module: builds.append(module) or len(builds))
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    assert cache.get(module) == cache.get(module) == 1
    with torch.no_grad():
        module[0].weight.add_(1.0)  # trained in place
    assert cache.get(module) == 2
    module[0].bias = torch.nn.Parameter(torch.zeros(2))  # replaced
    assert cache.get(module) == 3
    builds.clear()
    alive = weakref.ref(module)
    del module
    gc.collect()
    assert alive() is None
