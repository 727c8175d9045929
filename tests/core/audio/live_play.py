"""Six side-stick hits played live through FluidSynth's PulseAudio driver into the private null sink,
its monitor recorded, in a process of its own: ``test_live_audio.py`` runs this and checks what it
saved. Run it the way the test does: ``python -m tests.core.audio.live_play OUT.npz MONITOR`` with
``PULSE_SERVER`` set to the private server (the ``pulse_env`` fixture sets it).

Why a process of its own: the test checks real-time behaviour (when the player hands each note over,
how fast the sink takes the audio), and Python's full garbage collections hold the interpreter lock,
stalling the player thread meanwhile. A test session holds torch, Qt and what dozens of tests left, a
quarter to half a million objects: over ``tests/app`` and ``tests/core/audio`` (2026-12-05, a 2-core
machine loaded by other jobs) its full collections took 0.15-1.5 s each, and collections of 150-250 ms
had made a note 130-290 ms late. This process holds ~22,000 (numpy, FluidSynth, the audio code; a full
collection took 19 ms on the same machine), as the app's own heap is small (it freezes what importing
torch made: :mod:`app.torch_preload`). The test session used to freeze its heap instead
(``gc.freeze``), which also hid every other test's garbage from the collector.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from core.audio.player import Player
from core.audio.sinks import FanOut, RecordingSink
from core.audio.synth import Synth

from tests.core.audio.helpers import make_score
from tests.core.audio.servers import MonitorRecorder

RATE = 44100
STEP_SECONDS = 0.4  # side-stick hits every 384 ticks at 120 bpm
HITS = 6


def hits(count: int = HITS):
    return make_score({("drums", 0, 9): [(i * 384, 96, 37, 110) for i in range(count)]})


def play_and_record(monitor: str) -> dict[str, np.ndarray]:
    """Play :func:`hits` live and record the sink; what the test checks, as arrays: the recorded
    ``samples``, each chunk's ``arrival`` time and frame ``offsets``, when the player handed each
    note-on over (``sent_at``) and when play() was called (``played_at``), all on the monotonic clock."""
    import os  # noqa: PLC0415

    recorder = MonitorRecorder(SimpleNamespace(env={"PULSE_SERVER": os.environ["PULSE_SERVER"]}, monitor=monitor))
    sent = RecordingSink()  # beside the synth: when the player handed each message over
    try:
        if not recorder.wait_for_data():
            raise SystemExit("the null sink's monitor delivered no audio")
        with Synth() as synth:
            if synth.start(["pulseaudio"]) != "pulseaudio" or synth.problem is not None:
                raise SystemExit(f"FluidSynth did not start on PulseAudio: {synth.audio_problem or synth.problem}")
            if not recorder.wait_for_frames(int(0.3 * RATE), since=time.monotonic()):  # the new stream settles
                raise SystemExit("the sink took no audio after FluidSynth started")
            player = Player(FanOut(synth, sent))
            played_at = time.monotonic()
            if not player.play(hits()) or not player.wait(30):
                raise SystemExit("the player did not play the hits")
            # the last hit and its tail reach the sink: its clock ran 0.6 s past the last hit
            if not recorder.wait_for_frames(int(((HITS - 1) * STEP_SECONDS + 0.6) * RATE), since=played_at):
                raise SystemExit("the sink's clock stopped before the last hit's tail")
            player.close()
    finally:
        samples, arrival, offsets = recorder.stop()
    sent_at = np.array([r.time for r in sent.of("note_on")])
    return {"samples": samples, "arrival": arrival, "offsets": offsets, "sent_at": sent_at, "played_at": np.array(played_at)}


def main(argv: list[str]) -> int:
    out, monitor = Path(argv[0]), argv[1]
    np.savez(out, **play_and_record(monitor))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
