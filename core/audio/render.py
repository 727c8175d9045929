"""Offline rendering: a Score (or a tick range of it) to a stereo sample buffer or a WAV file.

Rendering uses its own FluidSynth instance with no audio driver, so it never disturbs live playback
and runs as fast as the CPU allows. The buffer is exactly as long as the range by the tempo map plus
a fixed release tail, so the same input always gives the same length.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Callable

import numpy as np

from core.audio import _fluid
from core.audio.synth import DEFAULT_GAIN, SAMPLE_RATE, Synth
from core.audio.sinks import dispatch
from core.audio.timeline import bar_range, iter_timed_events
from core.errors import AudioError, Cancelled
from core.music.score import Score

DEFAULT_TAIL_SECONDS = 1.5
_BLOCK_FRAMES = 16384  # rendering step between progress reports and cancel checks

ProgressCallback = Callable[[float], None]  # fraction done, 0..1


def render(
    score: Score,
    *,
    start: int = 0,
    end: int | None = None,
    soundfont: str | os.PathLike[str] | None = None,
    sample_rate: int = SAMPLE_RATE,
    tail_seconds: float = DEFAULT_TAIL_SECONDS,
    gain: float = DEFAULT_GAIN,
    progress: ProgressCallback | None = None,
    cancel: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Render ticks ``start``-``end`` of ``score`` (default: all of it) to a float32 array of shape
    (frames, 2) with values in -1..1. Frames = round((seconds of the range + tail) * sample rate).

    ``progress`` receives the fraction done; ``cancel`` returning True stops with Cancelled."""
    end = score.end_tick if end is None else end
    if tail_seconds < 0:
        raise ValueError("the release tail cannot be negative")
    events = iter_timed_events(score, start, end)
    upcoming = next(events, None)
    seconds = score.seconds_at(end) - score.seconds_at(start)
    frames = int(round((seconds + tail_seconds) * sample_rate))
    out = np.zeros((frames, 2), dtype=np.float32)
    with Synth(soundfont, sample_rate=sample_rate, gain=gain) as synth:
        pointer = synth.synth_pointer
        done = 0
        while done < frames:
            # send every message due at or before the next frame, then render up to the next message
            while upcoming is not None and _frame(upcoming.seconds, sample_rate) <= done:
                dispatch(synth, upcoming.event)
                upcoming = next(events, None)
            target = _frame(upcoming.seconds, sample_rate) if upcoming is not None else frames
            target = min(target, frames, done + _BLOCK_FRAMES)
            _fluid.write_float(pointer, out[done:target])
            done = target
            if progress is not None:
                progress(done / frames)
            if cancel is not None and cancel():
                raise Cancelled("rendering cancelled")
    np.clip(out, -1.0, 1.0, out=out)
    return out


def render_bars(score: Score, first: int, last: int | None = None, **options: object) -> np.ndarray:
    """Render bars ``first`` to ``last`` (numbered from 1, inclusive; default: to the end)."""
    start, end = bar_range(score, first, last)
    return render(score, start=start, end=end, **options)  # type: ignore[arg-type]


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float samples in -1..1 as 16-bit integers (clipped, rounded)."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write a (frames, channels) float or int16 buffer as a 16-bit PCM WAV file."""
    path = Path(path)
    samples = audio if audio.dtype == np.int16 else to_int16(audio)
    if samples.ndim == 1:
        samples = samples[:, None]
    try:
        with open(path, "wb") as file, wave.open(file, "wb") as wav:
            wav.setnchannels(samples.shape[1])
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    except OSError as error:
        raise AudioError(f"{path}: cannot write the WAV file ({error.strerror or error})") from error
    return path


def _frame(seconds: float, sample_rate: int) -> int:
    return int(round(seconds * sample_rate))
