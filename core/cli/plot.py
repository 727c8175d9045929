"""``mahlernet plot``: loss and accuracy curves of one or more training runs, drawn to a PNG.

plot RUN_DIR... --out PNG

Panels: loss per epoch (training solid, validation dashed), validation accuracy per property per
epoch (training accuracy when a run has no validation split), and the loss of every training step.
Uses matplotlib's Agg backend (no display, no Qt).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.errors import TrainingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plot", help="draw loss and accuracy curves of training runs to a PNG")
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="run folders (with records.json)")
    parser.add_argument("--out", type=Path, required=True, metavar="PNG", help="image file to write")
    parser.set_defaults(handler=run_plot)


def read_records(run_dir: Path) -> dict:
    path = run_dir / "records.json"
    try:
        records = json.loads(path.read_text())
    except FileNotFoundError:
        raise TrainingError(f"{path}: no records (is {run_dir} a run folder that finished a checkpoint?)") from None
    except (OSError, ValueError) as error:
        raise TrainingError(f"{path}: unreadable records ({error})") from None
    if not isinstance(records, dict) or "epochs" not in records:
        raise TrainingError(f"{path}: not training records")
    return records


def run_plot(args: argparse.Namespace) -> int:
    import matplotlib  # noqa: PLC0415 - keep `mahlernet --help` fast

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    runs = [(run.name, read_records(run)) for run in args.runs]
    figure, (loss_axis, accuracy_axis, step_axis) = plt.subplots(1, 3, figsize=(16, 4.8))
    for index, (name, records) in enumerate(runs):
        colour = f"C{index}"
        epochs = [r["epoch"] for r in records["epochs"]]
        loss_axis.plot(epochs, [r["train"]["loss"] for r in records["epochs"]], color=colour, label=f"{name} train")
        if any(r["val"] for r in records["epochs"]):
            loss_axis.plot(epochs, [r["val"].get("loss") for r in records["epochs"]], "--", color=colour, label=f"{name} val")
        split = "val" if any(r["val"] for r in records["epochs"]) else "train"
        properties = [k[: -len("_accuracy")] for k in (records["epochs"][0][split] if records["epochs"] else {}) if k.endswith("_accuracy")]
        for number, prop in enumerate(properties):
            style = ["-", "--", "-.", ":", (0, (5, 1))][number % 5]
            accuracy_axis.plot(epochs, [100 * r[split][f"{prop}_accuracy"] for r in records["epochs"]], linestyle=style,
                               color=colour, label=f"{name} {prop} ({split})")  # fmt: skip
        steps = records.get("steps", [])
        step_axis.plot([s["step"] for s in steps], [s["loss"] for s in steps], color=colour, linewidth=0.6, label=name)
    for axis, title, xlabel in ((loss_axis, "loss per epoch", "epoch"), (accuracy_axis, "accuracy per epoch (%)", "epoch"),
                                (step_axis, "training loss per step", "step")):  # fmt: skip
        axis.set_title(title)
        axis.set_xlabel(xlabel)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=100)
    plt.close(figure)
    print(f"wrote {args.out}")
    return 0
