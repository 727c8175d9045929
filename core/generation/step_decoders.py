"""The two implementations of a decoder step and its output chain that the sampler drives.

* :class:`TableSteps`: the NumPy tables of :class:`core.generation.fast.step.FastDecoder`, what
  generation runs (fast at batch 1 to ~10 on a CPU).
* :class:`NetworkSteps`: the network itself (``decode_step`` and its heads, through
  :class:`core.model.output_chain.NetworkHeads`), the reference the tables must reproduce.

Both are :class:`core.model.output_chain.Heads`: the sampler runs the one chain (its order, its beat, its
rules) over either, so the fast path cannot decode another chain than the network's; a test decodes
the same bars through both and compares every event.

The sampler's per-step terms (masks of meter, pitch and instrument controls, the Gumbel noise) reach a
step as one row ``extra`` laid out like the heads' concatenated logits (:attr:`slices`). The
instrument mask depends on the sampled pitch, so each decoder gets it as a table (pitch ->
instrument classes) at construction: the fast one folds it into its pitch table.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from core.model.features import step_features
from core.generation.fast.lstm import EVENT_COLUMNS, NONE_CLASS
from core.generation.fast.step import FastDecoder
from core.model.network import DecoderState, MahlerNet
from core.model.output_chain import NetworkHeads, head_slices
from core.representation.events import N_DURATIONS, N_INSTRUMENTS, N_PITCHES, PROPERTY_SIZES

_NONE = dict(zip(EVENT_COLUMNS, NONE_CLASS))


class StepDecoder(Protocol):
    """One decoder step at a time for a batch of rows, then its output chain."""

    slices: dict[str, slice]  # each head's columns in the ``extra`` row
    width: int
    head_bias: np.ndarray  # (width,) the heads' biases, where the sampler adds them (else zeros)

    def start(self, state: DecoderState) -> None:
        """Begin a bar from the network's initial decoder state."""
        ...

    def feed(self, event: np.ndarray, active: np.ndarray, extra: np.ndarray) -> None:
        """Run the decoder on the previous events (B, columns; "none" = the class count, see
        :data:`NONE_CLASS`) and what sounded at their onsets (B, 119); ``extra`` (B, width) is added
        to the heads' logits of this step."""
        ...

    def logits(self, name: str) -> np.ndarray: ...

    def take(self, name: str, value: np.ndarray) -> None: ...


class TableSteps:
    """The chain on the fast decoder's tables: each head is its share of the step's logits row plus
    one gathered table row per value chosen before it (see :mod:`core.generation.fast.step`)."""

    def __init__(self, fast: FastDecoder, instrument_mask: np.ndarray):
        self.fast = fast
        self.slices, self.width, self.head_bias = fast.slices, fast.width, fast.h_bias
        self.tables = dict(fast.tables)
        pitch_table = self.tables["pitch"].copy()
        pitch_table[:N_PITCHES, :N_INSTRUMENTS] += instrument_mask
        self.tables["pitch"] = pitch_table

    def start(self, state: DecoderState) -> None:
        self.state = self.fast.start(state)
        rows = state.condition.shape[0]
        self.hot = np.zeros((rows, self.fast.input_rows), bool)  # the input rows each batch row switches on
        self.every = np.arange(rows)
        self.batch = np.arange(rows)[:, None]

    def feed(self, event: np.ndarray, active: np.ndarray, extra: np.ndarray) -> None:
        fast, hot = self.fast, self.hot
        hot[:] = False
        hot[self.batch, event + fast.block_starts] = True
        hot[:, fast.active_start :] = active
        batch_rows, on = np.nonzero(hot)
        offsets = np.searchsorted(batch_rows, self.every)
        self.row = fast.step(on, offsets, self.state)
        self.row += extra

    def logits(self, name: str) -> np.ndarray:
        head = self.row[:, self.slices[name]]
        if name == "offset":
            return head
        if name == "velocity":  # the last head: the instrument's rows are added last
            return head + self.chain + self.last
        return head + self.chain[:, : PROPERTY_SIZES[name]]

    def take(self, name: str, value: np.ndarray) -> None:
        tables = self.tables
        if name == "offset":
            self.chain = tables["offset"][value]
        elif name == "beat":
            self.chain += tables["beat"][value]
        elif name == "duration":
            self.chain = self.chain[:, N_DURATIONS:] + tables["duration"][value]
        elif name == "pitch":
            self.chain = self.chain[:, N_PITCHES:] + tables["pitch"][value]
        elif name == "instrument" and "instrument" in tables:  # read by the velocity head
            self.chain = self.chain[:, N_INSTRUMENTS:]
            self.last = tables["instrument"][value]


class NetworkSteps:
    """The chain on the network's own step and heads, in torch (the reference for :class:`TableSteps`;
    it runs on the model's device)."""

    def __init__(self, model: MahlerNet, instrument_mask: np.ndarray):
        self.model = model
        self.velocity = model.config.use_velocity
        self.slices, self.width = head_slices(model.config.properties)
        self.head_bias = np.zeros(self.width, np.float32)  # the network's heads add their own
        self.instrument_mask = instrument_mask
        self.device = next(model.parameters()).device

    def _tensor(self, name: str, value: np.ndarray) -> torch.Tensor:
        """Classes in the network's convention ("none" = -1)."""
        return torch.from_numpy(np.where(value >= _NONE[name], -1, value)).to(self.device)

    def start(self, state: DecoderState) -> None:
        self.state = DecoderState(*(part.to(self.device) for part in state))

    def feed(self, event: np.ndarray, active: np.ndarray, extra: np.ndarray) -> None:
        columns = [self._tensor(name, event[:, index]) for index, name in enumerate(EVENT_COLUMNS[: event.shape[1]])]
        velocity = columns[5] if self.velocity else None
        flags = torch.from_numpy(active).to(self.device)
        row = step_features(*columns[:5], velocity, flags[:, :N_PITCHES], flags[:, N_PITCHES:], self.state.condition.dtype)
        h, self.state = self.model.decode_step(row, self.state)
        self.heads = NetworkHeads(self.model, h)
        self.extra = extra

    def logits(self, name: str) -> np.ndarray:
        logits = self.heads.logits(name).float().cpu().numpy() + self.extra[:, self.slices[name]]
        if name == "instrument":
            logits += self.instrument_mask[self.pitch]
        return logits

    def take(self, name: str, value: np.ndarray) -> None:
        if name == "pitch":
            self.pitch = value
        self.heads.take(name, self._tensor(name, value))
