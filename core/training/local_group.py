"""Sums and meetings of the training processes of one machine, through shared memory.

Data-parallel training makes its processes meet several times a step (:mod:`core.training.distributed`):
to sum the gradients (16 MB for the small continuation preset), batch-norm moments and counts.
On CPUs, ``gloo`` does it over the loopback network. Measured on the 2-core VM
(``benchmarks/README.md``, "ddp.py"):

* the gradient all-reduce took ~10 ms of CPU per process and step, on gloo's threads, which
  competed with the training threads for the same two cores;
* every meeting cost ~1.5-2 ms more than the processes' difference in arrival: a process that
  blocks in gloo lets its virtual CPU halt, and waking it again takes that long. The seven meetings
  of a step then took ~15 ms of a ~200 ms step.

When every process runs on this machine, they can instead read each other's memory: each maps the
others' files in ``/dev/shm``, and a process that waits for the others spins on their counters
(for a few milliseconds; then it sleeps between looks, so that a long wait, such as process 0
writing a checkpoint, does not hold a core; with more processes than cores it only sleeps between
looks).

* :meth:`LocalGroup.barrier`: each process raises its counter and waits until every counter is as high.
* :meth:`LocalGroup.sum`: each process writes its tensor into its file, they meet, and each adds up
  every process's tensor in rank order, so all hold the very same sum.
* :meth:`LocalGroup.sum_gradients` (DDP's communication hook, :meth:`LocalGroup.hook`): each process
  writes its gradients, they meet, each adds up one slice of them (every process's, in rank order)
  and divides it by the process count as DDP's own sum does, they meet again, and each copies the
  others' slices. Each slice is summed once, so every process ends with the same gradients, as DDP
  requires.

Files are used in two turns: a process writes a file again only two sums later, after a meeting
that the others reach only once they have read it. They are unlinked as soon as every process has
mapped them, so nothing is left in ``/dev/shm`` however the run ends. Spinning relies on x86's
ordering of stores (a process that sees a counter raised sees what was written before it); on other
machines the meetings go through gloo, and only the data through shared memory.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch
import torch.distributed as dist

SHARED_MEMORY = Path("/dev/shm")
BUCKET_MB = 1024  # DDP's bucket cap with the hook: every gradient in one bucket, summed once per step
SMALL_SUM = 1 << 16  # elements: larger sums (and other types than float32) go through gloo
SPIN_S = 0.005  # how long a waiting process spins before it sleeps between looks
_SPINS = platform.machine().lower() in ("x86_64", "amd64")


def applies(world: int, device: torch.device, gradient_bytes: int) -> bool:
    """True where this process can join a :class:`LocalGroup` of ``world`` processes training on
    ``device`` with ``gradient_bytes`` of gradients: CPUs, every process on this machine (torchrun's
    ``LOCAL_WORLD_SIZE``), and a shared-memory folder with room for every process's files (a
    container's ``/dev/shm`` may hold only 64 MB). The processes must all agree before using one."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "0"))
    if device.type != "cpu" or world < 2 or local != world or not SHARED_MEMORY.is_dir():
        return False
    space = os.statvfs(SHARED_MEMORY)
    needed = 2 * world * (gradient_bytes + 4 * SMALL_SUM)
    return space.f_bavail * space.f_frsize >= needed + (8 << 20)  # and a margin for other programs


def all_reduced(tensor: torch.Tensor) -> torch.Tensor:
    """A new tensor: ``tensor`` summed over the processes by ``torch.distributed`` (gloo or NCCL)."""
    summed = tensor.clone()
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    return summed


def _add_up(files: list[torch.Tensor], part: slice, out: torch.Tensor) -> torch.Tensor:
    """``out`` = every process's ``part`` of ``files``, added in rank order (the same order in every
    process, so that the same numbers give the same sum)."""
    torch.add(files[0][part], files[1][part], out=out)
    for other in files[2:]:
        out.add_(other[part])
    return out


class LocalGroup:
    """The processes of one training run on one machine (see the module docstring). Every process
    makes one, with its rank; they must call its methods in the same order, as with gloo."""

    def __init__(self, rank: int, world: int, run_key: str | None = None):
        """``run_key`` names this run's files, the same in every process (default: torchrun's agent,
        the processes' parent, and the rendezvous port)."""
        self.rank, self.world = rank, world
        self.run_key = run_key or f"{os.getppid()}-{os.environ.get('MASTER_PORT', '')}"
        self._files: dict[tuple[str, int], list[torch.Tensor]] = {}  # (name, turn) -> one tensor per process
        self._turns: dict[str, int] = {}
        # Each process's count of meetings, read as NumPy arrays: the cheapest look in a spinning loop.
        self._counters = [tensor.numpy() for tensor in self._mapped("counters", 0, 1, torch.int64)]
        self._meetings = 0
        # Spinning pays only where each process has a core of its own; with more processes than cores it
        # would take the core that the one being waited for needs.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self._spin_s = SPIN_S if cores >= world else 0.0

    # ------------------------------------------------------------------------------ meetings
    def barrier(self) -> None:
        """Return once every process has called this as many times as this one."""
        if not _SPINS:
            dist.barrier()
            return
        self._meetings += 1
        self._counters[self.rank][0] = self._meetings
        waiting_since = None
        for other in range(self.world):
            while self._counters[other][0] < self._meetings:
                waiting_since = waiting_since or time.perf_counter()
                if time.perf_counter() - waiting_since > self._spin_s:
                    time.sleep(0.0002)

    # ---------------------------------------------------------------------------------- sums
    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (a new tensor, the same in every process)."""
        if tensor.dtype != torch.float32 or tensor.numel() > SMALL_SUM or tensor.device.type != "cpu":
            return all_reduced(tensor)
        files = self._next_files("small", SMALL_SUM, torch.float32)
        size = tensor.numel()
        files[self.rank][:size] = tensor.reshape(-1)
        self.barrier()
        return _add_up(files, slice(0, size), torch.empty(size, dtype=torch.float32)).reshape(tensor.shape)

    def sum_gradients(self, gradients: torch.Tensor, bucket: int = 0) -> torch.Tensor:
        """``gradients`` (flat, the same size and type in every process) replaced by their mean over
        the processes, as DDP's all-reduce leaves them."""
        files = self._next_files(f"bucket{bucket}", gradients.numel(), gradients.dtype)
        files[self.rank].copy_(gradients)
        self.barrier()
        mine = self._slice(self.rank, gradients.numel())
        summed = _add_up(files, mine, gradients[mine])
        summed.div_(self.world)
        files[self.rank][mine] = summed
        self.barrier()
        for other in range(self.world):
            if other != self.rank:
                part = self._slice(other, gradients.numel())
                gradients[part] = files[other][part]
        return gradients

    @staticmethod
    def hook(state: "LocalGroup", bucket):  # noqa: ANN001, ANN205 - DDP accepts only its own annotations, unstringified
        """DDP's communication hook: the bucket's gradients (a ``dist.GradBucket``) summed now, as a
        finished ``torch.futures.Future``."""
        future: torch.futures.Future[torch.Tensor] = torch.futures.Future()
        future.set_result(state.sum_gradients(bucket.buffer(), bucket.index()))
        return future

    # ------------------------------------------------------------------------------- files
    def _slice(self, rank: int, numel: int) -> slice:
        size = -(-numel // self.world)
        return slice(min(numel, rank * size), min(numel, (rank + 1) * size))

    def _next_files(self, name: str, numel: int, dtype: torch.dtype) -> list[torch.Tensor]:
        """The files of ``name`` for this call's turn (they alternate)."""
        turn = self._turns.get(name, 0)
        self._turns[name] = 1 - turn
        return self._mapped(name, turn, numel, dtype)

    def _mapped(self, name: str, turn: int, numel: int, dtype: torch.dtype) -> list[torch.Tensor]:
        """Every process's file for (name, turn), mapped as tensors of ``numel`` ``dtype`` values
        (zeros at first); made and unlinked on first use, by all processes together."""
        known = self._files.get((name, turn))
        if known is not None and known[0].numel() == numel and known[0].dtype == dtype:
            return known
        paths = [SHARED_MEMORY / f"mahlernet-{self.run_key}-{name}-{turn}-{rank}" for rank in range(self.world)]
        with open(paths[self.rank], "wb") as file:  # space reserved now: a full /dev/shm fails here, not in a copy
            os.posix_fallocate(file.fileno(), 0, numel * dtype.itemsize)
        dist.barrier()
        files = [torch.from_file(str(path), shared=True, size=numel, dtype=dtype) for path in paths]
        dist.barrier()
        paths[self.rank].unlink()
        self._files[(name, turn)] = files
        return files

