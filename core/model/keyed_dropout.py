"""Dropout whose masks are a function of a key per row, not of a process's random state.

With data-parallel training (:mod:`core.training.distributed`) the rows of a global batch are spread over
processes. ``F.dropout`` draws each process's masks from that process's generator, so a run on two
processes and a run on one draw different masks for the same bar and train different models. Here
the mask of a row is a hash of (the row's key, the dropout site, the element's position within the
row): whichever process holds a row draws the same mask for it, on any device, and the mask of a
sequence step does not depend on how far the batch is padded.

The hash is a 32-bit integer mixer (three xor-shifts and two multiplications by 0x45d9f3b) evaluated
in int64 arithmetic that never overflows (every product stays below 2**59), so a CPU and a GPU give
the same bits. Per element (the masks' bulk) it is one xor of two already-mixed values, the row's
and the position's, and two multiply-xorshift rounds in place: about as fast as ``F.dropout``
(4 ms for a 64 x 40 x 256 mask on one core of the development machine).

A row's key is the hash of its position in the global batch and of a 63-bit seed of the step
(:func:`core.training.distributed.seed_of` of the run's seed, the epoch and the batch).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

_LOW_32 = 0xFFFFFFFF
_MULTIPLIER = 0x45D9F3B  # < 2**27: a 32-bit value times it fits in int64
_SITE_STEP = 0x9E3779B9  # spreads the site numbers over the 32 bits before mixing


def mix32(values: torch.Tensor) -> torch.Tensor:
    """The 32-bit hash of each element of ``values`` (int64, each in [0, 2**32)); same dtype and range."""
    values = values ^ (values >> 16)
    values = (values * _MULTIPLIER) & _LOW_32
    values = values ^ (values >> 16)
    values = (values * _MULTIPLIER) & _LOW_32
    return values ^ (values >> 16)


def _mix32_in_place(values: torch.Tensor) -> torch.Tensor:
    """Two multiply-xorshift rounds over ``values`` (int64 in [0, 2**32)), in place: the per-element
    mixing of values that are already hashes (the xor of a row's and a position's hash)."""
    values.mul_(_MULTIPLIER).bitwise_and_(_LOW_32)
    values ^= values >> 15
    values.mul_(_MULTIPLIER).bitwise_and_(_LOW_32)
    values ^= values >> 16
    return values


def row_keys(step_seed: int, positions: torch.Tensor) -> torch.Tensor:
    """The dropout key (int64 in [0, 2**32)) of each row at ``positions`` (their indices in the
    global batch) of the step whose seed is ``step_seed`` (a non-negative integer below 2**63)."""
    low, high = step_seed & _LOW_32, (step_seed >> 32) & _LOW_32
    return mix32(mix32(positions.to(torch.int64) ^ low) ^ high)


def keyed_dropout(values: torch.Tensor, probability: float, keys: torch.Tensor, site: int) -> torch.Tensor:
    """Training-mode dropout of ``values`` (rows first: ``(B, ...)``): each element is zeroed with
    chance ``probability``, the others scaled by ``1 / (1 - probability)``, as ``F.dropout`` does.
    The mask of row ``i`` is a function of ``keys[i]``, ``site`` (one number per place in the
    network that drops) and the element's flat position within the row only."""
    if probability <= 0:
        return values
    if probability >= 1:
        return values * 0
    rows = values.shape[0]
    width = values[0].numel() if rows else 0
    site_keys = mix32((keys.to(values.device, torch.int64) + site * _SITE_STEP) & _LOW_32)
    positions = mix32(torch.arange(width, device=values.device, dtype=torch.int64))
    bits = _mix32_in_place(positions.unsqueeze(0) ^ site_keys.unsqueeze(1))
    keep = (bits >= round(probability * 2**32)).reshape(values.shape)
    return values * keep * (1.0 / (1.0 - probability))


def dropout(values: torch.Tensor, probability: float, training: bool, keys: torch.Tensor | None, site: int) -> torch.Tensor:
    """Dropout in training mode: keyed by row (:func:`keyed_dropout`) when ``keys`` are given, else
    ``F.dropout`` from torch's generator; the identity in eval mode."""
    if not training or probability <= 0:
        return values
    if keys is None:
        return F.dropout(values, probability, True)
    return keyed_dropout(values, probability, keys, site)


def run_lstm(
    lstm: nn.LSTM, rows: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], keys: torch.Tensor | None, site: int
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """``lstm(rows, state)`` (batch first), with the dropout between its layers keyed by row: layer
    ``k``'s input is dropped at site ``site + k``. Without keys, in eval mode, or with one layer (no
    dropout between layers), the LSTM runs as one call."""
    if keys is None or not lstm.training or lstm.dropout <= 0 or lstm.num_layers < 2:
        return lstm(rows, state)
    if not (lstm.batch_first and lstm.bias) or lstm.bidirectional or lstm.proj_size:
        raise ValueError("keyed dropout runs batch-first, one-directional LSTMs with biases only")
    h0, c0 = state
    finals_h, finals_c = [], []
    for layer in range(lstm.num_layers):
        if layer:
            rows = keyed_dropout(rows, lstm.dropout, keys, site + layer)
        weights = [getattr(lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        rows, h, c = torch.lstm(rows, (h0[layer : layer + 1], c0[layer : layer + 1]), weights, True, 1, 0.0, True, False, True)
        finals_h.append(h)
        finals_c.append(c)
    return rows, (torch.cat(finals_h), torch.cat(finals_c))
