"""What the fast decoder step and the fast encoders share: LSTM weights laid out for NumPy, one
product, one in-place cell, and tables of one-hot blocks.

Generation runs LSTMs one step at a time at batch 1 to ~10. There a step costs the bytes of weights
it reads plus a fixed price per operation (~3 us per torch call, ~1 us per NumPy call); torch's
``lstm_cell`` and ``nn.LSTM`` spend a dozen calls per layer around their products. Here a layer's step
is one product and eight in-place NumPy operations on preallocated buffers:

* the gates are stored in the order (input, forget, output, cell) instead of PyTorch's (input,
  forget, cell, output), with the three sigmoid gates' weights and biases halved, so that one
  ``tanh`` over all gates gives them all: ``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (halving is exact in
  floating point);
* a one-hot or many-hot input block times a weight matrix is a sum of rows of that matrix: an
  *embedding bag* over a table with one row per class (:func:`class_table`).

Products of up to :data:`ROW_BY_ROW` rows (one variation, or the four of the app's default) run one
row at a time in NumPy's BLAS (OpenBLAS's vector-matrix product, which reads the weights without
repacking them), larger ones in one torch product (MKL); both share the same memory. Row by row,
each row's result is exactly what it would be alone, whatever the other rows are, so a caller may
skip rows it no longer needs (:attr:`FastDecoder.step`'s finished rows, the encoders' padding)
without changing the others by a bit. At four rows on the 2-core AMD EPYC (Zen 4) VM, the decoder
step's three products took 181 us row by row against 237 us in one MKL product and 226 us in one
OpenBLAS product (benchmarks/README.md, "generate.py"); at 16 rows MKL is ahead (457 against
728 us), hence the limit.

Weights and step buffers live in memory torch allocated (:func:`as_array`, :func:`empty`): aligned
to 64 bytes, where MKL's product of several rows runs ~10% faster than on NumPy's 16-byte alignment.

Measured (``benchmarks/generate.py`` and ``benchmarks/products.py``; ``benchmarks/README.md`` has the
figures and what was tried and dropped): a decoder step at batch 1 went from ~330 us through
``lstm_cell`` to ~205 us, continuing 8 bars from ~175 to ~130 ms.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Callable, Generic, Sequence, TypeVar

import numpy as np
import torch
from torch import nn

from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, VELOCITY_BINS

# An event's columns in the fast paths, in the order of the networks' one-hot blocks
# (core.model.features.event_features), and each column's class count, which is also its "none" class
# (a pause's pitch, an off-grid beat, padding): every class table has a zero row there.
EVENT_COLUMNS = ("offset", "beat", "duration", "pitch", "instrument", "velocity")
NONE_CLASS = (N_OFFSETS, N_BEATS, N_DURATIONS, N_PITCHES, N_INSTRUMENTS, VELOCITY_BINS)


def gate_order(matrix: torch.Tensor) -> torch.Tensor:
    """Rows of a (4H, ...) gate matrix (or a 4H bias) from PyTorch's order (input, forget, cell,
    output) to (input, forget, output, cell), the three sigmoid gates halved."""
    i, f, g, o = matrix.detach().float().cpu().chunk(4)
    return torch.cat([0.5 * i, 0.5 * f, 0.5 * o, g])


def as_array(tensor: torch.Tensor) -> np.ndarray:
    """A float32 C-ordered copy (never a view: the network's initial h and c are one tensor), in
    memory torch allocated: aligned to 64 bytes, which MKL's products read ~10% faster than NumPy's
    16-byte alignment."""
    return tensor.detach().float().cpu().clone(memory_format=torch.contiguous_format).numpy()


def empty(*shape: int) -> np.ndarray:
    """An uninitialised float32 buffer, aligned like :func:`as_array`'s."""
    return torch.empty(shape).numpy()


ROW_BY_ROW = 4  # products of up to this many rows run one row at a time (see the module docstring)


def product(x: np.ndarray, weight: np.ndarray, out: np.ndarray, rows: Sequence[int] | None = None) -> None:
    """``out = x @ weight`` (``x`` may be a strided view). Up to :data:`ROW_BY_ROW` rows, one NumPy
    product per row, and only the ``rows`` given (default: all; the others of ``out`` are left as
    they were); beyond, one torch product of all rows, ``rows`` or not."""
    if x.shape[0] <= ROW_BY_ROW:
        for row in range(x.shape[0]) if rows is None else rows:
            np.dot(x[row], weight, out=out[row])
    else:
        torch.mm(torch.from_numpy(x), torch.from_numpy(weight), out=torch.from_numpy(out))


def lstm_cell(gates: np.ndarray, c: np.ndarray, h: np.ndarray, scratch: np.ndarray) -> None:
    """In place: the cell state ``c`` and the output ``h`` (both (B, H), views allowed) from the
    pre-activation ``gates`` (B, 4H) laid out by :func:`gate_order`; ``gates`` is overwritten."""
    H = c.shape[1]
    np.tanh(gates, out=gates)
    sigmoid = gates[:, : 3 * H]
    sigmoid *= 0.5
    sigmoid += 0.5  # input, forget and output gates
    c *= gates[:, H : 2 * H]
    np.multiply(gates[:, :H], gates[:, 3 * H :], out=scratch)
    c += scratch
    np.tanh(c, out=scratch)
    np.multiply(gates[:, 2 * H : 3 * H], scratch, out=h)


def class_table(weight: torch.Tensor, sizes: Sequence[int]) -> tuple[torch.Tensor, np.ndarray, int]:
    """The columns of ``weight`` (4H, inputs) for consecutive one-hot blocks of ``sizes`` classes from
    its first column, as rows: one per class, each block followed by a zero row for "none" (index =
    the block's size). Returns the table, each block's first row, and the column after the blocks."""
    blocks, starts, column, start = [], [], 0, 0
    for size in sizes:
        blocks.append(weight[:, column : column + size].t())
        blocks.append(torch.zeros(1, weight.shape[0]))
        starts.append(start)
        column += size
        start += size + 1
    return torch.cat(blocks).contiguous(), np.array(starts), column


Tables = TypeVar("Tables")


class TablesCache(Generic[Tables]):
    """Tables built from a module by ``build(module, *options)``, kept per module (weakly) and built
    again only when one of its parameters or buffers changed (a training step, a load)."""

    def __init__(self, build: Callable[..., Tables]):
        self._build = build
        self._cache: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, Tables]]" = weakref.WeakKeyDictionary()

    def get(self, module: nn.Module, *options: object) -> Tables:
        key = tuple((t._version, t.data_ptr()) for t in itertools.chain(module.parameters(), module.buffers())) + options
        cached = self._cache.get(module)
        if cached is not None and cached[0] == key:
            return cached[1]
        tables = self._build(module, *options)
        self._cache[module] = (key, tables)
        return tables
