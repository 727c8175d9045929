"""Settings persist between sessions; mute and solo decide what sounds."""

from __future__ import annotations

import pytest

from app.settings import MAX_RECENT, AppSettings
from app.track_state import TrackState, audible, audible_score, states_for
from tests.app.pieces import quartet


def test_settings_survive_a_restart(settings_path, tmp_path):
    first = AppSettings(settings_path)
    first.soundfont = "/sounds/piano.sf2"
    first.midi_port = "Synth input [alsa]"
    first.device = "gpu"
    first.last_folder = str(tmp_path)
    first.set_model("continuation", "classical-continuation")
    for index in range(MAX_RECENT + 2):
        first.add_recent_file(tmp_path / f"piece{index}.mid")
    first.add_recent_file(tmp_path / "piece3.mid")
    first.sync()

    again = AppSettings(settings_path)
    assert (again.soundfont, again.midi_port, again.device) == ("/sounds/piano.sf2", "Synth input [alsa]", "gpu")
    assert again.last_folder == str(tmp_path)
    assert again.model("continuation") == "classical-continuation" and again.model("interpolation") == ""
    recent = again.recent_files
    assert len(recent) == MAX_RECENT and recent[0].endswith("piece3.mid") and recent.count(recent[0]) == 1
    with pytest.raises(ValueError):
        again.device = "tpu"


def test_solo_wins_over_mute_and_states_follow_the_tracks():
    states = [TrackState("#111111"), TrackState("#222222", muted=True), TrackState("#333333")]
    assert audible(states) == [True, False, True]
    states[2] = TrackState("#333333", solo=True)
    assert audible(states) == [False, False, True]
    score = quartet()
    grown = states_for(score, states)
    assert grown[:3] == states and len(grown) == 4 and grown[3].color  # the new track got a colour
    assert [t.name for t in audible_score(score, grown).tracks] == ["Cello"]
