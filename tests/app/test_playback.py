"""The Qt playback controller: hooks from the player thread arrive as signals in the GUI thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QThread

from app.playback import PlaybackController
from core.audio.outputs import OutputSettings
from core.audio.sinks import RecordingSink
from core.music.score import Note, Score, TempoChange, Track

PATIENCE_MS = 30_000  # how long what must happen is waited for: reached only when something is broken


def melody(count: int = 8, step: int = 240) -> Score:
    notes = tuple(Note(i * step, step // 2, 60 + i, 90) for i in range(count))
    return Score(480, (Track("flute", 73, 0, notes),), (TempoChange(0, 500_000),))


@pytest.fixture
def controller(qtbot):
    sink = RecordingSink()
    controller = PlaybackController(sink)
    controller.sink = sink  # for the tests' eyes only
    yield controller
    controller.close()


def test_play_emits_state_positions_and_finished_in_the_gui_thread(qtbot, controller):
    gui_thread = QThread.currentThread()
    positions: list[int] = []
    bars: list[int] = []
    states: list[str] = []
    threads: set[bool] = set()

    def on_position(tick: int) -> None:
        positions.append(tick)
        threads.add(QThread.currentThread() is gui_thread)

    controller.positionChanged.connect(on_position)
    controller.barChanged.connect(bars.append)
    controller.stateChanged.connect(states.append)
    score = melody(8)  # 8 eighths at 120 bpm: 2 s, one bar of 4/4
    with qtbot.waitSignal(controller.finished, timeout=PATIENCE_MS):
        assert controller.play(score)
    qtbot.waitUntil(lambda: states == ["playing", "stopped"], timeout=PATIENCE_MS)  # queued after finished
    assert positions == sorted(positions) and positions[-1] == score.end_tick
    assert len(positions) >= 2  # how often: ~30 a second of the player's clock (tests/core/audio/test_player.py)
    assert bars == [1]
    assert threads == {True}
    assert [r.data1 for r in controller.sink.of("note_on")] == list(range(60, 68))


def test_space_and_esc_semantics(qtbot, controller):
    controller.load(melody(16), cursor=480)
    with qtbot.waitSignal(controller.stateChanged, timeout=PATIENCE_MS) as blocker:
        assert controller.toggle()
    assert blocker.args == ["playing"]
    qtbot.waitUntil(lambda: bool(controller.sink.of("note_on")), timeout=PATIENCE_MS)
    with qtbot.waitSignal(controller.stateChanged, timeout=PATIENCE_MS) as blocker:
        controller.toggle()
    assert blocker.args == ["paused"] and controller.state == "paused"
    with qtbot.waitSignal(controller.stateChanged, timeout=PATIENCE_MS) as blocker:
        controller.stop()
    assert blocker.args == ["stopped"]
    assert controller.sink.received[-1].what == "panic"
    first = controller.sink.of("note_on")[0]
    assert first.data1 == 62  # the cursor was at tick 480, the third eighth


def test_audition_a_candidate_and_loop_a_selection(qtbot, controller):
    candidate = Score(480, (Track("oboe", 68, 1, (Note(0, 240, 70, 90),)),))
    with qtbot.waitSignal(controller.finished, timeout=PATIENCE_MS):
        assert controller.audition(candidate)
    assert [(r.what, r.channel, r.data1) for r in controller.sink.received[:2]] == [("program", 1, 68), ("note_on", 1, 70)]
    controller.sink.clear()
    assert controller.play_range(melody(8), 0, 240, loop=True)  # one eighth, 0.25 s, looped
    qtbot.waitUntil(lambda: len(controller.sink.of("note_on")) >= 3, timeout=PATIENCE_MS)  # three passes
    controller.stop()
    assert {r.data1 for r in controller.sink.of("note_on")} == {60}


def test_sound_key_for_the_keyboard(qtbot, controller):
    assert controller.sound_key(69, program=40, duration=0.1)
    qtbot.waitUntil(lambda: len(controller.sink.received) >= 3, timeout=PATIENCE_MS)  # released after 0.1 s
    assert [r.what for r in controller.sink.received] == ["program", "note_on", "note_off"]
    assert controller.key_down(70)
    controller.key_up(70)
    assert controller.sink.received[-1].what == "note_off"


def test_no_output_is_an_error_signal_not_an_exception(qtbot, tmp_path):
    controller = PlaybackController()
    try:
        with qtbot.waitSignal(controller.error, timeout=PATIENCE_MS) as blocker:
            assert not controller.play(melody(2))
        assert "no audio output" in blocker.args[0]
        problems = controller.apply_settings(OutputSettings(use_synth=False, midi_port=None))
        assert problems == ["no output chosen: enable the built-in synth or choose a MIDI port"]
        problems = controller.apply_settings(OutputSettings(use_synth=True, soundfont=str(tmp_path / "gone.sf2")))
        assert any("gone.sf2" in p and "does not exist" in p for p in problems)
        with qtbot.waitSignal(controller.error, timeout=PATIENCE_MS):
            assert not controller.play(melody(2))
        assert controller.state == "stopped"
    finally:
        controller.close()


def test_apply_settings_opens_the_built_in_synth(qtbot, monkeypatch, tmp_path):
    """With no usable audio driver the synth still opens; the problem says why it is silent."""
    monkeypatch.setenv("MAHLERNET_AUDIO_DRIVER", "nosuchdriver")
    controller = PlaybackController()
    try:
        with qtbot.waitSignal(controller.outputsChanged, timeout=PATIENCE_MS) as blocker:
            problems = controller.apply_settings(OutputSettings(use_synth=True))
        assert blocker.args[0].startswith("FluidSynth (")
        assert controller.player.sink is not None
        assert problems == ["built-in synth: no audio device could be opened (no driver of nosuchdriver is compiled in)"]
    finally:
        controller.close()


def test_panic_button(qtbot, controller):
    assert controller.key_down(60)
    controller.panic()
    assert controller.sink.received[-1].what == "panic"
