"""Live audio through FluidSynth's PulseAudio driver into a private null sink, recorded from its
monitor: the music reaches the sink at real-time pace and on time."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.audio.player import Player
from core.audio.render import render
from core.audio.synth import Synth

from tests.core.audio.helpers import make_score
from tests.core.audio.servers import MonitorRecorder

RATE = 44100
STEP_SECONDS = 0.4  # side-stick hits every 384 ticks at 120 bpm


def onsets(samples: np.ndarray, window: float = 0.002, refractory: float = 0.25, level: float = 0.3) -> list[int]:
    """Frame indexes where a hit starts: the envelope first rises above ``level`` of its maximum
    after at least ``refractory`` seconds since the previous hit."""
    loudness = np.abs(samples.astype(np.float64)).max(axis=1)
    width = int(RATE * window)
    count = len(loudness) // width
    envelope = loudness[: count * width].reshape(count, width).max(axis=1)
    found: list[int] = []
    for index in np.nonzero(envelope >= level * envelope.max())[0]:
        frame = int(index) * width
        if not found or frame - found[-1] > refractory * RATE:
            found.append(frame)
    return found


def hits(count: int = 6):
    return make_score({("drums", 0, 9): [(i * 384, 96, 37, 110) for i in range(count)]})


def test_onset_detector_on_an_offline_render():
    found = onsets(render(hits()))
    assert np.diff(found) / RATE == pytest.approx([STEP_SECONDS] * 5, abs=0.004)


def test_live_audio_reaches_the_sink_at_real_time_pace(pulse_env):
    recorder = MonitorRecorder(pulse_env)
    try:
        assert recorder.wait_for_data(), "the null sink's monitor delivered no audio"
        with Synth() as synth:
            assert synth.start(["pulseaudio"]) == "pulseaudio", synth.audio_problem
            assert synth.problem is None
            time.sleep(0.3)  # let the new stream settle
            player = Player(synth)
            played_at = time.monotonic()
            assert player.play(hits())
            assert player.wait(10)
            time.sleep(0.6)  # the last hit and its tail reach the sink
            player.close()
    finally:
        samples, arrival, offsets = recorder.stop()

    # The sink consumed audio at real-time pace: from play() on, frames recorded match the wall clock.
    first = int(np.searchsorted(arrival, played_at))
    span = arrival[-1] - arrival[first]
    assert (offsets[-1] - offsets[first]) / RATE == pytest.approx(span, rel=0.03)

    found = onsets(samples)
    assert len(found) == 6, found
    # In the sink's own sample clock, hit k lands k * 0.4 s after the first, give or take where in
    # FluidSynth's output buffer the note-on fell: the synth applies an event when it renders its
    # next block, and it renders up to its buffer (16 periods of 64 frames, 23 ms) ahead of the sink.
    # So the hits' offsets from the 0.4 s grid spread over at most a buffer and a pull of PulseAudio
    # (40 ms in all), and do not grow along the piece (no drift, no gap).
    offsets_from_grid = np.asarray(found) / RATE - np.arange(6) * STEP_SECONDS
    assert np.ptp(offsets_from_grid) <= 0.04, offsets_from_grid - offsets_from_grid[0]
    # On the wall clock, each hit arrived 0.4 s after the previous one, and the first soon after play().
    chunk_of = np.searchsorted(offsets, found, side="right") - 1
    arrived = arrival[chunk_of]
    assert np.diff(arrived) == pytest.approx([STEP_SECONDS] * 5, abs=0.05)
    assert 0 <= arrived[0] - played_at < 0.25, arrived[0] - played_at
