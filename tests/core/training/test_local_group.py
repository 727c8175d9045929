"""Sums and meetings through shared memory (core/training/local_group.py), in real processes."""

from __future__ import annotations

import socket
import sys

import pytest
import torch
import torch.multiprocessing as mp

from core.training import local_group
from core.training.local_group import LocalGroup

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")

SIZES = (10, 7, 1_000)  # buckets of these sizes, in this order, twice over: both turns of each file


def _gradients(rank: int, call: int, size: int) -> torch.Tensor:
    return torch.randn(size, generator=torch.Generator().manual_seed(1000 * call + 10 * rank + size))


def _sum_in_process(rank: int, world: int, port: int, key: str, results: dict) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    group = LocalGroup(rank, world, run_key=key)
    calls = [(call, index, size) for call in range(2) for index, size in enumerate(SIZES)]
    gradients = [group.sum_gradients(_gradients(rank, call, size), index).clone() for call, index, size in calls]
    small = [group.sum(torch.full((2, 3), float(rank + call))) for call in range(3)]
    small.append(group.sum(torch.ones(local_group.SMALL_SUM + 1)))  # too large for the shared files: gloo
    results[rank] = (gradients, small)
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("world", [2, 3])
def test_every_process_ends_with_the_same_sums_and_no_file_is_left(world):
    key = f"test-{world}-{_free_port()}"
    results = mp.Manager().dict()
    mp.spawn(_sum_in_process, args=(world, _free_port(), key, results), nprocs=world, join=True)
    calls = [(call, size) for call in range(2) for size in SIZES]
    for position, (call, size) in enumerate(calls):  # gradients: their mean, as DDP's all-reduce leaves them
        expected = torch.stack([_gradients(rank, call, size) for rank in range(world)]).mean(0)
        for rank in range(world):
            torch.testing.assert_close(results[rank][0][position], expected, rtol=1e-6, atol=1e-7)
        # Every process holds the very same numbers, as DDP requires.
        assert all(torch.equal(results[rank][0][position], results[0][0][position]) for rank in range(world))
    for call in range(3):  # small sums: the sum, shaped as given
        expected = torch.full((2, 3), float(sum(rank + call for rank in range(world))))
        assert all(torch.equal(results[rank][1][call], expected) for rank in range(world))
    assert all(torch.equal(results[rank][1][3], torch.full((local_group.SMALL_SUM + 1,), float(world))) for rank in range(world))
    assert not [path for path in local_group.SHARED_MEMORY.iterdir() if key in path.name]


def test_it_serves_cpu_processes_of_one_machine_with_room_for_their_files(monkeypatch):
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    cpu, small = torch.device("cpu"), 1 << 20
    assert local_group.applies(2, cpu, small)
    assert not local_group.applies(2, torch.device("cuda", 0), small)  # NCCL sums on the GPUs
    assert not local_group.applies(4, cpu, small)  # two machines of two processes
    assert not local_group.applies(1, cpu, small)
    assert not local_group.applies(2, cpu, 1 << 50)  # more than any /dev/shm holds
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    assert not local_group.applies(2, cpu, small)  # not started by torchrun


class _Linear(torch.nn.Linear):
    """A stand-in for MahlerNet as far as data_parallel looks (no learned prior)."""

    prior_network = None
    context_encoder = None


def _ddp_gradients_in_process(rank: int, world: int, port: int, local: str, results: dict) -> None:
    import os

    import torch.distributed as dist

    from core.training.distributed import Cluster, data_parallel, leave

    if local == "all" or (local == "first" and rank == 0):
        os.environ["LOCAL_WORLD_SIZE"] = str(world)
    else:
        os.environ.pop("LOCAL_WORLD_SIZE", None)  # as if on several machines: gloo sums
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    sums = []
    summing = LocalGroup.sum_gradients
    LocalGroup.sum_gradients = lambda self, *args: sums.append(1) or summing(self, *args)
    torch.manual_seed(0)
    network = data_parallel(_Linear(300, 50), Cluster(rank, world), torch.device("cpu"))
    gradients = []
    for step in range(3):
        inputs = torch.randn(4, 300, generator=torch.Generator().manual_seed(100 * step + rank))
        network.zero_grad()
        network(inputs).pow(2).sum().backward()
        gradients.append(network.module.weight.grad.clone())
    results[rank] = (gradients, len(sums))
    leave()


def test_ddp_sums_the_same_gradients_through_shared_memory_as_over_gloo():
    runs = {}
    for local in ("all", "none", "first"):  # "first": one process cannot use shared memory, so none does
        results = mp.Manager().dict()
        mp.spawn(_ddp_gradients_in_process, args=(2, _free_port(), local, results), nprocs=2, join=True)
        runs[local] = dict(results)
    for rank in range(2):
        for shared, gloo in zip(runs["all"][rank][0], runs["none"][rank][0]):
            torch.testing.assert_close(shared, gloo, rtol=1e-6, atol=1e-7)
        assert all(torch.equal(a, b) for a, b in zip(runs["first"][rank][0], runs["none"][rank][0]))
    # One sum a step through shared memory (one bucket), or none.
    assert [runs[local][rank][1] for local in ("all", "none", "first") for rank in range(2)] == [3, 3, 0, 0, 0, 0]
