"""Model files: identical outputs after save/load, fp16 export, refusal of non-checkpoints, registry."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.model import checkpoints
from core.model.batching import PairSet
from core.errors import CheckpointError, ModelNotFoundError
from core.model.network import MahlerNet, NetworkConfig
from tests.core.synthetic import random_pieces

ROOT = Path(__file__).resolve().parents[3]
TINY = NetworkConfig(encoder_layers=1, encoder_size=24, decoder_layers=1, decoder_size=32, z_dim=8, output_norm=True)


def trained_looking_model():
    torch.manual_seed(0)
    model = MahlerNet(TINY)
    with torch.no_grad():  # move every tensor away from its initial value, buffers included
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.1)
    return model.eval()


def outputs(model):
    pairs = PairSet(random_pieces(3, bars=6, seed=2))
    with torch.no_grad():
        return model(pairs.collate(pairs.pairs), sample=False).logits


def test_save_then_load_gives_identical_outputs(tmp_path):
    model = trained_looking_model()
    card = checkpoints.make_card(model, name="demo", metrics={"val_pitch_accuracy": 0.5})
    path = checkpoints.save_model(tmp_path / "demo.safetensors", model, card)
    loaded, loaded_card = checkpoints.load_model(path)
    assert loaded_card["name"] == "demo" and loaded_card["kind"] == "continuation"
    assert json.loads((tmp_path / "demo.json").read_text())["network"] == TINY.to_dict()
    for name, logits in outputs(model).items():
        assert torch.equal(logits, outputs(loaded)[name]), name
    assert not list(tmp_path.glob("*.tmp"))


def test_fp16_export_is_half_the_size_and_loads(tmp_path):
    model = trained_looking_model()
    full = checkpoints.save_model(tmp_path / "full.safetensors", model, checkpoints.make_card(model))
    half = checkpoints.export_model(full, tmp_path / "half.safetensors")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, card = checkpoints.load_model(half)
    assert card["dtype"] == "float16"
    assert all(t.dtype in (torch.float32, torch.int64) for t in loaded.state_dict().values())
    for name, logits in outputs(model).items():
        assert torch.allclose(logits, outputs(loaded)[name], atol=0.05), name


class _Marker:
    """Unpickling this object would create a file: the proof that a loader executed the pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("name", ["model.safetensors", "best.safetensors", "last.safetensors", "model.pt"])
def test_a_pickle_named_like_a_checkpoint_is_refused_unexecuted(tmp_path, name):
    marker = tmp_path / "executed"
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"state_dict": _Marker(marker)}))
    with pytest.raises(CheckpointError, match=name):
        checkpoints.load_model(path)
    with pytest.raises(CheckpointError):
        checkpoints.load_training_state(path)
    with pytest.raises(CheckpointError):
        checkpoints.read_card(path)
    assert not marker.exists()


def test_other_bad_files_fail_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="no such model file"):
        checkpoints.load_model(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="without a MahlerNet model card"):
        checkpoints.load_model(tmp_path / "plain.safetensors")
    model = trained_looking_model()
    card = checkpoints.make_card(model)
    save_file({"x": torch.zeros(2)}, tmp_path / "wrong.safetensors", metadata={"card": json.dumps(card)})
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoints.load_model(tmp_path / "wrong.safetensors")
    checkpoints.save_model(tmp_path / "old.safetensors", model, dict(card, representation_version=0))
    with pytest.raises(CheckpointError, match="representation version 0"):
        checkpoints.load_model(tmp_path / "old.safetensors")
    (tmp_path / "truncated.safetensors").write_bytes((tmp_path / "old.safetensors").read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a safetensors"):
        checkpoints.load_model(tmp_path / "truncated.safetensors")


def test_registry_finds_bundled_files_and_run_folders(tmp_path):
    model = trained_looking_model()
    bundled, user = tmp_path / "models", tmp_path / "data"
    bundled.mkdir()
    checkpoints.save_model(bundled / "classical.safetensors", model, checkpoints.make_card(model, epochs=3))
    run = user / "runs" / "my-run"
    run.mkdir(parents=True)
    checkpoints.save_model(run / "best.safetensors", model, checkpoints.make_card(model, name="my-run"))
    (run / "last.json").write_text("{}")
    (bundled / "junk.json").write_text("not json")
    found = checkpoints.find_models([bundled, user, tmp_path / "nowhere"])
    assert [m.name for m in found] == ["classical", "my-run"]
    assert "continuation" in found[0].summary() and "3 epochs" in found[0].summary()
    evaluated = checkpoints.ModelInfo("m", found[0].path, {"metrics": {"val_pitch_accuracy": 0.5},
                                      "evaluation": {"properties": {"pitch": {"teacher_forced_accuracy": 0.731}}}})  # fmt: skip
    assert "pitch acc 73.1%" in evaluated.summary()  # the evaluation's figure wins over training's
    assert "pitch acc 50.0%" in checkpoints.ModelInfo("m", found[0].path, {"metrics": {"val_pitch_accuracy": 0.5}}).summary()
    assert checkpoints.resolve_model("my-run", [bundled, user]) == run / "best.safetensors"
    assert checkpoints.resolve_model(run, [bundled]) == run / "best.safetensors"
    with pytest.raises(ModelNotFoundError):
        checkpoints.resolve_model("nothing-like-it", [bundled, user])


def test_user_data_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAHLERNET_DATA", str(tmp_path))
    assert checkpoints.user_data_folder() == tmp_path
    monkeypatch.delenv("MAHLERNET_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert checkpoints.user_data_folder() == tmp_path / "xdg" / "MahlerNet Studio"


def test_loading_a_model_does_not_import_torch_dynamo(tmp_path):
    """The shape check's network on the meta device draws no weights: a normal draw there runs through
    torch's Python reference ops, whose first use imports torch._dynamo (over a second at the first
    load, and in the app an import another thread could see half done)."""
    model = trained_looking_model()
    path = checkpoints.save_model(tmp_path / "m.safetensors", model, checkpoints.make_card(model, name="m"))
    code = (
        "import sys\n"
        "from core.model.checkpoints import load_model\n"
        f"load_model({str(path)!r})\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False", done.stderr
