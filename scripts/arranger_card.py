"""Finish the card of an arranger model (issue #17): its data, its test-work evaluation, how well it
follows chord progressions, the goals and how to make it again.

    python scripts/arranger_card.py MODEL.safetensors DATASET_DIR [--seeds N] [--style FILE --bars 3,7] [--note TEXT]

Writes into the model's card (the ``.json`` beside it and the copy inside the ``.safetensors``):

* ``data``: the dataset's counts (the corpus as for the other bundled models);
* ``evaluation``: ``mahlernet evaluate --json`` on the model's test works, teacher-forced only;
* ``arrangement``: ``benchmarks/arrange.py`` figures: share of note time on the chord tones of
  each half bar, the same against the progression a tritone away, the bars that keep the first
  bar's instruments, the onset overlap with the first bar;
* ``quality_bar``: the issue's goals (>= 80% on chord tones, onset overlap >= 0.6) and whether met;
* ``reproduce``: the commands that trained it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.batching import dataset_summary  # noqa: E402
from core.model.checkpoints import load_model, save_model  # noqa: E402
from core.errors import MahlerNetError  # noqa: E402
from core.training.evaluation import evaluate_model  # noqa: E402
from core.midi.files import read_midi  # noqa: E402

CHORD_TONE_GOAL = 0.8
ONSET_OVERLAP_GOAL = 0.6


def _benchmark():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("arrange_benchmark", ROOT / "benchmarks" / "arrange.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--style", type=Path, help="a MIDI file whose bars give z")
    parser.add_argument("--bars", default="", help="bars of --style, comma-separated")
    parser.add_argument("--limit", type=int, default=1000, help="test bars evaluated (seeded choice)")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    try:
        model, card = load_model(args.model)
        evaluation = evaluate_model(model, {**card, "name": args.model.stem}, args.dataset, "test", free=False, limit=args.limit)
        source = read_midi(args.style) if args.style else None
        bars = [int(b) for b in args.bars.split(",")] if args.bars else []
        arrangement = _benchmark().figures(model, args.seeds, source, bars)
    except (MahlerNetError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    prior = arrangement["prior"]
    card["data"] = {"dataset": dataset_summary(args.dataset), "corpus": "the classical corpus of the bundled models (README)"}
    card["evaluation"] = evaluation
    card["arrangement"] = arrangement
    card["quality_bar"] = {
        "on_chord_tones": {"goal": CHORD_TONE_GOAL, "value": prior["on_chord_tones"], "met": prior["on_chord_tones"] >= CHORD_TONE_GOAL},
        "onset_overlap": {"goal": ONSET_OVERLAP_GOAL, "value": prior["onset_overlap"], "met": prior["onset_overlap"] >= ONSET_OVERLAP_GOAL},
    }
    card["reproduce"] = ("mahlernet preprocess CORPUS_DIR DATASET && mahlernet train DATASET RUN --preset arranger --size small "
                         "&& mahlernet export RUN models/classical-arranger.safetensors && python scripts/arranger_card.py ...")
    if args.note:
        card["note"] = args.note
    save_model(args.model, model, card, half=str(card.get("dtype")) == "float16")
    print({"evaluation_pitch": evaluation["properties"]["pitch"], **arrangement})  # type: ignore[index]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
