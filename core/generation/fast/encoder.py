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
* each step of each layer is one product per direction with the hidden weights and one in-place
  cell for both directions (their rows side by side), writing its output straight into the sequence
  of outputs that the next layer (one product for all steps) and the summary read.

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
    EVENT_COLUMNS, NONE_CLASS, ROW_BY_ROW, TablesCache, as_array, class_table, empty, gate_order, lstm_cell, product,
)
from core.model.network import Encoder, reversed_within_lengths


class _Directions:
    """Both directions' LSTM stacks as NumPy weights, run side by side: the state's rows are the
    forward direction's rows, then the backward's, so that one cell per step serves both (a cell is
    eight NumPy operations whatever the rows). Per direction (index 0 forward, 1 backward) and layer:
    the hidden weights, the input weights of layers above the first, the biases and the initial
    state; layer 0's input is one table of both directions' class rows (the backward's from
    :attr:`backward_start`)."""

    def __init__(self, encoder: Encoder, sizes: tuple[int, ...]):
        lstms = (encoder.forward_lstm, encoder.backward_lstm)
        self.layers = lstms[0].num_layers
        self.size = lstms[0].hidden_size
        tables = [class_table(gate_order(lstm.weight_ih_l0), sizes) for lstm in lstms]
        self.table = torch.cat([table for table, _, _ in tables])
        self.block_starts = tables[0][1]
        self.backward_start = len(tables[0][0])

        def per_layer(name: str, transpose: bool, first: int = 0) -> list[list[np.ndarray]]:
            return [
                [as_array(gate_order(getattr(lstm, f"{name}_l{k}")).t() if transpose else gate_order(getattr(lstm, f"{name}_l{k}"))) for lstm in lstms]
                for k in range(first, self.layers)
            ]

        self.input_weights = [[]] + per_layer("weight_ih", True, first=1)
        self.hidden_weights = per_layer("weight_hh", True)
        self.biases = [
            np.stack([as_array(gate_order(getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}"))) for lstm in lstms])[:, None]
            for k in range(self.layers)
        ]  # per layer (2, 1, 4H)
        self.initial_h = as_array(encoder.initial[:, 0, :, 0])  # (2, layers, H)
        self.initial_c = as_array(encoder.initial[:, 1, :, 0])

    def summaries(self, classes: np.ndarray, reversed_classes: np.ndarray, last: np.ndarray) -> np.ndarray:
        """(B, 2H) ``[forward | backward]``: each direction's top output at step ``last[b]`` of each
        row, given each step's input classes (B, T, blocks), forward and read backwards.

        Where the products run row by row (:data:`~core.generation.fast.lstm.ROW_BY_ROW`), the rows
        go longest first and each step's products compute only the rows that have not ended yet: a
        window of 2 bars is padded to the longest row's length, and its padding cost a step's full
        price. Row by row, every row's summary is the same to the bit either way."""
        rows, steps, _ = classes.shape
        if 1 < rows <= ROW_BY_ROW and last.min() < steps - 1:
            order = np.argsort(-last, kind="stable")
            needed = np.searchsorted(-last[order], -np.arange(steps), "right")
            summaries = np.empty((rows, 2 * self.size), np.float32)
            summaries[order] = self._run(classes[order], reversed_classes[order], last[order], needed)
            return summaries
        return self._run(classes, reversed_classes, last, None)

    def _run(self, classes: np.ndarray, reversed_classes: np.ndarray, last: np.ndarray, needed: np.ndarray | None) -> np.ndarray:
        """:meth:`summaries`; ``needed[t]`` (None: every row at every step) is how many rows, from
        the first, step ``t``'s products compute: the rows are then longest first. Inside, arrays are
        step-major (T, 2B, ...), so that every step reads and writes contiguous rows."""
        rows, steps, blocks = classes.shape
        H = self.size
        both = np.stack([classes + self.block_starts, reversed_classes + (self.block_starts + self.backward_start)], axis=1)
        flat = torch.from_numpy(both.transpose(2, 1, 0, 3).reshape(-1))  # (T, direction, B, blocks)
        offsets = torch.arange(0, steps * 2 * rows * blocks, blocks)
        inputs = torch.embedding_bag(self.table, flat, offsets, False, 0)[0].numpy().reshape(steps, 2, rows, 4 * H)
        gates = np.zeros((2 * rows, 4 * H), np.float32)  # rows a step skips keep bounded values
        scratch = empty(2 * rows, H)
        for layer in range(self.layers):
            if layer:  # the layer below's outputs, all steps of a direction in one product
                below = outputs.reshape(steps, 2, rows, H)
                inputs = empty(steps, 2, rows, 4 * H)
                for direction in range(2):
                    projected = empty(steps * rows, 4 * H)
                    product(below[:, direction].reshape(steps * rows, H), self.input_weights[layer][direction], projected)
                    inputs[:, direction] = projected.reshape(steps, rows, 4 * H)
            inputs += self.biases[layer]
            inputs = inputs.reshape(steps, 2 * rows, 4 * H)
            outputs = empty(steps, 2 * rows, H)
            h = np.repeat(self.initial_h[:, layer], rows, axis=0)
            c = np.repeat(self.initial_c[:, layer], rows, axis=0)
            forward, backward = self.hidden_weights[layer]
            for step in range(steps):
                n = rows if needed is None else needed[step]
                product(h[:n], forward, gates[:n])
                product(h[rows : rows + n], backward, gates[rows : rows + n])
                gates += inputs[step]
                h = outputs[step]
                lstm_cell(gates, c, h, scratch)
        picked = np.arange(rows)
        return np.concatenate([outputs[last, picked], outputs[last, rows + picked]], axis=1)


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
