"""What the fast decoder step and the fast encoders share: LSTM weights laid out for NumPy, their
products, one in-place cell, and tables of one-hot blocks.

Generation runs LSTMs one step at a time at batch 1 to ~10. There a step costs the bytes of weights
it reads plus a fixed price per operation (~3 us per torch call, ~1 us per NumPy call); torch's
``lstm_cell`` and ``nn.LSTM`` spend a dozen calls per layer around their products. Here a layer's step
is one product call per block of its weights and eight in-place NumPy operations on preallocated
buffers:

* the gates are stored in the order (input, forget, output, cell) instead of PyTorch's (input,
  forget, cell, output), with the three sigmoid gates' weights and biases halved, so that one
  ``tanh`` over all gates gives them all: ``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (halving is exact in
  floating point);
* a one-hot or many-hot input block times a weight matrix is a sum of rows of that matrix: an
  *embedding bag* over a table with one row per class (:func:`class_table`).

Products run in NumPy's BLAS (OpenBLAS) on a weight matrix cut into column blocks (:class:`Blocks`)
and a batch cut into chunks of 4 rows (the last chunk 2 or 4, padded). A chunk times a block of at
most :data:`MAX_BLOCK` weights is small enough for OpenBLAS's kernel for small matrices, which reads
the block once for all the chunk's rows and sums each output in one fixed order: every row's result
is the same to the bit whatever the other rows are and however many there are, so a variation
decodes the same alone as in a batch. A single row would take the vector-matrix product instead,
whose sums run in another order, hence no chunk of 1. That a chunk's sums do not depend on its rows
is the BLAS's behaviour, not a promise: :func:`chunks_are_exact` checks it once per block shape, and
where it fails, or where the BLAS has no such kernel (:func:`core.blas.has_small_matrix_kernel`:
OpenBLAS on CPUs without AVX-512, whose general GEMM is exact for some shapes but slow at a few rows),
the products run one row at a time through the vector-matrix product of the whole matrix, as this
module did before the blocks for up to 4 rows: exact by construction, and as fast there as it was
(beyond 4 rows it made one torch product, whose sums depend on the batch).

Blocks line up with the gates (a gate is a whole number of blocks, or one block holds all four where
rows go one at a time), so the products write the gates
straight into a blocked buffer (4H / width, rows, width) that :class:`Cell` reads through views made
once. On the 2-core AMD EPYC (Zen 4) VM, the decoder step's three products of the small presets took
~175 us at 4 rows one row at a time (each row reading all 3.2 MB of weights) and ~47 us at 1 row; in
blocks, ~70 us at 4 rows and ~53 us at 1 (padded to 2). At 8-128 rows they also beat one torch (MKL)
product of all rows (``benchmarks/README.md``, "products.py").

Weights and step buffers live in memory torch allocated (:func:`as_array`, :func:`empty`): aligned
to 64 bytes.

Measured (``benchmarks/generate.py`` and ``benchmarks/products.py``; ``benchmarks/README.md`` has the
figures and what was tried and dropped): a decoder step at batch 1 went from ~330 us through
``lstm_cell`` to ~205 us, continuing 8 bars from ~175 to ~130 ms.
"""

from __future__ import annotations

import functools
import weakref
from typing import Callable, Generic, Iterable, Sequence, TypeVar

import numpy as np
import torch
from torch import nn

from core import blas

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
    memory torch allocated: aligned to 64 bytes (a cache line), where NumPy's own is 16."""
    return tensor.detach().float().cpu().clone(memory_format=torch.contiguous_format).numpy()


def empty(*shape: int) -> np.ndarray:
    """An uninitialised float32 buffer, aligned like :func:`as_array`'s."""
    return torch.empty(shape).numpy()


CHUNK_ROWS = 4  # rows of one product call; a batch's last chunk has 2 or 4 (see the module docstring)
MAX_BLOCK = 1 << 17  # weights in one column block (inputs x columns): 512 KB of float32
VECTOR = 16  # float32 columns in one AVX-512 register: a block narrower than whole ones sums its last
# columns in another way for different batch sizes (measured: 247 columns did, 16k columns did not)


def padded_rows(rows: int) -> int:
    """The rows a buffer holds for a batch of ``rows``: whole chunks of :data:`CHUNK_ROWS`, the last
    of 2 rows where 1 or 2 are left (never 1: a one-row product takes another kernel)."""
    whole, left = divmod(rows, CHUNK_ROWS)
    return whole * CHUNK_ROWS + (0 if left == 0 else 2 if left <= 2 else CHUNK_ROWS)


def rows_for(rows: int, weights: Iterable["Blocks"]) -> int:
    """The rows that buffers multiplied by ``weights`` hold for a batch of ``rows``: padded
    (:func:`padded_rows`) where any of them goes in chunks, else ``rows`` itself."""
    return padded_rows(rows) if any(weight.by_chunks for weight in weights) else rows


def block_width(hidden: int, inputs: int) -> int:
    """The widest column block of an LSTM's (inputs, 4H) weight that holds at most :data:`MAX_BLOCK`
    weights and divides H: a gate is then a whole number of blocks."""
    fitting = [width for width in range(1, hidden + 1) if hidden % width == 0 and width * inputs <= MAX_BLOCK]
    return max(fitting, default=1)


class Blocks:
    """A weight matrix (inputs, columns), or a stack of them (..., inputs, columns) used side by side,
    as column blocks of ``width``, each contiguous, and its product with a batch in chunks of rows
    (see the module docstring). ``columns`` is padded with zero columns up to a whole block."""

    def __init__(self, weight: torch.Tensor, width: int, by_chunks: bool | None = None):
        """``by_chunks``: whether rows go through in chunks (default: where the BLAS has a kernel for
        small matrices and :func:`chunks_are_exact`); otherwise one row at a time through the
        vector-matrix product of the whole matrix."""
        *lead, inputs, columns = weight.shape
        self.lead, self.count = tuple(lead), -(-columns // width)
        padded = torch.zeros(*lead, inputs, self.count * width)
        padded[..., :columns] = weight
        self.inputs, self.width, self.columns = inputs, width, columns
        if by_chunks is None:
            by_chunks = blas.has_small_matrix_kernel() and chunks_are_exact(inputs, width)
        self.by_chunks = by_chunks
        # The weights as the products read them, and only that way: the column blocks (..., count,
        # inputs, width) for chunks, else the whole padded matrix (..., inputs, count * width).
        self.weights = as_array(padded.reshape(*lead, inputs, self.count, width).transpose(-3, -2) if by_chunks else padded)

    @classmethod
    def of_gates(cls, weight: torch.Tensor, hidden: int) -> "Blocks":
        """An LSTM's (..., inputs, 4H) weight in blocks of :func:`block_width`; one block of all
        columns where the BLAS has no kernel for small matrices (rows go one at a time there, and
        each row's product is then written in place)."""
        if not blas.has_small_matrix_kernel():
            return cls(weight, weight.shape[-1], by_chunks=False)
        return cls(weight, block_width(hidden, weight.shape[-2]))

    @classmethod
    def of_columns(cls, weight: torch.Tensor) -> "Blocks":
        """Any other (inputs, columns) weight in as few blocks as fit :data:`MAX_BLOCK`, each a whole
        number of :data:`VECTOR` columns."""
        inputs, columns = weight.shape
        vectors = -(-columns // VECTOR)
        count = -(-vectors * VECTOR * inputs // MAX_BLOCK)
        return cls(weight, VECTOR * -(-vectors // count))

    def output(self, rows: int) -> np.ndarray:
        """A zeroed (..., count, rows, width) buffer for :meth:`product` of ``rows`` rows (zeroed:
        rows that a product skips keep finite values)."""
        return torch.zeros(*self.lead, self.count, rows, self.width).numpy()

    def product(self, x: np.ndarray, out: np.ndarray, rows: int | None = None) -> None:
        """``out[..., b, :, :] = x @ block b`` (``x`` is (..., R, inputs) with R rows as
        :func:`rows_for` gives; a strided view is fine) for the first ``rows`` rows (default all),
        rounded up to :func:`padded_rows` where rows go in chunks: one NumPy call per chunk for every
        block (and every matrix of a stack), each block's product one BLAS call."""
        if not self.by_chunks:
            self._row_by_row(x, out, x.shape[-2] if rows is None else rows)
            return
        blocks = self.weights
        rows = x.shape[-2] if rows is None else padded_rows(rows)
        if rows <= CHUNK_ROWS:  # the usual batch: one chunk
            if rows == x.shape[-2]:
                np.matmul(x[..., None, :, :], blocks, out=out)
            else:
                np.matmul(x[..., None, :rows, :], blocks, out=out[..., :rows, :])
            return
        for first in range(0, rows, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS, rows)
            np.matmul(x[..., None, first:last, :], blocks, out=out[..., first:last, :])

    def _row_by_row(self, x: np.ndarray, out: np.ndarray, rows: int) -> None:
        """:meth:`product` where rows do not go through in chunks: the first ``rows`` rows exactly
        (no padding), each one vector-matrix product of the whole matrix per matrix of the stack."""
        lead = self.lead
        if self.count == 1:  # each row's product is contiguous in ``out``: written in place
            for at in np.ndindex(*lead) if lead else ((),):  # (np.ndindex costs ~1.5 us a call)
                whole, written, rows_in = self.weights[at], out[at + (0,)], x[at]
                for row in range(rows):
                    np.dot(rows_in[row], whole, out=written[row])
            return
        row_out = np.empty((*lead, self.count * self.width), np.float32)
        for row in range(rows):
            for at in np.ndindex(*lead):
                np.dot(x[at + (row,)], self.weights[at], out=row_out[at])
            out[..., row, :] = row_out.reshape(*lead, self.count, self.width)

    def rows_of(self, out: np.ndarray, rows: int) -> np.ndarray:
        """The first ``rows`` rows of a :meth:`product` result of one matrix as (rows, columns): a view
        where the weight is one block, else a copy."""
        if self.count == 1:
            return out[0, :rows, : self.columns]
        return out[:, :rows].transpose(1, 0, 2).reshape(rows, -1)[:, : self.columns]


@functools.cache
def chunks_are_exact(inputs: int, width: int) -> bool:
    """Whether this machine's BLAS gives every row of an (inputs, width) block's product the same
    sums in a chunk of 2 rows as in a chunk of 4, at any place in it (OpenBLAS's small-matrix kernel
    does; a BLAS that does not gets one-row products, exact by construction). Checked once per shape
    on random rows, through the same stacked ``np.matmul`` as :meth:`Blocks.product`."""
    generator = np.random.default_rng(inputs * 100_003 + width)
    blocks = generator.standard_normal((2, inputs, width), np.float32)
    x = generator.standard_normal((CHUNK_ROWS, inputs), np.float32)

    def product(rows: np.ndarray) -> np.ndarray:
        return np.matmul(rows[None], blocks)

    four = product(x)
    pairs_alike = all(np.array_equal(product(x[pair]), four[:, pair]) for pair in ([0, 1], [2, 3], [3, 0], [1, 2]))
    return pairs_alike and np.array_equal(product(x[::-1])[:, ::-1], four)


def as_gate_blocks(rows: np.ndarray, width: int) -> np.ndarray:
    """A view of (..., B, 4H) rows in the blocked layout (..., 4H / width, B, width) of gates."""
    *lead, batch, columns = rows.shape
    return rows.reshape(*lead, batch, columns // width, width).swapaxes(-2, -3)


def blocked_bias(ordered: torch.Tensor, width: int) -> np.ndarray:
    """A (..., 4H) bias already in :func:`gate_order`, as (..., 4H / width, 1, width): the gates'
    blocked layout, broadcasting over a batch's rows."""
    return as_gate_blocks(as_array(ordered)[..., None, :], width).copy()


class Cell:
    """One LSTM cell step, in place, over fixed buffers: the pre-activation ``gates`` (..., 4H / w, R,
    w) in the blocked layout of :class:`Blocks`, w dividing H or w = 4H (gates ordered by
    :func:`gate_order`, overwritten),
    the cell state ``c`` and a ``scratch`` (both (..., R, H), strided views allowed). Every view of
    a gate is made once, here: a step is eight NumPy operations."""

    def __init__(self, gates: np.ndarray, c: np.ndarray, scratch: np.ndarray):
        hidden = c.shape[-1]
        self.gates = gates
        if gates.shape[-1] == 4 * hidden:  # one block of all four gates (rows one at a time)
            self.parts = 1
            self.sigmoid = gates[..., 0, :, : 3 * hidden]
            self.i, self.f, self.o, self.g = (gates[..., 0, :, k * hidden : (k + 1) * hidden] for k in range(4))
        elif (parts := hidden // gates.shape[-1]) == 1:  # a block per gate (the usual case): plain (..., R, H) views
            self.parts = 1
            self.sigmoid = gates[..., :3, :, :]  # input, forget and output gates
            self.i, self.f, self.o, self.g = (gates[..., k, :, :] for k in range(4))
        else:  # each gate in ``parts`` blocks
            self.parts = parts
            self.sigmoid = gates[..., : 3 * parts, :, :]
            self.i, self.f, self.o, self.g = (gates[..., k * parts : (k + 1) * parts, :, :].swapaxes(-3, -2) for k in range(4))
        self.c, self.scratch = self.split(c), self.split(scratch)
        assert np.shares_memory(self.c, c) and np.shares_memory(self.scratch, scratch)

    def split(self, array: np.ndarray) -> np.ndarray:
        """A (..., R, H) array as a gate's view is: (..., R, H / w, w) where a gate spans blocks."""
        return array if self.parts == 1 else array.reshape(*array.shape[:-1], self.parts, -1)

    def step(self, h: np.ndarray) -> None:
        """Update the cell state and write the output into ``h`` (..., R, H)."""
        np.tanh(self.gates, out=self.gates)
        self.sigmoid *= 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2, the weights being halved
        self.sigmoid += 0.5
        self.c *= self.f
        np.multiply(self.i, self.g, out=self.scratch)
        self.c += self.scratch
        np.tanh(self.c, out=self.scratch)
        np.multiply(self.o, self.scratch, out=self.split(h))


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
        self._cache: "weakref.WeakKeyDictionary[nn.Module, tuple[list[dict], tuple, Tables]]" = weakref.WeakKeyDictionary()

    def get(self, module: nn.Module, *options: object) -> Tables:
        cached = self._cache.get(module)
        if cached is not None:
            state, key, tables = cached
            if _state_key(state) + options == key:
                return tables
        # The modules' parameter and buffer dicts, gathered once (every generated bar looks its tables
        # up), and not the modules: the value must not hold its weak key alive.
        state = [table for submodule in module.modules() for table in (submodule._parameters, submodule._buffers)]
        tables = self._build(module, *options)
        self._cache[module] = (state, _state_key(state) + options, tables)
        return tables


def _state_key(state: Sequence[dict[str, torch.Tensor | None]]) -> tuple:
    """What changes when one of these parameters or buffers is trained, loaded or replaced."""
    return tuple((t._version, t.data_ptr()) for tensors in state for t in tensors.values() if t is not None)
