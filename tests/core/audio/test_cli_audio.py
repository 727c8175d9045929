"""`mahlernet render`, `ports` and `play` from the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from core.cli import main as cli

from tests.core.audio.helpers import write_midi_file
from tests.core.audio.test_midi_out import PATIENCE_S, Receiver

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def only_audio_commands(monkeypatch):
    """Parse with this module's commands only, whatever other command modules exist yet."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["core.cli.audio"])


@pytest.fixture
def song(tmp_path):
    # four bars of 4/4 at 120 bpm (2 s each): a quarter note on every beat
    notes = [(i * 480, 400, 60 + i % 12, 90) for i in range(16)]
    return write_midi_file(tmp_path / "song.mid", notes, program=40)


def test_render_bars_to_wav(song, tmp_path, capsys):
    out = tmp_path / "bars.wav"
    assert cli.main(["render", str(song), str(out), "--from-bar", "2", "--to-bar", "3", "--tail", "0.5"]) == 0
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 44100
        assert wav.getnframes() == round((4.0 + 0.5) * 44100)
    printed = capsys.readouterr().out
    assert "bars 2-3" in printed and "real time" in printed


def test_render_whole_file(song, tmp_path):
    out = tmp_path / "all.wav"
    assert cli.main(["render", str(song), str(out)]) == 0
    with wave.open(str(out)) as wav:
        assert wav.getnframes() == round(((15 * 480 + 400) / 960 + 1.5) * 44100)  # to the last note's end


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from-bar", "9"], "--from-bar 9 is outside the piece (bars 1-4)"),
        (["--from-bar", "3", "--to-bar", "2"], "--to-bar 2 comes before --from-bar 3"),
        (["--soundfont", "/nonexistent/x.sf2"], "does not exist"),
        (["--humanize", "1.5"], "--humanize 1.5: use a strength from 0 to 1"),
    ],
)
def test_render_bad_input_is_one_line_and_status_2(song, tmp_path, capsys, arguments, message):
    assert cli.main(["render", str(song), str(tmp_path / "x.wav"), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_render_humanized_sounds_different_from_the_score(song, tmp_path):
    import numpy as np

    plain, human = tmp_path / "plain.wav", tmp_path / "human.wav"
    assert cli.main(["render", str(song), str(plain), "--tail", "0.5"]) == 0
    assert cli.main(["render", str(song), str(human), "--tail", "0.5", "--humanize", "0.5"]) == 0
    with wave.open(str(plain)) as a, wave.open(str(human)) as b:
        first = np.frombuffer(a.readframes(a.getnframes()), np.int16)
        second = np.frombuffer(b.readframes(b.getnframes()), np.int16)
    assert np.abs(second).max() > 0 and not np.array_equal(first[: len(second)], second[: len(first)])


def test_render_refuses_other_formats_and_missing_files(song, tmp_path, capsys):
    assert cli.main(["render", str(song), str(tmp_path / "x.mp3")]) == 2
    assert "only WAV" in capsys.readouterr().err
    assert cli.main(["render", str(tmp_path / "missing.mid"), str(tmp_path / "x.wav")]) == 2
    assert "missing.mid" in capsys.readouterr().err


def test_ports_without_any_midi_system(monkeypatch, capsys):
    monkeypatch.setenv("MAHLERNET_MIDI_API", "jack")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "absent-server-for-this-test")
    assert cli.main(["ports"]) == 0
    assert capsys.readouterr().out.startswith("no MIDI output ports (jack: no JACK server")


def test_ports_lists_a_jack_port(jack_env, capsys, monkeypatch):
    monkeypatch.setenv("MAHLERNET_MIDI_API", "jack")
    receiver = Receiver()
    try:
        receiver.listed()
        assert cli.main(["ports"]) == 0
        assert f"{receiver.name} [jack]" in capsys.readouterr().out
    finally:
        receiver.port.close()


def test_play_to_a_midi_port(jack_env, song, capsys, monkeypatch):
    monkeypatch.setenv("MAHLERNET_MIDI_API", "jack")
    receiver = Receiver()
    try:
        receiver.listed()
        assert cli.main(["play", str(song), "--port", receiver.name, "--from-bar", "4"]) == 0
        messages = receiver.messages(at_least=1 + 4 + 4)  # the program, 4 notes on and off
    finally:
        receiver.port.close()
    assert [m.note for m in messages if m.type == "note_on"] == [60, 61, 62, 63]
    assert messages[0].type == "program_change" and messages[0].program == 40
    assert "bars 4-4" in capsys.readouterr().out


def test_play_without_audio_device_is_a_clear_error(song, capsys, monkeypatch):
    monkeypatch.setenv("MAHLERNET_AUDIO_DRIVER", "nosuchdriver")
    assert cli.main(["play", str(song)]) == 2
    assert "no audio device could be opened" in capsys.readouterr().err


def test_play_through_the_synth_returns_when_the_music_has_played(pulse_env, tmp_path, capsys, monkeypatch):
    """`play` waits for the player to reach the end of the piece (how long that takes on the wall clock
    is the music's length, plus a machine's delays: not checked here)."""
    from core.audio import player as player_module  # noqa: PLC0415

    reached_the_end: list[bool] = []

    class Watched(player_module.Player):
        def finished(self) -> None:
            reached_the_end.append(True)
            super().finished()

    monkeypatch.setattr(player_module, "Player", Watched)
    short = write_midi_file(tmp_path / "short.mid", [(0, 240, 72, 90), (240, 240, 76, 90)])
    assert cli.main(["play", str(short)]) == 0
    assert "through FluidSynth (pulseaudio" in capsys.readouterr().out
    assert reached_the_end == [True]


def test_ctrl_c_stops_with_a_panic(jack_env, song):
    receiver = Receiver()
    # Ctrl-C's own handler first: a suite started in the background by a shell without job control
    # (as some CI runners do) hands its children SIGINT ignored, and Python keeps it ignored.
    script = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from core.cli import main as cli; cli.COMMAND_MODULES = ['core.cli.audio']; sys.exit(cli.main(sys.argv[1:]))"
    )
    env = {**os.environ, "MAHLERNET_MIDI_API": "jack"}
    try:
        receiver.listed()
        process = subprocess.Popen([sys.executable, "-c", script, "play", str(song), "--port", receiver.name],
                                   cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "Ctrl-C stops" in process.stdout.readline()
        receiver.messages(at_least=2)  # the program change and the first note: it is playing
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=PATIENCE_S)
        messages = receiver.messages(at_least=2 + 32)  # and the panic: CC 64 and 123 on 16 channels
    finally:
        receiver.port.close()
    assert process.returncode == 130 and "interrupted" in err
    ons = [m.note for m in messages if m.type == "note_on"]
    offs = [m.note for m in messages if m.type == "note_off"]
    assert 1 <= len(ons) < 16  # stopped before the end of the piece (8 s of music)
    assert set(ons) <= set(offs)  # nothing left sounding
    panic = [(m.channel, m.control) for m in messages if m.type == "control_change"]
    assert sorted(panic) == sorted((c, n) for c in range(16) for n in (64, 123))
