"""``mahlernet train``: train a MahlerNet model on a preprocessed dataset, with a progress bar.

train DATASET RUN_DIR --preset NAME [--size small|full] [--epochs N] [--device D] [--resume]
      [--init MODEL] [--threads T] [--nproc N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]]

The first Ctrl-C finishes the epoch (validation and checkpoint included) and stops; a second one
stops at once, keeping the last checkpoint. ``--resume`` continues the run in RUN_DIR exactly.

Data-parallel training (:mod:`core.training.distributed`): ``--nproc N`` runs the command again under
``torchrun`` on N processes of this machine (with ``--nnodes``, on several machines); started by
``torchrun`` directly (``torchrun --nproc-per-node N -m core.cli.main train ...``) it joins the
process group that ``torchrun`` set up. Process 0 prints the progress and writes the run folder.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model on a preprocessed dataset (Ctrl-C: finish the epoch and stop)")
    parser.add_argument("dataset", type=Path, help="dataset folder made by `mahlernet preprocess`")
    parser.add_argument("run_dir", type=Path, help="run folder (checkpoints, records, model card)")
    parser.add_argument("--preset", default="continuation", help="preset name (continuation, interpolation) or a .toml file")
    parser.add_argument("--size", choices=("small", "full"), default="small", help="preset size (small: CPU; full: the paper's)")
    parser.add_argument("--epochs", type=int, metavar="N", help="number of epochs (default: the preset's)")
    parser.add_argument(
        "--batch-size", type=int, metavar="B",
        help="bars per training step (default: the preset's); a small corpus learns more from smaller steps",
    )  # fmt: skip
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--init", metavar="MODEL", help="fine-tune: start from this model's weights (name or file)")
    parser.add_argument("--threads", type=int, metavar="T", help="CPU threads for torch (default: torch's choice)")
    group = parser.add_argument_group("data-parallel training (torchrun)")
    group.add_argument("--nproc", type=int, metavar="N", help="train on N processes of this machine (CPU cores or GPUs) under torchrun")
    group.add_argument("--nnodes", type=int, default=1, metavar="M", help="machines taking part (default 1); run the same command on each")
    group.add_argument("--node-rank", type=int, default=0, metavar="R", help="this machine's number, 0 to M-1 (with --nnodes)")
    group.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="where the machines meet (with --nnodes): a port on node 0")
    parser.set_defaults(handler=run_train)


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The arguments of this ``train`` command without the launcher's own (for ``torchrun``)."""
    forwarded = ["train", str(args.dataset), str(args.run_dir), "--preset", str(args.preset), "--size", args.size, "--device", args.device]
    for flag, value in (("--epochs", args.epochs), ("--init", args.init), ("--threads", args.threads)):
        if value is not None:
            forwarded += [flag, str(value)]
    return forwarded + (["--resume"] if args.resume else [])


def launch(args: argparse.Namespace) -> int:
    """Run this command on ``--nproc`` processes under ``torchrun``; its exit status."""
    from core.training.distributed import launch_command  # noqa: PLC0415

    command = launch_command(_forwarded(args), args.nproc, args.nnodes, args.node_rank, args.rdzv_endpoint)
    # Ctrl-C reaches torchrun too, which stops every process at once (their last checkpoint is
    # kept): this process only waits for it, rather than killing it mid-write.
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        status = subprocess.run(command).returncode
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        print("Ctrl-C: every process stopped; the last checkpoint is kept (--resume goes on)", file=sys.stderr)
        return 130
    return status


def _format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class ProgressBar:
    """Draws one updating line per epoch on a terminal (a line per epoch otherwise)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_draw = 0.0

    def __call__(self, progress) -> None:
        m = progress.metrics
        if progress.kind == "start":
            print(f"training on {progress.message}", file=self.stream)
        elif progress.kind == "step" and self.tty and time.monotonic() - self.last_draw > 0.2:
            self.last_draw = time.monotonic()
            filled = int(20 * progress.batch / max(progress.batches, 1))
            print(
                f"\repoch {progress.epoch}/{progress.epochs} [{'#' * filled}{'.' * (20 - filled)}] "
                f"{progress.batch}/{progress.batches} loss {m.get('loss', 0):.3f} pitch {100 * m.get('pitch_accuracy', 0):.1f}% "
                f"{progress.events_per_second:,.0f} ev/s ETA {_format_eta(progress.eta_s)}   ",
                end="", file=self.stream, flush=True,
            )  # fmt: skip
        elif progress.kind == "epoch":
            val = f" | val loss {m['val_loss']:.3f} pitch {100 * m['val_pitch_accuracy']:.1f}%" if "val_loss" in m else ""
            print(
                f"\r\033[K" if self.tty else "", end="", file=self.stream,
            )  # fmt: skip
            print(
                f"epoch {progress.epoch}/{progress.epochs}: train loss {m['train_loss']:.3f} "
                f"pitch {100 * m['train_pitch_accuracy']:.1f}%{val}, {progress.events_per_second:,.0f} ev/s, "
                f"ETA {_format_eta(progress.eta_s)}",
                file=self.stream, flush=True,
            )  # fmt: skip


def run_train(args: argparse.Namespace) -> int:
    from core.training import distributed  # noqa: PLC0415 - keep `mahlernet --help` fast

    if args.nproc is not None and not distributed.in_launched_process():
        return launch(args)
    cluster = distributed.join(args.device)
    try:
        status = _train(args, cluster)
        cluster.barrier()  # process 0 may still be writing: nobody leaves the group before it is done
        return status
    finally:
        distributed.leave()


def _train(args: argparse.Namespace, cluster) -> int:
    import torch  # noqa: PLC0415

    from core.model import checkpoints  # noqa: PLC0415
    from core.training import runs  # noqa: PLC0415

    if args.threads:
        torch.set_num_threads(args.threads)
    callbacks = [ProgressBar()] if cluster.primary else []
    if args.resume:
        trainer = runs.resume_run(args.run_dir, args.device, callbacks, args.epochs, dataset_dir=args.dataset)
    else:
        init = checkpoints.resolve_model(args.init) if args.init else None
        trainer = runs.start_run(
            args.run_dir, args.dataset, args.preset, args.size, args.epochs, args.device, init, callbacks=callbacks,
            batch_size=args.batch_size,
        )  # fmt: skip

    for warning in trainer.warnings if cluster.primary else ():
        print(f"warning: {warning}", file=sys.stderr)
    presses = []

    def on_interrupt(signum, frame) -> None:
        presses.append(signum)
        if len(presses) == 1:
            print("\nCtrl-C: finishing this epoch and saving (Ctrl-C again stops now)", file=sys.stderr, flush=True)
            trainer.request_stop()
        else:
            print("\nCtrl-C again: stopping now; the last checkpoint is kept", file=sys.stderr, flush=True)
            trainer.request_stop(now=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = trainer.fit()
    finally:
        signal.signal(signal.SIGINT, previous)
    reason = {"finished": "finished", "early": "stopped early (no better validation loss)",
              "requested": "stopped on request", "now": "stopped at once"}[result.stopped]  # fmt: skip
    best = f"best epoch {result.best_epoch} (loss {result.best_loss:.4f})" if result.best_epoch else "no epoch finished"
    if cluster.primary:
        print(f"{reason} after {result.epochs_done} epochs; {best}; model: {args.run_dir / 'best.safetensors'}", file=sys.stderr)
    return 130 if result.stopped == "now" else 0
