"""How long opening a MIDI file takes: ``read_midi`` on FILE, median of several runs.

    python benchmarks/open_midi.py FILE [--runs N] [--compare]
    python benchmarks/open_midi.py --make-large OUT.mid     # write the large test file, then time it
    python benchmarks/open_midi.py                          # same, in a temporary folder

The large test file is an orchestral-sized piece made by the project itself: 16 instruments
(winds, brass, timpani, strings, harp, drums), ~150,000 notes, tempo and meter changes, sustain
pedal, ~1 MB. ``--compare`` also times mido and symusic on the same file, for the record; symusic is
no dependency of the project, only of this comparison: ``pip install -e ".[benchmark]"``.

Besides ``read_midi`` alone, it times ``read_midi`` followed by making every track's notes, which
the reader leaves as columns until something asks for them. Each run's wall time and the process's
CPU time are printed: on a machine shared with other jobs the
CPU time is the figure to compare.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.midi.files import read_midi, write_midi  # noqa: E402
from core.music.score import ControlChange, Note, Score, TempoChange, TimeSignature, Track  # noqa: E402

# (name, program, channel, lowest pitch, highest pitch, notes per chord)
ORCHESTRA = [
    ("Flute", 73, 0, 60, 96, 1),
    ("Oboe", 68, 1, 58, 91, 1),
    ("Clarinet", 71, 2, 50, 91, 1),
    ("Bassoon", 70, 3, 34, 72, 1),
    ("Horn", 60, 4, 41, 77, 2),
    ("Trumpet", 56, 5, 54, 82, 1),
    ("Trombone", 57, 6, 40, 72, 2),
    ("Tuba", 58, 7, 28, 58, 1),
    ("Timpani", 47, 8, 40, 55, 1),
    ("Percussion", 0, 9, 35, 81, 2),
    ("Harp", 46, 10, 24, 103, 3),
    ("Violin I", 40, 11, 55, 100, 2),
    ("Violin II", 40, 12, 55, 93, 2),
    ("Viola", 41, 13, 48, 84, 2),
    ("Cello", 42, 14, 36, 76, 2),
    ("Contrabass", 43, 15, 28, 60, 1),
]


def large_score(notes_per_track: int = 9500, seed: int = 7) -> Score:
    """A busy orchestral piece on a 16th-note grid (deterministic for a given seed)."""
    rng = random.Random(seed)
    tpq = 480
    sixteenth = tpq // 4
    tracks = []
    for name, program, channel, low, high, chord in ORCHESTRA:
        notes = []
        tick = 0
        pitch = (low + high) // 2
        while len(notes) < notes_per_track:
            length = sixteenth * rng.choice((1, 1, 2, 2, 3, 4, 6, 8))
            pitch = min(high, max(low, pitch + rng.randint(-4, 4)))
            velocity = rng.randint(40, 110)
            for voice in range(chord):
                notes.append(Note(tick, length, min(high, pitch + 4 * voice), velocity))
            tick += length if rng.random() > 0.1 else length + sixteenth  # a few rests
        controls = []
        if name == "Harp":
            controls = [ControlChange(t, 64, 127 if (t // (4 * tpq)) % 2 == 0 else 0) for t in range(0, tick, 4 * tpq)]
        tracks.append(Track(name, program, channel, notes[:notes_per_track], controls))
    end = max(t.end_tick for t in tracks)
    bar = 4 * tpq
    tempos = [TempoChange(t, rng.randint(400_000, 800_000)) for t in range(0, end, 32 * bar)]
    meters = [TimeSignature(0, 4, 4), TimeSignature(64 * bar, 3, 4), TimeSignature(64 * bar + 48 * 3 * tpq, 4, 4)]
    return Score(tpq, tuple(tracks), tuple(tempos), tuple(meters), title="Large orchestral test piece")


def time_it(function, path: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls of ``function(path)``."""
    wall, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        function(path)
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    return wall, cpu


def read_with_notes(path: Path) -> Score:
    """``read_midi`` and then each track's ``notes``: what a caller that needs Note objects pays (the
    reader keeps notes as columns until then; see core.music.score.NoteColumns)."""
    score = read_midi(path)
    for track in score.tracks:
        track.notes
    return score


def print_times(label: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    print(f"{label}: median {statistics.median(wall) * 1000:.0f} ms, best {min(wall) * 1000:.0f} ms wall; "
          f"CPU median {statistics.median(cpu) * 1000:.0f} ms, best {min(cpu) * 1000:.0f} ms over {len(wall)} runs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, help="MIDI file to open (default: the large test file)")
    parser.add_argument("--make-large", type=Path, metavar="OUT", help="write the large test file to OUT first")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--compare", action="store_true", help="also time mido and symusic")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = args.make_large or Path(folder) / "large.mid"
            began = time.perf_counter()
            score = large_score()
            write_midi(score, path)
            print(f"wrote {path}: {score.notes_count} notes, {len(score.tracks)} tracks, "
                  f"{path.stat().st_size / 1e6:.2f} MB in {time.perf_counter() - began:.2f} s")
        score = read_midi(path)
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, {len(score.tracks)} tracks, "
              f"{score.notes_count} notes, {score.bar_count} bars")
        print_times("read_midi", time_it(read_midi, path, args.runs))
        print_times("read_midi, then every note made (Track.notes)", time_it(read_with_notes, path, args.runs))
        if args.compare:
            import mido

            try:
                import symusic
            except ImportError:
                raise SystemExit('--compare needs symusic: pip install -e ".[benchmark]"') from None
            print_times("mido.MidiFile", time_it(mido.MidiFile, path, 3))
            print_times("symusic.Score", time_it(symusic.Score, path, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
