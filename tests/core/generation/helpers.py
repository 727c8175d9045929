"""Models and pieces for the generation tests: random networks, tiny networks overfit in seconds,
and small Scores in several meters."""

from __future__ import annotations

import dataclasses

import torch

from core.model.batching import PairSet
from core.model.network import MahlerNet, NetworkConfig
from core.model.objective import losses
from core.preprocess.encode import encode_score
from core.representation.events import EncodedPiece
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

TINY = NetworkConfig(
    encoder_layers=1, encoder_size=24, decoder_layers=2, decoder_size=32, z_dim=8, condition_size=16,
    encoder_dropout=0.0, decoder_dropout=0.0, z_dropout=0.0, norm_momentum=0.3,
)  # fmt: skip


def random_model(seed: int = 0, spread: float = 0.5, **changes: object) -> MahlerNet:
    """An untrained network whose heads are far from uniform (``spread`` = output weight scale), so
    that sampling wanders over many classes."""
    torch.manual_seed(seed)
    config = dataclasses.replace(TINY, output_init_std=spread, **changes)  # type: ignore[arg-type]
    return MahlerNet(config).eval()


def piece(meter: tuple[int, int] = (4, 4), bars: int = 4, tempo: int = 600_000, tpq: int = 480) -> Score:
    """Violin eighths over cello halves-of-a-bar (no note crosses a barline)."""
    numerator, denominator = meter
    bar = TimeSignature(0, numerator, denominator).bar_ticks(tpq)
    eighth = tpq // 2
    melody = [Note(b * bar + i * eighth, eighth, 67 + (b * 3 + i * 2) % 12, 80) for b in range(bars) for i in range(bar // eighth)]
    bass = [Note(b * bar, bar // 2, 43 + (b * 5) % 12, 64) for b in range(bars)]
    tracks = (Track("Violin", 40, 0, tuple(melody)), Track("Cello", 42, 1, tuple(bass)))
    return Score(tpq, tracks, (TempoChange(0, tempo),), (TimeSignature(0, numerator, denominator),), title="test piece")


def two_bars() -> Score:
    """Bar 1: a piano scale in quarters; bar 2: a sustained chord and two flute notes (4/4)."""
    tpq = 480
    scale = tuple(Note(i * tpq, tpq, 60 + (0, 2, 4, 5)[i], 80) for i in range(4))
    chord = tuple(Note(1920, 1920, p, 49) for p in (48, 55, 64))
    flute = (Note(1920, 960, 79, 96), Note(2880, 960, 76, 96))
    tracks = (Track("Piano", 0, 0, scale + chord), Track("Flute", 73, 1, flute))
    return Score(tpq, tracks, (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))


def encoded(score: Score) -> EncodedPiece:
    result = encode_score(score)
    assert result.piece is not None
    return result.piece


def overfit(pieces: list[EncodedPiece], use_context: bool, steps: int = 150, seed: int = 0) -> MahlerNet:
    """A tiny network trained on every bar of ``pieces`` at once until it reproduces them from the
    posterior mean (no KL pressure). It trains in eval mode (its dropout is 0 anyway), so that batch
    norm behaves in training exactly as it will when generating (a batch of two bars would otherwise
    normalise with statistics that eval mode cannot reproduce)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and the machine is shared
    try:
        return _overfit(pieces, use_context, steps, seed)
    finally:
        torch.set_num_threads(threads)


def _overfit(pieces: list[EncodedPiece], use_context: bool, steps: int, seed: int) -> MahlerNet:
    torch.manual_seed(seed)
    model = MahlerNet(dataclasses.replace(TINY, use_context=use_context, decoder_size=48, z_dim=16))
    pairs = PairSet(pieces, context_bars=1)
    batch = pairs.collate(pairs.pairs, with_context=use_context)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.eval()
    for _ in range(steps):
        outputs = model(batch, sample=False)
        loss, _ = losses(outputs.logits, outputs.mu, outputs.logvar, batch, beta=0.0, free_nats=0.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model
