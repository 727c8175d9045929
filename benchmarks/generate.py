"""Generation latency on the CPU with the small presets: continuing 8 bars (1 and 4 variations) and a
10-step interpolation.

Untrained networks of the small presets' size stand in for the bundled models (the arithmetic is the
same). An untrained offset head is uniform over 60 classes and would give ~2 events per bar, far fewer
than music has, so its bias is set to give the density of real music instead (``--events``, default
26 per 4/4 bar, the paper's MUSEDATA average; offsets: chord member or sixteenth).

    .venv/bin/python benchmarks/generate.py [--repeats 15] [--events 26]
    .venv/bin/python benchmarks/generate.py --bundled [--piece FILE.mid --from-bar 8]

``--bundled`` times what composers get instead: the bundled models with their default controls
(learned prior, nucleus sampling, the seed's instruments) on the demo piece or a real ``--piece``.

Generation runs on one thread (torch and NumPy's BLAS) whatever the caller set (see
core.generation.engine.evaluating).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.generation import Controls, continue_piece, interpolate  # noqa: E402
from core.generation.models import load_for  # noqa: E402
from core.midi.files import read_midi  # noqa: E402
from core.model.network import MahlerNet  # noqa: E402
from core.training.presets import load_preset  # noqa: E402
from core.music.score import Note, Score, TimeSignature, Track  # noqa: E402


def demo_score(bars: int = 8) -> Score:
    """Two parts in 4/4: eighth-note melody over a half-note bass line."""
    tpq = 480
    melody = [Note(i * 240, 240, 67 + (i * 5) % 12, 80) for i in range(bars * 8)]
    bass = [Note(i * 960, 960, 43 + (i * 7) % 12, 70) for i in range(bars * 2)]
    tracks = (Track("Violin", 40, 0, tuple(melody)), Track("Cello", 42, 1, tuple(bass)))
    return Score(tpq, tracks, time_signatures=(TimeSignature(0, 4, 4),))


def dense_model(preset: str, events_per_bar: float) -> MahlerNet:
    """An untrained small-preset network whose offset head yields ``events_per_bar`` events per 4/4
    bar: offset 0 (a chord member) with probability p, a sixteenth (class 3, 1/4 q*) otherwise."""
    torch.manual_seed(0)
    model = MahlerNet(load_preset(preset, "small").network).eval()
    mean_offset = 4.0 / events_per_bar  # in q*
    p_sixteenth = min(1.0, mean_offset / 0.25)
    with torch.no_grad():
        bias = model.heads["offset"].bias
        bias.fill_(-30.0)
        bias[0] = math.log(max(1e-6, 1 - p_sixteenth))
        bias[3] = math.log(p_sixteenth)
    return model


def timed(function) -> tuple[float, float, object]:
    """Wall-clock and CPU milliseconds of one call, and its result. Generation runs on one thread, so
    its CPU time is what the call takes on an idle core; the wall time adds the waits that other
    work on the machine imposes."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--events", type=float, default=26.0, help="events per 4/4 bar")
    parser.add_argument("--bundled", action="store_true", help="the bundled models instead of untrained dense ones")
    parser.add_argument("--piece", type=Path, help="a MIDI file to continue (default: a two-part demo piece)")
    parser.add_argument("--from-bar", type=int, default=4, help="the seed bar (default 4)")
    args = parser.parse_args(argv)
    read_piece = (lambda: read_midi(args.piece)) if args.piece else demo_score
    score = read_piece()
    if args.bundled:
        continuation, _ = load_for("continuation")
        interpolation, _ = load_for("interpolation")
    else:
        continuation = dense_model("continuation", args.events)
        interpolation = dense_model("interpolation", args.events)
    controls = Controls(seed=1)
    at = args.from_bar

    jobs = {
        "one": lambda: continue_piece(continuation, score, at, 8, controls=controls),
        "four": lambda: continue_piece(continuation, score, at, 8, variations=4, controls=controls),
        "interpolation": lambda: interpolate(interpolation, score, at - 2, at + 2, 10),
        "interpolation, sampled": lambda: interpolate(interpolation, score, at - 2, at + 2, 10, controls=controls),
        "new piece": lambda: continue_piece(continuation, fresh.pop(), at, 8, controls=controls),
    }
    fresh = [read_piece() for _ in range(args.repeats + 1)]  # pieces not seen before: encoded on first use
    for job in jobs.values():  # warm-up: builds the fast decoder's tables and encodes the piece once
        job()
    # The jobs take turns, so that other load on the machine slows them alike.
    times: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    results: dict[str, object] = {}
    for _ in range(args.repeats):
        for name, job in jobs.items():
            elapsed, used, results[name] = timed(job)
            times[name].append(elapsed)
            cpu[name].append(used)
    median = {name: statistics.median(values) for name, values in times.items()}
    fastest = {name: min(values) for name, values in times.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    cpu_best = {name: min(values) for name, values in cpu.items()}
    ratios = [four / one for one, four in zip(times["one"], times["four"])]
    events = sum(len(e) for e in results["one"].variations[0].events) / 8  # type: ignore[attr-defined]
    events4 = max(sum(len(e) for e in v.events) for v in results["four"].variations) / 8  # type: ignore[attr-defined]
    steps = results["interpolation"].steps  # type: ignore[attr-defined]
    steps_sampled = results["interpolation, sampled"].steps  # type: ignore[attr-defined]
    kind = "bundled models" if args.bundled else "untrained small presets"
    print(f"torch {torch.__version__}, {kind} "
          f"({continuation.parameter_count() / 1e6:.1f}M / {interpolation.parameter_count() / 1e6:.1f}M parameters)")
    def line(label: str, name: str, note: str = "") -> None:
        print(
            f"{label:32s} wall median {median[name]:6.1f} ms, best {fastest[name]:6.1f}; "
            f"CPU median {cpu_median[name]:6.1f} ms, best {cpu_best[name]:6.1f}  {note}"
        )

    line("continue 8 bars, batch 1:", "one", f"({events:.1f} events per bar; goal <= 150 ms)")
    line("continue 8 bars, 4 variations:", "four",
         f"(wall ratio {statistics.median(ratios):.2f}x one, CPU ratio {cpu_median['four'] / cpu_median['one']:.2f}x; "
         f"longest variation {events4:.1f} events per bar; goal <= 1.5x)")  # fmt: skip
    line("interpolate 10 steps, greedy:", "interpolation", f"(up to {max(len(s.events) for s in steps)} events per bar; goal <= 300 ms)")
    line("interpolate 10 steps, sampled:", "interpolation, sampled", f"(up to {max(len(s.events) for s in steps_sampled)} events per bar)")
    line("continue 8 bars, new piece:", "new piece", "(the piece is encoded first)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
