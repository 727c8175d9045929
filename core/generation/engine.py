"""What continuation, interpolation and reconstruction share: contexts, encoding a bar into z, the
model in eval mode, and the progress and cancel callbacks.

A *line* is the run of encoded bars before the bar being decoded, oldest first, each with a flag saying
whether it opens a stretch of music (the start of the piece or of a chunk). The context of the next
bar is the last ``K`` bars of the line (``K`` = the model's ``context_bars``), never reaching back past
an opening bar; where fewer than ``K`` bars are left, the START token goes first, exactly as training
pairs are made (:mod:`core.model.batching`). An empty line is the START context alone: the opening of a piece.

Speed: generation runs on one CPU thread, torch's and NumPy's BLAS alike (:func:`evaluating`). It
multiplies matrices of a few rows, where splitting the work across threads gains nothing, and where
other programs (the GUI, the audio, other jobs) keep the other cores busy, torch's worker threads
wait for each other: on the 2-core machine busy with other jobs (load ~3), torch's default of two
threads made continuing 8 bars take 1.2 s (median; 264 ms at best) against ~130 ms on one. NumPy's
BLAS (OpenBLAS, which runs the step's products, :mod:`core.generation.fast.lstm`) would spin a
second thread too, for twice the CPU: 152 instead of 131 ms (:mod:`core.blas`). Figures:
``benchmarks/generate.py``, in ``benchmarks/README.md``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch

from core import blas
from core.errors import Cancelled, GenerationError
from core.generation.bars import event_batch
from core.generation.fast.encoder import fast_encoder
from core.generation.sampler import Streams
from core.model.network import MahlerNet
from core.representation.events import EventArrays

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class LineBar:
    events: EventArrays
    opens: bool = False


def context_window(line: Sequence[LineBar], bars: int) -> tuple[EventArrays, bool]:
    """The events of the last ``bars`` bars of ``line`` (not before an opening bar) and whether the
    START token goes first."""
    window: list[EventArrays] = []
    for bar in reversed(line):
        if len(window) == bars:
            break
        window.append(bar.events)
        if bar.opens:
            break
    window.reverse()
    return EventArrays.concatenate(window), len(window) < bars


def context_summaries(model: MahlerNet, lines: Sequence[Sequence[LineBar]]) -> torch.Tensor | None:
    """Context summaries (B, 2H) of the bar after each line, or None for a model without context."""
    if model.context_encoder is None:
        return None
    windows = [context_window(line, model.config.context_bars) for line in lines]
    batch = event_batch([w[0] for w in windows], [w[1] for w in windows])
    return _on_model(model, fast_encoder(model.context_encoder, model.config.use_velocity, start=True).summaries(batch))


def encode_bars(model: MahlerNet, bars: Sequence[EventArrays], summaries: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mu, logvar)`` of the latent codes of ``bars`` given their context summaries."""
    batch = event_batch(bars, [False] * len(bars))
    summary = fast_encoder(model.input_encoder, model.config.use_velocity, start=False).summaries(batch)
    return model.latent(_on_model(model, summary), summaries)


def _on_model(model: MahlerNet, tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` (from the CPU encoders) on the model's device, in its floating-point type."""
    weight = model.z_projection.weight
    return tensor.to(device=weight.device, dtype=weight.dtype)


def standard_normal(streams: Sequence[Streams], bar: int, size: int, device: torch.device) -> torch.Tensor:
    """(B, size) standard normal noise for the z of ``bar``, row ``i`` from ``streams[i]``."""
    return torch.stack([s.normal(bar, size) for s in streams]).to(device)


@contextlib.contextmanager
def evaluating(model: MahlerNet) -> Iterator[None]:
    """Run the model in eval mode, without gradients, with torch and NumPy's BLAS on one CPU thread
    (why one: the module docstring); afterwards the model is in the mode it was in and both have
    their thread counts back."""
    was_training = model.training
    threads = torch.get_num_threads()
    model.eval()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        with torch.inference_mode(), blas.one_thread():
            yield
    finally:
        model.train(was_training)
        if threads != 1:
            torch.set_num_threads(threads)


def check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("generation cancelled")


def report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def require_bar(number: int, what: str, last_allowed: int | None = None) -> None:
    """A one-line error for a bar number that cannot be used."""
    if number < 1:
        raise GenerationError(f"{what} {number}: bars are numbered from 1")
    if last_allowed is not None and number > last_allowed:
        raise GenerationError(f"{what} {number}: the piece has {last_allowed} bars")
