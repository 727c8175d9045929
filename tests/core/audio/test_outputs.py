"""Opening the outputs chosen in settings: partial failures become reasons, never exceptions."""

from __future__ import annotations

from core.audio.outputs import Outputs, OutputSettings
from core.audio.synth import Synth


def test_nothing_chosen():
    outputs = Outputs(OutputSettings(use_synth=False))
    assert outputs.problems == ["no output chosen: enable the built-in synth or choose a MIDI port"]
    assert outputs.sink.problem == "no output chosen" and outputs.description == "no output"


def test_missing_soundfont_and_missing_port_are_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("MAHLERNET_MIDI_API", "jack")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "absent-server-for-this-test")
    outputs = Outputs(OutputSettings(use_synth=True, soundfont=str(tmp_path / "none.sf2"), midi_port="Piano"))
    problems = outputs.problems
    assert any(p.startswith("built-in synth: ") and "none.sf2" in p for p in problems)
    assert any(p.startswith("MIDI port 'Piano': there are no MIDI output ports") for p in problems)
    assert outputs.synth is None and outputs.midi is None
    outputs.close()


def test_synth_without_device_is_kept_and_retried(monkeypatch):
    monkeypatch.setenv("MAHLERNET_AUDIO_DRIVER", "nosuchdriver")
    outputs = Outputs(OutputSettings(use_synth=True))
    synth = outputs.synth
    assert isinstance(synth, Synth) and synth.audio_driver is None
    assert outputs.problems == ["built-in synth: no audio device could be opened (no driver of nosuchdriver is compiled in)"]
    assert outputs.sink.sinks == (synth,) and outputs.sink.problem is not None
    # applying the same settings again keeps the synth (no reload) and tries the device again
    tried = []
    monkeypatch.setattr(synth, "start", lambda drivers=None: tried.append(drivers))
    outputs.apply(OutputSettings(use_synth=True))
    assert outputs.synth is synth and tried == [None]
    outputs.apply(OutputSettings(use_synth=False))
    assert outputs.synth is None
    outputs.close()
