"""One decoder step of a trained :class:`~core.network.MahlerNet`, rearranged for fast generation.

Generation runs the decoder one event at a time, hundreds of times per second of music, at batch 1 to
~10. At that size the cost is the number of tensor operations, not arithmetic. The network's own
``decode_step`` and ``*_logits`` (written for teacher-forced training) build one-hot rows, concatenate
them with the conditioning, and run ``nn.LSTM``; here the same arithmetic is regrouped once per model:

* a one-hot block times a weight matrix is a row of that matrix, so the decoder's input projection is
  a *gather* of the rows of the previous event's classes plus one small product for its active sets;
* the conditioning fed at every step (context summary and ``P``) is constant within a bar, so its
  share of the first layer's gates is computed once per bar (:meth:`FastDecoder.start`);
* every head's product with the top decoder output is one matrix product per step; each property's
  share of the later heads (duration, pitch, instrument, velocity) is one gathered row of a table;
* the next-step mask (no pause on a chord member) is built into the offset table; a batch-normalised
  head (``output_norm``) in eval mode is an affine map, folded into the weights.

The result equals the network's step up to float rounding (a test checks it against
``decode_step`` and ``chain_logits``). The tables are rebuilt when the model's weights change (they
are tied to the model object and its parameters' version counters).
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import torch

from core.network import DecoderState, MahlerNet
from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, VELOCITY_BINS

NEG = float("-inf")

# Order of the heads in the combined logits row; widths per head.
HEADS = ("offset", "duration", "pitch", "instrument", "velocity")
WIDTHS = {"offset": N_OFFSETS, "duration": N_DURATIONS, "pitch": N_PITCHES, "instrument": N_INSTRUMENTS, "velocity": VELOCITY_BINS}


class StepState(NamedTuple):
    h: list[torch.Tensor]  # per layer (B, H)
    c: list[torch.Tensor]
    input_gates: torch.Tensor  # (B, 4H): the constant conditioning's share of layer 0's gates


class FastDecoder:
    """The decoder and output chain of ``model`` as precomputed tables (see the module docstring).

    Use :func:`fast_decoder` to get the cached instance of a model.
    """

    def __init__(self, model: MahlerNet):
        config = model.config
        self.config = config
        self.velocity = config.use_velocity
        self.layers = config.decoder_layers
        self.hidden = config.decoder_size
        self.heads = HEADS if self.velocity else HEADS[:4]
        with torch.no_grad():
            self._build_decoder(model)
            self._build_heads(model)

    # ---------------------------------------------------------------------------------- tables
    def _build_decoder(self, model: MahlerNet) -> None:
        lstm = model.decoder
        velocity = VELOCITY_BINS if self.velocity else 0
        # Block starts of the step row (features.step_features): offset, beat, duration, pitch,
        # instrument, velocity, active pitches, active instruments.
        starts = [0, N_OFFSETS, N_OFFSETS + N_BEATS, N_OFFSETS + N_BEATS + N_DURATIONS]
        starts.append(starts[-1] + N_PITCHES)
        starts.append(starts[-1] + N_INSTRUMENTS)  # velocity (or active pitches without velocity)
        active_start = starts[-1] + velocity
        row_width = active_start + N_PITCHES + N_INSTRUMENTS
        self.block_starts = torch.tensor(starts[: 6 if self.velocity else 5])
        weight = lstm.weight_ih_l0.detach().float()
        table = weight[:, :active_start].t()
        self.none_row = active_start  # index of the all-zero row: a "none" (-1) class
        self.row_table = torch.cat([table, torch.zeros(1, table.shape[1])]).contiguous()
        self.active_table = weight[:, active_start:row_width].t().contiguous()  # (119, 4H)
        self.condition_weight = weight[:, row_width:].t().contiguous()  # (C, 4H)
        self.input_bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().float()
        self.hidden_weight = [lstm.weight_hh_l0.detach().float().t().contiguous()]
        self.upper_weight: list[torch.Tensor] = []
        self.upper_bias: list[torch.Tensor] = []
        for layer in range(1, self.layers):
            w_ih = getattr(lstm, f"weight_ih_l{layer}").detach().float()
            w_hh = getattr(lstm, f"weight_hh_l{layer}").detach().float()
            self.upper_weight.append(torch.cat([w_ih, w_hh], dim=1).t().contiguous())
            bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
            self.upper_bias.append(bias.detach().float())

    def _head_weights(self, model: MahlerNet, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight (out, in) and bias of head ``name`` with an eval-mode output norm folded in."""
        layer = model.heads[name]
        weight, bias = layer.weight.detach().float(), layer.bias.detach().float()
        if model.head_norms is not None:
            norm = model.head_norms[name]
            scale = norm.weight.detach().float() * torch.rsqrt(norm.running_var.float() + norm.eps)
            bias = (bias - norm.running_mean.float()) * scale + norm.bias.detach().float()
            weight = weight * scale[:, None]
        return weight, bias

    def _build_heads(self, model: MahlerNet) -> None:
        H = self.hidden
        weights = {name: self._head_weights(model, name) for name in self.heads}
        self.h_weight = torch.cat([weights[n][0][:, :H] for n in self.heads]).t().contiguous()  # (H, sum widths)
        self.h_bias = torch.cat([weights[n][1] for n in self.heads])
        # Conditioning inputs in chain order and the heads that read each of them.
        inputs = [("offset", N_OFFSETS), ("beat", N_BEATS), ("duration", N_DURATIONS), ("pitch", N_PITCHES), ("instrument", N_INSTRUMENTS)]
        self.slices: dict[str, slice] = {}
        start = 0
        for name in self.heads:
            self.slices[name] = slice(start, start + WIDTHS[name])
            start += WIDTHS[name]
        self.tables: dict[str, torch.Tensor] = {}
        column = H
        # Offset and beat condition the heads from duration on; duration from pitch on; and so on.
        first_reader = {"offset": 1, "beat": 1, "duration": 2, "pitch": 3, "instrument": 4}
        for name, width in inputs:
            readers = list(self.heads[first_reader[name] :])
            if not readers:
                break
            blocks = [weights[r][0][:, column : column + width].t() for r in readers]  # (width, out_r)
            table = torch.cat(blocks, dim=1)
            table = torch.cat([table, torch.zeros(1, table.shape[1])])  # row `width` = none (-1)
            self.tables[name] = table.contiguous()
            column += width
        # The next-step mask: a chord member (offset 0) is never a pause (duration 0).
        if self.config.next_step_mask:
            self.tables["offset"][0, 0] = NEG
        self.same_step = self.config.same_step_mask

    # --------------------------------------------------------------------------------- running
    def start(self, state: DecoderState) -> StepState:
        """The state before a bar's first step, from the network's :meth:`MahlerNet.initial_state`."""
        gates = torch.addmm(self.input_bias, state.condition.float(), self.condition_weight)
        h = [state.h[layer].float() for layer in range(self.layers)]
        c = [state.c[layer].float() for layer in range(self.layers)]
        return StepState(h=h, c=c, input_gates=gates)

    def row_indices(self, columns: torch.Tensor) -> torch.Tensor:
        """Rows of :attr:`row_table` for previous events: ``columns`` (B, 5 or 6) holds offset, beat,
        duration, pitch, instrument (, velocity) with -1 for none."""
        return torch.where(columns >= 0, columns + self.block_starts, self.none_row)

    def step(self, indices: torch.Tensor, active: torch.Tensor, state: StepState) -> tuple[torch.Tensor, StepState]:
        """One decoder step: ``indices`` from :meth:`row_indices`, ``active`` (B, 119) float of the
        previous event's active pitches and instruments. Returns the heads' share of the logits that
        depends on the top output only (B, sum of widths) and the new state."""
        gates = self.row_table[indices].sum(1) + state.input_gates
        gates = torch.addmm(gates, active, self.active_table)
        gates = torch.addmm(gates, state.h[0], self.hidden_weight[0])
        h_new, c_new = [], []
        h, c = _cell(gates, state.c[0])
        h_new.append(h)
        c_new.append(c)
        for layer in range(1, self.layers):
            gates = torch.addmm(self.upper_bias[layer - 1], torch.cat([h, state.h[layer]], dim=1), self.upper_weight[layer - 1])
            h, c = _cell(gates, state.c[layer])
            h_new.append(h)
            c_new.append(c)
        logits = torch.addmm(self.h_bias, h, self.h_weight)
        return logits, StepState(h_new, c_new, state.input_gates)

    def to(self, device: torch.device | str) -> "FastDecoder":
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
            elif isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
                setattr(self, name, [v.to(device) for v in value])
            elif isinstance(value, dict) and value and all(isinstance(v, torch.Tensor) for v in value.values()):
                setattr(self, name, {k: v.to(device) for k, v in value.items()})
        return self


def _cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM cell with PyTorch's gate order (input, forget, cell, output)."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


_CACHE: "weakref.WeakKeyDictionary[MahlerNet, tuple[tuple, FastDecoder]]" = weakref.WeakKeyDictionary()


def fast_decoder(model: MahlerNet) -> FastDecoder:
    """The :class:`FastDecoder` of ``model``, rebuilt only when its parameters changed."""
    parameters = list(model.parameters()) + list(model.buffers())
    key = tuple(p._version for p in parameters) + tuple(p.data_ptr() for p in parameters) + (str(next(model.parameters()).device),)
    cached = _CACHE.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    decoder = FastDecoder(model).to(next(model.parameters()).device)
    _CACHE[model] = (key, decoder)
    return decoder
