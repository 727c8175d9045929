"""Live audio through FluidSynth's PulseAudio driver into a private null sink, recorded from its
monitor: the music reaches the sink at real-time pace and on time."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.audio.player import Player
from core.audio.render import render
from core.audio.sinks import FanOut, RecordingSink
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


@pytest.mark.usefixtures("settled_heap")
def test_live_audio_reaches_the_sink_at_real_time_pace(pulse_env):
    recorder = MonitorRecorder(pulse_env)
    sent = RecordingSink()  # beside the synth: when the player handed each message over
    try:
        assert recorder.wait_for_data(), "the null sink's monitor delivered no audio"
        with Synth() as synth:
            assert synth.start(["pulseaudio"]) == "pulseaudio", synth.audio_problem
            assert synth.problem is None
            assert recorder.wait_for_frames(int(0.3 * RATE), since=time.monotonic())  # the new stream settles
            player = Player(FanOut(synth, sent))
            played_at = time.monotonic()
            assert player.play(hits())
            assert player.wait(30)
            # the last hit and its tail reach the sink: its clock ran 0.6 s past the last hit
            assert recorder.wait_for_frames(int((5 * STEP_SECONDS + 0.6) * RATE), since=played_at)
            player.close()
    finally:
        samples, arrival, offsets = recorder.stop()

    # The player handed every hit to the synth on time (what this project's code controls): never
    # before its time, which no machine can change, and within half a step after it, which only a
    # machine stalled for a fifth of a second could break (over 40 runs on an idle 2-core VM the
    # latest was 16 ms late, the median 3 ms; those figures are benchmarks/audio.py's).
    sent_at = np.array([r.time for r in sent.of("note_on")])
    lateness = sent_at - played_at - np.arange(6) * STEP_SECONDS
    assert lateness.min() >= -1e-6 and lateness.max() <= STEP_SECONDS / 2, lateness

    # The sink consumed audio at real-time pace: from play() on, the frames recorded and the wall
    # clock agree to a third of a second (a sink at the wrong rate, or a lost stretch, is far more).
    first = int(np.searchsorted(arrival, played_at))
    span = arrival[-1] - arrival[first]
    assert (offsets[-1] - offsets[first]) / RATE == pytest.approx(span, abs=0.3)

    found = onsets(samples)
    assert len(found) == 6, found
    # In the sink's own sample clock the hits keep the spacing the player sent them with, give or
    # take where in the audio path's buffers each note-on fell: FluidSynth applies an event when it
    # renders its next block, ahead of the sink by as much as its buffer and PulseAudio's hold at that
    # moment (over 40 runs those offsets spread over up to 38 ms, median 17 ms). What must not happen
    # is a drift along the piece or a gap (a lost buffer: a whole step of 0.4 s).
    offsets_from_sent = np.asarray(found) / RATE - (sent_at - sent_at[0])
    assert np.ptp(offsets_from_sent) <= 0.15, offsets_from_sent - offsets_from_sent[0]
    # On the wall clock, the first hit reached the sink after play() (at most 51 ms in 30 runs).
    chunk_of = np.searchsorted(offsets, found, side="right") - 1
    assert 0 <= arrival[chunk_of[0]] - played_at <= 1.0
