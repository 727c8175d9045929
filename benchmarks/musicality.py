"""Does a continuation model continue the piece? Musical figures on works it never trained on, next to
free baselines (core/training/musicality.py defines every figure).

At ``--places`` places in each of ``--works`` test works (the works the model's card holds out; a
card without a split gets a seeded choice, and its figures are flagged as on works it saw), the model
continues ``--bars`` bars in ``--variations`` variations through :func:`continue_piece`, the function
``mahlernet continue`` and the app call, with the CLI's default controls unless told otherwise. Every
continuation is judged against the real next bars, beside three baselines that cost nothing:

* **seed repeated**: the seed bar played ``--bars`` times;
* **other work transposed**: the same stretch of another test work, moved to the real continuation's
  key (tonic onto tonic);
* **real continuation**: the real bars themselves (their pitch-class overlap and drift compare their
  first half with their second).

With ``--interpolation-model``, that model also morphs between bars K and K+4 at each place in
``--steps`` greedy steps (``--interpolation-candidates`` bars decoded per step, as the app does):
endpoint note F1 against the bars it starts and ends on, and smoothness (the
mean note F1 between neighbouring steps).

    .venv/bin/python benchmarks/musicality.py --corpus CORPUS_DIR [--model M] [--interpolation-model M]
        [--works 12] [--places 3] [--bars 8] [--variations 4] [--latent prior|standard|rerank]
        [--top-p P] [--z-scale S] [--temperature T] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.model.checkpoints import load_model, resolve_model  # noqa: E402
from core.generation import Controls, Temperatures, continue_piece, interpolate  # noqa: E402
from core.generation.interpolation import CANDIDATES as INTERPOLATION_CANDIDATES  # noqa: E402
from core.midi.files import read_midi  # noqa: E402
from core.training.musicality import (  # noqa: E402
    Notes,
    find_key,
    foreign_share,
    in_key,
    leap_share,
    note_f1,
    pitch_class_overlap,
    polyphony,
    transposition_to,
)
from core.music.score import Score  # noqa: E402
from core.preprocess.splits import work_of  # noqa: E402

COLUMNS = ("model", "seed repeated", "other work transposed", "real continuation")
FIGURES = (
    ("in_key", "notes in the real continuation's key", "mean"),
    ("overlap_real", "pitch-class overlap with the real bars", "mean"),
    ("overlap_seed", "pitch-class overlap with the seed and context", "mean"),
    ("density", "notes per bar / real (median)", "median"),
    ("polyphony", "polyphony (notes sounding per onset)", "mean"),
    ("leaps", "top-voice leaps over an octave", "mean"),
    ("foreign", "notes on instruments the seed does not use", "mean"),
    ("drift", "overlap of first and second half (drift)", "mean"),
    ("sameness", "note F1 between two variations of one place (1: identical)", "mean"),
)
PERCENT = {"leaps", "foreign"}


@dataclass
class Tally:
    """Figures of one column, gathered over places and variations."""

    values: dict[str, list[float]] = field(default_factory=lambda: {key: [] for key, _, _ in FIGURES})

    def add(self, **figures: float) -> None:
        for key, value in figures.items():
            if not math.isnan(value):
                self.values[key].append(value)

    def summary(self) -> dict[str, float]:
        out = {}
        for key, _, how in FIGURES:
            values = self.values[key]
            out[key] = float("nan") if not values else (statistics.median(values) if how == "median" else float(np.mean(values)))
        return out


@dataclass(frozen=True)
class Place:
    """Continue ``score`` after bar ``bar`` (the seed); ``context`` bars before it are heard."""

    work: str
    path: Path
    score: Score
    bar: int


def bars_notes(score: Score, first: int, last: int) -> Notes:
    return Notes.of(score.slice_bars(first, last))


def halves(notes: Notes, score: Score, first: int, bars: int) -> tuple[Notes, Notes]:
    """The notes of the first and second half of ``bars`` bars of ``score`` from bar ``first`` (times
    from bar ``first``)."""
    start = score.bar(first).start
    middle = score.bar(first + bars // 2).start - start
    end = score.bar(first + bars - 1).end - start
    return notes.between(0, middle), notes.between(middle, end)


def judge(tally: Tally, candidate: Notes, real: Notes, reference: Notes, key, first: Notes, second: Notes, bars: int) -> None:
    tally.add(
        in_key=in_key(candidate, key) if key else float("nan"),
        overlap_real=pitch_class_overlap(candidate, real),
        overlap_seed=pitch_class_overlap(candidate, reference),
        density=len(candidate) / len(real) if len(real) else float("nan"),
        polyphony=polyphony(candidate),
        leaps=leap_share(candidate),
        foreign=foreign_share(candidate, reference),
        drift=pitch_class_overlap(first, second),
    )


def seed_repeated(score: Score, bar: int, bars: int) -> Notes:
    seed = bars_notes(score, bar, bar)
    length = score.bar(bar).length
    parts = [Notes(seed.start + i * length, seed.duration, seed.pitch, seed.instrument) for i in range(bars)]
    return Notes(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("start", "duration", "pitch", "instrument")))


def test_works(card: dict, corpus: Path, count: int, seed: int, split: str = "test") -> tuple[dict[str, list[Path]], bool]:
    """The held-out works of the model (name -> its files) and whether they really are held out:
    ``split`` = ``test`` for the figures reported, ``validation`` for choosing settings."""
    files: dict[str, list[Path]] = {}
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() in (".mid", ".midi"):
            files.setdefault(work_of(path.name), []).append(path)
    held = (card.get("split") or {}).get(split)
    names = [w for w in held if w in files] if held else sorted(files)
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[i]: files[names[i]] for i in order[: count * 3]}, bool(held)


def choose_places(works: dict[str, list[Path]], count: int, places: int, bars: int, seed: int) -> list[Place]:
    """``places`` seed bars spread over the longest movement of each of the first ``count`` works
    long enough for a context, a seed and ``bars`` real bars after it."""
    chosen: list[Place] = []
    used = 0
    for work, paths in works.items():
        if used == count:
            break
        scores = []
        for path in paths:
            try:
                scores.append((read_midi(path), path))
            except Exception:  # noqa: BLE001 - a file the reader refuses is not a test place
                continue
        scores = [(s, p) for s, p in scores if s.bar_count >= bars + 4]
        if not scores:
            continue
        score, path = max(scores, key=lambda sp: sp[0].bar_count)
        last = score.bar_count - bars
        spots = np.linspace(3, last, places + 2)[1:-1] if places > 1 else [(3 + last) / 2]
        chosen.extend(Place(work, path, score, int(round(b))) for b in spots)
        used += 1
    del seed
    return chosen


def continuation_table(model, places: list[Place], bars: int, variations: int, controls: Controls) -> tuple[dict, float]:
    tallies = {name: Tally() for name in COLUMNS}
    context = model.config.context_bars
    seconds = 0.0
    for index, place in enumerate(places):
        score, bar = place.score, place.bar
        real = bars_notes(score, bar + 1, bar + bars)
        key = find_key(real)
        reference = bars_notes(score, max(1, bar - context), bar)
        first, second = halves(real, score, bar + 1, bars)
        began = time.perf_counter()
        result = continue_piece(model, score, bar, bars, variations=variations, controls=replace(controls, seed=controls.seed + 100 * index))
        seconds += time.perf_counter() - began
        variation_notes = [Notes.of(variation.fragment) for variation in result.variations]
        for one, other_one in itertools.combinations(variation_notes, 2):
            tallies["model"].add(sameness=note_f1(one, other_one))
        for notes in variation_notes:
            start = score.bar(bar + 1).start
            middle = score.bar(bar + 1 + bars // 2).start - start
            judge(tallies["model"], notes, real, reference, key, notes.between(0, middle), notes.between(middle, 10**12), bars)
        repeated = seed_repeated(score, bar, bars)
        length = score.bar(bar).length
        judge(tallies["seed repeated"], repeated, real, reference, key,
              repeated.between(0, length * (bars // 2)), repeated.between(length * (bars // 2), 10**12), bars)  # fmt: skip
        other = places[(index + len(places) // 2 + 1) % len(places)]
        if other.work != place.work and key is not None:
            moved = bars_notes(other.score, other.bar + 1, other.bar + bars)
            moved = moved.transposed(transposition_to(moved, key))
            o_first, o_second = halves(moved, other.score, other.bar + 1, bars)
            judge(tallies["other work transposed"], moved, real, reference, key, o_first, o_second, bars)
        tallies["real continuation"].add(
            in_key=in_key(real, key) if key else float("nan"), overlap_real=pitch_class_overlap(first, second),
            overlap_seed=pitch_class_overlap(real, reference), density=1.0, polyphony=polyphony(real),
            leaps=leap_share(real), foreign=foreign_share(real, reference), drift=pitch_class_overlap(first, second),
        )  # fmt: skip
    return {name: tally.summary() for name, tally in tallies.items()}, seconds


def interpolation_figures(model, places: list[Place], steps: int, candidates: int) -> dict[str, float]:
    ends, smooth = [], []
    for place in places:
        score, a = place.score, place.bar
        b = min(a + 4, score.bar_count)
        result = interpolate(model, score, a, b, steps, candidates=candidates)
        decoded = [Notes.of(step.fragment) for step in result.steps]
        ends.append(note_f1(decoded[0], bars_notes(score, a, a)))
        ends.append(note_f1(decoded[-1], bars_notes(score, b, b)))
        smooth.extend(note_f1(x, y) for x, y in zip(decoded, decoded[1:]))
    return {"endpoint_note_f1": float(np.mean(ends)), "neighbour_step_f1": float(np.mean(smooth)), "places": len(places)}


def markdown(table: dict, held_out: bool, model_name: str) -> str:
    lines = [f"| measure | {model_name} | " + " | ".join(COLUMNS[1:]) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for key, label, _ in FIGURES:
        cells = []
        for column in COLUMNS:
            value = table[column][key]
            cells.append("-" if math.isnan(value) else (f"{100 * value:.1f}%" if key in PERCENT else f"{value:.2f}"))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if not held_out:
        lines.append("\n(the model's card records no test works: these works may have been in its training data)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the folder of MIDI files the model's dataset came from")
    parser.add_argument("--model", default="classical-continuation", help="continuation model (name, file or run)")
    parser.add_argument("--interpolation-model", help="also measure this interpolation model")
    parser.add_argument("--only-interpolation", action="store_true", help="skip the continuation table")
    parser.add_argument("--works", type=int, default=12)
    parser.add_argument("--places", type=int, default=3)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5, help="interpolation steps, both ends included")
    parser.add_argument("--interpolation-candidates", type=int, default=INTERPOLATION_CANDIDATES,
                        help="bars decoded per interpolation step (the app's default; 1: one greedy decoding)")  # fmt: skip
    parser.add_argument("--latent", default="prior")
    parser.add_argument("--top-p", type=float, default=Controls.top_p)  # the app's and CLI's defaults
    parser.add_argument("--z-scale", type=float, default=Controls.z_scale)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="the held-out works to use: test (report) or validation (choose settings on these)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    report: dict = {}
    if not args.only_interpolation:
        model, card = load_model(resolve_model(args.model))
        works, held_out = test_works(card, args.corpus, args.works, args.seed, args.split)
        places = choose_places(works, args.works, args.places, args.bars, args.seed)
        if not places:
            print(f"error: {args.corpus}: no test work has {args.bars + 4} bars or more", file=sys.stderr)
            return 1
        controls = Controls(Temperatures.uniform(args.temperature), seed=args.seed, top_p=args.top_p, latent=args.latent,
                            z_scale=args.z_scale, candidates=args.candidates)  # fmt: skip
        table, generation_s = continuation_table(model, places, args.bars, args.variations, controls)
        report = {
            "model": str(args.model), "held_out": held_out, "split": args.split, "works": sorted({p.work for p in places}), "places": len(places),
            "settings": {"latent": args.latent, "top_p": args.top_p, "z_scale": args.z_scale, "temperature": args.temperature,
                         "candidates": args.candidates, "bars": args.bars, "variations": args.variations},
            "continuation": table, "generation_s": round(generation_s, 2),
        }  # fmt: skip
    if args.interpolation_model:
        other, other_card = load_model(resolve_model(args.interpolation_model))
        i_works, i_held = test_works(other_card, args.corpus, args.works, args.seed, args.split)
        i_places = choose_places(i_works, args.works, args.places, args.bars, args.seed)
        report["interpolation"] = {"model": args.interpolation_model, "held_out": i_held, **interpolation_figures(other, i_places, args.steps, args.interpolation_candidates)}
    report["seconds"] = round(time.perf_counter() - began, 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if "continuation" in report:
        print_continuation(report, args)
    if "interpolation" in report:
        i = report["interpolation"]
        print(f"\ninterpolation ({i['model']}, {i['places']} places, {args.steps} steps{'' if i['held_out'] else ', works seen in training'}): "
              f"endpoint note F1 {i['endpoint_note_f1']:.3f}, neighbouring steps note F1 {i['neighbour_step_f1']:.3f}")  # fmt: skip
    return 0


def print_continuation(report: dict, args: argparse.Namespace) -> None:
    places, generation_s = report["places"], report["generation_s"]
    print(f"{places} places in {len(report['works'])} works, {args.bars} bars x {args.variations} variations, "
          f"settings {report['settings']}; generation {generation_s:.1f} s, all {report['seconds']} s\n")  # fmt: skip
    print(markdown(report["continuation"], report["held_out"], Path(str(args.model)).stem))


if __name__ == "__main__":
    raise SystemExit(main())
