"""Compute a model's attribute vectors and measure them (MusicVAE's table); store both with the model.

    python scripts/attribute_vectors.py MODEL.safetensors DATASET_DIR [--test-bars 200] [--amount 1.5]
                                        [--train-bars 8000] [--no-card] [--recipe quartile|partial|mix]
                                        [--mix-bars 400] [--measure-only]

* the vectors (:mod:`core.model.attributes`) come from the posterior means of bars of the
  model's *training* works (its card's ``split``; ``--train-bars`` of them drawn at random, seed 0);
* the table: ``--test-bars`` bars of its *test* works (less the bars that copy a training bar), each
  decoded from its own code and from its code plus ``--amount`` times each vector
  (:func:`core.generation.attribute_study.measure`), the change of every attribute in standard
  deviations of that attribute over the real test bars.

``--recipe partial`` computes the experimental partial-regression vectors instead
(:func:`core.generation.attribute_study.partial_vectors`); ``--recipe mix`` MusicVAE's vectors mixed
with each other until, decoded, each moves its own attribute and not the others
(:func:`core.generation.attribute_study.mixed_vectors`), measured on ``--mix-bars`` other training
bars (seed 3; the vectors' own bars when no other is left).

``--measure-only`` keeps the vectors already beside the model and measures them again (after a change
to the sampler or the corpus, the card's table is what the app's sliders show); the card entry keeps
how they were computed.

Writes ``NAME.attributes.safetensors`` beside the model and, unless ``--no-card``, an ``attributes``
entry in its card (the ``.json`` beside it and the copy inside the weights file, which is rewritten
with its tensors unchanged). Prints the table as Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.batching import PairSet, load_pieces  # noqa: E402
from core.model.checkpoints import load_model, save_model  # noqa: E402
from core.errors import MahlerNetError  # noqa: E402
from core.training.evaluation import evaluation_ids  # noqa: E402
from core.generation.attribute_study import RECIPES, compute_vectors, measure, usable_ids  # noqa: E402
from core.model.attributes import DESCRIPTIONS, load_for_model, vectors_path  # noqa: E402
from core.training.trainer import TrainingConfig  # noqa: E402


RECIPE_TEXT = {
    "quartile": "MusicVAE: mean posterior code of the top quartile of an attribute minus the bottom quartile's",
    "partial": "partial regression (scripts/attribute_vectors.py --recipe partial)",
    "mix": "MusicVAE's vectors mixed by the inverse of their table measured on training bars, so each moves its own"
    " decoded attribute and not the others (scripts/attribute_vectors.py --recipe mix)",
}

MAKING = ("recipe", "computed_from", "reproduce")  # how the vectors were made: kept by --measure-only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--test-bars", type=int, default=200)
    parser.add_argument("--train-bars", type=int, default=8000, help="training bars the vectors are computed from (0: all)")
    parser.add_argument("--amount", type=float, default=1.5)
    parser.add_argument("--no-card", action="store_true", help="do not write the card entry")
    parser.add_argument("--recipe", choices=RECIPES, default="quartile", help="MusicVAE's quartiles (default), or the partial-regression or mix experiments")
    parser.add_argument("--mix-bars", type=int, default=400, help="training bars the mix recipe measures its steps on")
    parser.add_argument("--measure-only", action="store_true", help="measure the vectors beside the model again; do not compute new ones")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except MahlerNetError as error:
        print(f"attribute_vectors: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    model, card = load_model(args.model)
    kept = load_for_model(args.model) if args.measure_only else None  # before the dataset: a missing file fails fast
    known = set(TrainingConfig().to_dict())
    training = TrainingConfig.from_dict({k: v for k, v in (card.get("training") or {}).items() if k in known})
    pieces = load_pieces(args.dataset)
    pairs = PairSet(pieces, model.config.context_bars, training.max_events or None)
    rng = np.random.default_rng(0)
    train_ids, train_note = evaluation_ids(pairs, card, "train")
    if args.train_bars and len(train_ids) > args.train_bars:
        train_ids = np.sort(rng.permutation(train_ids)[: args.train_bars])
    test_ids, test_note = evaluation_ids(pairs, card, "test")
    test_ids = usable_ids(pairs, np.sort(np.random.default_rng(1).permutation(test_ids)[: args.test_bars * 2]))[: args.test_bars]

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {text}", flush=True)

    out = vectors_path(args.model)
    if kept is not None:
        vectors = kept
        made = {key: value for key, value in (card.get("attributes") or {}).items() if key in MAKING}
    else:
        mix_ids = None
        if args.recipe == "mix":
            others = np.setdiff1d(evaluation_ids(pairs, card, "train")[0], train_ids)
            others = others if len(others) else train_ids
            mix_ids = usable_ids(pairs, np.sort(np.random.default_rng(3).permutation(others)[: args.mix_bars * 2]))[: args.mix_bars]
        vectors = compute_vectors(model, pairs, train_ids, say, recipe=args.recipe, mix_ids=mix_ids)
        vectors.save(out)
        say(f"wrote {out}")
        made = {
            "recipe": RECIPE_TEXT[args.recipe] + (f" ({len(mix_ids)} other training bars)" if mix_ids is not None else ""),
            "computed_from": f"{len(train_ids)} bars of {train_note} (drawn at random, seed 0)",
            "reproduce": f"python scripts/attribute_vectors.py models/{args.model.name} DATASET_DIR"
            + ("" if args.recipe == "quartile" else f" --recipe {args.recipe}"),
        }
    study = measure(model, vectors, pairs, test_ids, amount=args.amount, progress=say)
    print("\n".join(study.table()))
    for name, verdict in study.goal().items():
        print(f"{name}: own {verdict['own_sd']:+.2f} SD, largest other {verdict['largest_other_sd']:.2f} SD, goal met: {verdict['met']}")
    if not args.no_card:
        entry = {
            "file": out.name,
            "recipe": made.get("recipe"),
            "names": {name: DESCRIPTIONS[name] for name in vectors.names},
            "computed_from": made.get("computed_from"),
            "measured_on": f"{study.bars} bars of {test_note}, decoded with the app's default controls",
            "table_markdown": study.table(),
            "reproduce": made.get("reproduce"),
            **study.to_dict(),
        }
        card["attributes"] = {key: value for key, value in entry.items() if value is not None}
        save_model(args.model, model, card, half=card.get("dtype") == "float16")
        say(f"wrote the card entry into {args.model.with_suffix('.json')}")
    print(json.dumps(study.to_dict()["goal"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
