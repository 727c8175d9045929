"""Entry point of the ``mahlernet`` command line.

Each sub-command lives in its own module of this package and exposes ``register(subparsers)``, which
adds its parser and sets ``handler`` to a function ``(args) -> int``. Modules import heavy libraries
(torch, Qt-free audio) inside their handlers, so ``mahlernet --help`` stays fast.

Errors a user can cause are :class:`core.errors.MahlerNetError`: they are printed as one line on
stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from core import blas
from core.errors import MahlerNetError

# One line per sub-command module, in the order `mahlernet --help` lists them.
COMMAND_MODULES = [
    "core.cli.info",
    "core.cli.chords",
    "core.cli.preprocess",
    "core.cli.dataset_stats",
    "core.cli.audio",
    "core.cli.train",
    "core.cli.evaluate",
    "core.cli.plot",
    "core.cli.models",
    "core.cli.generate",
    "core.cli.arrange",
]

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mahlernet",
        description="MahlerNet Studio from the command line: inspect, preprocess, train, generate, render.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    blas.one_thread_from_now()
    try:
        return int(args.handler(args) or 0)
    except MahlerNetError as error:
        print(f"mahlernet {args.command}: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"mahlernet {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
