"""Frame times of the piano roll over a 50,000-note piece: scrolling, zooming and editing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/piano_roll.py [--notes 50000] [--frames 60]

Builds a synthetic orchestral piece (16 tracks, chords and runs, varied velocities), shows it in a
1600x900 piano roll and times complete repaints of the note area (``canvas.repaint()``, which paints
synchronously) while scrolling through the piece and while zooming from one bar out to the whole
piece. Editing frames time the whole way from the gesture to the picture: a mouse move of a drag
(the editor's preview) or an arrow key (a real edit: planned, applied to the document as an undo
step, shown by the roll) and the synchronous repaint of what it changed (notes, velocity lane). The
arrow-key scenario is also run on a piece of one 50,000-note track, where re-indexing the edited
track would show. The "window" scenario makes the same arrow-key edits in the whole main window
(the document, the roll, the track list, the panels, the undo actions all follow the piece): a frame
there is the edit and every event it leaves (layout, deferred repaints of the window) processed.
Prints median, 95th percentile and worst frame per scenario; the goal is <= 16 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.document import Document  # noqa: E402
from app.note_editing import NoteEditing  # noqa: E402
from app.piano_roll import PianoRoll  # noqa: E402
from core.music.grid import Grid  # noqa: E402
from core.music.score import Note, Score, TempoChange, TimeSignature, Track  # noqa: E402
from core.music.selection import BarSelection  # noqa: E402

TPQ = 480
CPU_TIMES: dict[str, list[float]] = {}  # scenario -> CPU ms per frame (this process only)


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


def time_frames(roll: PianoRoll, steps, frames: int, name: str = "") -> list[float]:
    """Apply each step (a function of the frame number) and time one synchronous repaint (its CPU
    time goes to CPU_TIMES[name])."""
    times, cpu = [], []
    for frame in range(frames):
        steps(frame)
        started, started_cpu = time.perf_counter(), time.process_time()
        roll.canvas.repaint()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU_TIMES[name] = cpu
    return times




def time_edit_frames(roll: PianoRoll, steps, frames: int, name: str) -> list[float]:
    """Time each step (a gesture) together with the synchronous repaint it causes (``repaint()`` of
    the note area paints every widget of the window the step left dirty: the velocity lane after an
    edit, not during a drag); the CPU time of each frame goes to CPU_TIMES (less disturbed than wall
    time by other jobs on the machine)."""
    times, cpu = [], []
    for frame in range(frames):
        started, started_cpu = time.perf_counter(), time.process_time()
        steps(frame)
        roll.canvas.repaint()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU_TIMES[name] = cpu
    return times


def mouse(kind: QMouseEvent.Type, x: float, y: float) -> QMouseEvent:
    point = QPointF(x, y)
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    return QMouseEvent(kind, point, point, button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def editing_roll(score: Score, app: QApplication) -> PianoRoll:
    """A roll wired to a document the way the window wires it, 16 bars in view."""
    document = Document()
    roll = PianoRoll()
    roll.resize(1600, 900)
    roll.show()
    app.processEvents()
    roll._editing = NoteEditing(document, roll)  # kept alive with the roll
    document.score_changed.connect(lambda s: roll.set_score(s))
    document.set_score(score)
    roll.fit()
    roll.view.px_per_tick = roll.view.width / (16 * 4 * TPQ)
    roll.view.row_height = 10.0
    roll.view.scroll_to_pitch(90)
    roll.scroll_to_tick(100 * 4 * TPQ)
    return roll


def editing_scenarios(score: Score, frames: int, app: QApplication, label: str) -> None:
    roll = editing_roll(score, app)
    editor = roll.editor
    first_bar = roll.grid.bar_at(roll.view.left_tick + 1) + 4 if roll.grid else 1
    roll.set_selection(BarSelection().with_seed(first_bar, first_bar + 1))
    editor.select_all()
    selected = len(editor.selection)
    editor.set_grid(Grid(16))

    track, note = min(editor.selection, key=lambda pair: pair[1].start)
    view = roll.view
    x, y = view.x_of(note.start + note.duration * 0.3), view.y_of(note.pitch) + view.row_height / 2
    editor.press(mouse(QMouseEvent.Type.MouseButtonPress, x, y))
    drag = lambda f: roll.canvas.mouseMoveEvent(mouse(QMouseEvent.Type.MouseMove, x + 7 * (f % 30), y - 3 * (f % 11)))  # noqa: E731
    name = f"{label}: drag {selected} notes"
    report(name, time_edit_frames(roll, drag, frames, name), roll)
    editor.cancel_drag()

    moves = lambda f: editor.move_by(1 if f % 2 == 0 else -1, 0)  # noqa: E731
    name = f"{label}: arrow-key move of {selected}"
    report(name, time_edit_frames(roll, moves, frames, name), roll)
    print(f"{'':<4}(undo steps made: {roll._editing.document.undo_stack.count()})")


def time_window_frames(app: QApplication, steps, frames: int, name: str) -> list[float]:
    """Time each step together with every event it leaves queued (layout requests and the window's
    deferred repaints, as the event loop would run them before the next input)."""
    app.processEvents()
    times, cpu = [], []
    for frame in range(frames):
        started, started_cpu = time.perf_counter(), time.process_time()
        steps(frame)
        app.processEvents()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU_TIMES[name] = cpu
    return times


def window_scenario(score: Score, frames: int, app: QApplication) -> None:
    """Arrow-key moves of two bars of every track in the whole main window (1600x900, 16 bars in
    view), each one undo step."""
    from app.main_window import MainWindow
    from app.settings import AppSettings

    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(AppSettings(Path(folder) / "settings.ini"), background=False, model_folders=[])
        window.resize(1600, 900)
        window.show()
        window.document.set_score(score)
        app.processEvents()
        roll = window.roll
        roll.view.px_per_tick = roll.view.width / (16 * 4 * TPQ)
        roll.view.row_height = 10.0
        roll.view.scroll_to_pitch(90)
        roll.scroll_to_tick(100 * 4 * TPQ)
        first_bar = roll.grid.bar_at(roll.view.left_tick + 1) + 4 if roll.grid else 1
        roll.set_selection(BarSelection().with_seed(first_bar, first_bar + 1))
        roll.editor.select_all()
        roll.editor.set_grid(Grid(16))
        selected = len(roll.editor.selection)
        moves = lambda f: roll.editor.move_by(1 if f % 2 == 0 else -1, 0)  # noqa: E731
        name = f"window: arrow-key move of {selected}"
        report(name, time_window_frames(app, moves, frames, name), roll)
        print(f"{'':<4}(undo steps made: {window.document.undo_stack.count()})")
        window.document.undo_stack.setClean()  # closes without asking to save
        window.close()


def one_track_piece(total_notes: int) -> Score:
    """The same music folded into one track (one layer of 50,000 notes)."""
    piece = dense_piece(total_notes)
    notes = [n for t in piece.tracks for n in t.notes]
    return piece.replace(tracks=(Track("All", 0, 0, notes),))


def report(name: str, times: list[float], roll: PianoRoll) -> None:
    times_sorted = sorted(times)
    p95 = times_sorted[int(0.95 * (len(times_sorted) - 1))]
    print(
        f"{name:<34} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   worst {max(times):6.2f} ms"
        f"   (last frame: {roll.canvas.last_frame.mode}, {roll.canvas.last_frame.notes} notes)"
    )
    if name in CPU_TIMES:
        cpu = sorted(CPU_TIMES[name])
        print(f"{'':<4}CPU time per frame: median {statistics.median(cpu):6.2f} ms   p95 {cpu[int(0.95 * (len(cpu) - 1))]:6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50_000)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--editing-only", action="store_true", help="run only the editing scenarios")
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

    if args.editing_only:
        run_editing(score, args, app)
        return 0
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
        report(label, time_frames(roll, lambda f: roll.scroll_to_tick(f * step), args.frames, label), roll)

    roll.fit()
    name = "scroll, whole piece (fit)"
    report(name, time_frames(roll, lambda f: roll.scroll_by(0, (-1) ** f * 20), args.frames, name), roll)

    at_zoom(1)
    name = "zoom out, 1 bar -> whole piece"
    report(name, time_frames(roll, lambda f: roll.zoom_time(0.8), args.frames, name), roll)
    roll.fit()
    name = "zoom in, whole piece -> bars"
    report(name, time_frames(roll, lambda f: roll.zoom_time(1.25), args.frames, name), roll)
    at_zoom(16)
    name = "pitch zoom (Shift+wheel)"
    pitch_zoom = lambda f: roll.zoom_pitch(1.1 if f % 20 < 10 else 1 / 1.1)  # noqa: E731
    report(name, time_frames(roll, pitch_zoom, args.frames, name), roll)

    run_editing(score, args, app)
    return 0


def run_editing(score: Score, args, app: QApplication) -> None:
    print("editing, 16 bars visible (frames include the gesture and every repaint it causes):")
    editing_scenarios(score, args.frames, app, "16 tracks")
    editing_scenarios(one_track_piece(args.notes), args.frames, app, "1 track")
    window_scenario(score, args.frames, app)


if __name__ == "__main__":
    sys.exit(main())
