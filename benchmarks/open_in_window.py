"""How long opening a piece holds the window: the ``open_file`` call on the GUI thread, then the
longest stall of the event loop while the window settles (the chord lane recognises the chords in a
worker, first repaints), in fresh processes, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/open_in_window.py [FILE] [--runs 3]

Without FILE it opens the large test piece of ``benchmarks/open_midi.py`` (16 tracks, 152,000 notes).
A stall is the longest gap between ticks of a 10 ms timer in the GUI thread over the 3 s after the
call returned: time the window could not repaint or answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTLE_S = 3.0


def child(path: Path) -> None:
    """In this process: open the window, then ``path``; print the call's time and the longest stall."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import AppSettings
    from benchmarks.stalls import StallMeter

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(AppSettings(Path(folder) / "settings.ini"), background=False, model_folders=[])
        window.resize(1600, 900)
        window.show()
        app.processEvents()
        began = time.perf_counter()
        window.open_file(path, ask_to_save=False)
        opened = time.perf_counter()
        stalls = StallMeter()
        QTimer.singleShot(int(SETTLE_S * 1000), app.quit)
        app.exec()
        print(f"open {1000 * (opened - began):.0f} stall {stalls.longest_ms():.0f}", flush=True)
        window.document.undo_stack.setClean()
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            sys.path.insert(0, str(ROOT))
            from benchmarks.open_midi import large_score
            from core.midi.files import write_midi

            path = Path(folder) / "large.mid"
            write_midi(large_score(), path)
        opens, stalls = [], []
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        for _ in range(args.runs):
            result = subprocess.run([sys.executable, __file__, "--child", str(path)], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=300)  # fmt: skip
            line = [l for l in result.stdout.splitlines() if l.startswith("open ")]
            if result.returncode != 0 or not line:
                raise SystemExit(f"the window failed: {result.stderr.strip()[-500:]}")
            _, opened, _, stall = line[0].split()
            opens.append(float(opened))
            stalls.append(float(stall))
    print(f"{path.name}: open_file on the GUI thread median {statistics.median(opens):.0f} ms (worst {max(opens):.0f}); "
          f"longest stall in the {SETTLE_S:.0f} s after, median {statistics.median(stalls):.0f} ms (worst {max(stalls):.0f}) "
          f"over {args.runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
