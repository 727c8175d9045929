"""Start-up time of the app: from launching ``python main.py`` to a window that is up with the demo
piece open and drawn, ready for input (goal: <= 2 s).

    .venv/bin/python benchmarks/startup.py [--runs 5]

Each run launches ``main.py --screenshot`` in a fresh interpreter (offscreen Qt) with the launch
time in an environment variable; the app prints how long after launch its window was ready (shown,
the file opened and the first frame painted). The model search and the audio outputs start only
after that, in the background; a second series measures with them on.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(background: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MAHLERNET_LAUNCHED_AT=repr(time.time()))
        command = [sys.executable, "main.py", "--screenshot", str(Path(folder) / "shot.png"), "resources/demo.mid"]
        if not background:
            command.append("--no-models")
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        total = time.perf_counter() - started
    match = re.search(r"ready ([0-9.]+) s after launch", result.stderr)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"main.py failed: {result.stderr.strip()[-500:]}")
    return float(match.group(1)), total


def longest_stall(seconds: float = 8.0) -> tuple[float, bool]:
    """In this process: open the window with its background work on, tick a 10 ms timer for
    ``seconds`` and return the longest gap between ticks (ms) and whether the model search ended."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(AppSettings(Path(folder) / "settings.ini"), background=True)
        window.show()
        window.open_file(ROOT / "resources" / "demo.mid", ask_to_save=False)
        clock = QElapsedTimer()
        clock.start()
        ticks: list[int] = []
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
        timer.start()
        QTimer.singleShot(int(seconds * 1000), app.quit)
        app.exec()
        scanned = window.models.scan is not None
        window.document.undo_stack.setClean()
        window.close()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return float(max(gaps)), scanned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for background, label in ((False, "window only"), (True, "with model search + audio in the background")):
        runs = [run_once(background) for _ in range(args.runs)]
        ready = [r for r, _ in runs]
        total = [t for _, t in runs]
        print(
            f"{label:<46} ready: median {statistics.median(ready):.2f} s, worst {max(ready):.2f} s"
            f"   (whole screenshot run: median {statistics.median(total):.2f} s)"
        )
    stall, scanned = longest_stall()
    print(f"longest event-loop stall while torch and the models load in the background: {stall:.0f} ms"
          f" (search {'finished' if scanned else 'NOT finished'} within 8 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
