"""Audio figures: how soon play() is heard, and how fast offline rendering runs.

    .venv/bin/python benchmarks/audio.py [--repeats N]

1. play() -> first note at the sink: the player thread's dispatch latency (recording sink), for one
   note and for a 96,000-note piece started in the middle (held notes sound at once).
2. Lateness of the player's sends along a piece: each note-on at a recording sink against its time
   in the tempo map, from play() (the tests check this on the player's own clock, exactly; here it
   is the wall clock, so it shows what the machine's scheduling adds).
3. play() -> first audio buffer with the note at a PulseAudio null sink: FluidSynth already running
   with its PulseAudio driver on a private server; the sink's monitor is recorded with parec and the
   first chunk holding sound is timed (an upper bound: it includes parec's own 10 ms latency).
   Skipped when pulseaudio is not installed. Goal: 50 ms or less.
4. Cold start: Synth() (soundfont load) + start() (driver) before the first play.
5. Offline render real-time factor: seconds of music per second of rendering, a four-part piece.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.player import Player  # noqa: E402
from core.audio.render import render  # noqa: E402
from core.audio.sinks import RecordingSink  # noqa: E402
from core.audio.synth import Synth  # noqa: E402
from core.audio.timeline import Kind, timed_events  # noqa: E402
from core.music.score import Note, Score, TempoChange, Track  # noqa: E402


def one_hit() -> Score:
    return Score(480, (Track("drums", 0, 9, (Note(0, 96, 37, 110),)),), (TempoChange(0, 500_000),))


def four_parts(bars: int) -> Score:
    """Quarter-note chords in four parts (strings, woodwind, brass, piano) at 120 bpm."""
    rng = np.random.default_rng(0)
    parts = [("violins", 48, 0, 67), ("clarinet", 71, 1, 60), ("horn", 60, 2, 53), ("piano", 0, 3, 43)]
    tracks = []
    for name, program, channel, centre in parts:
        pitches = centre + rng.integers(-5, 6, size=bars * 4)
        notes = tuple(Note(i * 480, 460, int(p), 80) for i, p in enumerate(pitches))
        tracks.append(Track(name, program, channel, notes))
    return Score(480, tuple(tracks), (TempoChange(0, 500_000),))


def big_piece() -> Score:
    """16 parts of 6,000 notes each (96,000 notes, about 14 minutes at 120 bpm)."""
    rng = np.random.default_rng(1)
    tracks = []
    for part in range(16):
        starts = np.sort(rng.integers(0, 800_000, 6000))
        notes = tuple(Note(int(s), 240, int(p), 80) for s, p in zip(starts, rng.integers(40, 90, 6000)))
        tracks.append(Track(f"part {part + 1}", part * 5 % 128, part, notes))
    return Score(480, tuple(tracks), (TempoChange(0, 500_000),))


def dispatch_latency(score: Score, start: int, repeats: int) -> list[float]:
    delays = []
    player = Player(RecordingSink())
    for _ in range(repeats):
        sink = RecordingSink()
        player.set_sink(sink)
        began = time.monotonic()
        player.play(score, start)
        while not sink.of("note_on"):
            time.sleep(0.0002)
        player.stop()
        delays.append(sink.of("note_on")[0].time - began)
    player.close()
    return delays


def eighths(count: int = 16) -> Score:
    """Staccato eighth notes at 120 bpm (4 per second), one part."""
    notes = tuple(Note(i * 240, 120, 60 + i % 24, 90) for i in range(count))
    return Score(480, (Track("piano", 0, 0, notes),), (TempoChange(0, 500_000),))


def send_lateness(repeats: int) -> list[float]:
    """Seconds each note-on reached a recording sink after its time in the tempo map, all plays."""
    score = eighths()
    due = [t.seconds for t in timed_events(score) if t.event.kind == Kind.NOTE_ON]
    lateness = []
    for _ in range(repeats):
        sink = RecordingSink()
        player = Player(sink)
        began = time.monotonic()
        player.play(score)
        player.wait(30)
        player.close()
        lateness += [r.time - began - d for r, d in zip(sink.of("note_on"), due)]
    return lateness


def first_audio_at_sink(repeats: int) -> tuple[list[float], float] | str:
    try:
        from tests.core.audio.servers import MonitorRecorder, ServerUnavailable, start_pulseaudio  # noqa: PLC0415
    except ImportError as error:
        return f"skipped ({error})"
    try:
        server = start_pulseaudio()
    except ServerUnavailable as error:
        return f"skipped ({error})"
    import os  # noqa: PLC0415

    os.environ.update(server.env)
    recorder = None
    try:
        recorder = MonitorRecorder(server)
        if not recorder.wait_for_data():
            return "skipped (the null sink's monitor delivered no audio)"
        began = time.monotonic()
        synth = Synth()
        driver = synth.start(["pulseaudio"])
        cold = time.monotonic() - began
        if driver is None:
            return f"skipped ({synth.audio_problem})"
        time.sleep(0.5)
        player = Player(synth)
        plays = []
        for _ in range(repeats):
            plays.append(time.monotonic())
            player.play(one_hit())
            player.wait(5)
            time.sleep(0.6)  # the hit dies away before the next
        time.sleep(0.2)
        player.close()
        synth.close()
    finally:
        if recorder is not None:
            samples, arrival, offsets = recorder.stop()
        server.stop()
    loud = np.abs(samples.astype(np.int32)).max(axis=1) > 1000
    delays = []
    for played in plays:
        first_chunk = int(np.searchsorted(arrival, played))
        for chunk in range(first_chunk, len(arrival)):
            end = offsets[chunk + 1] if chunk + 1 < len(offsets) else len(samples)
            if loud[offsets[chunk] : end].any():
                delays.append(arrival[chunk] - played)
                break
    return delays, cold


def render_factor(bars: int, repeats: int) -> tuple[float, float]:
    score = four_parts(bars)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        audio = render(score)
        times.append(time.perf_counter() - began)
    seconds = len(audio) / 44100
    return seconds, seconds / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    for name, score, start in (("one note", one_hit(), 0), ("96,000 notes, from the middle", big_piece(), 400_000)):
        delays = dispatch_latency(score, start, args.repeats)
        print(f"play() -> first note at the sink (player thread), {name}: median {statistics.median(delays) * 1000:.2f} ms, "
              f"max {max(delays) * 1000:.2f} ms over {len(delays)} plays")

    lateness = send_lateness(max(1, args.repeats // 3))
    print(f"lateness of the player's sends along a piece (recording sink, {len(lateness)} notes): median "
          f"{statistics.median(lateness) * 1000:.2f} ms, max {max(lateness) * 1000:.2f} ms")

    result = first_audio_at_sink(args.repeats)
    if isinstance(result, str):
        print(f"play() -> first audio buffer at a PulseAudio null sink: {result}")
    else:
        audio_delays, cold = result
        print(f"play() -> first audio buffer at a PulseAudio null sink (synth running): median "
              f"{statistics.median(audio_delays) * 1000:.1f} ms, max {max(audio_delays) * 1000:.1f} ms over "
              f"{len(audio_delays)} plays (goal <= 50 ms)")
        print(f"cold start (Synth() with the soundfont + PulseAudio driver): {cold * 1000:.0f} ms")

    for bars in (8, 64):
        seconds, factor = render_factor(bars, 3)
        print(f"offline render, four parts, {bars} bars ({seconds:.1f} s of audio): {factor:.0f}x real time")


if __name__ == "__main__":
    main()
