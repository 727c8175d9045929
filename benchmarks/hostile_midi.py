"""How long hostile and damaged MIDI files take to be refused or repaired.

    .venv/bin/python benchmarks/hostile_midi.py [--runs N]

1. Each hand-made hostile file of tests/core/midi/test_midi_malformed.py (``CASES``: 65535 claimed
   tracks, a tempo of 0, events beyond tick 2**32, 100,000 notes in one bar...) through
   ``read_midi_bytes``: the median of N runs per file; the slowest files and the sum are printed.
2. The 300 randomly damaged copies of a small valid file that the tests read (bytes flipped,
   dropped, inserted, cut short): the whole set, median of N runs.

The tests check that every such file ends in a clean error or a repaired Score without allocating far
more than it holds; these figures say how long that takes on this machine (no file should take more
than a second, nor the damaged set ten).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.errors import MidiFileError  # noqa: E402
from core.midi.files import read_midi_bytes  # noqa: E402
from tests.core.midi.test_midi_malformed import CASES, damage_source, damaged_copies  # noqa: E402


def read_seconds(data: bytes) -> float:
    began = time.perf_counter()
    try:
        read_midi_bytes(data)
    except MidiFileError:
        pass
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    per_case = []
    for case_name, data, _outcome, _pattern in CASES:
        per_case.append((statistics.median(read_seconds(data) for _ in range(args.runs)), case_name, len(data)))
    per_case.sort(reverse=True)
    print(f"{len(CASES)} hostile files, median of {args.runs} runs each: "
          f"{sum(s for s, _n, _l in per_case) * 1000:.0f} ms in all; the slowest:")
    for seconds, case_name, size in per_case[:5]:
        print(f"  {seconds * 1000:8.1f} ms  {case_name} ({size:,} bytes)")

    copies = list(damaged_copies(damage_source()))
    sets = [sum(read_seconds(data) for data in copies) for _ in range(args.runs)]
    print(f"{len(copies)} damaged copies of a {len(damage_source()):,}-byte file: "
          f"median {statistics.median(sets) * 1000:.0f} ms for the set, best {min(sets) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
