"""How fast a folder of MIDI files becomes a dataset: ``mahlernet preprocess`` end to end.

    .venv/bin/python benchmarks/preprocess.py DIR [--jobs N] [--runs R] [--breakdown]

Each run writes a fresh dataset (nothing reused) into a temporary folder with ``preprocess_folder``,
exactly what ``mahlernet preprocess DIR OUT --redo`` does, and the best and median wall times give
files/s, notes/s and bars/s. ``--breakdown`` also times, in this one process, reading the files
(``read_midi``), encoding the Scores and writing the ``.npz`` files, in CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.midi.files import read_midi  # noqa: E402
from core.preprocess.dataset import find_midi_files, load_manifest, preprocess_folder  # noqa: E402
from core.preprocess.encode import encode_score  # noqa: E402


def end_to_end(folder: Path, jobs: int | None, runs: int) -> None:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            summary = preprocess_folder(folder, out, jobs=jobs, redo=True)
            times.append(time.perf_counter() - began)
            totals = load_manifest(out)["totals"]
    best, median = min(times), statistics.median(times)
    print(f"files {summary.files} ({summary.encoded} encoded, {summary.skipped} skipped), "
          f"notes {totals['notes_in']}, bars {summary.bars}, events {summary.events}")  # fmt: skip
    print(f"end to end, {jobs or os.cpu_count()} worker(s), {runs} run(s): best {best:.2f} s, median {median:.2f} s")
    for label, seconds in (("best", best), ("median", median)):
        print(
            f"  {label}: {summary.files / seconds:,.0f} files/s, {totals['notes_in'] / seconds:,.0f} notes/s, "
            f"{summary.bars / seconds:,.0f} bars/s"
        )


def breakdown(folder: Path) -> None:
    files = find_midi_files(folder)
    clock = time.process_time
    began = clock()
    scores = [read_midi(path) for path in files]
    read = clock() - began
    began = clock()
    results = [encode_score(score) for score in scores]
    encode = clock() - began
    with tempfile.TemporaryDirectory() as out:
        began = clock()
        for index, result in enumerate(results):
            if result.piece is not None:
                result.piece.save(Path(out) / f"{index}.npz")
        save = clock() - began
    notes = sum(s.notes_count for s in scores)
    print(f"one process, CPU seconds: read_midi {read:.2f}, encode {encode:.2f} ({notes / encode:,.0f} notes/s), "
          f"write npz {save:.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of MIDI files (e.g. the corpus)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="also time reading, encoding and writing")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} before the runs")
    end_to_end(args.folder, args.jobs, args.runs)
    if args.breakdown:
        breakdown(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
