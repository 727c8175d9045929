"""The shared product: row by row up to ROW_BY_ROW rows (each row exactly as alone, skipped rows left
untouched), one torch product beyond."""

import numpy as np
import torch

from core.generation.fast.lstm import ROW_BY_ROW, empty, product


def _operands(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    generator = torch.Generator().manual_seed(seed)
    wide = torch.randn(rows, 512, generator=generator).numpy()
    weight = torch.randn(256, 200, generator=generator).numpy()
    return wide[:, 128:384], weight  # a strided view, as the decoder's layers read [h below | own h]


def test_small_products_give_each_row_exactly_its_result_alone():
    x, weight = _operands(ROW_BY_ROW)
    together = empty(ROW_BY_ROW, 200)
    product(x, weight, together)
    for row in range(ROW_BY_ROW):
        alone = empty(1, 200)
        product(x[row : row + 1], weight, alone)
        assert np.array_equal(together[row], alone[0])
    np.testing.assert_allclose(together, x @ weight, rtol=1e-4, atol=1e-4)


def test_rows_left_out_are_not_written():
    x, weight = _operands(3)
    out = np.full((3, 200), 7.0, np.float32)
    product(x, weight, out, rows=[0, 2])
    assert (out[1] == 7.0).all()
    full = empty(3, 200)
    product(x, weight, full)
    assert np.array_equal(out[[0, 2]], full[[0, 2]])


def test_larger_products_compute_every_row():
    rows = ROW_BY_ROW + 3
    x, weight = _operands(rows, seed=1)
    out = np.full((rows, 200), 7.0, np.float32)
    product(x, weight, out, rows=[0])  # beyond ROW_BY_ROW the rows argument does not narrow it
    np.testing.assert_allclose(out, x @ weight, rtol=1e-4, atol=1e-4)
