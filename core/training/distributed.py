"""Data-parallel training over several processes (``torch.distributed``): who this process is, its
share of each batch, sums over the processes, batch norm over the whole global batch, and the
``torchrun`` command line that ``mahlernet train --nproc N`` runs.

The design goal is that the process count changes the speed, not the result: a run on N processes
takes the same optimizer steps as a run on one, up to floating-point rounding.

* Every process builds the same global batches (:meth:`core.model.batching.PairSet.batches`, a function of
  the seed and the epoch) and trains on its own contiguous share of the rows of each: the rows of a
  length bucket are split, so each process reads about 1/N of it. The cut points balance the
  measured cost of the shares (:func:`balanced_shares`): a batch is sorted by length, so equal row
  counts gave the process holding its longer rows 7-10% more work, which the others waited for.
* The loss of each share is normalised by the counts of the whole global batch
  (:func:`core.model.objective.losses` with ``total``), and the gradients are *summed* over the processes
  (DDP averages them, so each process scales its loss by N): the sum is the one-process gradient.
* Batch norm takes its statistics over the whole global batch (:func:`synchronise_batch_norms`).
* The random draws that the result depends on are functions of (seed, epoch, batch, row of the
  global batch), not of the process: the latent noise of a global batch is drawn whole and sliced
  (:func:`shared_noise`), and every dropout mask of a row is a hash of its key
  (:mod:`core.model.keyed_dropout`), so runs on different process counts agree with dropout on too.
  Scheduled sampling's draws (off in every preset) still come from torch's generator, seeded per
  step from (seed, epoch, batch, rank): with it on, runs agree in distribution, not bit for bit.

The processes meet as few times a step as the result allows, because each meeting waits for the
slowest: at the start, to sum the batch's counts that the loss divides by; once in the forward pass
and once in the backward for the batch norm's moments (one sum each, :func:`core.model.network.masked_moments`);
and for the gradients, which CPUs of one machine sum through shared memory
(:mod:`core.training.local_group`, which also carries the other sums and meetings). Progress is
summed every 10 steps, not every step.

Only the process of rank 0 (:attr:`Cluster.primary`) writes checkpoints, records and model cards;
every process holds the same weights, so a run resumes on any number of processes.

CPUs use the ``gloo`` backend, CUDA GPUs ``nccl`` (one GPU per process: ``cuda:LOCAL_RANK``); gloo carries
the gradients only where shared memory cannot (processes on several machines, a ``/dev/shm`` too small).
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import sys
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from core.errors import TrainingError
from core.training import local_group
from core.model.network import MahlerNet, MaskedBatchNorm, masked_moments

WORLD_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")  # what torchrun sets in each process it starts


@dataclass(frozen=True)
class Cluster:
    """This process's place among the processes of one training run (one process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def primary(self) -> bool:
        """True for the one process that writes files and prints progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @classmethod
    def current(cls) -> "Cluster":
        """The cluster of the process group this process joined, or a cluster of one."""
        if not (dist.is_available() and dist.is_initialized()):
            return cls()
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))

    def share(self, rows: int) -> slice:
        """This process's contiguous rows of a global batch of ``rows`` rows (sizes differ by at most
        one; the first ``rows % world`` processes take one more, as ``numpy.array_split`` does)."""
        base, extra = divmod(rows, self.world)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def balanced_share(self, input_lengths: np.ndarray, context_lengths: np.ndarray | None) -> slice:
        """This process's contiguous rows of a global batch whose rows have these lengths, cut so
        that the processes' costs are as even as they can be (:func:`balanced_shares`)."""
        if not self.distributed:
            return slice(0, len(input_lengths))
        return balanced_shares(input_lengths, context_lengths, self.world)[self.rank]

    def device_for(self, device: torch.device) -> torch.device:
        """``cuda`` without an index becomes this process's own GPU, ``cuda:LOCAL_RANK``."""
        if self.distributed and device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    def total(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (a new tensor; no gradient flows back through it)."""
        if not self.distributed:
            return tensor
        return _summed(tensor.detach())

    def total_with_gradient(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes, with the gradient summed back to each (batch norm)."""
        return _SumOverProcesses.apply(tensor) if self.distributed else tensor

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


class _SumOverProcesses(torch.autograd.Function):
    """y = the sum of x over the processes. Every process's loss depends on y, so the gradient of
    the sum of their losses with respect to this process's x is the sum of their gradients of y."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:  # noqa: ANN001 - autograd's signature
        return _summed(tensor)

    @staticmethod
    def backward(ctx, gradient: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return _summed(gradient)


# The processes' shared-memory group, where data_parallel made one (CPUs of one machine); else None.
_local_group: local_group.LocalGroup | None = None


def _summed(tensor: torch.Tensor) -> torch.Tensor:
    """A new tensor: ``tensor`` summed over the processes, through shared memory where they can."""
    return _local_group.sum(tensor) if _local_group is not None else local_group.all_reduced(tensor)


# The cost of a share of a batch, in milliseconds of forward and backward pass on one CPU thread,
# fitted over 60 shares of the corpus's batches with the small continuation preset (R^2 = 0.98):
# per row, 0.19 per step of the share's longest input bar, 0.073 per step of its longest context and
# 0.49 for the row itself. LSTMs step through the padding, hence the longest, not the row's own length.
INPUT_STEP_COST, CONTEXT_STEP_COST, ROW_COST = 0.19, 0.073, 0.49


def share_costs(input_lengths: np.ndarray, context_lengths: np.ndarray | None) -> np.ndarray:
    """``costs[s, e]``: the cost of the rows ``s .. e - 1`` of a batch as one share (0 where e <= s)."""
    rows = len(input_lengths)
    contexts = np.zeros(rows) if context_lengths is None else np.asarray(context_lengths, float)
    start, last = np.arange(rows)[:, None], np.arange(rows)[None, :]  # a share of rows start .. last
    inside = last >= start

    def longest(lengths: np.ndarray) -> np.ndarray:
        return np.maximum.accumulate(np.where(inside, np.asarray(lengths, float)[None, :], 0.0), axis=1)

    per_row = INPUT_STEP_COST * longest(input_lengths) + CONTEXT_STEP_COST * longest(contexts) + ROW_COST
    costs = np.zeros((rows + 1, rows + 1))
    costs[:rows, 1:] = np.where(inside, (last - start + 1) * per_row, 0.0)
    return costs


def balanced_shares(input_lengths: np.ndarray, context_lengths: np.ndarray | None, world: int) -> list[slice]:
    """``world`` contiguous shares of a batch (each of at least one row; the batch has at least
    ``world``) whose largest cost (:func:`share_costs`) is the least there is. The step waits for
    the slowest process, so that cost is the step's time."""
    rows = len(input_lengths)
    if world < 1 or rows < world:
        raise ValueError(f"cannot share {rows} rows among {world} processes")
    costs = share_costs(input_lengths, context_lengths)

    def cuts_within(limit: float) -> list[int] | None:
        """The cut points of shares that each cost at most ``limit`` (each as long as it may be), or None."""
        cuts = [0]
        for share in range(world):
            start, last = cuts[-1], rows - (world - share - 1)  # leave a row for each share after this one
            stop = start + int(np.searchsorted(costs[start, start + 1 : last + 1], limit, side="right"))
            if stop == start:
                return None
            cuts.append(stop)
        return cuts if cuts[-1] == rows else None

    candidates = np.unique(costs[costs > 0])  # the least largest cost is the cost of some share
    low, high = 0, len(candidates) - 1
    while low < high:
        middle = (low + high) // 2
        if cuts_within(candidates[middle]) is None:
            low = middle + 1
        else:
            high = middle
    cuts = cuts_within(candidates[low])
    assert cuts is not None
    return [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]


def in_launched_process() -> bool:
    """True in a process that ``torchrun`` started (its rank and world size are in the environment)."""
    return all(name in os.environ for name in WORLD_VARIABLES)


def join(device_name: str | None = None) -> Cluster:
    """Join the process group that ``torchrun`` set up for this process (``nccl`` when training on
    CUDA, else ``gloo``) and give its :class:`Cluster`; outside ``torchrun``, a cluster of one."""
    if not in_launched_process():
        return Cluster()
    if dist.is_initialized():
        return Cluster.current()
    local_rank = int(os.environ["LOCAL_RANK"])
    wants_cuda = (device_name in (None, "", "auto") and torch.cuda.is_available()) or str(device_name).startswith("cuda")
    if wants_cuda:
        if not torch.cuda.is_available():
            raise TrainingError("no CUDA device is available here (use --device cpu or auto)")
        if local_rank >= torch.cuda.device_count():
            raise TrainingError(f"process {local_rank} of this machine has no GPU of its own ({torch.cuda.device_count()} GPUs)")
        torch.cuda.set_device(local_rank)
    try:
        dist.init_process_group("nccl" if wants_cuda else "gloo")
    except (RuntimeError, ValueError) as error:
        raise TrainingError(f"cannot join the training processes ({error})") from None
    return Cluster.current()


def leave() -> None:
    """Leave the process group (at the end of a distributed run). The trainer's data-parallel model
    may still be alive in a reference cycle; its reducer holds the group, and one destroyed after the
    group (at interpreter exit) aborts the process ("terminate called without an active exception",
    seen once in three suite runs), so the cycles are collected first."""
    global _local_group
    _local_group = None
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


class _GlobalBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose training statistics are those of the global batch (same parameters,
    buffers and state-dict keys, so checkpoints do not see the difference)."""

    total = staticmethod(lambda value: value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        mean, var, count = masked_moments(x, None, self.running_mean, type(self).total)
        with torch.no_grad():
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var * count / (count - 1).clamp(min=1), self.momentum)
            self.num_batches_tracked.add_(1)
        normalised = (x.float() - mean) * torch.rsqrt(var + self.eps)
        return (normalised * self.weight + self.bias).to(x.dtype)


def synchronise_batch_norms(model: nn.Module, cluster: Cluster) -> None:
    """Make every batch norm of ``model`` take its training statistics over the whole global batch
    (summed over the processes of ``cluster``). Its weights and state dict are unchanged."""
    if not cluster.distributed:
        return

    class GlobalMaskedBatchNorm(MaskedBatchNorm):
        total = staticmethod(cluster.total_with_gradient)

    class GlobalBatchNorm1d(_GlobalBatchNorm1d):
        total = staticmethod(cluster.total_with_gradient)

    for module in model.modules():
        if isinstance(module, MaskedBatchNorm):
            module.__class__ = GlobalMaskedBatchNorm
        elif type(module) is nn.BatchNorm1d:
            module.__class__ = GlobalBatchNorm1d


def data_parallel(model: MahlerNet, cluster: Cluster, device: torch.device) -> nn.Module:
    """``model`` wrapped for data-parallel training (gradients summed over the processes by DDP);
    ``model`` itself when there is one process. DDP starts every process from rank 0's weights."""
    if not cluster.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    ids = [device.index] if device.type == "cuda" else None
    # Every process keeps the same buffers (batch-norm statistics are global): no broadcast per step.
    # (torch 2.13 renamed the switch; earlier versions know only the old name.)
    accepted = inspect.signature(DistributedDataParallel.__init__).parameters
    no_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in accepted else {"broadcast_buffers": False}
    # A learned prior without a context is never used (MahlerNet.prior): its parameters get no gradient.
    unused = model.prior_network is not None and model.context_encoder is None
    if device.type != "cpu" or not _all_agree(cluster, local_group.applies(cluster.world, device, _gradient_bytes(model))):
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=unused, **no_sync)
    # CPUs of one machine: sums and meetings through shared memory, the gradients in one bucket.
    global _local_group
    _local_group = local_group.LocalGroup(cluster.rank, cluster.world)
    wrapped = DistributedDataParallel(
        model, device_ids=ids, find_unused_parameters=unused, bucket_cap_mb=local_group.BUCKET_MB, **no_sync
    )
    wrapped.register_comm_hook(_local_group, local_group.LocalGroup.hook)
    return wrapped


def meets_in_shared_memory() -> bool:
    """True when this process's data-parallel model sums and meets through shared memory."""
    return _local_group is not None


def _gradient_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def _all_agree(cluster: Cluster, answer: bool) -> bool:
    """True when every process of ``cluster`` (on CPUs) answered True."""
    return cluster.total(torch.tensor([float(answer)])).item() == cluster.world


# ------------------------------------------------------------------------- shared randomness
def seed_of(*keys: int) -> int:
    """A 63-bit seed from integer keys (NumPy's SeedSequence: nearby keys give unrelated seeds)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def shared_noise(keys: Sequence[int], rows: int, size: int) -> torch.Tensor:
    """(rows, size) standard normal noise for a whole global batch, a function of ``keys`` only:
    every process draws the same and takes its own rows, so the noise of a bar does not depend on
    how many processes share its batch (drawn on the CPU: the same numbers on any device)."""
    generator = torch.Generator().manual_seed(seed_of(*keys))
    return torch.randn(rows, size, generator=generator)


@contextlib.contextmanager
def latent_noise(model: MahlerNet, noise: torch.Tensor) -> Iterator[None]:
    """Within the block, ``model`` samples z as ``mu + sigma * noise`` (``noise`` on its device)."""

    def sample_z(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * noise.to(mu.dtype)

    model.sample_z = sample_z  # an instance attribute hides the class's static method
    try:
        yield
    finally:
        del model.sample_z


# ------------------------------------------------------------------------------- launching
def launch_command(
    arguments: Sequence[str], processes: int, nodes: int = 1, node_rank: int = 0, endpoint: str | None = None
) -> list[str]:
    """The ``torchrun`` command (as ``python -m torch.distributed.run``) that runs ``mahlernet``
    with ``arguments`` on ``processes`` processes per machine; with ``nodes`` > 1, this machine is
    node ``node_rank`` and the processes meet at ``endpoint`` (``host:port``)."""
    if processes < 1:
        raise TrainingError(f"--nproc must be at least 1, not {processes}")
    if nodes < 1:
        raise TrainingError(f"--nnodes must be at least 1, not {nodes}")
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={processes}"]
    if nodes == 1:
        command.append("--standalone")
    else:
        if not endpoint:
            raise TrainingError("training on several machines needs --rdzv-endpoint HOST:PORT (the same on every machine)")
        if not 0 <= node_rank < nodes:
            raise TrainingError(f"--node-rank must be from 0 to {nodes - 1}, not {node_rank}")
        command += [f"--nnodes={nodes}", f"--node-rank={node_rank}", "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}"]
    return command + ["-m", "core.cli.main", *arguments]
