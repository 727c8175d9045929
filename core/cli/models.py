"""``mahlernet models`` lists the bundled and user-trained models with their card summary, and the
broken ones with the reason each cannot be used (the command still exits 0: listing worked);
``mahlernet export MODEL OUT`` writes a shippable copy (float16 by default) with its card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list bundled and user-trained models")
    parser.add_argument("--folder", type=Path, action="append", help="also look in this folder (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the cards as JSON")
    parser.set_defaults(handler=run_models)

    export = subparsers.add_parser("export", help="write a model (or a run's best model) as a shippable fp16 file + card")
    export.add_argument("model", help="model file, run folder or model name")
    export.add_argument("out", type=Path, help="output .safetensors file (its .json card is written beside it)")
    export.add_argument("--name", help="name to put in the card (default: the output file's stem)")
    export.add_argument("--fp32", action="store_true", help="keep float32 weights")
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from core.model.checkpoints import load_model, resolve_model, save_model  # noqa: PLC0415
    from core.errors import CheckpointError  # noqa: PLC0415

    if args.out.suffix != ".safetensors":
        raise CheckpointError(args.out, "the exported model must be a .safetensors file")
    model, card = load_model(resolve_model(args.model))
    card = dict(card, name=args.name or args.out.stem)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    path = save_model(args.out, model, card, half=not args.fp32)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and {path.with_suffix('.json')}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from core.model.checkpoints import default_model_folders, find_models  # noqa: PLC0415

    folders = default_model_folders() + list(args.folder or [])
    models = find_models(folders)
    if args.json:
        print(json.dumps([{"name": m.name, "path": str(m.path), "card": m.card, "problem": m.problem or None} for m in models], indent=2))
        return 0
    if not models:
        print("no models found in: " + ", ".join(str(f) for f in folders))
        return 0
    width = max(len(m.name) for m in models)
    for info in models:
        print(f"{info.name:{width}s}  {'BROKEN, ' if info.problem else ''}{info.summary()}  [{info.path}]")
    broken = sum(1 for m in models if m.problem)
    if broken:
        print(f"{broken} model{'s' if broken != 1 else ''} cannot be used (the reason is on its line); the others work")
    return 0
