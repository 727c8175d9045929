"""Time and peak memory of encoding a file of notes that are never released (issue #15).

    .venv/bin/python benchmarks/held_notes.py [--notes N] [--bars B]

Builds the Score the reader makes of such a file (N notes started a few ticks apart on 15 channels,
each held to the end of the track B bars of 4/4 later: 560 and 20,000 by default, a 3 KB file) and
encodes it with ``encode_score``, printing the estimated rows, the encoded bars and events, the wall
time and the peak of Python allocations (tracemalloc). Before notes were cut after 64 quarters the
default asked for about 11 million rows and 23 GiB.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.preprocess.encode import encode_score, estimated_rows  # noqa: E402
from core.music.score import Note, Score, TempoChange, Track  # noqa: E402

TPB = 480


def held_score(notes: int, bars: int) -> Score:
    end = bars * 4 * TPB
    tracks = []
    channels = [c for c in range(16) if c != 9]
    for index, channel in enumerate(channels):
        own = [Note(4 * i, end - 4 * i, 24 + i % 96, 80) for i in range(notes) if i % len(channels) == index]
        tracks.append(Track(f"channel {channel}", 0, channel, tuple(own)))
    return Score(TPB, tuple(tracks), (TempoChange(0, 500_000),), ())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=560)
    parser.add_argument("--bars", type=int, default=20_000)
    args = parser.parse_args()
    score = held_score(args.notes, args.bars)
    print(f"{score.notes_count} notes held over {args.bars:,} bars; estimated rows {estimated_rows(score):,}")
    tracemalloc.start()
    began = time.perf_counter()
    report = encode_score(score, source="held.mid").report
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    print(f"{report.status}: {report.bars} bars, {report.events} events, {report.notes_kept} notes kept"
          f"{' (' + report.reason + ')' if report.reason else ''}")  # fmt: skip
    print(f"encode_score: {seconds:.2f} s, peak allocations {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
