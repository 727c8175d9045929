"""How well the Training window keeps the GUI responsive, and what a curves redraw costs.

    .venv/bin/python benchmarks/training_window.py [--files N] [--bars B] [--epochs E] [--size small|tiny]

Opens the Training window (offscreen unless a display is set), waits for its background set-up
(torch and the trainer imported), prepares a generated folder of N tunes of B bars, trains a run of E
epochs, and prints, for each phase, the longest interval between ticks of a 10 ms QTimer in the GUI
thread (a "stall": time the window could not repaint or answer), plus the median cost of one curves
redraw and of pressing Train. ``--size tiny`` uses a network of a few thousand parameters (many fast
steps: the most signals per second); ``small`` is the real small preset. ``--torch-loaded`` imports
torch before the window opens, as in the app (its model search imports torch at start-up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TINY = """
description = "benchmark: a tiny network, many fast steps"
[network]
use_context = true
encoder_layers = 1
encoder_size = 16
decoder_layers = 1
decoder_size = 16
z_dim = 8
[training]
epochs = {epochs}
batch_size = 4
validation_ratio = 0.1
patience = 0
checkpoint_minutes = 0
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--size", choices=("tiny", "small"), default="tiny")
    parser.add_argument("--torch-loaded", action="store_true",
                        help="import torch first, as the app's model search has done by the time the window opens")
    args = parser.parse_args()
    if args.torch_loaded:
        import core.model.checkpoints  # noqa: F401 - torch and the network

    import os

    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.theme import apply_theme
    from app.training.controller import TrainingChoice
    from app.training.window import TrainingWindow
    from app.training.worker import StepPoint
    from core.midi.files import write_midi
    from tests.core.tiny_training import tune

    app = QApplication([sys.argv[0]])
    apply_theme(app)
    scratch = Path(tempfile.mkdtemp(prefix="mahlernet-bench-"))
    music = scratch / "music"
    music.mkdir()
    for index in range(args.files):
        write_midi(tune(args.bars, seed=index, numerator=3 if index % 3 == 1 else 4), music / f"tune{index}.mid")
    preset: str | Path = "continuation"
    if args.size == "tiny":
        preset = scratch / "tiny.toml"
        preset.write_text(TINY.format(epochs=args.epochs))
    window = TrainingWindow(data_folder=scratch / "data", presets={"continuation": preset, "interpolation": preset})
    window.resize(1280, 800)
    window.show()
    controller = window.controller

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)

    def phase(name: str, busy) -> None:  # type: ignore[no-untyped-def]
        gaps.clear()
        started = time.perf_counter()
        while busy():
            app.processEvents()
            time.sleep(0.001)
        seconds = time.perf_counter() - started
        longest = 1000 * max(gaps, default=0.0)
        over = sum(g > 0.1 for g in gaps)
        print(f"{name:<44} {seconds:6.1f} s   longest stall {longest:5.0f} ms   ticks over 100 ms: {over}")

    phase("set-up (torch, trainer, models; first time)", lambda: controller.setup is None)
    window.prepare(music)
    phase(f"preparing {args.files} files", lambda: controller.preparing)
    window.choices.set_choice(TrainingChoice("bench", epochs=args.epochs))
    clicked = time.perf_counter()
    window.train_button.click()
    click_ms = 1000 * (time.perf_counter() - clicked)
    phase(f"training ({args.size}, {args.epochs} epochs)", lambda: controller.training)
    ended = controller.ended
    print(f"run ended: {ended.outcome.stopped if ended and ended.outcome else ended.reason if ended else '?'}")
    print(f"pressing Train (GUI thread): {click_ms:.1f} ms")

    costs = []
    curves = window.curves
    curves.set_span(1000)
    for index in range(30):
        values = {"loss": 5.0 - index / 10, "pitch_accuracy": 0.3}
        curves.add_steps([StepPoint(index + j / 10, index, values) for j in range(10)])
        begun = time.process_time()
        curves.flush()
        app.processEvents()
        costs.append(1000 * (time.process_time() - begun))
    print(f"one curves redraw (CPU of the GUI thread), median: {statistics.median(costs):.1f} ms")
    timer.stop()
    controller.shutdown()
    window.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
