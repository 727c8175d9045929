"""Edits of a whole piece in the main window: select every note (Ctrl+A), then move, transpose,
change velocity, quantize, delete, undo and redo it, each timed with the repaints it causes.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/whole_piece_edits.py [FILE] [--runs 3]

Without FILE: the orchestral test piece of ``benchmarks/open_midi.py`` cut to 1,000 notes a track
(16,000 notes, the size of a long quartet movement). These run on the GUI thread, so each figure
is a freeze of the window; ``benchmarks/piano_roll.py`` times edits of a two-bar selection.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import AppSettings
    from benchmarks.open_midi import large_score
    from core.midi.files import write_midi

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = Path(folder) / "piece.mid"
            write_midi(large_score(notes_per_track=1000), path)
        window = MainWindow(AppSettings(Path(folder) / "settings.ini"), background=False, model_folders=[])
        window.resize(1600, 900)
        window.show()
        window.open_file(path, ask_to_save=False)
        app.processEvents()
        editor, undo = window.roll.editor, window.document.undo_stack
        steps = [
            ("select all", editor.select_all),
            ("move one grid step (arrow key)", lambda: editor.move_by(1, 0)),
            ("transpose a semitone", lambda: editor.move_by(0, 1)),
            ("undo", undo.undo),
            ("redo", undo.redo),
            ("velocity +5", lambda: editor.change_velocity(5)),
            ("quantize", editor.quantize),
            ("delete", editor.delete),
            ("undo the delete", undo.undo),
        ]
        cpu: dict[str, list[float]] = {name: [] for name, _ in steps}
        for _ in range(args.runs):
            for name, step in steps:
                began = time.process_time()
                step()
                app.processEvents()
                cpu[name].append(1000 * (time.process_time() - began))
        print(f"{path.name}: {window.document.score.notes_count} notes, {editor.selection and len(editor.selection)} selected; "
              f"CPU ms per edit with its repaints, median of {args.runs}:")
        for name, values in cpu.items():
            print(f"  {name:32s} {statistics.median(values):7.0f} ms   (worst {max(values):.0f})")
        undo.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
