"""``mahlernet preprocess IN_DIR OUT_DIR [--jobs N] [--redo] [--instruments TABLE] [--sharded [--shard-files F]]``:
MIDI folder -> training dataset.

Prints a progress line while it works and a summary at the end; the list of skipped and trimmed files
with their reasons is in ``OUT_DIR/report.txt`` (and in ``manifest.json``). ``--sharded`` writes the
format for large corpora (:mod:`core.preprocess.shards`): shards of F files, resumable, duplicates
skipped, read lazily by ``mahlernet train``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preprocess",
        help="encode a folder of MIDI files into a training dataset",
        description=(
            "Encode every MIDI file (.mid, .midi, .kar, .rmi, .smf) under IN_DIR (any depth) into OUT_DIR: "
            "one .npz per file, manifest.json and report.txt. Unchanged files are not encoded again."
        ),
    )
    parser.add_argument("in_dir", type=Path, metavar="IN_DIR", help="folder of MIDI files")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="dataset folder to write")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: one per CPU)")
    parser.add_argument("--redo", action="store_true", help="encode every file again, even unchanged ones")
    parser.add_argument(
        "--original-meters",
        action="store_true",
        help="keep only the original MahlerNet's 15 meters (other meters cut pieces into chunks)",
    )
    parser.add_argument(
        "--instruments",
        default="mahlernet",
        metavar="TABLE",
        help="instrument table: mahlernet (the original's 23 classes, drums dropped; default) or "
        "pop-drums (a drum-kit class for channel 10, for pop and game music)",
    )
    parser.add_argument(
        "--sharded",
        action="store_true",
        help="large corpora: write shards of files (resumable after an interruption, duplicates skipped, read lazily in training)",
    )
    parser.add_argument("--shard-files", type=int, default=None, metavar="F", help="input files per shard (with --sharded; default 256)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import MahlerNetError
    from core.preprocess.dataset import REPORT, preprocess_folder
    from core.preprocess.report import EncodeOptions
    from core.representation.instruments import TABLES

    if args.jobs is not None and args.jobs < 1:
        raise MahlerNetError(f"--jobs must be at least 1, not {args.jobs}")
    if args.instruments not in TABLES:
        raise MahlerNetError(f"--instruments {args.instruments}: no such table (known: {', '.join(sorted(TABLES))})")
    if args.shard_files is not None and (not args.sharded or args.shard_files < 1):
        raise MahlerNetError("--shard-files takes a number of at least 1, with --sharded")
    interactive = sys.stderr.isatty()

    def progress(done: int, total: int, name: str) -> None:
        if interactive or done == total:
            end = "\n" if done == total else ""
            print(f"\r\x1b[K[{done}/{total}] {100 * done // max(total, 1)}% {name[-60:]}", end=end, file=sys.stderr)

    if args.sharded:
        from core.preprocess.shards import SHARD_FILES, preprocess_sharded

        if args.redo:
            raise MahlerNetError("--redo does not apply to --sharded (delete OUT_DIR to start over)")
        options = EncodeOptions(instruments=TABLES[args.instruments], original_meters_only=args.original_meters)
        sharded = preprocess_sharded(
            args.in_dir, args.out_dir, jobs=args.jobs, options=options, shard_files=args.shard_files or SHARD_FILES,
            progress=progress if interactive else None,
        )
        print(sharded.line())
        if sharded.skipped:
            print(f"skipped files and their reasons: {args.out_dir / REPORT}")
        return 0

    summary = preprocess_folder(
        args.in_dir,
        args.out_dir,
        jobs=args.jobs,
        redo=args.redo,
        options=EncodeOptions(instruments=TABLES[args.instruments], original_meters_only=args.original_meters),
        progress=progress,
    )
    print(summary.line())
    if summary.skipped:
        print(f"skipped files and their reasons: {args.out_dir / REPORT}")
    return 0
