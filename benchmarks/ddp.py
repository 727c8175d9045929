"""Data-parallel training on CPUs: epoch time of 1 process on 1 core against 2 processes on 2 cores,
and the validation loss of each after the same epochs.

Usage: ``python benchmarks/ddp.py --dataset DIR [--epochs 2] [--preset continuation] [--size small]
[--pieces N] [--cores 0,1]``

Runs ``mahlernet train DATASET RUN --epochs E`` twice into temporary run folders: once as one
process pinned to one core (``taskset -c CORE0``, one torch thread), once as ``--nproc 2`` (torchrun,
two processes of one thread each, pinned to the two cores, meeting through shared memory). Both take
the same global batches and draw the same dropout masks (core/model/keyed_dropout.py), so they train the same model up to floating
point. From each run's ``records.json`` it prints the training time of every epoch (validation left
out), the speed-up of 2 processes, and the validation loss after the last epoch with their
difference; with each run, the CPU time of all its processes and the load average before and after
it: a wall-time speed-up means something only when the load stayed near 0 (another job on one of
the two cores slows the 2-process run and hardly the 1-process one). ``--pieces N`` trains on the first N pieces only (a
quick check of the script). Goals (issue #19): >= 1.6x faster per epoch on 2 cores, validation loss
within 2% after 2 epochs. DATASET is a folder made by ``mahlernet preprocess`` (the corpus of the
README's "Reproduce").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def subset(dataset: Path, pieces: int, folder: Path) -> Path:
    """A bare folder of links to the first ``pieces`` encoded pieces of ``dataset`` (by name)."""
    folder.mkdir()
    for path in sorted(dataset.rglob("*.npz"))[:pieces]:
        (folder / path.relative_to(dataset).as_posix().replace("/", "__")).symlink_to(path.resolve())
    return folder


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(command: list[str], label: str) -> float:
    print(f"{label}: {' '.join(command)}", flush=True)
    began, cpu, load = time.perf_counter(), _children_cpu_s(), os.getloadavg()[0]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{label} failed:\n{done.stderr[-4000:]}")
    print(f"{label}: CPU time of its processes {_children_cpu_s() - cpu:.0f} s (start-up and validation included); "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after", flush=True)  # fmt: skip
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a dataset folder made by mahlernet preprocess")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--preset", default="continuation")
    parser.add_argument("--size", default="small")
    parser.add_argument("--pieces", type=int, help="train on the first N pieces only")
    parser.add_argument("--cores", default="0,1", help="the two cores to use (taskset numbering)")
    args = parser.parse_args()
    cores = args.cores.split(",")
    with tempfile.TemporaryDirectory(prefix="ddp-bench-") as scratch:
        dataset = subset(args.dataset, args.pieces, Path(scratch) / "subset") if args.pieces else args.dataset
        base = [sys.executable, "-m", "core.cli.main", "train", str(dataset)]
        flags = ["--preset", args.preset, "--size", args.size, "--epochs", str(args.epochs), "--device", "cpu"]
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; dataset {dataset}")
        runs = {"1 process, 1 core": Path(scratch) / "one", "2 processes, 2 cores": Path(scratch) / "two"}
        walls = {}
        walls["1 process, 1 core"] = train(
            ["taskset", "-c", cores[0], *base, str(runs["1 process, 1 core"]), *flags, "--threads", "1"], "1 process, 1 core"
        )
        pinned = ["taskset", "-c", ",".join(cores[:2])]
        walls["2 processes, 2 cores"] = train([*pinned, *base, str(runs["2 processes, 2 cores"]), *flags, "--nproc", "2"], "2 processes, 2 cores")
        results = {}
        for label, run in runs.items():
            epochs = json.loads((run / "records.json").read_text())["epochs"]
            results[label] = epochs
            times = ", ".join(f"{e['train_s']:.1f}" for e in epochs)
            print(f"{label}: epoch training times {times} s; {epochs[-1]['events_per_s']:,.0f} events/s; "
                  f"val loss after {len(epochs)} epochs {epochs[-1]['val']['loss']:.4f}; wall {walls[label]:.0f} s")  # fmt: skip
        one, two = results["1 process, 1 core"], results["2 processes, 2 cores"]
        speedup = sum(e["train_s"] for e in one) / sum(e["train_s"] for e in two)
        # CPU time of process 0 in the training loops: the speed-up an idle machine would give if no
        # process ever waited (for the other at a sum over the processes, or for the network).
        cpu_one, cpu_two = sum(e.get("train_cpu_s", 0) for e in one), sum(e.get("train_cpu_s", 0) for e in two)
        if cpu_one and cpu_two:
            print(f"training CPU time: 1 process {cpu_one:.1f} s, process 0 of 2 {cpu_two:.1f} s: "
                  f"{cpu_one / cpu_two:.2f}x without blocked waits (a process spinning at a meeting counts as busy); "
                  f"wall-time speed-up {speedup:.2f}x")  # fmt: skip
        loss_one, loss_two = one[-1]["val"]["loss"], two[-1]["val"]["loss"]
        print(f"speed-up of 2 processes: {speedup:.2f}x per epoch (goal >= 1.6x); validation loss "
              f"{loss_one:.4f} vs {loss_two:.4f}: {100 * abs(loss_two - loss_one) / loss_one:.2f}% apart (goal <= 2%); "
              f"load average now {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
