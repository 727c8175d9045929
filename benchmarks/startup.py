"""Start-up time of the app: from launching ``python main.py`` to a window that is up with the demo
piece open and drawn, ready for input (goal: <= 2 s).

    .venv/bin/python benchmarks/startup.py [--runs 5] [--models DIR] [--stalls-only]

Each run launches ``main.py --screenshot`` in a fresh interpreter (offscreen Qt) with the launch
time in an environment variable; the app prints how long after launch its window was ready (shown,
the file opened and the first frame painted). The model search and the audio outputs start only
after that, in the background; a second series measures with them on.

Then, in fresh interpreters, the longest stall of the window's event loop (a 10 ms timer in the GUI
thread) while torch, the model search, the picked model and the audio outputs load in the background,
with torch's native libraries preloaded without the interpreter lock and the collector paused and
then frozen around the import (:mod:`app.torch_preload`), with the libraries preloaded but the
collector left alone, and with neither (the three take turns); beside each stall, the CPU time of
the longest garbage collection and of all of them, which other jobs on the machine do not inflate.
``--models DIR`` searches DIR for models (say, where the bundled ones are being trained), so that a
model is also loaded, and then times the longest stall during a continuation in the window.
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


def stall_child(seconds: float, models: Path | None, collector_untouched: bool = False) -> None:
    """In this process: open the window with its background work on (model search, the picked
    model's load, audio), tick a 10 ms timer for ``seconds`` and print the longest gap between ticks.
    With ``models``: then continue 8 bars in 4 variations from bar 4 of the demo and print the longest
    gap during that generation too. ``collector_untouched``: torch's libraries are preloaded but the
    garbage collector is neither paused nor frozen around the import."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    if collector_untouched:
        import contextlib

        import app.torch_preload

        app.torch_preload.quiet_imports = contextlib.nullcontext
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import AppSettings
    from benchmarks.stalls import StallMeter
    from core.music.selection import BarSelection

    app = QApplication.instance() or QApplication([])
    collections = _CollectionTimes()
    with tempfile.TemporaryDirectory() as folder:
        folders = [models] if models is not None else None
        window = MainWindow(AppSettings(Path(folder) / "settings.ini"), background=True, model_folders=folders)
        window.show()
        window.open_file(ROOT / "resources" / "demo.mid", ask_to_save=False)
        stalls = StallMeter()
        QTimer.singleShot(int(seconds * 1000), app.quit)
        app.exec()
        print(f"startup-stall {stalls.longest_ms():.0f} scanned {int(window.models.scan is not None)} "
              f"gc-longest {max(collections.cpu_ms, default=0):.1f} gc-total {sum(collections.cpu_ms):.1f}", flush=True)
        collections.stop()
        if models is not None and window.models.scan is not None and window.models.scan.models:
            panel = window.continue_panel
            window.roll.set_selection(BarSelection().with_seed(3, 4))
            panel.bars.setValue(8)
            panel.variations.setValue(4)
            stalls.restart()
            report: list[object] = []
            window.generation.generated.connect(report.append)
            window.generation.generated.connect(lambda _r: QTimer.singleShot(50, app.quit))
            panel.request_continue()
            app.exec()
            if report:
                print(f"generation-stall {stalls.longest_ms():.0f} seconds {report[0].seconds:.3f}", flush=True)
        window.document.undo_stack.setClean()
        window.close()


class _CollectionTimes:
    """The CPU time of each garbage collection in this process (``gc.callbacks``), in ms: a figure
    the machine's load does not inflate, unlike the stalls, since a collection holds the interpreter
    lock from start to end in the thread that set it off."""

    def __init__(self) -> None:
        import gc

        self.cpu_ms: list[float] = []
        self._began: dict[int, float] = {}
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        import threading

        key = threading.get_ident()
        if phase == "start":
            self._began[key] = time.thread_time()
        elif key in self._began:
            self.cpu_ms.append((time.thread_time() - self._began.pop(key)) * 1000)

    def stop(self) -> None:
        import gc

        gc.callbacks.remove(self._callback)


def stalls(runs: int, preload: bool, models: Path | None, collector_untouched: bool = False) -> dict[str, list[float]]:
    """Run :func:`stall_child` ``runs`` times in fresh interpreters; the figures it printed, by name."""
    found: dict[str, list[float]] = {}
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MAHLERNET_TORCH_PRELOAD="1" if preload else "0")
    command = [sys.executable, __file__, "--stall-child"] + (["--models", str(models)] if models else [])
    command += ["--collector-untouched"] if collector_untouched else []
    for _ in range(runs):
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise SystemExit(f"stall measurement failed: {result.stderr.strip()[-500:]}")
        for name, value in re.findall(r"([a-z-]+) ([0-9.]+)", result.stdout):
            found.setdefault(name, []).append(float(value))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--models", type=Path, help="look for models here (the stall runs then also load one and generate)"
    )
    parser.add_argument("--stalls-only", action="store_true", help="skip the start-up times")
    parser.add_argument("--stall-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--collector-untouched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stall_child:
        stall_child(8.0, args.models, args.collector_untouched)
        return 0
    for background, label in ((False, "window only"), (True, "with model search + audio in the background")):
        if args.stalls_only:
            break
        runs = [run_once(background) for _ in range(args.runs)]
        ready = [r for r, _ in runs]
        total = [t for _, t in runs]
        print(
            f"{label:<46} ready: median {statistics.median(ready):.2f} s, worst {max(ready):.2f} s"
            f"   (whole screenshot run: median {statistics.median(total):.2f} s)"
        )
    ways = (
        (True, False, "preload + collector paused, then frozen"),
        (True, True, "preload, collector untouched"),
        (False, False, "plain import torch (MAHLERNET_TORCH_PRELOAD=0)"),
    )
    results: dict[str, dict[str, list[float]]] = {how: {} for _, _, how in ways}
    for _ in range(args.runs):  # the ways take turns, so that a change in the machine's load hits all
        for preload, untouched, how in ways:
            for name, values in stalls(1, preload, args.models, untouched).items():
                results[how].setdefault(name, []).extend(values)
    for how, found in results.items():
        start = found.get("startup-stall", [])
        print(
            f"longest event-loop stall in the first 8 s (torch, model search, model load, audio), {how}: "
            f"median {statistics.median(start):.0f} ms, worst {max(start):.0f} ms over {len(start)} runs"
            f" (search finished in {int(sum(found.get('scanned', [])))}); garbage collections, CPU: longest "
            f"median {statistics.median(found['gc-longest']):.0f} ms (worst {max(found['gc-longest']):.0f}), "
            f"all together median {statistics.median(found['gc-total']):.0f} ms"
        )
        if found.get("generation-stall"):
            during = found["generation-stall"]
            print(
                f"  then continuing 8 bars x 4 variations in the window: longest stall median "
                f"{statistics.median(during):.0f} ms, worst {max(during):.0f} ms; "
                f"generation {statistics.median(found['seconds']):.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
