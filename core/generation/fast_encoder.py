"""The context and input encoders of a trained :class:`~core.network.MahlerNet`, rearranged for fast
generation.

Continuing a piece encodes the bar just decoded before every new bar: a few dozen events at batch 1
to ~10, through two LSTM stacks (:class:`~core.network.Encoder`'s forward and backward directions).
Each direction is the same arithmetic as ``nn.LSTM``'s, laid out as in :mod:`core.generation.fast_lstm`
(why that is faster: there), which took the context encoder from ~3.4-4.7 to ~2.5-3.0 ms per bar at
batch 1 (``benchmarks/generate.py``):

* the first layer's input projection of every step is one embedding bag over the events' classes
  (the START flag, offset, beat, duration, pitch, instrument, velocity), computed for the whole
  sequence at once;
* each step of each layer is one product with the hidden weights and one in-place cell, writing its
  output straight into the sequence of outputs that the next layer (one product for all steps) and
  the summary read.

The backward direction reads each sequence reversed within its length, and a summary is the output
at a sequence's last event, exactly as :class:`~core.network.Encoder` does (a test compares them).
Both directions run on the calling thread: with two threads the NumPy steps contend for the GIL and
finish no sooner (one variation 158 against 152 ms; ``benchmarks/README.md``, "generate.py").
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.batching import EventBatch
from core.generation.fast_lstm import (
    EVENT_COLUMNS, NONE_CLASS, TablesCache, as_array, class_table, empty, gate_order, lstm_cell, product,
)
from core.network import Encoder, reversed_within_lengths


class _Direction:
    """One direction's LSTM stack as NumPy weights: layer 0's input table, then per layer the hidden
    weights, the input weights of layers above the first, the biases and the initial state."""

    def __init__(self, lstm: nn.LSTM, initial: torch.Tensor, sizes: tuple[int, ...]):
        self.layers = lstm.num_layers
        self.size = lstm.hidden_size
        self.table, self.block_starts, _ = class_table(gate_order(lstm.weight_ih_l0), sizes)
        self.input_weights = [None] + [as_array(gate_order(getattr(lstm, f"weight_ih_l{k}")).t()) for k in range(1, self.layers)]
        self.hidden_weights = [as_array(gate_order(getattr(lstm, f"weight_hh_l{k}")).t()) for k in range(self.layers)]
        self.biases = [as_array(gate_order(getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}"))) for k in range(self.layers)]
        self.initial_h = as_array(initial[0, :, 0])  # (layers, H)
        self.initial_c = as_array(initial[1, :, 0])

    def summary(self, classes: np.ndarray, last: np.ndarray) -> np.ndarray:
        """(B, H): the top layer's output at step ``last[b]`` of each row, given each step's input
        classes (B, T, blocks) as rows of :attr:`table`. Inside, arrays are step-major (T, B, ...), so
        that every step reads and writes contiguous rows."""
        rows, steps, blocks = classes.shape
        H = self.size
        flat = torch.from_numpy((classes.transpose(1, 0, 2) + self.block_starts).reshape(-1))
        offsets = torch.arange(0, steps * rows * blocks, blocks)
        inputs = torch.embedding_bag(self.table, flat, offsets, False, 0)[0].numpy().reshape(steps, rows, 4 * H)
        gates = empty(rows, 4 * H)
        scratch = empty(rows, H)
        for layer in range(self.layers):
            if layer:  # the layer below's outputs, all steps in one product
                inputs = empty(steps * rows, 4 * H)
                product(outputs.reshape(steps * rows, H), self.input_weights[layer], inputs)
                inputs = inputs.reshape(steps, rows, 4 * H)
            inputs += self.biases[layer]
            outputs = empty(steps, rows, H)
            h = np.repeat(self.initial_h[layer][None], rows, axis=0)
            c = np.repeat(self.initial_c[layer][None], rows, axis=0)
            weight = self.hidden_weights[layer]
            for step in range(steps):
                product(h, weight, gates)
                gates += inputs[step]
                h = outputs[step]
                lstm_cell(gates, c, h, scratch)
        return outputs[last, np.arange(rows)]


class FastEncoder:
    """An :class:`~core.network.Encoder` as NumPy tables (see the module docstring). ``start`` says
    whether its input rows begin with the START flag (the context encoder's do)."""

    def __init__(self, encoder: Encoder, velocity: bool, start: bool):
        self.start = start
        self.columns = EVENT_COLUMNS if velocity else EVENT_COLUMNS[:5]
        sizes = ((1,) if start else ()) + NONE_CLASS[: len(self.columns)]
        with torch.no_grad():
            self.directions = [
                _Direction(lstm, encoder.initial[index], sizes) for index, lstm in enumerate((encoder.forward_lstm, encoder.backward_lstm))
            ]

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
        forward, backward = self.directions[0].summary(classes, last), self.directions[1].summary(reversed_classes, last)
        return torch.from_numpy(np.concatenate([forward, backward], axis=1))


_ENCODERS: TablesCache[FastEncoder] = TablesCache(FastEncoder)


def fast_encoder(encoder: Encoder, velocity: bool, start: bool) -> FastEncoder:
    """The :class:`FastEncoder` of ``encoder``, rebuilt only when its parameters changed."""
    return _ENCODERS.get(encoder, velocity, start)
