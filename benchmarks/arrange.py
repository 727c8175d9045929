"""How well an arranger model follows a held chord progression (issue #17's goals).

    .venv/bin/python benchmarks/arrange.py [--model classical-arranger] [--seeds 8] [--from FILE --bars 3,7,11]
        [--top-p P] [--temperature T] [--z-scale S] [--validation DATASET [--count N]]

For each progression below and each seed (z drawn from the prior; with ``--from``, also z encoded
from each listed bar of FILE) it arranges one bar per chord and prints: the share of note time on
the tones of the chord of the note's half bar (goal >= 80%), the same share against the progression
moved a tritone away (what ignoring the chords would score), the share of bars that keep the first
bar's instruments, and the onset-pattern overlap of each bar with the first (goal >= 0.6).

The decoding controls (``--top-p``, ``--temperature``, ``--z-scale``; default: those of
``Controls``) are chosen with ``--validation DATASET``: the progressions are then ``--count`` runs
of four bars' chords (one per bar) from the model's validation works in the dataset (the works its
card's split holds out for validation), never the six test progressions below.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.model.batching import load_pairs  # noqa: E402
from core.model.checkpoints import load_model, resolve_model  # noqa: E402
from core.training.evaluation import evaluation_ids  # noqa: E402
from core.generation.arrange import arrange, chord_tone_share, texture_overlap  # noqa: E402
from core.generation.controls import Controls, Temperatures  # noqa: E402
from core.harmony.conditioning import transposed_indices  # noqa: E402
from core.harmony.labels import parse_progression  # noqa: E402
from core.harmony.templates import VOCABULARY  # noqa: E402
from core.midi.files import read_midi  # noqa: E402

PROGRESSIONS = ["C G Am F", "Am Dm E7 Am", "D Bm G A7", "F Bb C7 F", "Cmaj7 Am7 Dm7 G7", "Em C G D"]


def validation_progressions(dataset: Path, card: dict, count: int, length: int = 4) -> list[str]:
    """``count`` progressions of ``length`` bars (each bar's first-half chord) from the validation
    works of ``card``'s split in ``dataset``, runs of consecutive bars without a no-chord, seeded."""
    pairs = load_pairs(dataset)
    if pairs.bar_chords is None:
        raise SystemExit(f"{dataset}: the dataset holds no chords")
    ids, _ = evaluation_ids(pairs, card, "val")
    held = set(np.asarray(ids).tolist())
    starts = [i for i in sorted(held)
              if all(i + k in held for k in range(length)) and pairs.piece_of[i] == pairs.piece_of[i + length - 1]]  # fmt: skip
    chosen = np.random.default_rng(0).permutation(starts)
    out: list[str] = []
    for start in chosen:
        chords = [VOCABULARY[int(pairs.bar_chords[start + k, 0])] for k in range(length)]
        if not any(c.is_none for c in chords):
            out.append(" ".join(c.short for c in chords))
        if len(out) == count:
            break
    return out


def figures(model, seeds: int, source=None, bars: list[int] | None = None, progressions: list[str] | None = None,  # type: ignore[no-untyped-def]
            controls: Controls = Controls(seed=7)) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per z source ("prior", "bar K"): arrangements, chord-tone share, the same against the progression
    a tritone away, bars keeping the first bar's instruments, onset overlap with the first bar."""
    styles: list[int | None] = [None] + (list(bars or []) if source is not None else [])
    out = {}
    for style in styles:
        rows = []
        for text in progressions or PROGRESSIONS:
            result = arrange(model, parse_progression(text), variations=seeds, controls=controls,
                             source=source if style else None, style_bar=style)  # fmt: skip
            away = dataclasses.replace(result, slots=transposed_indices(result.slots, np.full(len(result.slots), 6)))
            for index in range(len(result.variations)):
                same, onsets = texture_overlap(result, index)
                rows.append((chord_tone_share(result, index), chord_tone_share(away, index), same, onsets))
        table = np.array(rows, float)
        out["prior" if style is None else f"bar {style}"] = {
            "arrangements": len(rows), "on_chord_tones": round(float(table[:, 0].mean()), 4),
            "on_chord_tones_a_tritone_away": round(float(table[:, 1].mean()), 4),
            "same_instruments": round(float(table[:, 2].mean()), 4), "onset_overlap": round(float(table[:, 3].mean()), 4),
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="classical-arranger")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--from", dest="source", type=Path)
    parser.add_argument("--bars", default="")
    parser.add_argument("--top-p", type=float, default=Controls().top_p)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--z-scale", type=float, default=Controls().z_scale)
    parser.add_argument("--validation", type=Path, metavar="DATASET", help="progressions from the model's validation works instead")
    parser.add_argument("--count", type=int, default=12, help="validation progressions (with --validation)")
    args = parser.parse_args()
    model, card = load_model(resolve_model(args.model))
    source = read_midi(args.source) if args.source else None
    bars = [int(b) for b in args.bars.split(",")] if args.bars else []
    progressions = validation_progressions(args.validation, card, args.count) if args.validation else PROGRESSIONS
    controls = Controls(Temperatures.uniform(args.temperature), seed=7, top_p=args.top_p, z_scale=args.z_scale)
    results = figures(model, args.seeds, source, bars, progressions, controls)
    where = f"validation progressions of {args.validation}" if args.validation else "test progressions"
    print(f"model {card.get('name', args.model)}: {len(progressions)} {where} x {args.seeds} seeds per z source; "
          f"top-p {args.top_p}, temperature {args.temperature}, z scale {args.z_scale}")
    print("| z | arrangements | on chord tones | vs. a tritone away | same instruments | onset overlap |")
    print("|---|---|---|---|---|---|")
    for label, row in results.items():
        print(f"| {label} | {row['arrangements']} | {row['on_chord_tones']:.1%} | {row['on_chord_tones_a_tritone_away']:.1%} | "
              f"{row['same_instruments']:.1%} | {row['onset_overlap']:.2f} |")


if __name__ == "__main__":
    main()
