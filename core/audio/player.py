"""The player: one Python thread that sends a Score to a sink on time.

Everything that can be played is a Score and a tick range: the whole piece, the piece from a bar, a
selection of bars (optionally looped), a candidate variation or an interpolation step (Scores of their
own). The thread converts ticks to seconds with the tempo map, sleeps on its clock (real time unless
a :class:`~core.audio.clock.Clock` is given) until the next message is due (waking at once for stop,
pause or seek) and sends it to the sink: the built-in synth, a MIDI port, or both through
:class:`~core.audio.sinks.FanOut`.

Hooks report what happens; override them in a subclass or pass callbacks:
``position_changed(tick, bar)`` about 30 times a second while playing, ``state_changed(state)``,
``finished()`` when the end is reached (not on stop) and ``error(message)``. They are called from the
player thread, or from the thread that called play/stop/pause; a Qt wrapper turns them into
signals (see app/playback.py). Stopping, pausing and seeking silence what was sounding, so no note
hangs; every sink call is made under one lock, so a message can never slip in after a panic.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Iterator

from core.audio.clock import Clock, MonotonicClock
from core.audio.sinks import Sink, dispatch
from core.audio.timeline import Kind, TimedEvent, bar_range, iter_timed_events, range_seconds
from core.music.score import Score

LOG = logging.getLogger("core.audio.player")

POSITION_INTERVAL = 1 / 30  # seconds between position reports
AUDITION_CHANNEL = 15  # channel for sounding single keys, away from the parts a piece usually uses


class PlayerState(str, Enum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


@dataclass(eq=False)
class _Job:
    """One play request in progress: a range of a Score, walked pass by pass (one pass unless looping)."""

    score: Score
    start: int  # first tick of the range (where a loop starts again)
    end: int  # tick where the range ends
    loop: bool
    events: Iterator[TimedEvent]  # messages of the current pass, timed from pass_start, made lazily
    pass_start: int
    origin: float  # clock time at which pass_start sounds
    pass_seconds: float
    upcoming: TimedEvent | None = None  # the next message to send (None: the pass has no more)
    next_report: float = 0.0
    sounding: set[tuple[int, int]] = field(default_factory=set)

    def advance(self) -> None:
        self.upcoming = next(self.events, None)

    def tick_at(self, now: float) -> int:
        seconds = self.score.seconds_at(self.pass_start) + max(0.0, now - self.origin)
        return min(max(int(round(self.score.tick_at(seconds))), self.pass_start), self.end)


@dataclass(frozen=True)
class _Resume:
    """Where a paused job goes on from."""

    score: Score
    start: int
    end: int
    loop: bool
    tick: int


class Player:
    """Plays Scores to a sink from one background thread. Thread-safe; see the module docstring."""

    def __init__(
        self,
        sink: Sink | None = None,
        *,
        on_position: Callable[[int, int], None] | None = None,
        on_state: Callable[[PlayerState], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        position_interval: float = POSITION_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        """``clock`` is where the player's time comes from (see :mod:`core.audio.clock`; default: real
        time). Every time the player schedules, reports or keeps is on that clock."""
        self._sink = sink
        self._callbacks = (on_position, on_state, on_finished, on_error)
        self.position_interval = position_interval
        self._clock = clock or MonotonicClock()
        self._cond = threading.Condition()
        self._sink_lock = threading.RLock()
        self._state = PlayerState.STOPPED
        self._job: _Job | None = None
        self._resume: _Resume | None = None
        self._score: Score | None = None
        self._cursor = 0
        self._key_offs: list[tuple[float, int, int, int]] = []  # heap of (due, seq, channel, pitch)
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------------------------- hooks
    def position_changed(self, tick: int, bar: int) -> None:
        """The play position moved to ``tick`` (in bar ``bar``, from 1)."""
        if self._callbacks[0]:
            self._callbacks[0](tick, bar)

    def state_changed(self, state: PlayerState) -> None:
        if self._callbacks[1]:
            self._callbacks[1](state)

    def finished(self) -> None:
        """Playback reached the end of its range (not called after stop())."""
        if self._callbacks[2]:
            self._callbacks[2]()

    def error(self, message: str) -> None:
        """Something went wrong (no output, a sink failed); ``message`` is one line for the user."""
        if self._callbacks[3]:
            self._callbacks[3](message)

    # ---------------------------------------------------------------------------------- properties
    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def sink(self) -> Sink | None:
        return self._sink

    def set_sink(self, sink: Sink | None) -> None:
        """Send to ``sink`` from now on; playback goes on from where it is."""
        with self._cond:
            job = self._job
        if job is not None:
            self.stop(notify=False)
        with self._sink_lock:
            self._sink = sink
        if job is not None:
            self.play(job.score, job.start, job.end, loop=job.loop, from_tick=self._cursor)

    @property
    def score(self) -> Score | None:
        """The Score last loaded or played."""
        return self._score

    @property
    def position(self) -> int:
        """The play position in ticks (while stopped: where play() without a range starts)."""
        with self._cond:
            if self._job is not None:
                return self._job.tick_at(self._clock.now())
            if self._resume is not None:
                return self._resume.tick
            return self._cursor

    # ---------------------------------------------------------------------------------- transport
    def load(self, score: Score, cursor: int = 0) -> None:
        """Make ``score`` the one that play()/toggle() without arguments play (stops playback)."""
        self.stop()
        with self._cond:
            self._score = score
            self._cursor = cursor

    def play(self, score: Score | None = None, start: int | None = None, end: int | None = None, *,
             loop: bool = False, from_tick: int | None = None) -> bool:
        """Play ticks ``start``-``end`` of ``score`` (default: the loaded score, from the cursor to the
        end of the music), beginning at ``from_tick`` (default ``start``). With ``loop`` the range
        repeats until stop(). Returns False (and reports through error()) when nothing can sound."""
        with self._cond:
            if score is None:
                score = self._score
                start = self._cursor if start is None else start
            start = start or 0
            if self._closed:
                problem: str | None = "the player is closed"
            elif score is None:
                problem = "nothing to play: no score loaded"
            else:
                end = score.end_tick if end is None else end
                problem = None if end > start else f"nothing to play between ticks {start} and {end}"
        if problem is None:
            problem = self._output_problem()
        if problem is not None:
            self._call(self.error, f"cannot play: {problem}")
            return False
        assert score is not None and start is not None and end is not None
        first = start if from_tick is None else min(max(from_tick, start), end)
        self.stop(notify=False)
        now = self._clock.now()
        job = _Job(score, start, end, loop, iter_timed_events(score, first, end), first, now,
                   range_seconds(score, first, end), next_report=now)
        job.advance()
        with self._cond:
            self._score = score
            self._job = job
            self._resume = None
            self._state = PlayerState.PLAYING
            self._ensure_thread()
            self._cond.notify_all()
        self._call(self.state_changed, PlayerState.PLAYING)
        return True

    def play_bars(self, score: Score, first: int | None = None, last: int | None = None, *,
                  loop: bool = False) -> bool:
        """Play bars ``first`` to ``last`` (from 1, inclusive; default: from bar 1 / to the end)."""
        start, end = bar_range(score, first, last)
        return self.play(score, start, end, loop=loop)

    def audition(self, fragment: Score, *, loop: bool = False) -> bool:
        """Play a Score of its own from its beginning (a candidate variation, an interpolation step)."""
        return self.play(fragment, 0, fragment.end_tick, loop=loop)

    def stop(self, notify: bool = True) -> None:
        """Stop and silence; the cursor stays where playback was (for toggle())."""
        with self._cond:
            job, self._job = self._job, None
            was = self._state
            if job is not None:
                self._cursor = job.tick_at(self._clock.now())
            elif self._resume is not None:
                self._cursor = self._resume.tick
            self._resume = None
            self._state = PlayerState.STOPPED
            self._cond.notify_all()
        if job is not None or was == PlayerState.PAUSED:
            self._silence(job)
        if notify and was != PlayerState.STOPPED:
            self._call(self.state_changed, PlayerState.STOPPED)

    def panic(self) -> None:
        """Stop, and silence the output even when nothing was playing (held keys, notes left
        sounding on an external synth by someone else)."""
        self.stop()
        self._silence(None)

    def pause(self) -> None:
        """Pause where playback is; resume() (or toggle()) goes on from there."""
        with self._cond:
            job, self._job = self._job, None
            if job is None:
                return
            self._resume = _Resume(job.score, job.start, job.end, job.loop, job.tick_at(self._clock.now()))
            self._state = PlayerState.PAUSED
            self._cond.notify_all()
        self._silence(job)
        self._call(self.state_changed, PlayerState.PAUSED)

    def resume(self) -> bool:
        with self._cond:
            resume = self._resume
        if resume is None:
            return False
        return self.play(resume.score, resume.start, resume.end, loop=resume.loop, from_tick=resume.tick)

    def toggle(self) -> bool:
        """Space bar: pause when playing, resume when paused, play the loaded score when stopped."""
        if self._state == PlayerState.PLAYING:
            self.pause()
            return True
        if self._state == PlayerState.PAUSED:
            return self.resume()
        return self.play()

    def seek(self, tick: int) -> None:
        """Move the play position to ``tick`` (clamped to the range being played)."""
        with self._cond:
            job = self._job
            resume = self._resume
            if job is None and resume is not None:
                self._resume = _Resume(resume.score, resume.start, resume.end, resume.loop,
                                       min(max(tick, resume.start), resume.end))
            elif job is None:
                self._cursor = max(0, tick)
            score = resume.score if resume is not None else self._score
        if job is not None:
            self.play(job.score, job.start, job.end, loop=job.loop, from_tick=tick)
        elif score is not None:
            self._report_position(score, self.position)

    def set_loop(self, loop: bool) -> None:
        """Turn looping of the range being played on or off."""
        with self._cond:
            if self._job is not None:
                self._job.loop = loop

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback has stopped or finished; False if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state != PlayerState.PLAYING, timeout)

    def close(self) -> None:
        """Stop, silence and end the player thread."""
        self.stop()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    # ------------------------------------------------------------------------------ single keys
    def sound_note(self, pitch: int, velocity: int = 100, duration: float = 0.5, *,
                   channel: int = AUDITION_CHANNEL, program: int | None = None) -> bool:
        """Sound one key now for ``duration`` seconds (a click on the keyboard). False when there
        is no working output."""
        if not self.key_down(pitch, velocity, channel=channel, program=program):
            return False
        with self._cond:
            heapq.heappush(self._key_offs, (self._clock.now() + duration, next(self._seq), channel, pitch))
            self._ensure_thread()
            self._cond.notify_all()
        return True

    def key_down(self, pitch: int, velocity: int = 100, *, channel: int = AUDITION_CHANNEL,
                 program: int | None = None) -> bool:
        """Press a key now (release it with key_up). False when there is no working output."""
        if self._output_problem() is not None:
            return False
        try:
            with self._sink_lock:
                if program is not None:
                    self._sink.program_change(channel, program)  # type: ignore[union-attr]
                self._sink.note_on(channel, pitch, velocity)  # type: ignore[union-attr]
        except Exception as error:  # noqa: BLE001 - a device error is reported, not raised into the UI
            self._call(self.error, f"cannot sound the key: {error}")
            return False
        return True

    def key_up(self, pitch: int, *, channel: int = AUDITION_CHANNEL) -> None:
        try:
            with self._sink_lock:
                if self._sink is not None:
                    self._sink.note_off(channel, pitch)
        except Exception as error:  # noqa: BLE001
            self._call(self.error, f"cannot release the key: {error}")

    # -------------------------------------------------------------------------------- internals
    def _output_problem(self) -> str | None:
        sink = self._sink
        if sink is None:
            return "no audio output: choose the built-in synth or a MIDI port"
        return getattr(sink, "problem", None)

    def _ensure_thread(self) -> None:
        """Start the player thread if needed (call with self._cond held)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="mahlernet-player", daemon=True)
            self._thread.start()

    def _silence(self, job: _Job | None) -> None:
        with self._sink_lock:
            sink = self._sink
            if sink is None:
                return
            try:
                if job is not None:
                    for channel, pitch in sorted(job.sounding):
                        sink.note_off(channel, pitch)
                    job.sounding.clear()
                sink.panic()
            except Exception as error:  # noqa: BLE001
                self._call(self.error, f"could not silence the output: {error}")

    def _call(self, hook: Callable[..., None], *args: object) -> None:
        """Call a hook; a hook that raises is logged, never allowed to kill the player."""
        try:
            hook(*args)
        except Exception:  # noqa: BLE001
            LOG.exception("player hook %s failed", getattr(hook, "__name__", hook))

    def _report_position(self, score: Score, tick: int) -> None:
        self._call(self.position_changed, tick, score.bar_at(tick).number)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                now = self._clock.now()
                job = self._job if self._state == PlayerState.PLAYING else None
                offs = []
                while self._key_offs and self._key_offs[0][0] <= now:
                    offs.append(heapq.heappop(self._key_offs))
                due: list[TimedEvent] = []
                report = pass_over = False
                if job is not None:
                    while job.upcoming is not None and job.origin + job.upcoming.seconds <= now:
                        due.append(job.upcoming)
                        job.advance()
                    pass_over = job.upcoming is None and now >= job.origin + job.pass_seconds
                    report = now >= job.next_report
                    if report:
                        job.next_report = max(job.next_report + self.position_interval, now)
                if not (offs or due or report or pass_over):
                    self._clock.sleep(self._cond, self._sleep_time(job, now))
                    continue
            self._serve(job, due, offs)
            if job is not None and report and self._job is job:
                self._report_position(job.score, job.tick_at(now))
            if job is not None and pass_over:
                self._end_pass(job)

    def _sleep_time(self, job: _Job | None, now: float) -> float | None:
        wakes = [self._key_offs[0][0]] if self._key_offs else []
        if job is not None:
            wakes.append(job.next_report)
            if job.upcoming is not None:
                wakes.append(job.origin + job.upcoming.seconds)
            else:
                wakes.append(job.origin + job.pass_seconds)
        return max(0.0, min(wakes) - now) if wakes else None

    def _serve(self, job: _Job | None, due: list[TimedEvent], offs: list[tuple[float, int, int, int]]) -> None:
        """Send due messages, unless the job was stopped meanwhile (then its panic already ran)."""
        try:
            with self._sink_lock:
                sink = self._sink
                if sink is None:
                    return
                for _due, _seq, channel, pitch in offs:
                    sink.note_off(channel, pitch)
                if job is None or self._job is not job:
                    return
                for timed in due:
                    event = timed.event
                    dispatch(sink, event)
                    if event.kind == Kind.NOTE_ON:
                        job.sounding.add((event.channel, event.data1))
                    elif event.kind == Kind.NOTE_OFF:
                        job.sounding.discard((event.channel, event.data1))
        except Exception as error:  # noqa: BLE001 - a failing device stops playback with a message
            with self._cond:
                stopped = self._job is job and job is not None
            if stopped:
                self.stop()
            self._call(self.error, f"playback stopped: {error}")

    def _end_pass(self, job: _Job) -> None:
        """The current pass reached the end of the range: start the next pass or finish."""
        with self._cond:
            if self._job is not job:
                return
            if job.loop and job.end > job.start:
                job.origin += job.pass_seconds
                job.pass_start = job.start
                job.events = iter_timed_events(job.score, job.start, job.end)
                job.pass_seconds = range_seconds(job.score, job.start, job.end)
                job.advance()
                return
            self._job = None
            self._cursor = job.start
            self._state = PlayerState.STOPPED
            self._cond.notify_all()
        # the cursor ends on the end line; the bar reported is the last one played
        self._call(self.position_changed, job.end, job.score.bar_at(max(job.end - 1, 0)).number)
        self._call(self.state_changed, PlayerState.STOPPED)
        self._call(self.finished)
