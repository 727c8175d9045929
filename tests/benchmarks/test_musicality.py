"""benchmarks/musicality.py end to end on a tiny model and a tiny corpus: the table holds the model
and every baseline, on the works the card holds out."""

import importlib.util
import json
import sys
from pathlib import Path

import torch

from core.model import checkpoints
from core.model.network import MahlerNet, NetworkConfig
from tests.core.tiny_training import write_midi_folder

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("musicality_benchmark", ROOT / "benchmarks" / "musicality.py")
benchmark = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = benchmark  # dataclasses look their module up
spec.loader.exec_module(benchmark)


def tiny_model(path: Path, context: bool, test_works: list[str]) -> Path:
    torch.manual_seed(0)
    config = NetworkConfig(use_context=context, encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16, z_dim=8,
                           prior="learned" if context else "standard")  # fmt: skip
    model = MahlerNet(config).eval()
    card = checkpoints.make_card(model, name=path.stem, split={"train": [], "validation": [], "test": test_works})
    checkpoints.save_model(path, model, card)
    return path


def test_the_benchmark_reports_the_model_beside_every_baseline(tmp_path, capsys):
    corpus = write_midi_folder(tmp_path / "corpus", count=4, bars=12)
    works = [p.stem for p in sorted(corpus.glob("*.mid"))]
    continuation = tiny_model(tmp_path / "cont.safetensors", True, works[:3])
    interpolation = tiny_model(tmp_path / "interp.safetensors", False, works[:3])
    argv = ["--corpus", str(corpus), "--model", str(continuation), "--interpolation-model", str(interpolation),
            "--works", "3", "--places", "1", "--bars", "4", "--variations", "2"]  # fmt: skip
    assert benchmark.main(argv + ["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["held_out"] and set(report["works"]) <= set(works[:3]) and report["places"] == 3
    table = report["continuation"]
    assert set(table) == {"model", "seed repeated", "other work transposed", "real continuation"}
    assert table["real continuation"]["density"] == 1.0 and 0.0 <= table["model"]["foreign"] <= 1.0
    assert 0.0 <= report["interpolation"]["endpoint_note_f1"] <= 1.0
    assert benchmark.main(argv) == 0
    text = capsys.readouterr().out
    assert "| notes in the real continuation's key |" in text and "seed repeated" in text
