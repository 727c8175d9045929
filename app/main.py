"""Start MahlerNet Studio: ``python main.py [FILE]``.

``--screenshot OUT.png`` opens the window (with FILE, or the demo piece), waits until it is drawn
and the model search is done, saves a picture of it and exits: for documentation and visual checks.
Without a display it renders offscreen. ``--select 9-10:8`` selects bars once the file is open, and
with ``--screenshot``, ``--run continue`` or ``--run interpolate`` runs a generation before the
picture (see :mod:`app.screenshot`).
``--models DIR`` looks for models in DIR instead of ``models/`` and the user's data folder.

Start-up is kept short: nothing here imports torch; the window shows first, the file opens right
after, and the models are looked for in the background.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo.mid"
SCREENSHOT_SIZE = (1440, 860)
LAUNCH_ENV = "MAHLERNET_LAUNCHED_AT"  # set by benchmarks/startup.py: time.time() at launch


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="MahlerNet Studio: continue and morph your music with a MahlerNet model.",
        epilog="The command line tools (inspect, train, generate, render) are `mahlernet --help`.",
    )
    parser.add_argument("file", nargs="?", help="a MIDI file to open (default: the demo piece)")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the window and exit")
    size = f"{SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]}"
    parser.add_argument("--size", default=size, help="window size for --screenshot (WxH)")
    parser.add_argument(
        "--no-models", action="store_true", help="neither look for models nor open audio (faster screenshots)"
    )
    parser.add_argument(
        "--models", metavar="DIR", action="append", type=Path,
        help="look for models in DIR instead of models/ and your data folder (may be given more than once)",
    )  # fmt: skip
    parser.add_argument(
        "--select", metavar="BARS", help="bars to select at start: seed bars, then :context bars (e.g. 9-10:8)"
    )
    parser.add_argument(
        "--run", choices=("continue", "interpolate", "edit"),
        help="for --screenshot: generate before the picture, or show the editing tools at work (edit)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.screenshot import Shot, ShotPlan, parse_selection
    from app.settings import APPLICATION, ORGANIZATION, AppSettings
    from app.theme import apply_theme
    from core import blas

    blas.one_thread_from_now()  # the chord lane's recognition and the like: a second thread only spins

    try:
        selection = parse_selection(args.select) if args.select else None
    except ValueError as error:
        print(f"main.py: {error}", file=sys.stderr)
        return 2

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    apply_theme(app)

    scratch = tempfile.TemporaryDirectory(prefix="mahlernet-shot-") if args.screenshot else None
    # A screenshot shows the default layout, whatever the user arranged, and changes no settings.
    settings = AppSettings(Path(scratch.name) / "settings.ini") if scratch else AppSettings()
    window = MainWindow(settings, background=not args.no_models, model_folders=args.models)
    if args.screenshot:
        width, height = (int(v) for v in args.size.lower().split("x"))
        window.resize(width, height)
    window.show()

    file = Path(args.file) if args.file else (DEMO if DEMO.is_file() else None)

    def open_first() -> None:
        if file is not None:
            window.open_file(file, ask_to_save=False)
        if selection is not None and window.document.score is not None:
            window.roll.set_selection(selection)
        if os.environ.get(LAUNCH_ENV):
            window.repaint()  # the first frame with the piece, painted now, counts as "ready"
            report_ready()

    QTimer.singleShot(0, open_first)

    if args.screenshot:
        plan = ShotPlan(Path(args.screenshot), not args.no_models, args.run)
        shot = Shot(app, window, plan)  # held here: the timers it starts do not keep it alive
        shot.start()
        code = app.exec()
        del shot
        finish_background_work()
        window.document.close()
        if scratch is not None:
            scratch.cleanup()
        return code
    return app.exec()


def finish_background_work(wait_s: float = 60.0) -> None:
    """Before the interpreter goes: ask running tasks to stop and let the pool's threads end (a
    model still loading when a screenshot is taken would otherwise run into torch being torn down)."""
    from PySide6.QtCore import QThreadPool

    from app.workers import Task

    Task.cancel_all(wait_s)
    QThreadPool.globalInstance().waitForDone(int(wait_s * 1000))


def report_ready() -> None:
    """For the start-up benchmark: print how long after launch the window was ready to use."""
    launched = os.environ.get(LAUNCH_ENV)
    if launched:
        print(f"ready {time.time() - float(launched):.3f} s after launch", file=sys.stderr, flush=True)
