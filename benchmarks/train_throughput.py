"""Training throughput (events per second) of the presets' small and full sizes.

Usage: ``python benchmarks/train_throughput.py [--steps N] [--threads T] [--sizes small,full]
[--preset continuation] [--devices cpu,cuda] [--scheduled-sampling]``

Bars are random event columns with a corpus-like length distribution (mean 10.9 events as measured on
the preprocessed corpus, long tail), batched exactly as in training (length buckets, K=1 contexts); each timed step is a full
optimizer step (forward, backward, clipping, Adam). Events/s counts input-bar events, the unit of the
original's figures. It also prints the time an epoch of the ~35,600-bar corpus would take.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model.batching import PairSet  # noqa: E402
from core.model.network import MahlerNet  # noqa: E402
from core.training.presets import load_preset  # noqa: E402
from core.representation.events import N_INSTRUMENTS, N_PITCHES, EncodedPiece, EventArrays  # noqa: E402
from core.training.trainer import make_optimizer, mixed_precision_type, train_step  # noqa: E402

CORPUS_BARS = 35_629  # the preprocessed build_corpus.py corpus: 387,625 events, 10.9 per bar, at most 75
CORPUS_EVENTS_PER_BAR = 10.9


def random_corpus(bars: int, seed: int = 0) -> list[EncodedPiece]:
    """Pieces of 32 bars whose lengths follow a gamma distribution with the corpus's mean (~11 events)."""
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(max(1, bars // 32)):
        lengths = np.clip(rng.gamma(2.0, CORPUS_EVENTS_PER_BAR / 2.0, size=32).astype(int), 1, 75)
        n = int(lengths.sum())
        pitch = rng.integers(10, 90, n)
        pause = rng.random(n) < 0.05
        events = EventArrays(
            offset=rng.choice([0, 0, 6, 12, 3], n),
            duration=np.where(pause, 0, rng.choice([3, 6, 12, 18, 24], n)),
            pitch=np.where(pause, -1, pitch),
            instrument=np.where(pause, -1, rng.integers(0, 23, n)),
            beat=rng.integers(-1, 8, n),
            velocity=np.where(pause, -1, rng.integers(0, 8, n)),
            is_pause=pause,
            active_pitches=rng.random((n, N_PITCHES)) < 0.04,
            active_instruments=rng.random((n, N_INSTRUMENTS)) < 0.15,
        )
        pieces.append(
            EncodedPiece(events, np.concatenate([[0], np.cumsum(lengths)]), np.zeros(32), np.full(32, 4), np.full(32, 4), np.full(32, 500_000))
        )
    return pieces


def measure(preset: str, size: str, device: torch.device, steps: int, scheduled: bool) -> tuple[float, int]:
    spec = load_preset(preset, size)
    config = spec.training
    torch.manual_seed(0)
    model = MahlerNet(spec.network).to(device).train()
    optimizer = make_optimizer(model, config)
    pairs = PairSet(random_corpus(CORPUS_BARS))
    batches = pairs.batches(pairs.pairs, config.batch_size, seed=0, epoch=0, with_context=spec.network.use_context)
    dtype = mixed_precision_type(device) if config.amp else None  # as the trainer: bfloat16 where the GPU has it
    autocast = (lambda: torch.autocast("cuda", dtype=dtype)) if dtype is not None else contextlib.nullcontext
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    probability = 0.25 if scheduled else 0.0

    def run(ids: np.ndarray) -> int:
        batch = pairs.collate(ids, spec.network.use_context)
        events = batch.bar.events  # counted on the host: no wait for the device per step
        train_step(model, optimizer, batch.to(device, non_blocking=True), config, 1.0, probability, autocast(), scaler=scaler)
        return events

    for ids in batches[:3]:  # warm-up (allocations, cuDNN autotuning)
        run(ids)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, events = time.perf_counter(), 0
    for ids in batches[3 : 3 + steps]:
        events += run(ids)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return events / (time.perf_counter() - start), model.parameter_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="small,full")
    parser.add_argument("--presets", default="continuation,interpolation")
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--scheduled-sampling", action="store_true", help="time steps with scheduled sampling on (p=0.25)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no CUDA"))  # fmt: skip
    for device_name in devices:
        device = torch.device(device_name)
        for preset in args.presets.split(","):
            for size in args.sizes.split(","):
                steps = args.steps if device.type == "cuda" or size == "small" else max(3, args.steps // 4)
                speed, parameters = measure(preset, size, device, steps, args.scheduled_sampling)
                epoch_min = CORPUS_BARS * CORPUS_EVENTS_PER_BAR / speed / 60
                print(f"{device_name:5s} {preset:14s} {size:5s} {parameters / 1e6:5.1f}M params  "
                      f"{speed:10,.0f} events/s  corpus epoch (train) {epoch_min:6.1f} min")  # fmt: skip


if __name__ == "__main__":
    main()
