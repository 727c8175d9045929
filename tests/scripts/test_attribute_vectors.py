"""scripts/attribute_vectors.py: vectors from the training works, the table on the test works, both
stored with the model (the weights unchanged, the card beside them equal to the one inside)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from core.model.checkpoints import load_model, make_card, save_model
from core.model.attributes import ATTRIBUTES, AttributeVectors, vectors_path
from core.midi.files import write_midi
from core.preprocess.dataset import preprocess_folder
from tests.core.generation.helpers import random_model
from tests.core.tiny_training import tune

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "attribute_vectors.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("attribute_vectors", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_stores_vectors_and_a_card_entry(script, tmp_path, capsys):
    midi = tmp_path / "midi"
    midi.mkdir()
    for index in range(5):
        write_midi(tune(8, seed=index, numerator=3 if index == 4 else 4), midi / f"tune{index}.mid")
    preprocess_folder(midi, tmp_path / "data", jobs=1)
    model = random_model(seed=4, use_context=True)
    split = {"train": ["tune0", "tune1", "tune2"], "validation": [], "test": ["tune3", "tune4"]}
    path = save_model(tmp_path / "m.safetensors", model, make_card(model, name="m", split=split), half=True)
    before = {k: v.clone() for k, v in load_model(path)[0].state_dict().items()}

    assert script.main([str(path), str(tmp_path / "data"), "--test-bars", "6"]) == 0
    printed = capsys.readouterr().out
    assert "| vector (+1.5) | density | register" in printed
    vectors = AttributeVectors.load(vectors_path(path))
    assert vectors.names == ATTRIBUTES and vectors.z_dim == model.config.z_dim
    reloaded, card = load_model(path)
    assert card == json.loads(path.with_suffix(".json").read_text())
    entry = card["attributes"]
    assert entry["file"] == "m.attributes.safetensors" and entry["test_bars"] == 6
    assert "24 bars of the training works" in entry["computed_from"]  # 3 tunes x 8 bars
    assert set(entry["change_sd"]) == set(ATTRIBUTES) and set(entry["goal"]) == set(ATTRIBUTES)
    assert len(entry["table_markdown"]) == 8
    for name, tensor in reloaded.state_dict().items():
        assert torch.equal(tensor, before[name])  # the weights are rewritten unchanged

    # measured again, e.g. after a change to the sampler: the same vectors, a fresh table, the recipe kept
    stored = vectors_path(path).read_bytes()
    entry["table_markdown"] = ["an old table"]
    save_model(path, reloaded, card, half=True)
    assert script.main([str(path), str(tmp_path / "data"), "--test-bars", "6", "--measure-only"]) == 0
    again = load_model(path)[1]["attributes"]
    assert vectors_path(path).read_bytes() == stored
    assert len(again["table_markdown"]) == 8 and again["table_markdown"] != ["an old table"]
    assert {k: again[k] for k in ("recipe", "computed_from", "reproduce")} == {k: entry[k] for k in ("recipe", "computed_from", "reproduce")}
    assert again["change_sd"] == entry["change_sd"]  # the same vectors, bars and seeds: the same table


def test_the_mix_recipe_names_itself_in_the_card(script, tmp_path, capsys):
    midi = tmp_path / "midi"
    midi.mkdir()
    for index in range(4):
        write_midi(tune(8, seed=10 + index), midi / f"tune{index}.mid")
    preprocess_folder(midi, tmp_path / "data", jobs=1)
    model = random_model(seed=5, use_context=True)
    split = {"train": ["tune0", "tune1"], "validation": [], "test": ["tune2", "tune3"]}
    path = save_model(tmp_path / "m.safetensors", model, make_card(model, name="m", split=split), half=True)
    assert script.main([str(path), str(tmp_path / "data"), "--test-bars", "4", "--train-bars", "10", "--mix-bars", "4", "--recipe", "mix"]) == 0
    assert "mix step 1: the goal met for" in capsys.readouterr().out
    entry = load_model(path)[1]["attributes"]
    assert "mixed by the inverse of their table" in entry["recipe"] and "(4 other training bars)" in entry["recipe"]
    assert entry["reproduce"].endswith("--recipe mix")
    assert AttributeVectors.load(vectors_path(path)).vectors.shape == (len(ATTRIBUTES), model.config.z_dim)


def test_measuring_a_model_without_vectors_is_one_line_and_status_2(script, tmp_path, capsys):
    model = random_model(seed=6, use_context=True)
    path = save_model(tmp_path / "bare.safetensors", model, make_card(model, name="bare"), half=True)
    assert script.main([str(path), str(tmp_path / "data"), "--measure-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bare.safetensors has no attribute vectors" in err


def test_a_model_file_that_is_not_one_is_one_line_and_status_2(script, tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    assert script.main([str(junk), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "junk.safetensors" in err
