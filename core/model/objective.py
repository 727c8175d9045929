"""Losses and metrics of the C-VAE (spec 3.8-3.9, with the fixes of spec section 6).

* Reconstruction: per property, the mean softmax cross-entropy over the steps that have that
  property (offset and duration: every valid step; pitch, instrument, velocity: notes only, pauses
  excluded); the reconstruction loss is the sum of these means, as in the original.
* KL: per bar, **summed** over latent dimensions (the original averaged over them). Free bits are a
  threshold in nats on that sum, ``max(KL - free_nats, 0)``, as MusicVAE defines them; the paper's
  "48 free bits" are ``48 * ln 2 = 33.3`` nats. The original's weight-1 KL (a mean over ``Z``
  dimensions) is ``beta = 1 / Z`` here; the continuation presets use exactly that.
* beta: constant ``beta_max``, or annealed ``beta_max * (1 - beta_rate ** step)``.
* Metrics per property: accuracy of the argmax, NLL per step, and the distance metric (mean absolute
  class-index error of the argmax) for offset, duration, pitch and velocity over the same steps as the
  loss (the original included pause steps in the pitch distance).

Statistics are accumulated as one flat tensor per batch (:func:`batch_statistics`), so a training step
costs one device-to-host copy; :class:`Totals` sums them and turns them into named metrics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from core.model.batching import PairBatch

if TYPE_CHECKING:
    from core.model.network import Outputs

DISTANCE_PROPERTIES = ("offset", "duration", "pitch", "velocity")
_PER_PROPERTY = ("nll", "count", "correct", "distance")
_GLOBAL = ("kl", "kl_free", "bars", "events")


def target_and_mask(batch: PairBatch, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Target classes and the steps that count for property ``name``."""
    bar = batch.bar
    target = getattr(bar, name)
    mask = bar.mask if name in ("offset", "duration") else bar.mask & (bar.pitch >= 0) & (target >= 0)
    return target, mask


def loss_denominators(batch: PairBatch, properties: Iterable[str]) -> torch.Tensor:
    """What :func:`losses` divides by: the steps that count for each of ``properties`` (in order),
    then the bars, as float32 on the batch's device. It depends on the batch only, so data-parallel
    training sums it over the processes before the forward pass, where they meet anyway."""
    return _denominators(batch, [target_and_mask(batch, name)[1] for name in properties])


def _denominators(batch: PairBatch, masks: list[torch.Tensor]) -> torch.Tensor:
    bars = batch.bar.lengths.new_full((), len(batch.bar.lengths))
    return torch.stack([mask.sum() for mask in masks] + [bars]).float()


def kl_divergence(
    mu: torch.Tensor, logvar: torch.Tensor, prior_mu: torch.Tensor | None = None, prior_logvar: torch.Tensor | None = None
) -> torch.Tensor:
    """KL(q(z|x) || p(z)) per bar, summed over latent dimensions: p is N(0, I), or the diagonal
    Gaussian ``(prior_mu, prior_logvar)`` of a learned prior (the same formula with both Gaussians'
    moments; with zeros for the prior it is the standard one)."""
    mu, logvar = mu.float(), logvar.float()
    if prior_mu is None or prior_logvar is None:
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)
    prior_mu, prior_logvar = prior_mu.float(), prior_logvar.float()
    ratio = (logvar - prior_logvar).exp()
    return 0.5 * (ratio + (mu - prior_mu).pow(2) * (-prior_logvar).exp() - 1.0 - (logvar - prior_logvar)).sum(dim=-1)


def prior_of(outputs: "Outputs") -> tuple[torch.Tensor, torch.Tensor] | None:
    """A forward pass's learned prior ``(mu, logvar)``, or None for the standard N(0, I)."""
    if outputs.prior_mu is None or outputs.prior_logvar is None:
        return None
    return outputs.prior_mu, outputs.prior_logvar


def beta_at(step: int, beta_max: float, annealing: bool, rate: float) -> float:
    return beta_max * (1.0 - rate**step) if annealing else beta_max


def losses(
    logits: dict[str, torch.Tensor], mu: torch.Tensor, logvar: torch.Tensor, batch: PairBatch, beta: float, free_nats: float,
    prior: tuple[torch.Tensor, torch.Tensor] | None = None, denominators: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(loss, statistics)``: the scalar to minimise and the flat statistics of this batch.
    ``prior``: a learned prior's ``(mu, logvar)`` (None: N(0, I)).

    ``denominators`` (:func:`loss_denominators`; None: this batch's own) are the step and bar counts
    the sums are divided by. In data-parallel training (:mod:`core.training.distributed`) they are the
    counts of the whole global batch: each process's loss is then its share of the global batch's
    loss (the shares add up to it), so summing the gradients gives the one-process gradient.
    """
    targets = [target_and_mask(batch, name) for name in logits]
    own = _denominators(batch, [mask for _target, mask in targets])  # this batch's counts: its statistics report them
    sums, stats = [], []
    for index, ((name, property_logits), (target, mask)) in enumerate(zip(logits.items(), targets)):
        flat = property_logits.float().reshape(-1, property_logits.shape[-1])
        nll = F.cross_entropy(flat, torch.where(mask, target, -100).reshape(-1), ignore_index=-100, reduction="sum")
        predicted = property_logits.argmax(dim=-1)
        correct = ((predicted == target) & mask).sum()
        distance = ((predicted - target).abs() * mask).sum() if name in DISTANCE_PROPERTIES else torch.zeros_like(correct)
        sums.append(nll)
        stats.extend([nll.detach(), own[index], correct, distance])
    kl = kl_divergence(mu, logvar, *(prior or (None, None)))
    kl_free = (kl - free_nats).clamp(min=0.0)
    divisors = (own if denominators is None else denominators).clamp(min=1)
    recon = sum((nll / divisors[i] for i, nll in enumerate(sums)), torch.zeros((), device=mu.device))
    loss = recon + beta * kl_free.sum() / divisors[-1]
    stats.extend([kl.detach().sum(), kl_free.detach().sum(), own[-1], batch.bar.lengths.sum()])
    return loss, torch.stack([s.float() for s in stats])


class Totals:
    """Running sums of batch statistics for a fixed list of properties."""

    def __init__(self, properties: tuple[str, ...], values: list[float] | None = None):
        self.properties = properties
        size = len(properties) * len(_PER_PROPERTY) + len(_GLOBAL)
        self.values = np.zeros(size) if values is None else np.asarray(values, dtype=float)

    def add(self, statistics: torch.Tensor | np.ndarray) -> None:
        self.values = self.values + np.asarray(statistics.tolist() if isinstance(statistics, torch.Tensor) else statistics)

    @property
    def events(self) -> int:
        return int(self.values[-1])

    def metrics(self, beta: float) -> dict[str, float]:
        """Named means: ``loss``, ``recon``, ``kl``, and ``<property>_{nll,accuracy,distance}``."""
        out: dict[str, float] = {}
        recon = 0.0
        for index, name in enumerate(self.properties):
            nll, count, correct, distance = self.values[index * 4 : index * 4 + 4]
            count = max(count, 1.0)
            out[f"{name}_nll"] = nll / count
            out[f"{name}_accuracy"] = correct / count
            if name in DISTANCE_PROPERTIES:
                out[f"{name}_distance"] = distance / count
            recon += nll / count
        kl, kl_free, bars, _ = self.values[-4:]
        bars = max(bars, 1.0)
        out["recon"] = recon
        out["kl"] = kl / bars
        out["loss"] = recon + beta * kl_free / bars
        return {key: float(round(value, 6)) if math.isfinite(value) else float(value) for key, value in out.items()}
