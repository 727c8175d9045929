"""The models shipped in models/: each loads, has a card with its measured metrics, and the CLI uses
them without being told (what a fresh clone does with `mahlernet continue` and `interpolate`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.model import checkpoints
from core.cli import main as cli
from core.generation import Controls, continue_piece, default_model_path, load_for
from core.midi.files import read_midi, write_midi
from core.representation.instruments import MAHLERNET, POP_DRUMS
from tests.core.tiny_training import groove

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
DEMO = ROOT / "resources" / "demo.mid"
KINDS = ("continuation", "interpolation")


@pytest.fixture(autouse=True)
def no_user_models(monkeypatch, tmp_path):
    """Only the bundled folder counts: the user's own models live elsewhere for these tests."""
    monkeypatch.setenv("MAHLERNET_DATA", str(tmp_path / "user data"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_bundled_model_loads_and_its_card_holds_the_measured_metrics(kind):
    path = MODELS / f"classical-{kind}.safetensors"
    assert path.stat().st_size <= 15e6  # the small size's limit
    model, card = checkpoints.load_model(path)
    assert card == json.loads(path.with_suffix(".json").read_text())  # the card beside it is the same
    assert card["kind"] == kind and model.config.use_context == (kind == "continuation")
    assert card["dtype"] == "float16" and card["preset"] == kind and card["size"] == "small"
    assert card["data"]["dataset"]["bars"] > 30_000 and "licence" in card["data"]
    pitch = card["evaluation"]["properties"]["pitch"]
    assert card["evaluation"]["split"] == "test" and 0 < pitch["teacher_forced_accuracy"] <= 1
    assert 0 < pitch["free_running_accuracy"] <= 1 and card["evaluation"]["kl"] >= 0
    assert card["quality_bar"]["goals"]["teacher_forced_pitch_accuracy"]["value"] == pitch["teacher_forced_accuracy"]
    assert ("continuation" in card["musicality"]) == (kind == "continuation")  # the benchmark beside the baselines
    assert card["generation"]["in_playable_range"] >= 0.99 and card["generation"]["bars_filled_exactly"] == 1.0
    assert card["epochs"] >= 1 and card["training_time_s"] > 0 and card["hardware"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_bundled_model_is_the_default_for_its_job(kind):
    _model, card = load_for(kind)
    assert card["name"] == f"classical-{kind}"


def test_a_fresh_clone_continues_and_interpolates_with_no_model_argument(tmp_path, capsys):
    out = tmp_path / "out.mid"
    assert cli.main(["continue", str(DEMO), "--from-bar", "4", "--bars", "8", "--out", str(out)]) == 0
    continued, demo = read_midi(out), read_midi(DEMO)
    assert [continued.bar(n) for n in range(1, 13)] == [demo.bar(n) for n in range(1, 13)]  # the demo's grid
    new_starts = [n.start for t in continued.tracks for n in t.notes if n.start >= demo.bar(5).start]
    assert new_starts and max(new_starts) < demo.bar(12).end  # new notes start within bars 5-12

    morph = tmp_path / "morph.mid"
    assert cli.main(["interpolate", str(DEMO), "--bar-a", "9", "--bar-b", "12", "--steps", "4", "--out", str(morph)]) == 0
    assert read_midi(morph).bar_count == 6  # bar A, four steps, bar B

    assert cli.main(["models"]) == 0
    listed = capsys.readouterr().out
    for kind in KINDS:
        assert f"classical-{kind}" in listed and f"preset {kind}/small" in listed


def test_the_classical_models_know_no_drums_and_say_so_for_a_piece_with_drums(tmp_path, capsys):
    for kind in KINDS:
        model, card = checkpoints.load_model(MODELS / f"classical-{kind}.safetensors")
        assert "instruments" not in card["network"] and model.config.instrument_table is MAHLERNET
    song = tmp_path / "groove.mid"
    write_midi(groove(bars=8), song)
    out = tmp_path / "out.mid"
    assert cli.main(["continue", str(song), "--from-bar", "4", "--bars", "2", "--out", str(out)]) == 0
    # two context bars and the seed bar, 12 hits each and a crash on bar 1
    assert "note: drums not continued: bars 2-4 play 36 drum notes (channel 10)" in capsys.readouterr().out
    assert not [n for t in read_midi(out).tracks if t.is_drum for n in t.notes if n.start >= 4 * 1920]


def test_the_drum_model_knows_its_drums_and_keeps_them_on_channel_10():
    path = MODELS / "pop-game-continuation.safetensors"
    assert path.stat().st_size <= 25e6
    model, card = checkpoints.load_model(path)
    assert card == json.loads(path.with_suffix(".json").read_text())
    assert card["network"]["instruments"] == "pop-drums" and model.config.instrument_table is POP_DRUMS
    assert card["training"]["transpose"] == 0 and card["dtype"] == "float16" and card["kind"] == "continuation"
    assert card["data"]["licence"].startswith("GPL-2.0") and "openttd-openmsx" in card["data"]["recipe"]
    assert card["dataset"]["bars"] > 1_500 and card["data"]["dataset"]["files"] == 31  # all of OpenMSX
    split = card["split"]
    assert split["test"] and not set(split["test"]) & (set(split["train"]) | set(split["validation"]))
    assert card["drums"]["held_out"] and card["drums"]["total"]["new_bars"] > 0
    assert card["quality_bar"]["goals"]["new_bars_with_drums"]["met"]  # >= 90% of new bars keep drums
    result = continue_piece(model, groove(bars=8, seed=3), 4, 4, variations=2, controls=Controls(seed=0))
    kit = [n for v in result.variations for t in v.fragment.tracks if t.is_drum for n in t.notes]
    assert result.notes == () and kit and all(35 <= n.pitch <= 81 for n in kit)


def test_the_classical_models_stay_the_default_beside_the_drum_model():
    assert default_model_path("continuation").name == "classical-continuation.safetensors"
