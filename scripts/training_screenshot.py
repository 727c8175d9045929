"""Picture of the Training window in the middle of a run, for documentation and visual checks.

    python scripts/training_screenshot.py FOLDER OUT.png [--preset P] [--epochs N] [--after-epochs K]

Prepares the MIDI files of FOLDER in a temporary data folder, starts a run with preset P (a name or a
.toml file), waits until K epochs are done and saves a picture of the window while it goes on. Run
it under ``xvfb-run -a`` to see the real platform's rendering; without a display it renders offscreen.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of MIDI files")
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--preset", default="continuation", help="preset name or .toml file (default continuation)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the run (default 8)")
    parser.add_argument("--after-epochs", type=int, default=3, help="take the picture after this many epochs")
    parser.add_argument("--size", default="1280x800", help="window size (WxH)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from app.settings import APPLICATION, ORGANIZATION
    from app.theme import apply_theme
    from app.training.controller import TrainingChoice
    from app.training.window import TrainingWindow

    app = QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="mahlernet-training-shot-") as scratch:
        presets = {kind: args.preset for kind in ("continuation", "interpolation")}
        window = TrainingWindow(data_folder=Path(scratch), presets=presets)
        width, height = (int(v) for v in args.size.lower().split("x"))
        window.resize(width, height)
        window.show()
        done: list[int] = []
        window.controller.epoch_done.connect(lambda record: done.append(record["epoch"]))

        def wait(condition, seconds: float = 900) -> None:
            deadline = time.monotonic() + seconds
            while not condition():
                if time.monotonic() > deadline:
                    raise SystemExit("gave up waiting")
                app.processEvents()
                time.sleep(0.01)

        wait(lambda: window.controller.setup is not None)
        window.prepare(args.folder)
        wait(lambda: not window.controller.preparing)
        if window.controller.report is None or not window.controller.report.usable:
            print(f"cannot train on {args.folder}: {window.message.text()}", file=sys.stderr)
            return 1
        window.choices.set_choice(TrainingChoice(name=window.choices.name.text() or "my music", epochs=args.epochs))
        window.train()
        wait(lambda: len(done) >= args.after_epochs or not window.controller.training)
        started = time.monotonic()
        wait(lambda: time.monotonic() - started > 0.8)  # a few more steps on the curves
        window.curves.flush()
        app.processEvents()
        ok = window.grab().save(str(args.out))
        window.controller.shutdown()
        window.release()
        print(f"{'saved' if ok else 'could not save'} {args.out}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
