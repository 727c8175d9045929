"""Frame times of the piano roll over a 50,000-note piece: scrolling and zooming.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/piano_roll.py [--notes 50000] [--frames 60]

Builds a synthetic orchestral piece (16 tracks, chords and runs, varied velocities), shows it in a
1600x900 piano roll and times complete repaints of the note area (``canvas.repaint()``, which paints
synchronously) while scrolling through the piece and while zooming from one bar out to the whole
piece. Prints median, 95th percentile and worst frame per scenario; the goal is <= 16 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.piano_roll import PianoRoll  # noqa: E402
from core.score import Note, Score, TempoChange, TimeSignature, Track  # noqa: E402

TPQ = 480


def dense_piece(total_notes: int, tracks: int = 16, seed: int = 0) -> Score:
    """A long piece of about ``total_notes`` notes: each track plays eighths and quarters around its
    own register, with meter changes every 32 bars so the grid has work to do."""
    rng = np.random.default_rng(seed)
    per_track = total_notes // tracks
    result = []
    for index in range(tracks):
        durations = rng.choice([TPQ // 2, TPQ, TPQ * 2], size=per_track, p=[0.5, 0.4, 0.1])
        gaps = np.where(rng.random(per_track) < 0.3, 0, durations)  # some chords
        starts = np.concatenate([[0], np.cumsum(gaps)[:-1]])
        centre = 36 + index * 3
        pitches = np.clip(centre + rng.integers(-7, 8, size=per_track), 0, 127)
        velocities = rng.integers(30, 128, size=per_track)
        notes = [Note(int(s), int(d), int(p), int(v)) for s, d, p, v in zip(starts, durations, pitches, velocities)]
        result.append(Track(f"Track {index + 1}", program=index * 8 % 128, channel=index % 16 if index % 16 != 9 else 15, notes=notes))
    end = max(t.end_tick for t in result)
    meters = [TimeSignature(tick, *(4, 4) if i % 2 == 0 else (3, 4)) for i, tick in enumerate(range(0, end, 32 * 4 * TPQ))]
    return Score(TPQ, tuple(result), (TempoChange(0, 500_000),), tuple(meters))


def time_frames(roll: PianoRoll, steps, frames: int) -> list[float]:
    """Apply each step (a function of the frame number) and time one synchronous repaint."""
    times = []
    for frame in range(frames):
        steps(frame)
        started = time.perf_counter()
        roll.canvas.repaint()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float], roll: PianoRoll) -> None:
    times_sorted = sorted(times)
    p95 = times_sorted[int(0.95 * (len(times_sorted) - 1))]
    print(
        f"{name:<34} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   worst {max(times):6.2f} ms"
        f"   (last frame: {roll.canvas.last_frame.mode}, {roll.canvas.last_frame.notes} notes)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    started = time.perf_counter()
    score = dense_piece(args.notes)
    built = time.perf_counter()
    roll = PianoRoll()
    roll.resize(1600, 900)
    roll.show()
    app.processEvents()
    roll.set_score(score, keep_view=False)
    shown = time.perf_counter()
    print(f"piece: {score.notes_count} notes, {len(score.tracks)} tracks, {score.bar_count} bars")
    print(f"building the piece {1000 * (built - started):.0f} ms; indexing it for the roll {1000 * (shown - built):.0f} ms")

    bar = 4 * TPQ
    view = roll.view

    def at_zoom(bars_visible: float):
        roll.fit()
        view.px_per_tick = view.width / (bars_visible * bar)
        view.row_height = 10.0
        view.scroll_to_pitch(90)

    for label, bars_visible in (("scroll, 8 bars visible", 8), ("scroll, 64 bars visible", 64)):
        at_zoom(bars_visible)
        step = bars_visible * bar / 30
        report(label, time_frames(roll, lambda f: roll.scroll_to_tick(f * step), args.frames), roll)

    roll.fit()
    report("scroll, whole piece (fit)", time_frames(roll, lambda f: roll.scroll_by(0, (-1) ** f * 20), args.frames), roll)

    at_zoom(1)
    report("zoom out, 1 bar -> whole piece", time_frames(roll, lambda f: roll.zoom_time(0.8), args.frames), roll)
    roll.fit()
    report("zoom in, whole piece -> bars", time_frames(roll, lambda f: roll.zoom_time(1.25), args.frames), roll)
    at_zoom(16)
    report("pitch zoom (Shift+wheel)", time_frames(roll, lambda f: roll.zoom_pitch(1.1 if f % 20 < 10 else 1 / 1.1), args.frames), roll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
