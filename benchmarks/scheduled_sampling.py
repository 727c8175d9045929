"""Effect of scheduled sampling on free-running accuracy (the paper's Table 2 measure).

Usage: ``python benchmarks/scheduled_sampling.py DATASET [--pieces N] [--epochs E] [--preset P]
[--rate K] [--ceiling C] [--threads T]``

Trains the same model twice on the first N pieces of DATASET (a folder of encoded ``.npz`` pieces) with
the same seed: once with teacher forcing only, once with scheduled sampling (inverse-sigmoid rate K,
capped at C). Then it evaluates both on their (identical) validation split and prints teacher-forced
and free-running accuracy per property, NLL per event and the training time. Without a DATASET
folder (``-``) it uses random synthetic pieces. ``--overfit`` measures the memorisation regime instead:
a tiny network without dropout or KL pressure (learning rate 0.01) trained on the pieces and
evaluated on the same bars, where teacher-forced accuracy nears 100% within a few hundred steps, so
the gap to free-running accuracy is exposure bias alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model.batching import PairSet, load_pieces  # noqa: E402
from core.training.evaluation import evaluate  # noqa: E402
from core.training.presets import load_preset  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="dataset folder, or - for synthetic pieces")
    parser.add_argument("--pieces", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--preset", default="continuation")
    parser.add_argument("--rate", type=float, default=50.0, help="k of the inverse-sigmoid schedule")
    parser.add_argument("--ceiling", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--overfit", action="store_true", help="memorisation regime (see the module docstring)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.dataset == "-":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.core.synthetic import random_pieces  # noqa: PLC0415

        pieces = random_pieces(args.pieces, bars=16, seed=0)
    else:
        pieces = load_pieces(args.dataset)[: args.pieces]
    preset = load_preset(args.preset, "small")
    base = replace(preset.training, epochs=args.epochs, patience=0, checkpoint_minutes=0)
    if args.overfit:
        network = replace(preset.network, encoder_layers=1, encoder_size=64, decoder_layers=1, decoder_size=128, z_dim=32,
                          condition_size=0, encoder_dropout=0.0, decoder_dropout=0.0, z_dropout=0.0)  # fmt: skip
        preset = replace(preset, network=network)
        base = replace(base, batch_size=16, learning_rate=1e-2, beta_max=0.0, validation_ratio=0.0)
    pairs = PairSet(pieces, preset.network.context_bars)
    print(f"{len(pieces)} pieces, {pairs.summary()['pairs']} bars, {pairs.summary()['events']} events; "
          f"preset {args.preset}/small, {args.epochs} epochs, torch threads {torch.get_num_threads()}")  # fmt: skip
    results = {}
    for label, config in (
        ("teacher forcing", base),
        (f"scheduled sampling (k={args.rate:g}, max {args.ceiling:g})",
         replace(base, scheduled_sampling_rate=args.rate, scheduled_sampling_ceiling=args.ceiling)),
    ):  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            trainer = Trainer.start(Path(folder) / "run", pairs, preset.network, config)
            trainer.fit()
            seconds = time.perf_counter() - started
            train_ids, val_ids = pairs.split(config.validation_ratio, config.seed)
            val_ids = train_ids if args.overfit else val_ids
            report = evaluate(trainer.model, pairs, val_ids, batch_size=config.batch_size)
            steps = trainer.state["global_step"]
        results[label] = (report, seconds, steps)
    names = list(next(iter(results.values()))[0]["properties"])
    print(f"{'':44s} " + " ".join(f"{n[:10]:>21s}" for n in names) + "   NLL/ev   time")
    print(f"{'':44s} " + " ".join(f"{'forced / free':>21s}" for _ in names))
    for label, (report, seconds, steps) in results.items():
        cells = []
        for name in names:
            entry = report["properties"][name]
            cells.append(f"{100 * entry['teacher_forced_accuracy']:9.2f} / {100 * entry['free_running_accuracy']:6.2f}%")
        print(f"{label:44s} " + " ".join(f"{c:>21s}" for c in cells) + f"   {report['nll_per_event']:6.3f}   {seconds:5.0f}s ({steps} steps)")
    mean_free = {label: np.mean([e["free_running_accuracy"] for e in r[0]["properties"].values()]) for label, r in results.items()}
    print("mean free-running accuracy: " + ", ".join(f"{k}: {100 * v:.2f}%" for k, v in mean_free.items()))


if __name__ == "__main__":
    main()
