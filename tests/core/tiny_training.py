"""Tiny MIDI folders and tiny training presets for the tests of runs and of the Training window.

The presets keep the real presets' kinds (context on or off) with networks of a few thousand
parameters, so that a whole preprocess -> train -> generate round takes a second or two on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.midi.files import write_midi
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

TPQ = 480

TINY_PRESET = """
description = "a tiny {kind} preset for tests"
[network]
use_context = {context}
encoder_layers = 1
encoder_size = 16
decoder_layers = 1
decoder_size = 16
z_dim = 8
condition_size = 0
encoder_dropout = 0.0
decoder_dropout = 0.0
z_dropout = 0.0
[training]
epochs = {epochs}
batch_size = {batch_size}
learning_rate = 0.003
validation_ratio = 0.25
patience = 0
checkpoint_minutes = 0
[full.network]
encoder_size = 24
"""


def write_tiny_preset(
    folder: Path, kind: str = "continuation", epochs: int = 1, batch_size: int = 4, chords: bool = False
) -> Path:
    """``folder/<kind>.toml``: a tiny preset of ``kind`` (continuation: context on); ``chords`` makes
    its decoder hear each half bar's chord (the arranger's kind of model)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.toml"
    context = "true" if kind == "continuation" else "false"
    text = TINY_PRESET.format(kind=kind, context=context, epochs=epochs, batch_size=batch_size)
    if chords:
        text = text.replace("[network]\n", "[network]\nchords = true\n", 1)
    path.write_text(text)
    return path


def tune(bars: int = 8, seed: int = 0, numerator: int = 4, program: int = 0) -> Score:
    """A one-track tune: quarter and eighth notes of a seeded melody over ``bars`` bars."""
    rng = np.random.default_rng(seed)
    notes, tick = [], 0
    bar_length = numerator * TPQ
    end = bars * bar_length
    while tick < end:
        length = min(TPQ if rng.random() < 0.6 else TPQ // 2, end - tick)
        notes.append(Note(tick, length, int(60 + rng.integers(-7, 12)), int(rng.integers(50, 100))))
        tick += length
    chords = [Note(b * bar_length, bar_length, 48 + (b % 3) * 2, 70) for b in range(bars)]
    return Score(
        TPQ,
        (Track("Melody", program, 0, tuple(notes)), Track("Bass", 32, 1, tuple(chords))),
        (TempoChange(0, 500_000),),
        (TimeSignature(0, numerator, 4),),
        title=f"tune {seed}",
    )


def write_midi_folder(folder: Path, count: int = 3, bars: int = 8) -> Path:
    """``count`` tunes (one in 3/4) as MIDI files in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        write_midi(tune(bars, seed=index, numerator=3 if index == 1 else 4), folder / f"tune{index}.mid")
    return folder


def write_junk_folder(folder: Path) -> Path:
    """MIDI-named files that hold no usable music: random bytes, an empty file, a drums-only piece."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "noise.mid").write_bytes(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes())
    (folder / "empty.midi").write_bytes(b"")
    drums = Score(TPQ, (Track("Drums", 0, 9, tuple(Note(i * TPQ, TPQ // 2, 36, 100) for i in range(16))),),
                  (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))  # fmt: skip
    write_midi(drums, folder / "drums.mid")
    (folder / "notes.txt").write_text("not MIDI, and not named so")
    return folder


def groove(bars: int = 8, seed: int = 0) -> Score:
    """A pop groove: a drum kit on channel 10 (kick 36 on beats 1 and 3, snare 38 on 2 and 4, closed
    hi-hat 42 on every eighth, a crash 49 on each fourth bar) over a bass line of seeded roots."""
    rng = np.random.default_rng(seed)
    bar_length, eighth = 4 * TPQ, TPQ // 2
    drums: list[Note] = []
    for bar in range(bars):
        start = bar * bar_length
        hits = [(i * eighth, 42, 70) for i in range(8)]
        hits += [(0, 36, 110), (2 * TPQ, 36, 100), (TPQ, 38, 105), (3 * TPQ, 38, 105)]
        hits += [(0, 49, 100)] if bar % 4 == 0 else []
        drums += [Note(start + offset, eighth // 2, key, velocity) for offset, key, velocity in hits]
    roots = [36 + int(rng.choice([0, 5, 7, 3])) for _ in range(bars)]
    bass = [Note(b * bar_length + i * TPQ, TPQ, roots[b], 90) for b in range(bars) for i in range(4)]
    return Score(
        TPQ,
        (Track("Bass", 33, 0, tuple(bass)), Track("Drums", 0, 9, tuple(sorted(drums)))),
        (TempoChange(0, 500_000),),
        (TimeSignature(0, 4, 4),),
        title=f"groove {seed}",
    )


def write_groove_folder(folder: Path, count: int = 3, bars: int = 8) -> Path:
    """``count`` grooves (drums and bass) as MIDI files in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        write_midi(groove(bars, seed=index), folder / f"groove{index}.mid")
    return folder
