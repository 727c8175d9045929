"""The player thread against a recording sink: timing, ranges, looping, transport, hooks, errors."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from core.audio.player import AUDITION_CHANNEL, Player, PlayerState
from core.audio.sinks import FanOut, RecordingSink
from core.audio.timeline import Kind, timed_events
from core.score import TempoChange, TimeSignature

from tests.core.audio.helpers import make_score


class Hooks:
    """Collects what a player reports (thread-safe)."""

    def __init__(self) -> None:
        self.positions: list[tuple[float, int, int]] = []
        self.states: list[PlayerState] = []
        self.errors: list[str] = []
        self.finished = threading.Event()
        self.finish_count = 0

    def player(self, sink, **options) -> Player:
        def on_finished():
            self.finish_count += 1
            self.finished.set()

        return Player(
            sink,
            on_position=lambda tick, bar: self.positions.append((time.monotonic(), tick, bar)),
            on_state=self.states.append,
            on_finished=on_finished,
            on_error=self.errors.append,
            **options,
        )


@pytest.fixture
def hooks():
    return Hooks()


def staccato(count: int, step: int = 240, tempos=(TempoChange(0, 500_000),), **fields):
    return make_score({("a", 0, 0): [(i * step, step // 2, 60 + i, 90) for i in range(count)]}, tempos, **fields)


@pytest.mark.usefixtures("settled_heap")
def test_messages_arrive_at_the_times_of_the_tempo_map(hooks):
    tempos = (TempoChange(0, 500_000), TempoChange(1920, 250_000))  # 120 bpm, then 240 bpm
    score = staccato(16, tempos=tempos)
    sink = RecordingSink()
    player = hooks.player(sink)
    started = time.monotonic()
    assert player.play(score)
    assert hooks.finished.wait(10)
    expected = [t.seconds for t in timed_events(score) if t.event.kind == Kind.NOTE_ON]
    arrived = [r.time - started for r in sink.of("note_on")]
    assert len(arrived) == len(expected) == 16
    errors = [abs(a - e) for a, e in zip(arrived, expected)]
    assert statistics.median(errors) < 0.005, errors
    assert max(errors) < 0.03, errors
    # every note released, in the right order of kinds
    assert len(sink.of("note_off")) == 16
    assert sink.received[0].what == "program"
    assert hooks.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert hooks.finish_count == 1 and hooks.errors == []
    player.close()


@pytest.mark.usefixtures("settled_heap")
def test_position_is_reported_about_30_times_a_second_with_bars(hooks):
    score = staccato(8, step=480, time_signatures=(TimeSignature(0, 2, 4),))  # 4 bars of 2/4, 4 s
    player = hooks.player(RecordingSink())
    player.play(score)
    time.sleep(1.0)
    player.stop()
    reports = [p for p in hooks.positions if p[1] < score.end_tick]
    assert 24 <= len(reports) <= 36, len(reports)
    ticks = [tick for _t, tick, _bar in reports]
    assert ticks == sorted(ticks)
    assert all(bar == score.bar_at(tick).number for _t, tick, bar in reports)
    # the reported tick follows the clock: about 960 ticks per second at 120 bpm
    first_time, first_tick, _ = reports[0]
    last_time, last_tick, _ = reports[-1]
    assert (last_tick - first_tick) / (last_time - first_time) == pytest.approx(960, rel=0.05)
    assert hooks.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert hooks.finish_count == 0  # stop() is not the end
    player.close()


def test_play_from_a_bar_sounds_held_notes_and_starts_there(hooks):
    # a whole-bar chord note held into bar 2, and a note that starts in bar 2
    score = make_score({("a", 0, 0): [(0, 3840, 48, 80), (1920, 480, 72, 90), (0, 480, 60, 90)]})
    sink = RecordingSink()
    player = hooks.player(sink)
    started = time.monotonic()
    player.play_bars(score, 2)
    assert hooks.finished.wait(5)
    ons = [(r.data1, r.time - started) for r in sink.of("note_on")]
    assert [p for p, _ in ons] == [48, 72]
    assert all(t < 0.03 for _, t in ons)
    assert hooks.positions[-1][1] == score.end_tick
    assert hooks.positions[-1][2] == 2
    player.close()


def test_loop_repeats_the_range_until_stopped(hooks):
    score = staccato(16, step=240)  # eighths; bar 1 = 2 s
    sink = RecordingSink()
    player = hooks.player(sink)
    started = time.monotonic()
    player.play(score, 0, 480, loop=True)  # two eighths: 0.5 s per pass
    time.sleep(1.35)
    player.stop()
    ons = [(r.data1, r.time - started) for r in sink.of("note_on")]
    assert [p for p, _ in ons] == [60, 61, 60, 61, 60, 61]
    for (_, t), expected in zip(ons, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]):
        assert t == pytest.approx(expected, abs=0.03)
    assert hooks.finish_count == 0
    assert len(sink.of("note_on")) == len(sink.of("note_off"))
    player.close()


def test_stop_silences_what_sounds_and_panics(hooks):
    score = make_score({("a", 0, 0): [(0, 9600, 60, 90)], ("b", 48, 3): [(0, 9600, 67, 90)]})
    sink = RecordingSink()
    player = hooks.player(sink)
    player.play(score)
    time.sleep(0.2)
    player.stop()
    after = sink.received[[r.what for r in sink.received].index("note_on") + 2 :]
    assert sorted((r.channel, r.data1) for r in after if r.what == "note_off") == [(0, 60), (3, 67)]
    assert after[-1].what == "panic"
    count = len(sink.received)
    time.sleep(0.2)
    assert len(sink.received) == count  # nothing after the panic
    assert player.state == PlayerState.STOPPED
    player.close()


def test_pause_resume_and_seek(hooks):
    score = staccato(16, step=480)  # a note every 0.5 s
    sink = RecordingSink()
    player = hooks.player(sink)
    player.play(score)
    time.sleep(0.6)
    player.pause()
    assert player.state == PlayerState.PAUSED
    paused_at = player.position
    assert 480 <= paused_at <= 700
    count = len(sink.of("note_on"))
    time.sleep(0.3)
    assert len(sink.of("note_on")) == count  # silent while paused
    assert sink.received[-1].what == "panic"
    player.seek(480 * 10)
    assert player.position == 4800 and player.state == PlayerState.PAUSED
    assert player.resume()
    time.sleep(0.1)
    assert sink.of("note_on")[-1].data1 == 60 + 10
    player.seek(480 * 14)
    time.sleep(0.1)
    assert sink.of("note_on")[-1].data1 == 60 + 14
    assert player.state == PlayerState.PLAYING
    player.stop()
    assert hooks.states[:3] == [PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.PLAYING]
    player.close()


def test_toggle_plays_the_loaded_score_from_the_cursor(hooks):
    score = staccato(8, step=480)
    sink = RecordingSink()
    player = hooks.player(sink)
    player.load(score, cursor=480 * 6)
    assert player.toggle()  # stopped -> play from the cursor
    assert hooks.finished.wait(5)
    assert [r.data1 for r in sink.of("note_on")] == [66, 67]
    assert player.position == 480 * 6  # the cursor goes back to where play started
    assert player.toggle() and player.state == PlayerState.PLAYING
    assert player.toggle() and player.state == PlayerState.PAUSED
    player.stop()
    player.close()


def test_audition_plays_a_fragment_from_its_start(hooks):
    fragment = make_score({("cand", 73, 2): [(0, 240, 79, 100), (240, 240, 81, 100)]})
    sink = RecordingSink()
    player = hooks.player(sink)
    assert player.audition(fragment)
    assert hooks.finished.wait(5)
    assert [(r.what, r.channel, r.data1) for r in sink.received] == [
        ("program", 2, 73), ("note_on", 2, 79), ("note_off", 2, 79), ("note_on", 2, 81), ("note_off", 2, 81)]
    player.close()


def test_sound_note_presses_and_releases_one_key(hooks):
    sink = RecordingSink()
    player = hooks.player(sink)
    start = time.monotonic()
    assert player.sound_note(64, 100, duration=0.2, program=0)
    time.sleep(0.35)
    received = sink.received
    assert [(r.what, r.channel, r.data1) for r in received] == [
        ("program", AUDITION_CHANNEL, 0), ("note_on", AUDITION_CHANNEL, 64), ("note_off", AUDITION_CHANNEL, 64)]
    assert received[2].time - start == pytest.approx(0.2, abs=0.03)
    assert player.key_down(67) and sink.received[-1].what == "note_on"
    player.key_up(67)
    assert sink.received[-1][1:4] == ("note_off", AUDITION_CHANNEL, 67)
    player.close()


def test_no_output_is_reported_not_raised(hooks):
    score = staccato(4)
    player = hooks.player(None)
    assert not player.play(score)
    assert not player.sound_note(60)
    assert hooks.errors and "no audio output" in hooks.errors[0]
    broken = hooks.player(RecordingSink(problem="no audio device could be opened (alsa: no card)"))
    assert not broken.play(score)
    assert hooks.errors[-1] == "cannot play: no audio device could be opened (alsa: no card)"
    assert broken.state == PlayerState.STOPPED and hooks.states == []
    # a fan-out works as long as one of its sinks does
    half = RecordingSink()
    fan = hooks.player(FanOut(RecordingSink(problem="no audio device"), half))
    assert fan.play(score) and hooks.finished.wait(5)
    assert len(half.of("note_on")) == 4


def test_a_failing_sink_stops_playback_with_an_error(hooks):
    class Failing(RecordingSink):
        def note_on(self, channel, pitch, velocity):
            if pitch == 62:
                raise OSError("device unplugged")
            super().note_on(channel, pitch, velocity)

    sink = Failing()
    player = hooks.player(sink)
    player.play(staccato(8))
    deadline = time.monotonic() + 5
    while not hooks.errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hooks.errors and "device unplugged" in hooks.errors[0]
    time.sleep(0.1)
    assert player.state == PlayerState.STOPPED
    assert [r.data1 for r in sink.of("note_on")] == [60, 61]
    assert sink.received[-1].what == "panic"
    player.close()


def test_a_hook_that_raises_does_not_kill_the_player(hooks):
    sink = RecordingSink()
    player = Player(sink, on_position=lambda tick, bar: 1 / 0)
    player.play(staccato(4))
    assert player.wait(5)
    assert len(sink.of("note_on")) == 4
    player.close()


def test_empty_range_is_refused(hooks):
    player = hooks.player(RecordingSink())
    assert not player.play(staccato(4), 480, 480)
    assert "nothing to play" in hooks.errors[-1]
    assert not hooks.player(RecordingSink()).play()


def test_a_closed_player_refuses_to_play(hooks):
    player = hooks.player(RecordingSink())
    player.close()
    assert not player.play(staccato(2))
    assert hooks.errors[-1] == "cannot play: the player is closed"


def test_panic_silences_even_when_stopped(hooks):
    sink = RecordingSink()
    player = hooks.player(sink)
    player.key_down(60)
    player.stop()
    assert [r.what for r in sink.received] == ["note_on"]  # stop() while stopped sends nothing
    player.panic()
    assert sink.received[-1].what == "panic"
    player.close()


def test_a_big_piece_starts_sounding_at_once(hooks):
    import random  # noqa: PLC0415

    rng = random.Random(3)
    parts = {(f"t{t}", t, t): [(rng.randrange(0, 800_000), 240, rng.randrange(40, 90), 80) for _ in range(6000)]
             for t in range(16)}
    score = make_score(parts)  # 96,000 notes, about 14 minutes
    sink = RecordingSink()
    player = hooks.player(sink)
    began = time.monotonic()
    assert player.play(score, 400_000)
    deadline = time.monotonic() + 2
    while not sink.of("note_on") and time.monotonic() < deadline:
        time.sleep(0.001)
    player.stop()
    first = sink.of("note_on")[0]
    assert any(n.start < 400_000 < n.end for t in score.tracks for n in t.notes)  # held notes sound at once
    assert first.time - began < 0.1
    player.close()
