"""Finish the card of a bundled model: what it learned from, how well it does, how to make it again.

    python scripts/model_card.py MODEL.safetensors DATASET_DIR CORPUS_DIR [--pieces N] [--note TEXT]
                                 [--corpus music21|openmsx] [--reproduce TEXT]

Writes into the model's card (the ``.json`` beside it and the copy inside the ``.safetensors``):

* ``data``: the corpus (recipe, licence), the dataset's counts;
* ``evaluation``: ``mahlernet evaluate --json`` on the model's test works (whole works held out of
  training, recorded in its card), and on their dense bars (20 events or more);
* ``musicality``: ``benchmarks/musicality.py`` on those works: the model beside the free baselines
  (continuation models; interpolation models get endpoint note F1 and smoothness);
* ``generation``: checks on real pieces of the corpus. Continuation models continue N pieces from bar
  4 for 8 bars; interpolation models morph between bars 2 and 6 of them in 5 steps (a step decodes in
  bar 2's meter before the midpoint, in bar 6's from there on). Both report the
  share of notes inside the instruments' playable ranges (with the app's default range clamp, and
  with it off: what the network itself proposes) and whether every generated bar is filled exactly
  (as long as the bar it stands for, with no note outside it);
* ``drums`` (models whose instrument table has a drum class): ``benchmarks/drums.py`` on the test
  works, the share of new bars that keep the piece's drums. Such a model gets no ``musicality``: its
  key and pitch-class measures would read drum keys as pitches;
* ``quality_bar``: the issue's targets and whether they are met;
* ``reproduce``: the commands that trained it.

The weights are rewritten unchanged (fp16 stays fp16).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model.batching import dataset_summary  # noqa: E402
from core.model.checkpoints import load_model, save_model  # noqa: E402
from core.errors import MahlerNetError  # noqa: E402
from core.training.evaluation import evaluate_model  # noqa: E402
from core.generation import Controls, continue_piece, interpolate  # noqa: E402
from core.midi.files import read_midi  # noqa: E402
from core.representation.events import EventArrays  # noqa: E402
from core.music.score import Score  # noqa: E402

DENSE_EVENTS = 20  # a dense bar (piano textures): issue #21 measured them apart
ORIGINAL_FREE_RUNNING_PITCH = 0.4587  # the original's interpolation model on MUSEDATA (paper, Table 2)
MUSIC21 = {
    "name": "music21 classical corpus (MUSEDATA-like)",
    "recipe": "build_corpus.py from the project's shared data recipes, run on music21 10.5.1 with mido 1.3.3: "
    "one type-1 MIDI file per movement of the polyphonic works bundled in the music21 package "
    "(Bach chorales and cantatas, Trecento polyphony, Beethoven, Haydn and Mozart string quartets, "
    "Monteverdi madrigals, ...; Palestrina and the monophonic folk-song collections left out)",
    "licence": "The scores are, to music21's knowledge, out of copyright or licensed for use (music21/corpus/license.txt); "
    "a few files are marked CC0/public domain, CC-BY or CC-BY-SA 3.0. The corpus itself is not redistributed: "
    "build it from the recipe. The trained weights hold no score.",
}
OPENMSX = {
    "name": "OpenMSX 0.4.2, the music of OpenTTD (pop, jazz, blues and game tunes with drums)",
    "recipe": "the 31 MIDI files of Debian's openttd-openmsx package (0.4.2-1, "
    "apt-get install openttd-openmsx; /usr/share/games/openttd/baseset/openmsx/*.mid), copied unchanged",
    "licence": "GPL-2.0 (the package's copyright file: (c) 2010 various authors, see its readme.txt). The MIDI files "
    "are not redistributed here; the weights learnt from them are offered under GPL-2.0 as well, to be safe.",
}
CORPORA = {"music21": MUSIC21, "openmsx": OPENMSX}
REPRODUCE = "scripts/train_default_models.sh CORPUS_DIR (README, 'Bundled models')"
DRUM_GOAL = 0.9  # issue #17: a drum model keeps drums in at least 90% of the new bars


def in_range_counts(events: EventArrays, ranges: np.ndarray) -> tuple[int, int]:
    """(notes inside their instrument's playable range, notes) of one decoded bar; ``ranges`` is
    the (pitch index, instrument class) -> playable table of the model's instruments."""
    notes = ~events.is_pause
    inside = ranges[events.pitch[notes], events.instrument[notes]]
    return int(inside.sum()), int(notes.sum())


def bars_filled_exactly(fragment: Score, expected_lengths: list[int]) -> bool:
    """The fragment has the bars asked for, each as long as the bar it stands for, and no note
    starts outside them."""
    bars = fragment.bars(until_tick=sum(expected_lengths))
    if [bar.length for bar in bars][: len(expected_lengths)] != expected_lengths:
        return False
    end = sum(expected_lengths)
    return all(0 <= note.start < end for track in fragment.tracks for note in track.notes)


def pick_pieces(corpus: Path, count: int, min_bars: int) -> list[tuple[Path, Score]]:
    """``count`` corpus pieces spread evenly over the sorted file list (every composer folder gets
    its share): from each of ``count`` equally spaced places, the first piece with ``min_bars`` bars."""
    files = sorted(corpus.glob("*.mid"))
    chosen: dict[Path, Score] = {}
    for place in range(count):
        for path in files[place * len(files) // count :]:
            if path in chosen:
                continue
            score = read_midi(path)
            if score.bar_count >= min_bars:
                chosen[path] = score
                break
    return list(chosen.items())


def generation_checks(model, pieces: list[tuple[Path, Score]]) -> dict[str, object]:
    totals = {"clamped": [0, 0], "unclamped": [0, 0]}
    filled, bars_made = 0, 0
    ranges = Controls().for_table(model.config.instrument_table).range_table()
    for index, (_, score) in enumerate(pieces):
        for name, clamp in (("clamped", True), ("unclamped", False)):
            controls = Controls(clamp_ranges=clamp, seed=index)
            # (events of each decoded bar, the fragment they make, the lengths of the bars it stands for)
            if model.config.use_context:
                variation = continue_piece(model, score, from_bar=4, bars=8, controls=controls).variations[0]
                decoded = [(variation.events, variation.fragment, [score.bar(n).length for n in range(5, 13)])]
            else:
                steps = interpolate(model, score, 2, 6, 5, controls=controls).steps
                decoded = [((step.events,), step.fragment, [score.bar(2 if step.t < 0.5 else 6).length])
                           for step in steps]  # fmt: skip - a step decodes in A's meter, then in B's
            for bars, fragment, expected in decoded:
                for bar_events in bars:
                    inside, notes = in_range_counts(bar_events, ranges)
                    totals[name][0] += inside
                    totals[name][1] += notes
                if clamp:
                    bars_made += len(expected)
                    filled += len(expected) if bars_filled_exactly(fragment, expected) else 0
    what = "continue from bar 4 for 8 bars" if model.config.use_context else "interpolate bar 2 -> bar 6 in 5 steps"
    return {
        "task": what,
        "pieces": [path.name for path, _ in pieces],
        "notes": totals["clamped"][1],
        "in_playable_range": round(totals["clamped"][0] / max(totals["clamped"][1], 1), 4),
        "in_playable_range_without_clamp": round(totals["unclamped"][0] / max(totals["unclamped"][1], 1), 4),
        "bars": bars_made,
        "bars_filled_exactly": round(filled / max(bars_made, 1), 4),
    }


# Issue #21's goals on test works: (teacher-forced, free-running) pitch accuracy per kind, and the
# musical figures of a continuation with default settings.
ACCURACY_GOALS = {"continuation": (0.70, 0.50), "interpolation": (0.80, 0.60)}
MUSICAL_GOALS = {"in_key": (">=", 0.85), "overlap_real": (">=", 0.65), "leaps": ("<=", 0.035), "foreign": ("<=", 0.01)}
DENSITY_GOAL = (0.8, 1.25)
ENDPOINT_F1_GOAL = 0.8


def quality_bar(kind: str, evaluation: dict, generation: dict, musicality: dict | None, drums: dict | None = None) -> dict[str, object]:
    """Each goal with the model's figure and whether it is met."""
    pitch = evaluation["properties"]["pitch"]
    forced_goal, free_goal = ACCURACY_GOALS.get(kind, (0.0, 0.0))
    goals: dict[str, dict[str, object]] = {
        "teacher_forced_pitch_accuracy": {"value": pitch["teacher_forced_accuracy"], "goal": f">= {forced_goal}",
                                          "met": pitch["teacher_forced_accuracy"] >= forced_goal},
        "free_running_pitch_accuracy": {"value": pitch.get("free_running_accuracy"), "goal": f">= {free_goal}",
                                        "met": (pitch.get("free_running_accuracy") or 0) >= free_goal},
        "in_playable_range": {"value": generation["in_playable_range"], "goal": ">= 0.99", "met": generation["in_playable_range"] >= 0.99},
        "bars_filled_exactly": {"value": generation["bars_filled_exactly"], "goal": "1.0", "met": generation["bars_filled_exactly"] == 1.0},
    }  # fmt: skip
    if kind == "continuation" and musicality:
        model = musicality["continuation"]["model"]
        for key, (how, goal) in MUSICAL_GOALS.items():
            value = model[key]
            goals[key] = {"value": round(value, 4), "goal": f"{how} {goal}", "met": value >= goal if how == ">=" else value <= goal}
        low, high = DENSITY_GOAL
        goals["density"] = {"value": round(model["density"], 4), "goal": f"{low}-{high}", "met": low <= model["density"] <= high}
    elif kind == "interpolation":
        f1 = musicality["interpolation"]["endpoint_note_f1"]
        goals["endpoint_note_f1"] = {"value": round(f1, 4), "goal": f">= {ENDPOINT_F1_GOAL}", "met": f1 >= ENDPOINT_F1_GOAL}
        goals["free_running_pitch_original"] = {"value": ORIGINAL_FREE_RUNNING_PITCH, "goal": "beat it",
                                                "met": (pitch.get("free_running_accuracy") or 0) > ORIGINAL_FREE_RUNNING_PITCH}  # fmt: skip
    if drums:
        kept = drums["total"]["new_bars_with_drums"]
        goals["new_bars_with_drums"] = {"value": kept, "goal": f">= {DRUM_GOAL}", "met": kept >= DRUM_GOAL}
    for goal in goals.values():
        goal["met"] = bool(goal["met"])  # NumPy booleans are not JSON
    return {"goals": goals, "met": all(g["met"] for g in goals.values())}


def _benchmark(name: str):  # type: ignore[no-untyped-def]
    """The module of ``benchmarks/<name>.py`` (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", ROOT / "benchmarks" / f"{name}.py")
    benchmark = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = benchmark
    spec.loader.exec_module(benchmark)
    return benchmark


def drum_figures(model_path: Path, corpus: Path) -> dict:
    """benchmarks/drums.py's report for this model on its test works (8 bars x 4 variations x 3 places)."""
    out = io.StringIO()
    with redirect_stdout(out):
        if _benchmark("drums").main([str(corpus), "--model", str(model_path), "--json"]) != 0:
            raise MahlerNetError(f"{model_path}: the drums benchmark failed")
    return json.loads(out.getvalue())


def musicality_figures(model_path: Path, kind: str, corpus: Path) -> dict:
    """benchmarks/musicality.py's report for this model on its test works (12 works x 3 places)."""
    benchmark = _benchmark("musicality")
    argv = ["--corpus", str(corpus), "--json"]
    if kind == "continuation":
        argv += ["--model", str(model_path)]
    else:
        argv += ["--interpolation-model", str(model_path), "--only-interpolation"]
    out = io.StringIO()
    with redirect_stdout(out):
        if benchmark.main(argv) != 0:
            raise MahlerNetError(f"{model_path}: the musicality benchmark failed")
    return json.loads(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="the exported .safetensors model")
    parser.add_argument("dataset", type=Path, help="the dataset it was trained on (mahlernet preprocess)")
    parser.add_argument("corpus", type=Path, help="the corpus folder the dataset was made from")
    parser.add_argument("--pieces", type=int, default=24, help="corpus pieces for the generation checks")
    parser.add_argument("--note", default="", help="a sentence for the card: what was tried, what is missing")
    parser.add_argument("--corpus-info", choices=sorted(CORPORA), default="music21", help="which corpus the card describes")
    parser.add_argument("--reproduce", default=REPRODUCE, help="the command that trains the model again")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    try:
        model, card = load_model(args.model)
        model.eval()
        began = time.perf_counter()
        named = {**card, "name": args.model.stem}
        evaluation = evaluate_model(model, named, args.dataset, "test")
        dense = evaluate_model(model, named, args.dataset, "test", min_events=DENSE_EVENTS)
        generation = generation_checks(model, pick_pieces(args.corpus, args.pieces, min_bars=13))
        drums = drum_figures(args.model, args.corpus) if model.config.instrument_table.has_drums else None
        musicality = None if drums else musicality_figures(args.model, str(card.get("kind")), args.corpus)
        print(f"{args.model.name}: evaluated and checked in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    except (MahlerNetError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    kind = str(card.get("kind"))
    card["data"] = {**CORPORA[args.corpus_info], "dataset": dataset_summary(args.dataset)}
    card["evaluation"] = evaluation
    card["evaluation_dense_bars"] = {"min_events": DENSE_EVENTS, **dense}
    card["generation"] = generation
    if drums:
        card["drums"] = drums
        card["musicality"] = "not measured: its key and pitch-class measures would read drum keys as pitches"
    else:
        card["musicality"] = musicality
    card["quality_bar"] = quality_bar(kind, evaluation, generation, musicality, drums)
    card["reproduce"] = args.reproduce
    if args.note:
        card["note"] = args.note
    half = str(card.get("dtype")) == "float16"
    save_model(args.model, model, card, half=half)
    pitch = evaluation["properties"]["pitch"]
    print(f"pitch accuracy: teacher-forced {100 * pitch['teacher_forced_accuracy']:.2f}%, free-running "
          f"{100 * pitch.get('free_running_accuracy', np.nan):.2f}%; in range {100 * generation['in_playable_range']:.2f}% "
          f"(no clamp {100 * generation['in_playable_range_without_clamp']:.2f}%); "
          f"bars filled exactly {100 * generation['bars_filled_exactly']:.1f}%")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
