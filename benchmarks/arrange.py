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
import dataclasses
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


def figures(model, seeds: int, source=None, bars: list[int] | None = None) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Per z source ("prior", "bar K"): arrangements, chord-tone share, the same against the progression
    a tritone away, bars keeping the first bar's instruments, onset overlap with the first bar."""
    styles: list[int | None] = [None] + (list(bars or []) if source is not None else [])
    out = {}
    for style in styles:
        rows = []
        for text in PROGRESSIONS:
            result = arrange(model, parse_progression(text), variations=seeds, controls=Controls(seed=7),
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
    args = parser.parse_args()
    model, card = load_model(resolve_model(args.model))
    source = read_midi(args.source) if args.source else None
    bars = [int(b) for b in args.bars.split(",")] if args.bars else []
    results = figures(model, args.seeds, source, bars)
    print(f"model {card.get('name', args.model)}: {len(PROGRESSIONS)} progressions x {args.seeds} seeds per z source")
    print("| z | arrangements | on chord tones | vs. a tritone away | same instruments | onset overlap |")
    print("|---|---|---|---|---|---|")
    for label, row in results.items():
        print(f"| {label} | {row['arrangements']} | {row['on_chord_tones']:.1%} | {row['on_chord_tones_a_tritone_away']:.1%} | "
              f"{row['same_instruments']:.1%} | {row['onset_overlap']:.2f} |")


if __name__ == "__main__":
    main()
