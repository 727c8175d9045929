"""Sharded preprocessing at scale: files/s and peak memory for 1 and 2 workers on a synthetic corpus.

Usage: ``python benchmarks/preprocess_scale.py [--files 20000] [--workers 1,2] [--shard-files 256]
[--keep DIR]``

Writes ``--files`` small type-1 MIDI files (2 tracks, 8 to 24 bars, 3/4 or 4/4, 1% exact copies) into
a temporary folder, then runs ``mahlernet preprocess IN OUT --sharded --jobs N`` as a child process
for each N of ``--workers`` into a fresh output folder, and prints the wall time, files/s, bars/s
and the peak memory of the whole process tree (the command and its workers), sampled every 50 ms
from ``/proc`` (Linux): the sum of the processes' proportional set sizes (PSS: pages shared by the
forked workers counted once), and the sum of their resident sets (RSS: shared pages counted in each).
It also prints the CPU seconds of the tree and the files/s they would give on as many idle cores
as workers (the figure to read on a machine shared with other jobs).
Goal (issue #19): >= 300 files/s on 2 cores with peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.midi.files import write_midi  # noqa: E402
from core.music.score import Note, Score, TempoChange, TimeSignature, Track  # noqa: E402

TPQ = 480


def synthetic_score(rng: np.random.Generator, number: int) -> Score:
    """A melody over a bass line, 8 to 24 bars, 3/4 or 4/4: a few hundred notes at most."""
    numerator = 3 if number % 4 == 1 else 4
    bars = int(rng.integers(8, 25))
    bar = numerator * TPQ
    melody, tick = [], 0
    while tick < bars * bar:
        length = min(int(rng.choice([TPQ // 2, TPQ, TPQ, 2 * TPQ])), bars * bar - tick)
        melody.append(Note(tick, length, int(60 + rng.integers(-9, 13)), int(rng.integers(50, 110))))
        tick += length
    bass = [Note(b * bar, bar, int(36 + rng.integers(0, 12)), 70) for b in range(bars)]
    return Score(
        TPQ,
        (Track("Melody", int(rng.integers(0, 80)), 0, tuple(melody)), Track("Bass", 32, 1, tuple(bass))),
        (TempoChange(0, int(rng.integers(400_000, 700_000))),),
        (TimeSignature(0, numerator, 4),),
        title=f"synthetic {number}",
    )


def write_corpus(folder: Path, files: int, seed: int = 0) -> None:
    """``files`` MIDI files in 100 subfolders; every 100th file copies the one before it."""
    rng = np.random.default_rng(seed)
    for number in range(files):
        path = folder / f"set{number % 100:02d}" / f"piece{number:06d}.mid"
        path.parent.mkdir(parents=True, exist_ok=True)
        if number % 100 == 99:
            path.write_bytes((folder / f"set{(number - 1) % 100:02d}" / f"piece{number - 1:06d}.mid").read_bytes())
        else:
            write_midi(synthetic_score(rng, number), path)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; (0, 0) when it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def run_measured(command: list[str]) -> tuple[float, float, int, int, str]:
    """Wall seconds, CPU seconds, peak tree PSS and RSS (kB) and the output of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks = [0, 0]

    def sample() -> None:
        while process.poll() is None:
            sizes = [_memory_kb(pid) for pid in _tree(process.pid)]
            peaks[0] = max(peaks[0], sum(s[0] for s in sizes))
            peaks[1] = max(peaks[1], sum(s[1] for s in sizes))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its (waited-for) workers
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, peaks[0], peaks[1], output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--shard-files", type=int, default=256)
    parser.add_argument("--keep", type=Path, help="write the corpus here (reused when it exists) instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="preprocess-scale-") as scratch:
        corpus = args.keep or Path(scratch) / "corpus"
        if not corpus.is_dir():
            began = time.perf_counter()
            write_corpus(corpus, args.files)
            print(f"wrote {args.files} MIDI files in {time.perf_counter() - began:.0f} s -> {corpus}")
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the runs")
        for workers in (int(w) for w in args.workers.split(",")):
            out = Path(scratch) / f"out-{workers}"
            command = [sys.executable, "-m", "core.cli.main", "preprocess", str(corpus), str(out), "--sharded",
                       "--jobs", str(workers), "--shard-files", str(args.shard_files)]  # fmt: skip
            seconds, cpu, pss, rss, output = run_measured(command)
            print(output.strip().splitlines()[-2 if "skipped files" in output else -1])
            print(f"{workers} worker(s): {seconds:.1f} s, {args.files / seconds:,.0f} files/s "
                  f"({cpu:.1f} CPU s: {args.files / cpu * workers:,.0f} files/s on {workers} idle core(s)); "
                  f"peak memory of the process tree: PSS {pss / 1024:,.0f} MB, RSS {rss / 1024:,.0f} MB "
                  f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
