"""The player thread against a recording sink: timing, ranges, looping, transport, hooks, errors."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from core.audio.player import AUDITION_CHANNEL, Player, PlayerState
from core.audio.sinks import FanOut, RecordingSink
from core.audio.timeline import Kind, iter_timed_events, timed_events
from core.music.score import TempoChange, TimeSignature

from tests.core.audio.helpers import ManualClock, make_score


class Hooks:
    """Collects what a player reports (thread-safe), each position with the time on ``clock``."""

    def __init__(self) -> None:
        self.positions: list[tuple[float, int, int]] = []
        self.states: list[PlayerState] = []
        self.errors: list[str] = []
        self.finished = threading.Event()
        self.finish_count = 0

    def player(self, sink, clock: ManualClock | None = None, **options) -> Player:
        def on_finished():
            self.finish_count += 1
            self.finished.set()

        now = clock.now if clock is not None else time.monotonic
        return Player(
            sink,
            on_position=lambda tick, bar: self.positions.append((now(), tick, bar)),
            on_state=self.states.append,
            on_finished=on_finished,
            on_error=self.errors.append,
            clock=clock,
            **options,
        )


@pytest.fixture
def hooks():
    return Hooks()


@pytest.fixture
def clock():
    return ManualClock()


def staccato(count: int, step: int = 240, tempos=(TempoChange(0, 500_000),), **fields):
    return make_score({("a", 0, 0): [(i * step, step // 2, 60 + i, 90) for i in range(count)]}, tempos, **fields)


def test_messages_are_sent_when_the_players_clock_reaches_their_time_in_the_tempo_map(hooks, clock):
    tempos = (TempoChange(0, 500_000), TempoChange(1920, 250_000))  # 120 bpm, then 240 bpm
    score = staccato(16, tempos=tempos)
    sink = RecordingSink(clock=clock)
    player = hooks.player(sink, clock)
    started = clock.now()
    assert player.play(score)
    timed = timed_events(score)
    for when in sorted({t.seconds for t in timed if t.seconds > 0}):
        due_before = [t for t in timed if t.seconds < when]
        due_by_then = [t for t in timed if t.seconds <= when]
        clock.advance_to(started + when - 0.001)  # just before: nothing due then was held back, nothing later sent
        assert len(sink.received) == len(due_before)
        clock.advance_to(started + when)
        assert len(sink.received) == len(due_by_then)
    expected = [t.seconds for t in timed if t.event.kind == Kind.NOTE_ON]
    arrived = [r.time - started for r in sink.of("note_on")]
    assert len(expected) == 16 and arrived == pytest.approx(expected, abs=1e-9)
    assert [r.data1 for r in sink.of("note_on")] == list(range(60, 76))
    # every note released, in the right order of kinds
    assert len(sink.of("note_off")) == 16
    assert sink.received[0].what == "program"
    assert hooks.finished.is_set() and hooks.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert hooks.finish_count == 1 and hooks.errors == []
    player.close()


def test_position_is_reported_30_times_a_second_of_the_players_clock_with_bars(hooks, clock):
    score = staccato(8, step=480, time_signatures=(TimeSignature(0, 2, 4),))  # 4 bars of 2/4, 4 s
    player = hooks.player(RecordingSink(), clock)
    started = clock.now()
    player.play(score)
    for _ in range(120):  # one second in steps of 1/120 s
        clock.advance(1 / 120)
    player.stop()
    reports = [p for p in hooks.positions if p[1] < score.end_tick]
    assert 30 <= len(reports) <= 31, len(reports)
    times = [t for t, _tick, _bar in reports]
    assert all(later - earlier >= player.position_interval - 1e-9 for earlier, later in zip(times, times[1:]))
    # the reported tick is where the clock is: 960 ticks a second at 120 bpm
    assert [tick for _t, tick, _bar in reports] == [round(960 * (t - started)) for t in times]
    assert all(bar == score.bar_at(tick).number for _t, tick, bar in reports)
    assert hooks.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert hooks.finish_count == 0  # stop() is not the end
    player.close()


def test_play_from_a_bar_sounds_held_notes_and_starts_there(hooks, clock):
    # a whole-bar chord note held into bar 2, and a note that starts in bar 2
    score = make_score({("a", 0, 0): [(0, 3840, 48, 80), (1920, 480, 72, 90), (0, 480, 60, 90)]})
    sink = RecordingSink(clock=clock)
    player = hooks.player(sink, clock)
    started = clock.now()
    player.play_bars(score, 2)
    clock.settle()  # the clock has not moved: what sounds at once was sent
    assert [(r.data1, r.time) for r in sink.of("note_on")] == [(48, started), (72, started)]
    clock.advance(2.0)
    assert hooks.finished.is_set()
    assert hooks.positions[-1][1] == score.end_tick
    assert hooks.positions[-1][2] == 2
    player.close()


def test_loop_repeats_the_range_until_stopped(hooks, clock):
    score = staccato(16, step=240)  # eighths; bar 1 = 2 s
    sink = RecordingSink(clock=clock)
    player = hooks.player(sink, clock)
    started = clock.now()
    player.play(score, 0, 480, loop=True)  # two eighths: 0.5 s per pass
    for _ in range(5):
        clock.advance(0.25)
    player.stop()
    ons = [(r.data1, r.time - started) for r in sink.of("note_on")]
    assert ons == [(60, 0.0), (61, 0.25), (60, 0.5), (61, 0.75), (60, 1.0), (61, 1.25)]
    assert hooks.finish_count == 0
    assert len(sink.of("note_on")) == len(sink.of("note_off"))
    player.close()


def test_stop_silences_what_sounds_and_panics(hooks, clock):
    score = make_score({("a", 0, 0): [(0, 9600, 60, 90)], ("b", 48, 3): [(0, 9600, 67, 90)]})
    sink = RecordingSink()
    player = hooks.player(sink, clock)
    player.play(score)
    clock.advance(0.2)
    player.stop()
    after = sink.received[[r.what for r in sink.received].index("note_on") + 2 :]
    assert sorted((r.channel, r.data1) for r in after if r.what == "note_off") == [(0, 60), (3, 67)]
    assert after[-1].what == "panic"
    count = len(sink.received)
    clock.advance(10.0)  # past the notes' ends
    assert len(sink.received) == count  # nothing after the panic
    assert player.state == PlayerState.STOPPED
    player.close()


def test_pause_resume_and_seek(hooks, clock):
    score = staccato(16, step=480)  # a note every 0.5 s
    sink = RecordingSink()
    player = hooks.player(sink, clock)
    player.play(score)
    clock.advance(0.6)
    player.pause()
    assert player.state == PlayerState.PAUSED
    assert player.position == 576  # 0.6 s at 960 ticks a second
    assert [r.data1 for r in sink.of("note_on")] == [60, 61]
    clock.advance(0.6)
    assert len(sink.of("note_on")) == 2  # silent while paused
    assert sink.received[-1].what == "panic"
    player.seek(480 * 10)
    assert player.position == 4800 and player.state == PlayerState.PAUSED
    assert player.resume()
    clock.settle()
    assert sink.of("note_on")[-1].data1 == 60 + 10  # the note at the resume point sounds at once
    player.seek(480 * 14)
    clock.settle()
    assert sink.of("note_on")[-1].data1 == 60 + 14
    assert player.state == PlayerState.PLAYING
    player.stop()
    assert hooks.states[:3] == [PlayerState.PLAYING, PlayerState.PAUSED, PlayerState.PLAYING]
    player.close()


def test_toggle_plays_the_loaded_score_from_the_cursor(hooks, clock):
    score = staccato(8, step=480)
    sink = RecordingSink()
    player = hooks.player(sink, clock)
    player.load(score, cursor=480 * 6)
    assert player.toggle()  # stopped -> play from the cursor
    clock.advance(1.0)
    assert hooks.finished.is_set()
    assert [r.data1 for r in sink.of("note_on")] == [66, 67]
    assert player.position == 480 * 6  # the cursor goes back to where play started
    assert player.toggle() and player.state == PlayerState.PLAYING
    assert player.toggle() and player.state == PlayerState.PAUSED
    player.stop()
    player.close()


def test_audition_plays_a_fragment_from_its_start(hooks, clock):
    fragment = make_score({("cand", 73, 2): [(0, 240, 79, 100), (240, 240, 81, 100)]})
    sink = RecordingSink()
    player = hooks.player(sink, clock)
    assert player.audition(fragment)
    clock.advance(0.5)
    assert hooks.finished.is_set()
    assert [(r.what, r.channel, r.data1) for r in sink.received] == [
        ("program", 2, 73), ("note_on", 2, 79), ("note_off", 2, 79), ("note_on", 2, 81), ("note_off", 2, 81)]
    player.close()


def test_sound_note_presses_and_releases_one_key(hooks, clock):
    sink = RecordingSink(clock=clock)
    player = hooks.player(sink, clock)
    start = clock.now()
    assert player.sound_note(64, 100, duration=0.2, program=0)
    clock.advance(0.199)
    assert [(r.what, r.channel, r.data1) for r in sink.received] == [
        ("program", AUDITION_CHANNEL, 0), ("note_on", AUDITION_CHANNEL, 64)]
    clock.advance_to(start + 0.2)
    received = sink.received
    assert [(r.what, r.channel, r.data1) for r in received[2:]] == [("note_off", AUDITION_CHANNEL, 64)]
    assert received[2].time == start + 0.2
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
    clock = ManualClock()
    fan = hooks.player(FanOut(RecordingSink(problem="no audio device"), half), clock)
    assert fan.play(score)
    clock.advance(1.0)
    assert hooks.finished.is_set() and len(half.of("note_on")) == 4
    fan.close()


def test_a_failing_sink_stops_playback_with_an_error(hooks, clock):
    class Failing(RecordingSink):
        def note_on(self, channel, pitch, velocity):
            if pitch == 62:
                raise OSError("device unplugged")
            super().note_on(channel, pitch, velocity)

    sink = Failing()
    player = hooks.player(sink, clock)
    player.play(staccato(8))
    clock.advance(0.25)
    assert hooks.errors == []
    clock.advance(0.25)  # note 62 is due
    assert len(hooks.errors) == 1 and "device unplugged" in hooks.errors[0]
    assert player.state == PlayerState.STOPPED
    assert [r.data1 for r in sink.of("note_on")] == [60, 61]
    assert sink.received[-1].what == "panic"
    player.close()


def test_a_hook_that_raises_does_not_kill_the_player(clock):
    sink = RecordingSink()
    player = Player(sink, on_position=lambda tick, bar: 1 / 0, clock=clock)
    player.play(staccato(4))
    clock.advance(1.0)
    assert player.state == PlayerState.STOPPED and len(sink.of("note_on")) == 4
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


def test_a_big_piece_starts_sounding_at_once(hooks, clock):
    """Started in the middle, held notes sound at the start time of the player's clock (how long
    making the first messages takes is a figure of benchmarks/audio.py)."""
    import random  # noqa: PLC0415

    rng = random.Random(3)
    parts = {(f"t{t}", t, t): [(rng.randrange(0, 800_000), 240, rng.randrange(40, 90), 80) for _ in range(6000)]
             for t in range(16)}
    score = make_score(parts)  # 96,000 notes, about 14 minutes
    sink = RecordingSink(clock=clock)
    player = hooks.player(sink, clock)
    began = clock.now()
    assert player.play(score, 400_000)
    clock.settle()
    player.stop()
    at_once = itertools.takewhile(lambda timed: timed.seconds == 0.0, iter_timed_events(score, 400_000))
    expected = [(t.event.channel, t.event.data1) for t in at_once if t.event.kind == Kind.NOTE_ON]
    held = {(t.channel, n.pitch) for t in score.tracks for n in t.notes if n.start < 400_000 < n.end}
    assert held and held <= set(expected)  # notes begun before the start sound at once
    assert [(r.channel, r.data1) for r in sink.of("note_on")] == expected
    assert all(r.time == began for r in sink.of("note_on"))
    player.close()
