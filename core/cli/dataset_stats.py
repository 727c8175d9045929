"""``mahlernet dataset-stats DIR``: bars, events per bar and class histograms of a dataset folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dataset-stats",
        help="print the statistics of a preprocessed dataset",
        description="Print bars, average and maximum events per bar and class histograms of a dataset folder.",
    )
    parser.add_argument("folder", type=Path, metavar="DIR", help="a folder written by `mahlernet preprocess`")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.preprocess.dataset import load_dataset
    from core.preprocess.stats import dataset_stats, format_stats
    from core.representation.instruments import MAHLERNET, TABLES

    dataset = load_dataset(args.folder)
    table = TABLES.get(str((dataset.manifest.get("options") or {}).get("instruments")), MAHLERNET)  # names of its classes
    text = format_stats(dataset_stats(dataset), table)
    try:
        print(text)
    except BrokenPipeError:  # `mahlernet dataset-stats DIR | head` closed the pipe: not an error
        sys.stderr.close()
    return 0
