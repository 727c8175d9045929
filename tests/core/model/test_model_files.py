"""Hostile and damaged model files: every check says what is wrong in one line before anything is
built or allocated, a broken card never hides the good models, and a damaged training checkpoint
falls back to the one before it."""

import json
import struct

import pytest
import torch
from safetensors.torch import save as save_tensors

from core.model import card_checks

from core.model import checkpoints
from core.model.batching import PairSet
from core.model.card_checks import CardError, json_depth, network_config, parse_card
from core.cli import main as cli
from core.errors import CheckpointError
from core.generation.models import default_model_path
from core.model.network import MahlerNet, NetworkConfig
from core.training.trainer import Trainer, TrainingConfig
from tests.core.synthetic import random_pieces

TINY = NetworkConfig(encoder_layers=1, encoder_size=8, decoder_layers=1, decoder_size=8, z_dim=4)


def save(folder, name, config=TINY, card_changes=None, tensor_changes=None):
    torch.manual_seed(0)
    model = MahlerNet(config)
    card = checkpoints.make_card(model, name=name, **(card_changes or {}))
    path = checkpoints.save_model(folder / f"{name}.safetensors", model, card)
    if tensor_changes:
        tensors = {k: v.clone() for k, v in model.state_dict().items()}
        tensor_changes(tensors)
        path.write_bytes(save_tensors(tensors, metadata={"card": json.dumps(card)}))
    return path


def with_card(path, card):
    """Rewrite ``path``'s embedded card (weights unchanged)."""
    from safetensors.torch import load

    tensors = load(path.read_bytes())
    path.write_bytes(save_tensors(tensors, metadata={"card": card if isinstance(card, str) else json.dumps(card)}))
    return path


def test_deep_json_is_refused_before_parsing():
    deep = "[" * 100_000 + "]" * 100_000
    assert json_depth(deep) == 100_000 and json_depth('{"a": "[[[[["}') == 1
    with pytest.raises(CardError, match="nested deeper"):
        parse_card(deep)


def test_a_deeply_nested_card_is_a_checkpoint_error(tmp_path):
    path = save(tmp_path, "deep")
    with_card(path, '{"format": "mahlernet-model", "x": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(CheckpointError, match="nested deeper"):
        checkpoints.load_model(path)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("z_dim", 10**9, "z_dim must be a whole number"), ("encoder_layers", True, "encoder_layers"),
     ("decoder_size", 256.0, "decoder_size"), ("encoder_dropout", 1.5, "encoder_dropout"),
     ("context_bars", 0, "context_bars"), ("prior", "magic", "prior"), ("use_context", "yes", "use_context"),
     ("norm_eps", float("nan"), "norm_eps"), ("wings", 2, "unknown network setting")],
)  # fmt: skip
def test_absurd_network_settings_are_refused_before_a_network_is_built(tmp_path, field, value, words, monkeypatch):
    path = save(tmp_path, "absurd")
    card = checkpoints.read_card(path)
    card["network"][field] = value
    with_card(path, card)
    monkeypatch.setattr(checkpoints, "MahlerNet", lambda *a: pytest.fail("a network was built"))
    with pytest.raises(CheckpointError, match=words):
        checkpoints.load_model(path)


def test_tensor_shapes_are_checked_against_the_card_before_any_tensor_is_read(tmp_path, monkeypatch):
    path = save(tmp_path, "mismatch")
    card = checkpoints.read_card(path)
    card["network"]["decoder_size"] = 9
    with_card(path, card)
    monkeypatch.setattr(checkpoints, "_read_tensors", lambda p: pytest.fail("the tensors were read"))
    with pytest.raises(CheckpointError, match="has shape"):
        checkpoints.load_model(path)


def test_a_file_is_size_checked_before_it_is_read(tmp_path, monkeypatch):
    path = save(tmp_path, "big")
    monkeypatch.setattr(checkpoints, "MAX_MODEL_BYTES", 100)
    with pytest.raises(CheckpointError, match="larger than any model"):
        checkpoints.load_model(path)
    header = tmp_path / "lying.safetensors"
    header.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(CheckpointError, match="bad header length"):
        checkpoints.load_model(header)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(tmp_path, bad):
    path = save(tmp_path, "nan", tensor_changes=lambda t: t["mu.weight"].view(-1).__setitem__(3, bad))
    with pytest.raises(CheckpointError, match="tensor mu.weight has NaN or infinite values"):
        checkpoints.load_model(path)


def test_a_broken_card_is_listed_with_its_reason_and_the_good_models_still_work(tmp_path, capsys, monkeypatch):
    good = save(tmp_path, "good")
    broken = save(tmp_path, "broken")
    (tmp_path / "broken.json").write_text('{"format": "mahlernet-model", "network": {"z_dim": 1e9}')  # cut short
    absurd = save(tmp_path, "absurd")
    card = json.loads((tmp_path / "absurd.json").read_text())
    card["network"]["z_dim"] = 10**9
    (tmp_path / "absurd.json").write_text(json.dumps(card))
    found = {info.name: info for info in checkpoints.find_models([tmp_path])}
    assert set(found) == {"good", "broken", "absurd"}
    assert found["good"].usable and "not JSON" in found["broken"].problem and "z_dim" in found["absurd"].problem
    assert found["absurd"].summary().startswith("cannot be used")
    assert default_model_path("continuation", [tmp_path]) == good
    with pytest.raises(CheckpointError, match="z_dim"):
        checkpoints.resolve_model("absurd", [tmp_path])
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["core.cli.models"])
    monkeypatch.setattr(checkpoints, "default_model_folders", lambda: [])
    assert cli.main(["models", "--folder", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "BROKEN" in listing and "2 models cannot be used" in listing and str(broken) in listing
    assert checkpoints.load_model(good)[1]["name"] == "good"


def test_network_config_accepts_every_preset_value():
    assert network_config(NetworkConfig().to_dict()) == NetworkConfig()
    assert network_config(TINY.to_dict()) == TINY
    assert card_checks.MAX_MODEL_BYTES >= 100 * 1024**2  # the paper's size in float32 fits


def test_a_damaged_last_checkpoint_falls_back_to_the_previous_one_and_stale_temporaries_go(tmp_path):
    pairs = PairSet(random_pieces(3, bars=4, seed=1))
    config = TrainingConfig(epochs=2, batch_size=8, validation_ratio=0.2, patience=0, checkpoint_minutes=0)
    run = tmp_path / "run"
    Trainer.start(run, pairs, TINY, config).fit()
    assert (run / "last.safetensors").exists() and (run / "previous.safetensors").exists()
    previous_epoch = checkpoints.load_training_state(run / "previous.safetensors").trainer["epoch"]
    assert previous_epoch == 1
    (run / ".last.safetensors.12345.tmp").write_bytes(b"half a checkpoint")  # a kill between write and rename
    last = run / "last.safetensors"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # a damaged last
    resumed = Trainer.resume(run, pairs, epochs=3)
    assert not list(run.glob("*.tmp")) and not list(run.glob(".*.tmp"))
    assert resumed.state["epoch"] == previous_epoch
    assert len(resumed.warnings) == 1 and "last.safetensors" in resumed.warnings[0]
    resumed.fit()
    assert checkpoints.load_training_state(run / "last.safetensors").trainer["epoch"] == 3
