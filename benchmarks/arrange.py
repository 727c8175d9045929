"""How well an arranger model follows a held chord progression (issue #17's goals).

    .venv/bin/python benchmarks/arrange.py [--model classical-arranger] [--seeds 8] [--from FILE --bars 3,7,11]

For each progression below and each seed (z drawn from the prior; with ``--from``, also z encoded
from each listed bar of FILE) it arranges one bar per chord and prints: the share of note time on
the tones of the chord of the note's half bar (goal >= 80%), the same share against the progression
moved a tritone away (what ignoring the chords would score), the share of bars that keep the first
bar's instruments, and the onset-pattern overlap of each bar with the first (goal >= 0.6).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.checkpoints import load_model, resolve_model  # noqa: E402
from core.generation.arrange import arrange, chord_tone_share, texture_overlap  # noqa: E402
from core.generation.controls import Controls  # noqa: E402
from core.harmony.conditioning import transposed_indices  # noqa: E402
from core.harmony.labels import parse_progression  # noqa: E402
from core.midi_io import read_midi  # noqa: E402

PROGRESSIONS = ["C G Am F", "Am Dm E7 Am", "D Bm G A7", "F Bb C7 F", "Cmaj7 Am7 Dm7 G7", "Em C G D"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="classical-arranger")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--from", dest="source", type=Path)
    parser.add_argument("--bars", default="")
    args = parser.parse_args()
    model, card = load_model(resolve_model(args.model))
    source = read_midi(args.source) if args.source else None
    styles = [None] + ([int(b) for b in args.bars.split(",")] if source is not None and args.bars else [])
    rows = []
    for style in styles:
        for text in PROGRESSIONS:
            result = arrange(model, parse_progression(text), variations=args.seeds, controls=Controls(seed=7),
                             source=source if style else None, style_bar=style)  # fmt: skip
            away = result.__class__(**{**result.__dict__, "slots": transposed_indices(result.slots, np.full(len(result.slots), 6))})
            for index in range(len(result.variations)):
                same, onsets = texture_overlap(result, index)
                rows.append((style or 0, chord_tone_share(result, index), chord_tone_share(away, index), same, onsets))
    table = np.array(rows, float)
    print(f"model {card.get('name', args.model)}: {len(PROGRESSIONS)} progressions x {args.seeds} seeds x {len(styles)} styles")
    print("| z | arrangements | on chord tones | vs. a tritone away | same instruments | onset overlap |")
    print("|---|---|---|---|---|---|")
    for style in styles:
        part = table[table[:, 0] == (style or 0)]
        label = "prior" if style is None else f"bar {style}"
        print(f"| {label} | {len(part)} | {part[:, 1].mean():.1%} | {part[:, 2].mean():.1%} | {part[:, 3].mean():.1%} | {part[:, 4].mean():.2f} |")


if __name__ == "__main__":
    main()
