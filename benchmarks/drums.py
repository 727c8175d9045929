"""Does a model keep a piece's drums? The share of new bars with drum notes in continuations.

    .venv/bin/python benchmarks/drums.py CORPUS [--model M] [--split-from M2] [--bars 8] [--variations 4]
                                         [--places 3] [--json]

CORPUS is the folder the model was trained from (OpenMSX for ``pop-game-continuation``). For each of
the model's test works (its card's split: whole works it never saw; a card without a split uses every
file, and the figures say so; ``--split-from`` takes another model's test works, to measure say
classical-continuation on the drum model's) that plays drums, ``--places`` seed bars are spread over
the bars whose seed bar itself plays drums, with two context bars before it and ``--bars`` bars of the
piece after it. The model continues each seed for ``--bars`` bars in ``--variations`` variations (the
app's default controls; variation i uses seed i). A new bar *keeps drums* when a drum-channel note
starts in it.

Printed per work and in total: the share of new bars with drums (issue #17's goal: at least 90%), the
same share in the real bars that follow each seed (the piece's own), drum notes per new bar beside
the real bars', the share of drum notes on General MIDI percussion keys 35-81, and any note the
generation gave (a model without drums says it leaves them out, and keeps none).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.generation import Controls, continue_piece, load_for  # noqa: E402
from core.midi.files import read_midi  # noqa: E402
from core.representation.instruments import DRUM_KEYS  # noqa: E402
from core.music.score import Score  # noqa: E402
from core.preprocess.splits import work_of  # noqa: E402

CONTEXT_BARS = 2


@dataclass
class Tally:
    """Counts over new bars (generated) and the real bars after the same seeds."""

    bars: int = 0
    bars_with_drums: int = 0
    drum_notes: int = 0
    on_keys: int = 0
    real_bars: int = 0
    real_with_drums: int = 0
    real_drum_notes: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self) -> dict[str, float | None]:
        return {
            "new_bars": self.bars,
            "new_bars_with_drums": round(self.bars_with_drums / max(self.bars, 1), 4),
            "real_bars_with_drums": round(self.real_with_drums / max(self.real_bars, 1), 4),
            "drum_notes_per_new_bar": round(self.drum_notes / max(self.bars, 1), 2),
            "drum_notes_per_real_bar": round(self.real_drum_notes / max(self.real_bars, 1), 2),
            "drum_notes_on_gm_keys": round(self.on_keys / self.drum_notes, 4) if self.drum_notes else None,
        }


def drum_starts(score: Score) -> tuple[np.ndarray, np.ndarray]:
    """Start ticks and keys of every drum-channel note of ``score``."""
    notes = [(n.start, n.pitch) for t in score.tracks if t.is_drum for n in t.notes]
    array = np.array(notes, np.int64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def drums_per_bar(score: Score, first: int, last: int) -> list[int]:
    """Drum notes starting in each Score bar ``first..last``."""
    starts, _ = drum_starts(score)
    return [int(((starts >= score.bar(b).start) & (starts < score.bar(b).end)).sum()) for b in range(first, last + 1)]


def held_out_files(card: dict, corpus: Path) -> tuple[list[Path], bool]:
    """The corpus files of the model's test works (all files when its card records no split)."""
    files = sorted(p for p in corpus.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    test = (card.get("split") or {}).get("test")
    if not test:
        return files, False
    return [p for p in files if work_of(p.name) in set(test)], True


def seed_bars(score: Score, bars: int, places: int) -> list[int]:
    """Up to ``places`` seed bars spread over those that play drums and have context and real bars."""
    last = score.bar_count - bars
    candidates = [b for b in range(CONTEXT_BARS + 1, last + 1) if drums_per_bar(score, b, b)[0]]
    if not candidates:
        return []
    picks = np.linspace(0, len(candidates) - 1, places + 2)[1:-1] if places > 1 else [len(candidates) // 2]
    return sorted({candidates[int(round(i))] for i in picks})


def measure(model, score: Score, seed_bar: int, bars: int, variations: int) -> tuple[Tally, tuple[str, ...]]:
    tally = Tally()
    result = continue_piece(model, score, seed_bar, bars, variations=variations, controls=Controls(seed=0))
    for variation in result.variations:
        fragment = variation.fragment
        starts, keys = drum_starts(fragment)
        for number in range(1, bars + 1):
            bar = fragment.bar(number)
            count = int(((starts >= bar.start) & (starts < bar.end)).sum())
            tally.bars += 1
            tally.bars_with_drums += count > 0
            tally.drum_notes += count
        tally.on_keys += int(((keys >= DRUM_KEYS[0]) & (keys <= DRUM_KEYS[1])).sum())
    real = drums_per_bar(score, seed_bar + 1, seed_bar + bars)
    tally.real_bars, tally.real_with_drums, tally.real_drum_notes = len(real), sum(c > 0 for c in real), sum(real)
    return tally, result.notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="the model's corpus folder (its test works are read from it)")
    parser.add_argument("--model", default="pop-game-continuation", help="model name or file (default pop-game-continuation)")
    parser.add_argument("--split-from", metavar="M2", help="use the test works of this model's card (default: the model's own)")
    parser.add_argument("--bars", type=int, default=8, help="new bars per continuation (default 8)")
    parser.add_argument("--variations", type=int, default=4, help="variations per place (default 4)")
    parser.add_argument("--places", type=int, default=3, help="seed bars per work (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    model, card = load_for("continuation", args.model)
    split_card = load_for("continuation", args.split_from)[1] if args.split_from else card
    files, held_out = held_out_files(split_card, args.corpus)
    total, rows, notes = Tally(), {}, set()
    for path in files:
        score = read_midi(path)
        work = Tally()
        for seed_bar in seed_bars(score, args.bars, args.places):
            tally, said = measure(model, score, seed_bar, args.bars, args.variations)
            work.add(tally)
            notes.update(said)
        if work.bars:
            rows[path.name] = work.row()
            total.add(work)
    summary = {
        "model": card.get("name", args.model), "instruments": model.config.instruments, "held_out": held_out,
        "split_from": split_card.get("name", args.split_from),
        "bars": args.bars, "variations": args.variations, "places_per_work": args.places,
        "works": rows, "total": total.row(), "notes": sorted(notes),
    }  # fmt: skip
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"model {summary['model']} (instruments: {summary['instruments']}), "
          f"{'held-out test works' if held_out else 'every file (the card records no split: works it may have seen)'}; "
          f"{args.bars} new bars x {args.variations} variations x up to {args.places} places per work")  # fmt: skip
    header = f"{'work':<34} {'new bars':>8} {'with drums':>10} {'real':>6} {'drums/bar':>9} {'real':>6} {'GM keys':>7}"
    print(header)
    for name, row in list(rows.items()) + [("total", total.row())]:
        keys = "-" if row["drum_notes_on_gm_keys"] is None else f"{row['drum_notes_on_gm_keys']:.1%}"  # no drum note
        print(f"{name[:34]:<34} {row['new_bars']:>8} {row['new_bars_with_drums']:>10.1%} {row['real_bars_with_drums']:>6.1%} "
              f"{row['drum_notes_per_new_bar']:>9.2f} {row['drum_notes_per_real_bar']:>6.2f} {keys:>7}")  # fmt: skip
    if notes:  # one per place: the first, and how many
        print(f"{len(notes)} notes from the generation, such as: {sorted(notes)[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
