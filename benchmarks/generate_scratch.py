"""Generate from scratch with a bundled model: are the bars filled in the asked meter, in key, never empty?

For each meter, ``--pieces`` new pieces of ``--bars`` bars (seeds 0, 1, ...) with the app's default
controls (``mahlernet generate``'s defaults), and per meter:

* bars filled exactly: every bar of the piece has the meter's length and no note starts past the last;
* notes in key: the share of notes in the piece's own key (Krumhansl-Schmuckler, core.training.musicality),
  averaged over the pieces (real music of the corpus: 0.94);
* empty bars: bars in which no note starts (the sampler's rests after its retries included).

    .venv/bin/python benchmarks/generate_scratch.py [--model M] [--pieces 12] [--bars 8] [--meters 3/4,6/8,4/4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.generation import Controls, load_for  # noqa: E402
from core.generation.scratch import Z_SCALE, Meter, generate_piece  # noqa: E402
from core.training.musicality import Notes, find_key, in_key  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model (default: the bundled continuation model)")
    parser.add_argument("--pieces", type=int, default=12)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--meters", default="3/4,6/8,4/4")
    parser.add_argument("--seed", type=int, default=0, help="the first piece's seed (piece i: seed + i)")
    parser.add_argument("--top-p", type=float, default=Controls.top_p)  # the app's and CLI's defaults, z scale too
    parser.add_argument("--z-scale", type=float, default=Z_SCALE)
    parser.add_argument("--latent", default=Controls.latent, help="prior, standard or rerank")
    parser.add_argument("--candidates", type=int, default=Controls.candidates, help="codes tried per bar with --latent rerank")
    args = parser.parse_args()
    controls = Controls(seed=args.seed, top_p=args.top_p, z_scale=args.z_scale, latent=args.latent, candidates=args.candidates)
    model, card = load_for("continuation", args.model)
    print(f"model {card.get('name')}: {args.pieces} pieces x {args.bars} bars per meter, seeds from {args.seed}, "
          f"top-p {args.top_p}, z scale {args.z_scale}")
    print("| meter | bars filled exactly | notes in key (mean, min) | empty bars | notes per bar |")
    print("| --- | --- | --- | --- | --- |")
    for text in args.meters.split(","):
        meter = Meter.parse(text)
        result = generate_piece(model, args.bars, meter=meter, variations=args.pieces, controls=controls)
        filled = empty = notes = 0
        keys = []
        for variation in result.variations:
            piece = result.continued(variation.index)
            bars = [piece.bar(n) for n in range(1, args.bars + 1)]
            length = piece.time_signatures[0].bar_ticks(piece.ticks_per_quarter)
            starts = [n.start for t in piece.tracks for n in t.notes]
            inside = all(0 <= s < bars[-1].end for s in starts)
            filled += sum(1 for b in bars if b.length == length and inside and (b.numerator, b.denominator) == (meter.numerator, meter.denominator))
            empty += sum(1 for b in bars if not any(b.start <= s < b.end for s in starts))
            notes += len(starts)
            found = Notes.of(piece)
            key = find_key(found)
            keys.append(in_key(found, key) if key is not None else 0.0)
        total = args.pieces * args.bars
        print(f"| {text} | {filled}/{total} | {np.mean(keys):.3f}, {np.min(keys):.3f} | {empty}/{total} | {notes / total:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
