"""The context and input encoders of a trained :class:`~core.model.network.MahlerNet`, rearranged for fast
generation.

Continuing a piece encodes the bar just decoded before every new bar: a few dozen events at batch 1
to ~10, through two LSTM stacks (:class:`~core.model.network.Encoder`'s forward and backward directions).
Each direction is the same arithmetic as ``nn.LSTM``'s, laid out as in :mod:`core.generation.fast.lstm`
(why that is faster: there), which took the context encoder from ~3.4-4.7 to ~2.5-3.0 ms per bar at
batch 1 (``benchmarks/generate.py``):

* the first layer's input projection of every step is one embedding bag over the events' classes
  (the START flag, offset, beat, duration, pitch, instrument, velocity), computed for the whole
  sequence at once;
* each step of each layer is one product call for both directions (their hidden weights stacked, in
  column blocks) and one in-place cell for both, writing its output straight into the sequence of
  outputs that the next layer (one product for all steps) and the summary read.

The backward direction reads each sequence reversed within its length, and a summary is the output
at a sequence's last event, exactly as :class:`~core.model.network.Encoder` does (a test compares them).
Both directions run on the calling thread: with two threads the NumPy steps contend for the GIL and
finish no sooner (one variation 158 against 152 ms; ``benchmarks/README.md``, "generate.py").
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.model.batching import EventBatch
from core.generation.fast.lstm import (
    EVENT_COLUMNS, NONE_CLASS, Blocks, Cell, TablesCache, as_array, as_gate_blocks, blocked_bias, class_table, empty, gate_order,
    rows_for,
)
from core.model.network import Encoder, reversed_within_lengths


class _Directions:
    """Both directions' LSTM stacks as NumPy weights, run side by side: every buffer has a leading
    direction axis (0 forward, 1 backward), so that one product call and one cell per step serve
    both (a cell is eight NumPy operations whatever the rows). Per layer, both directions' hidden
    weights stacked, the input weights of layers above the first (stacked too), the biases and the
    initial state; layer 0's input is one table of both directions' class rows (the backward's from
    :attr:`backward_start`)."""

    def __init__(self, encoder: Encoder, sizes: tuple[int, ...]):
        lstms = (encoder.forward_lstm, encoder.backward_lstm)
        self.layers = lstms[0].num_layers
        self.size = lstms[0].hidden_size
        tables = [class_table(gate_order(lstm.weight_ih_l0), sizes) for lstm in lstms]
        self.table = torch.cat([table for table, _, _ in tables])
        self.block_starts = tables[0][1]
        self.backward_start = len(tables[0][0])

        def blocks(name: str, layer: int) -> Blocks:
            """Both directions' weights ``name`` of ``layer``, stacked, in column blocks."""
            stacked = torch.stack([gate_order(getattr(lstm, f"{name}_l{layer}")).t() for lstm in lstms])
            return Blocks.of_gates(stacked, self.size)

        def biases(layer: int) -> np.ndarray:
            """Both directions' biases of ``layer`` in the gates' blocked layout, (2, 4H / width, 1, width)."""
            summed = [gate_order(getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")) for lstm in lstms]
            return blocked_bias(torch.stack(summed), self.width)

        self.hidden_weights = [blocks("weight_hh", layer) for layer in range(self.layers)]
        self.input_weights = [None] + [blocks("weight_ih", layer) for layer in range(1, self.layers)]  # (H, 4H) too
        self.width = self.hidden_weights[0].width  # all (H, 4H): one block width
        self.biases = [biases(layer) for layer in range(self.layers)]
        self.initial_h = as_array(encoder.initial[:, 0, :, 0])  # (2, layers, H)
        self.initial_c = as_array(encoder.initial[:, 1, :, 0])

    def summaries(self, classes: np.ndarray, reversed_classes: np.ndarray, last: np.ndarray) -> np.ndarray:
        """(B, 2H) ``[forward | backward]``: each direction's top output at step ``last[b]`` of each
        row, given each step's input classes (B, T, blocks), forward and read backwards.

        The rows go longest first, and each step's products compute only the chunks of rows that have
        not ended yet (a window of 2 bars is padded to the longest row's length). Each row's summary
        is the same to the bit whatever the other rows (see :mod:`core.generation.fast.lstm`)."""
        order = np.argsort(-last, kind="stable")
        rows, steps, _ = classes.shape
        needed = np.searchsorted(-last[order], -np.arange(steps), "right")
        summaries = np.empty((rows, 2 * self.size), np.float32)
        summaries[order] = self._run(classes[order], reversed_classes[order], last[order], needed)
        return summaries

    def _run(self, classes: np.ndarray, reversed_classes: np.ndarray, last: np.ndarray, needed: np.ndarray) -> np.ndarray:
        """:meth:`summaries`; ``needed[t]`` is how many rows, from the first, step ``t``'s products
        compute: the rows are longest first. Inside, arrays are step-major (T, direction, R, ...) over
        R padded rows, so that every step reads and writes contiguous rows."""
        rows, steps, blocks = classes.shape
        padded = rows_for(rows, (*self.hidden_weights, *self.input_weights[1:]))
        H = self.size
        both = np.stack([classes + self.block_starts, reversed_classes + (self.block_starts + self.backward_start)], axis=1)
        flat = torch.from_numpy(both.transpose(2, 1, 0, 3).reshape(-1))  # (T, direction, B, blocks)
        offsets = torch.arange(0, steps * 2 * rows * blocks, blocks)
        bag = torch.embedding_bag(self.table, flat, offsets, False, 0)[0].numpy().reshape(steps, 2, rows, 4 * H)
        inputs = as_gate_blocks(bag, self.width)  # (T, 2, 4H / width, B, width)
        inputs += self.biases[0]
        gates = np.zeros((2, 4 * H // self.width, padded, self.width), np.float32)  # rows a step skips keep bounded values
        c = empty(2, padded, H)
        cell = Cell(gates, c, empty(2, padded, H))
        for layer in range(self.layers):
            if layer:  # the layer below's outputs, all steps in one product
                inputs = self._projected(outputs[:, :, :rows], self.input_weights[layer])
                inputs += self.biases[layer]
            outputs = empty(steps, 2, padded, H)
            h = np.repeat(self.initial_h[:, layer, None], padded, axis=1)
            c[:] = self.initial_c[:, layer, None]
            hidden_weights = self.hidden_weights[layer]
            for step in range(steps):
                hidden_weights.product(h, gates, needed[step])
                gates[:, :, :rows] += inputs[step]  # the padding rows' gates go without: never read
                h = outputs[step]
                cell.step(h)
        picked = np.arange(rows)
        return np.concatenate([outputs[last, 0, picked], outputs[last, 1, picked]], axis=1)

    def _projected(self, below: np.ndarray, weight: Blocks) -> np.ndarray:
        """The input share of a layer's gates at every step, (T, 2, 4H / width, B, width), from the
        layer below's outputs (T, 2, B, H): one product over every step's rows, per direction."""
        steps, _, rows, H = below.shape
        x = np.zeros((2, rows_for(steps * rows, [weight]), H), np.float32)
        x[:, : steps * rows] = below.transpose(1, 0, 2, 3).reshape(2, steps * rows, H)
        out = weight.output(x.shape[1])
        weight.product(x, out)
        return out[:, :, : steps * rows].reshape(2, -1, steps, rows, self.width).transpose(2, 0, 1, 3, 4)


class FastEncoder:
    """An :class:`~core.model.network.Encoder` as NumPy tables (see the module docstring). ``start`` says
    whether its input rows begin with the START flag (the context encoder's do)."""

    def __init__(self, encoder: Encoder, velocity: bool, start: bool):
        self.start = start
        self.columns = EVENT_COLUMNS if velocity else EVENT_COLUMNS[:5]
        sizes = ((1,) if start else ()) + NONE_CLASS[: len(self.columns)]
        with torch.no_grad():
            self.directions = _Directions(encoder, sizes)

    def summaries(self, batch: EventBatch) -> torch.Tensor:
        """Summaries (B, 2H) ``[forward | backward]`` of the sequences of ``batch`` (on the CPU)."""
        none = np.array(NONE_CLASS[: len(self.columns)])
        values = np.stack([getattr(batch, name).cpu().numpy() for name in self.columns], axis=-1)
        classes = np.where(values >= 0, values, none)  # (B, T, blocks), "none" = the block's size
        if self.start:
            flag = np.where(batch.is_start.cpu().numpy(), 0, 1)  # class 0 or "none" of a 1-class block
            classes = np.concatenate([flag[..., None], classes], axis=-1)
        last = np.maximum(batch.lengths.cpu().numpy() - 1, 0)
        reverse = reversed_within_lengths(batch.lengths.cpu(), classes.shape[1]).numpy()
        reversed_classes = np.take_along_axis(classes, reverse[..., None], axis=1)
        return torch.from_numpy(self.directions.summaries(classes, reversed_classes, last))


_ENCODERS: TablesCache[FastEncoder] = TablesCache(FastEncoder)


def fast_encoder(encoder: Encoder, velocity: bool, start: bool) -> FastEncoder:
    """The :class:`FastEncoder` of ``encoder``, rebuilt only when its parameters changed."""
    return _ENCODERS.get(encoder, velocity, start)
