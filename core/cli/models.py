"""``mahlernet models``: the bundled models and the user's trained ones, with their card summary."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list bundled and user-trained models")
    parser.add_argument("--folder", type=Path, action="append", help="also look in this folder (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the cards as JSON")
    parser.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from core.checkpoints import default_model_folders, find_models  # noqa: PLC0415

    folders = default_model_folders() + list(args.folder or [])
    models = find_models(folders)
    if args.json:
        print(json.dumps([{"name": m.name, "path": str(m.path), "card": m.card} for m in models], indent=2))
        return 0
    if not models:
        print("no models found in: " + ", ".join(str(f) for f in folders))
        return 0
    width = max(len(m.name) for m in models)
    for info in models:
        print(f"{info.name:{width}s}  {info.summary()}  [{info.path}]")
    return 0
