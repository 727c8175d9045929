"""With no sound server, no sound card and no MIDI system, everything says why and nothing crashes.

Runs in a fresh interpreter whose environment points PulseAudio and JACK at servers that do not
exist and gives ALSA an empty configuration (so even a machine with a sound card has no device)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json
from core.audio.midi_out import list_output_ports
from core.audio.outputs import OutputSettings, Outputs
from core.audio.player import Player
from core.audio.synth import Synth
from core.music.score import Note, Score, Track

score = Score(480, (Track("a", 0, 0, (Note(0, 480, 60, 90),)),))
result = {}
synth = Synth()
result["start"] = synth.start()
result["driver"] = synth.audio_driver
result["synth_problem"] = synth.audio_problem
synth.note_on(0, 60, 100)  # a synth without a device still takes notes
synth.close()
listing = list_output_ports()
result["ports"] = listing.names
result["midi_reason"] = listing.reason
outputs = Outputs(OutputSettings(use_synth=True, midi_port="Some Synth"))
result["problems"] = outputs.problems
errors = []
player = Player(outputs.sink, on_error=errors.append)
result["played"] = player.play(score)
result["keyed"] = player.sound_note(60)
result["state"] = player.state.value
result["errors"] = errors
player.close()
outputs.close()
print(json.dumps(result))
"""


def test_no_audio_device_and_no_midi_system(tmp_path):
    empty = tmp_path / "empty-alsa.conf"
    empty.write_text("")
    env = {
        **os.environ,
        "PULSE_SERVER": f"unix:{tmp_path / 'no-pulse-here'}",
        "JACK_DEFAULT_SERVER": f"absent-{uuid.uuid4().hex[:8]}",
        "JACK_NO_START_SERVER": "1",
        "ALSA_CONFIG_PATH": str(empty),
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    for name in ("MAHLERNET_AUDIO_DRIVER", "MAHLERNET_MIDI_API"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["start"] is None and result["driver"] is None
    assert result["synth_problem"].startswith("no audio device could be opened")
    assert "pulseaudio" in result["synth_problem"] and "alsa" in result["synth_problem"]
    assert result["ports"] == [] and "alsa" in result["midi_reason"]
    assert any("built-in synth: no audio device" in p for p in result["problems"])
    assert any("Some Synth" in p for p in result["problems"])
    assert result["played"] is False and result["keyed"] is False and result["state"] == "stopped"
    assert len(result["errors"]) == 1 and "no audio device" in result["errors"][0]
    # probing for devices is quiet: the C libraries' complaints went to logging, not to the terminal
    assert "ALSA lib" not in done.stderr and "Cannot connect to server" not in done.stderr, done.stderr
