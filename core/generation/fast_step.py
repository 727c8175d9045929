"""One decoder step of a trained :class:`~core.network.MahlerNet`, rearranged for fast generation.

Generation runs the decoder one event at a time, a few hundred times per phrase, at batch 1 to ~10.
At that size the cost is the number of tensor operations and the bytes of weights read, not the
arithmetic. The network's ``decode_step`` and ``*_logits`` (written for teacher-forced training) build
one-hot rows, concatenate them with the conditioning and run ``nn.LSTM``; here the same arithmetic is
regrouped once per model:

* a one-hot or many-hot block times a weight matrix is a sum of rows of that matrix, so the decoder's
  input projection is one *embedding bag* over the previous event's classes and active sets;
* the conditioning fed at every step (context summary and ``P``) is constant within a bar, so its
  share of the first layer's gates is computed once per bar (:meth:`FastDecoder.start`);
* each layer runs as one fused ``torch.lstm_cell`` call (the first layer too at batch 1);
* every head's product with the top decoder output is one matrix product per step; each sampled
  property's share of the later heads (duration, pitch, instrument, velocity) is one gathered row of
  a table (:attr:`FastDecoder.tables`);
* the next-step mask (no pause on a chord member) is built into the offset table; a batch-normalised
  head (``output_norm``) in eval mode is an affine map, folded into the weights.

Classes are integers where each property's "none" (a pause's pitch, an off-grid beat, the empty first
step) is the class count itself (:data:`NONE_CLASS`), so every table has a zero row for it.

The tables live on the CPU whatever the model's device (see :class:`core.generation.sampler.Sampler`).
The result equals the network's step up to float rounding (a test checks it against ``decode_step``
and ``chain_logits``). :func:`fast_decoder` caches the tables per model and rebuilds them when the
weights change.
"""

from __future__ import annotations

import weakref
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from core.network import DecoderState, MahlerNet
from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, VELOCITY_BINS

NEG = float("-inf")

# Order of the heads in the combined logits row, and each property's class count (= its "none").
HEADS = ("offset", "duration", "pitch", "instrument", "velocity")
WIDTHS = {"offset": N_OFFSETS, "duration": N_DURATIONS, "pitch": N_PITCHES, "instrument": N_INSTRUMENTS, "velocity": VELOCITY_BINS}
# Columns of an event inside the sampler: offset, beat, duration, pitch, instrument, velocity.
EVENT_COLUMNS = ("offset", "beat", "duration", "pitch", "instrument", "velocity")
NONE_CLASS = (N_OFFSETS, N_BEATS, N_DURATIONS, N_PITCHES, N_INSTRUMENTS, VELOCITY_BINS)


class StepState(NamedTuple):
    h: list[torch.Tensor]  # per layer (B, H)
    c: list[torch.Tensor]
    input_gates: torch.Tensor  # (B, 4H): the constant conditioning's share of layer 0's gates


class FastDecoder:
    """The decoder and output chain of ``model`` as precomputed tables (see the module docstring)."""

    def __init__(self, model: MahlerNet):
        config = model.config
        self.config = config
        self.velocity = config.use_velocity
        self.layers = config.decoder_layers
        self.hidden = config.decoder_size
        self.heads = HEADS if self.velocity else HEADS[:4]
        self.columns = 6 if self.velocity else 5
        self.same_step = config.same_step_mask
        self._linear: Callable[[torch.Tensor, int], torch.Tensor] | None = None
        with torch.no_grad():
            self._build_decoder(model)
            self._build_heads(model)

    # ---------------------------------------------------------------------------------- tables
    def _build_decoder(self, model: MahlerNet) -> None:
        lstm = model.decoder
        weight = lstm.weight_ih_l0.detach().float().cpu()
        sizes = NONE_CLASS[: self.columns]
        blocks, starts, column, start = [], [], 0, 0
        for size in sizes:  # each one-hot block of the step row, plus a zero row for "none"
            blocks.append(weight[:, column : column + size].t())
            blocks.append(torch.zeros(1, weight.shape[0]))
            starts.append(start)
            column += size
            start += size + 1
        active_width = N_PITCHES + N_INSTRUMENTS
        blocks.append(weight[:, column : column + active_width].t())  # active pitches, instruments
        # Rows of the step row's share of layer 0's gates: one per class of each block (+ none), then
        # one per active pitch and instrument; a step's share is the sum of its rows (an embedding bag).
        self.input_table = torch.cat(blocks).contiguous()
        self.block_starts = torch.tensor(starts)
        self.active_start = start
        self.input_rows = start + active_width
        self.condition_weight = weight[:, column + active_width :].t().contiguous()  # (C, 4H)
        self.input_bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().float().cpu()
        self.hidden_weight = lstm.weight_hh_l0.detach().float().cpu().contiguous()  # (4H, H)
        self.no_input = torch.empty(1, 0)
        self.no_input_weight = torch.empty(self.hidden_weight.shape[0], 0)
        self.upper = [
            tuple(getattr(lstm, f"{name}_l{layer}").detach().float().cpu().contiguous() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for layer in range(1, self.layers)
        ]

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
        self.h_weight = torch.cat([weights[n][0][:, :H] for n in self.heads]).t().contiguous()  # (H, sum widths)
        self.h_bias = torch.cat([weights[n][1] for n in self.heads])
        self.slices: dict[str, slice] = {}
        start = 0
        for name in self.heads:
            self.slices[name] = slice(start, start + WIDTHS[name])
            start += WIDTHS[name]
        self.width = start
        # Conditioning inputs in chain order; offset and beat feed the heads from duration on,
        # duration from pitch on, pitch from instrument on, instrument feeds velocity.
        inputs = [("offset", N_OFFSETS, 1), ("beat", N_BEATS, 1), ("duration", N_DURATIONS, 2), ("pitch", N_PITCHES, 3), ("instrument", N_INSTRUMENTS, 4)]
        self.tables: dict[str, torch.Tensor] = {}
        column = H
        for name, width, first_reader in inputs:
            readers = self.heads[first_reader:]
            if not readers:
                break
            table = torch.cat([weights[r][0][:, column : column + width].t() for r in readers], dim=1)
            self.tables[name] = torch.cat([table, torch.zeros(1, table.shape[1])]).contiguous()  # last row: none
            column += width
        if self.config.next_step_mask:  # a chord member (offset 0) is never a pause (duration 0)
            self.tables["offset"][0, 0] = NEG

    # --------------------------------------------------------------------------------- running
    def start(self, state: DecoderState) -> StepState:
        """The state before a bar's first step, from the network's :meth:`MahlerNet.initial_state`."""
        gates = torch.addmm(self.input_bias, state.condition.float(), self.condition_weight)
        h = [state.h[layer].float() for layer in range(self.layers)]
        c = [state.c[layer].float() for layer in range(self.layers)]
        return StepState(h=h, c=c, input_gates=gates)

    def step(self, rows: torch.Tensor, offsets: torch.Tensor, state: StepState) -> tuple[torch.Tensor, StepState]:
        """One decoder step. The previous event of batch row ``b`` is given by the rows of
        :attr:`input_table` it switches on: ``rows[offsets[b]:offsets[b + 1]]`` (its classes plus
        :attr:`block_starts`, then :attr:`active_start` plus its active pitches and instruments).
        Returns the top output's share of every head's logits (B, :attr:`width`) and the new state."""
        gates = F.embedding_bag(rows, self.input_table, offsets, mode="sum").add_(state.input_gates)
        batch = gates.shape[0]
        if batch == 1:  # batch 1: each layer's cell in one call (the first with its input share as bias)
            h, c = torch.lstm_cell(self.no_input, (state.h[0], state.c[0]), self.no_input_weight, self.hidden_weight, gates[0], None)
            hs, cs = [h], [c]
            for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.upper, start=1):
                h, c = torch.lstm_cell(h, (state.h[layer], state.c[layer]), w_ih, w_hh, b_ih, b_hh)
                hs.append(h)
                cs.append(c)
            return torch.addmm(self.h_bias, h, self.h_weight), StepState(hs, cs, state.input_gates)
        linear = self._batched()
        h, c = _cell(gates.add_(linear(state.h[0], 0)), state.c[0])
        hs, cs = [h], [c]
        for layer in range(1, self.layers):
            h, c = _cell(linear(torch.cat([h, state.h[layer]], dim=1), layer), state.c[layer])
            hs.append(h)
            cs.append(c)
        return linear(h, self.layers), StepState(hs, cs, state.input_gates)

    def _batched(self) -> Callable[[torch.Tensor, int], torch.Tensor]:
        """``linear(x, k)``: the k-th product of a batched step (0: layer 0's hidden weights; 1..L-1:
        layer k's input and hidden weights side by side, with biases; L: the heads)."""
        if self._linear is None:
            weights = [(self.hidden_weight, None)]
            weights += [(torch.cat([w_ih, w_hh], dim=1), b_ih + b_hh) for w_ih, w_hh, b_ih, b_hh in self.upper]
            weights.append((self.h_weight.t().contiguous(), self.h_bias))
            self._linear = _plain(weights)
        return self._linear


def _cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM cell on gates in PyTorch's order (input, forget, cell, output)."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), torch.tanh(g))
    return torch.sigmoid(o) * torch.tanh(c), c


def _plain(weights: list[tuple[torch.Tensor, torch.Tensor | None]]) -> Callable[[torch.Tensor, int], torch.Tensor]:
    transposed = [(w.t().contiguous(), b) for w, b in weights]

    def linear(x: torch.Tensor, index: int) -> torch.Tensor:
        weight, bias = transposed[index]
        return torch.mm(x, weight) if bias is None else torch.addmm(bias, x, weight)

    return linear


_CACHE: "weakref.WeakKeyDictionary[MahlerNet, tuple[tuple, FastDecoder]]" = weakref.WeakKeyDictionary()


def fast_decoder(model: MahlerNet) -> FastDecoder:
    """The :class:`FastDecoder` of ``model`` (on the CPU), rebuilt only when its parameters changed."""
    tensors = list(model.parameters()) + list(model.buffers())
    key = tuple((t._version, t.data_ptr()) for t in tensors)
    cached = _CACHE.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    decoder = FastDecoder(model)
    _CACHE[model] = (key, decoder)
    return decoder
