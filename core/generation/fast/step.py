"""One decoder step of a trained :class:`~core.model.network.MahlerNet`, rearranged for fast generation.

Generation runs the decoder one event at a time, a few hundred times per phrase, at batch 1 to ~10
(~3 MB of weights read per step for the small presets). The network's ``decode_step`` and
``*_logits`` (written for teacher-forced training) build one-hot rows, concatenate them with the
conditioning and run ``nn.LSTM``; here the same arithmetic is regrouped once per model, in as few
operations as possible (:mod:`core.generation.fast.lstm` explains the layout and has the figures):

* the decoder's input projection is one embedding bag over the previous event's classes and active
  sets;
* the conditioning fed at every step (context summary and ``P``) is constant within a bar, so its
  share of the first layer's gates is computed once per bar (:meth:`FastDecoder.start`);
* every layer is one product (an upper layer reads ``[h below | own h]`` against its input and
  hidden weights stacked) and one in-place cell;
* every head's product with the top decoder output is one matrix product per step; each sampled
  property's share of the later heads (duration, pitch, instrument, velocity) is one gathered row of
  a table (:attr:`FastDecoder.tables`);
* the next-step mask (no pause on a chord member) is built into the offset table; a batch-normalised
  head (``output_norm``) in eval mode is an affine map, folded into the weights.

Classes are integers where each property's "none" (a pause's pitch, an off-grid beat, the empty first
step) is the class count itself (:data:`NONE_CLASS`), so every table has a zero row for it.

Everything lives on the CPU, as float32 NumPy arrays, whatever the model's device (see
:class:`core.generation.sampler.Sampler`). The result equals the network's step up to float rounding
(a test checks it against ``decode_step`` and ``chain_logits``). :func:`fast_decoder` caches the tables
per model and rebuilds them when the weights change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.generation.fast.lstm import (
    NONE_CLASS, Blocks, Cell, TablesCache, as_array, as_gate_blocks, blocked_bias, class_table, empty, gate_order, rows_for,
)
from core.model.network import DecoderState, MahlerNet
from core.model.output_chain import CHAIN_INPUT_SIZES, CONDITIONS, head_slices
from core.representation.events import N_INSTRUMENTS, N_PITCHES, PROPERTIES

NEG = float("-inf")


@dataclass
class StepState:
    """The decoder's state for a batch of ``rows`` rows, updated in place by :meth:`FastDecoder.step`.
    Its arrays hold :func:`~core.generation.fast.lstm.rows_for` rows: those past ``rows`` only pad
    the products' last chunk."""

    rows: int
    hidden: np.ndarray  # (R, layers * H): every layer's h side by side
    cell: np.ndarray  # (R, layers, H)
    input_gates: np.ndarray  # the constant conditioning's share of layer 0's gates, in their blocked layout
    gates: list[np.ndarray]  # per layer, the gates' buffer (4H / width, R, width) of its weights' blocks
    cells: list[Cell]  # per layer, its cell over those gates
    logits: np.ndarray  # (blocks, R, width) the heads' product


class FastDecoder:
    """The decoder and output chain of ``model`` as precomputed tables (see the module docstring)."""

    def __init__(self, model: MahlerNet):
        config = model.config
        self.config = config
        self.velocity = config.use_velocity
        self.layers = config.decoder_layers
        self.hidden = config.decoder_size
        self.heads = PROPERTIES if self.velocity else PROPERTIES[:4]  # the heads in the logits row
        self.columns = 6 if self.velocity else 5
        with torch.no_grad():
            self._build_decoder(model)
            self._build_heads(model)

    # ---------------------------------------------------------------------------------- tables
    def _build_decoder(self, model: MahlerNet) -> None:
        lstm = model.decoder
        weight = gate_order(lstm.weight_ih_l0)  # (4H, inputs)
        classes, self.block_starts, column = class_table(weight, NONE_CLASS[: self.columns])
        active_width = N_PITCHES + N_INSTRUMENTS
        # Rows of the step row's share of layer 0's gates: one per class of each block (+ none), then
        # one per active pitch and instrument; a step's share is the sum of its rows (an embedding bag).
        self.input_table = torch.cat([classes, weight[:, column : column + active_width].t()]).contiguous()
        self.active_start = len(classes)
        self.input_rows = self.active_start + active_width
        H = self.hidden
        # Per layer, the weights its product reads: layer 0 its own h; layer k [h of layer k-1 | own h].
        self.weights = [Blocks.of_gates(gate_order(lstm.weight_hh_l0).t(), H)]  # (H, 4H)
        self.biases: list[np.ndarray] = [blocked_bias(gate_order(lstm.bias_ih_l0 + lstm.bias_hh_l0), self.weights[0].width)]
        for layer in range(1, self.layers):
            stacked = torch.cat([getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")], dim=1)
            self.weights.append(Blocks.of_gates(gate_order(stacked).t(), H))  # (2H, 4H)
            bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
            self.biases.append(blocked_bias(gate_order(bias), self.weights[-1].width))
        # (C, 4H), blocked as layer 0's gates, which its product is added to
        self.condition_weight = Blocks(weight[:, column + active_width :].t(), self.weights[0].width)

    def _head_weights(self, model: MahlerNet, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight (out, in) and bias of head ``name`` with an eval-mode output norm folded in."""
        layer = model.heads[name]
        weight, bias = layer.weight.detach().float().cpu(), layer.bias.detach().float().cpu()
        if model.head_norms is not None:
            norm = model.head_norms[name]
            scale = norm.weight.detach().float().cpu() * torch.rsqrt(norm.running_var.float() + norm.eps)
            bias = (bias - norm.running_mean.float()) * scale + norm.bias.detach().float().cpu()
            weight = weight * scale[:, None]
        return weight, bias

    def _build_heads(self, model: MahlerNet) -> None:
        H = self.hidden
        weights = {name: self._head_weights(model, name) for name in self.heads}
        self.slices, self.width = head_slices(self.heads)
        self.h_weight = Blocks.of_columns(torch.cat([weights[n][0][:, :H] for n in self.heads]).t())
        self.h_bias = as_array(torch.cat([weights[n][1] for n in self.heads]))
        self.tables: dict[str, np.ndarray] = {}
        column = H
        for name in CONDITIONS[PROPERTIES[-1]]:  # every value a head reads (core.model.output_chain)
            width = CHAIN_INPUT_SIZES[name]
            readers = [head for head in self.heads if name in CONDITIONS[head]]
            if not readers:
                break
            table = torch.cat([weights[r][0][:, column : column + width].t() for r in readers], dim=1)
            self.tables[name] = as_array(torch.cat([table, torch.zeros(1, table.shape[1])]))  # last row: none
            column += width
        if self.config.next_step_mask:  # a chord member (offset 0) is never a pause (duration 0)
            self.tables["offset"][0, 0] = NEG

    # --------------------------------------------------------------------------------- running
    def start(self, state: DecoderState) -> StepState:
        """Fresh buffers holding the state before a bar's first step, from the network's
        :meth:`MahlerNet.initial_state`."""
        rows = state.condition.shape[0]
        padded = rows_for(rows, (*self.weights, self.condition_weight, self.h_weight))
        H = self.hidden

        def padded_copy(tensor: torch.Tensor) -> np.ndarray:
            array = np.zeros((padded, *tensor.shape[1:]), np.float32)
            array[:rows] = tensor.detach().float().cpu().numpy()
            return array

        input_gates = self.weights[0].output(padded)
        self.condition_weight.product(padded_copy(state.condition), input_gates, rows)
        input_gates += self.biases[0]
        cell = padded_copy(state.c.transpose(0, 1))
        scratch = empty(padded, H)
        gates = [weight.output(padded) for weight in self.weights]
        return StepState(
            rows=rows,
            hidden=padded_copy(state.h.transpose(0, 1).reshape(rows, self.layers * H)),
            cell=cell,
            input_gates=input_gates,
            gates=gates,
            cells=[Cell(layer_gates, cell[:, layer], scratch) for layer, layer_gates in enumerate(gates)],
            logits=self.h_weight.output(padded),
        )

    def step(self, on: np.ndarray, offsets: np.ndarray, state: StepState) -> np.ndarray:
        """One decoder step, in place. The previous event of batch row ``b`` is given by the rows of
        :attr:`input_table` it switches on: ``on[offsets[b]:offsets[b + 1]]`` (its classes plus
        :attr:`block_starts`, then :attr:`active_start` plus its active pitches and instruments).
        Returns the top output's share of every head's logits (B, :attr:`width`) *without* the
        heads' bias :attr:`h_bias` (the caller adds it with its own per-step terms); the array is
        overwritten by the next step. Each row's result is the same to the bit whatever the other
        rows of the batch (see :mod:`core.generation.fast.lstm`)."""
        H = self.hidden
        hidden = state.hidden
        bag = torch.embedding_bag(self.input_table, torch.from_numpy(on), torch.from_numpy(offsets), False, 0)[0]
        gates, rows = state.gates[0], state.rows
        self.weights[0].product(hidden[:, :H], gates, rows)
        gates += state.input_gates
        gates[:, :rows] += as_gate_blocks(bag.numpy(), self.weights[0].width)
        state.cells[0].step(hidden[:, :H])
        for layer in range(1, self.layers):
            gates = state.gates[layer]
            self.weights[layer].product(hidden[:, (layer - 1) * H : (layer + 1) * H], gates, rows)
            gates += self.biases[layer]
            state.cells[layer].step(hidden[:, layer * H : (layer + 1) * H])
        self.h_weight.product(hidden[:, (self.layers - 1) * H :], state.logits, rows)
        return self.h_weight.rows_of(state.logits, rows)


_DECODERS: TablesCache[FastDecoder] = TablesCache(FastDecoder)


def fast_decoder(model: MahlerNet) -> FastDecoder:
    """The :class:`FastDecoder` of ``model`` (on the CPU), rebuilt only when its parameters changed."""
    return _DECODERS.get(model)
