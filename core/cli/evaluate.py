"""``mahlernet evaluate``: accuracy, distance, NLL and KL of a model on a dataset (paper Table 2 style).

evaluate MODEL DATASET [--split test|val|train|all] [--min-events N] [--json] [--device D]
         [--no-free-running] [--limit N]

By default the figures are on the model's test works: whole works it never trained on, recorded in its
card, less any bar that copies a training bar. Models trained on a random-bar split (older cards) have
no test works; their held-out bars are used, with a warning that those figures flatter the model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="teacher-forced and free-running accuracy, NLL and KL of a model")
    parser.add_argument("model", help="model file, run folder or model name (see `mahlernet models`)")
    parser.add_argument("dataset", type=Path, help="dataset folder made by `mahlernet preprocess`")
    parser.add_argument("--split", choices=("test", "val", "train", "all"), default="test", help="which bars (default: the test works)")
    parser.add_argument("--min-events", type=int, default=0, metavar="N", help="only bars with at least N events (dense textures)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--no-free-running", action="store_true", help="skip the (slower) free-running decoding")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate at most N bars")
    parser.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from core.model.checkpoints import load_model, resolve_model  # noqa: PLC0415 - keep `mahlernet --help` fast
    from core.training.evaluation import evaluate_model  # noqa: PLC0415
    from core.training.trainer import select_device  # noqa: PLC0415

    path = resolve_model(args.model)
    model, card = load_model(path)
    card = {**card, "name": card.get("name") or path.stem}
    report = evaluate_model(model, card, args.dataset, args.split, batch_size=args.batch_size,
                            device=select_device(args.device), free=not args.no_free_running, limit=args.limit,
                            min_events=args.min_events)  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['model']} ({report['kind']}) on {args.dataset.name}, {args.split} split: "
          f"{report['bars']:,} bars, {report['events']:,} events")  # fmt: skip
    print(f"({report['split_note']})")
    print(f"{'property':11s} {'forced acc':>10s} {'free acc':>9s} {'distance':>9s} {'free dist':>9s} {'NLL':>7s}")
    for name, entry in report["properties"].items():
        def cell(key: str, percent: bool = False) -> str:
            value = entry.get(key)
            return "-" if value is None else (f"{100 * value:.2f}%" if percent else f"{value:.3f}")

        print(f"{name:11s} {cell('teacher_forced_accuracy', True):>10s} {cell('free_running_accuracy', True):>9s} "
              f"{cell('distance'):>9s} {cell('free_running_distance'):>9s} {cell('nll'):>7s}")  # fmt: skip
    print(f"NLL per event {report['nll_per_event']:.4f} nats; KL {report['kl']:.3f} nats per bar")
    sys.stdout.flush()
    return 0
