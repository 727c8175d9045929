"""Can the chord-conditioned decoder learn to follow chords? A check on music where it must.

    .venv/bin/python benchmarks/arranger_synthetic.py WORK_DIR [--epochs 40]

Writes 40 pieces of 16 bars, each bar a random chord (maj, min, dom7, min7 on a random root) played
as a bass note and an eighth-note arpeggio, preprocesses them, trains a tiny chord model (1x32
encoders, 1x64 decoder, z of 4, transposition -6..6) with the project's own `mahlernet train`, and
prints `benchmarks/arrange.py`'s figures for it: the share of note time on the chord tones of each
held progression, and the same against the progression a tritone away.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.model.checkpoints import load_model  # noqa: E402
from core.cli.main import main as mahlernet  # noqa: E402
from core.harmony.templates import INTERVALS  # noqa: E402
from core.midi.files import write_midi  # noqa: E402
from core.music.score import Note, Score, TempoChange, TimeSignature, Track  # noqa: E402

TPQ, BAR = 480, 4 * 480
PRESET = """
description = "a tiny chord model for the synthetic check"
[network]
use_context = false
chords = true
encoder_layers = 1
encoder_size = 32
decoder_layers = 1
decoder_size = 64
z_dim = 4
encoder_dropout = 0.0
decoder_dropout = 0.0
z_dropout = 0.0
[training]
epochs = 40
batch_size = 16
learning_rate = 0.005
validation_ratio = 0.1
patience = 0
checkpoint_minutes = 0
transpose = 6
"""


def write_pieces(folder: Path, count: int = 40, bars: int = 16, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        bass, arpeggio = [], []
        for bar in range(bars):
            root = int(rng.integers(12))
            quality = ("maj", "min", "dom7", "min7", "maj", "min")[int(rng.integers(6))]
            classes = [(root + step) % 12 for step in INTERVALS[quality]]
            start = bar * BAR
            bass.append(Note(start, BAR, 36 + root, 80))
            for eighth in range(8):
                pitch_class = classes[eighth % len(classes)]
                pitch = 60 + pitch_class if eighth < 4 else 72 + pitch_class - 12 * (pitch_class > 6)
                arpeggio.append(Note(start + eighth * TPQ // 2, TPQ // 2, pitch, 80))
        score = Score(TPQ, (Track("Bass", 32, 0, tuple(bass)), Track("Piano", 0, 1, tuple(arpeggio))),
                      (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))  # fmt: skip
        write_midi(score, folder / f"piece{index:02d}.mid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    write_pieces(args.work / "midi")
    (args.work / "tiny.toml").write_text(PRESET)
    if mahlernet(["preprocess", str(args.work / "midi"), str(args.work / "data"), "--jobs", "1"]):
        raise SystemExit(1)
    run = args.work / "run"
    if mahlernet(["train", str(args.work / "data"), str(run), "--preset", str(args.work / "tiny.toml"),
                  "--epochs", str(args.epochs), "--threads", "1"]):  # fmt: skip
        raise SystemExit(1)
    spec = importlib.util.spec_from_file_location("arrange_benchmark", ROOT / "benchmarks" / "arrange.py")
    benchmark = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(benchmark)  # type: ignore[union-attr]
    model, _ = load_model(run / "best.safetensors")
    row = benchmark.figures(model, args.seeds)["prior"]
    print(f"{row['arrangements']} arrangements: {row['on_chord_tones']:.1%} of note time on chord tones "
          f"({row['on_chord_tones_a_tritone_away']:.1%} a tritone away), same instruments {row['same_instruments']:.0%}, "
          f"onset overlap {row['onset_overlap']:.2f}")


if __name__ == "__main__":
    main()
