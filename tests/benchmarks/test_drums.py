"""benchmarks/drums.py end to end on tiny models and a corpus of grooves: the share of new bars
with drums, beside the real bars', on the works the card holds out."""

import importlib.util
import json
import sys
from pathlib import Path

import torch

from core.model import checkpoints
from core.model.network import MahlerNet, NetworkConfig
from tests.core.tiny_training import groove, write_groove_folder

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("drums_benchmark", ROOT / "benchmarks" / "drums.py")
benchmark = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = benchmark  # dataclasses look their module up
spec.loader.exec_module(benchmark)


def tiny_model(path: Path, instruments: str, test_works: list[str]) -> Path:
    torch.manual_seed(0)
    config = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16, z_dim=8, instruments=instruments)
    model = MahlerNet(config).eval()
    card = checkpoints.make_card(model, name=path.stem, split={"train": [], "validation": [], "test": test_works})
    checkpoints.save_model(path, model, card)
    return path


def test_seed_bars_play_drums_and_leave_room_for_the_real_bars():
    song = groove(bars=12)
    assert benchmark.drums_per_bar(song, 1, 5) == [13, 12, 12, 12, 13]  # a crash on bars 1 and 5
    seeds = benchmark.seed_bars(song, bars=4, places=3)
    assert len(seeds) == 3 and all(3 <= b <= 8 for b in seeds)


def test_the_benchmark_counts_new_bars_with_drums_on_held_out_works(tmp_path, capsys):
    corpus = write_groove_folder(tmp_path / "corpus", count=3, bars=12)
    works = [p.stem for p in sorted(corpus.glob("*.mid"))][:2]
    drummer = tiny_model(tmp_path / "drummer.safetensors", "pop-drums", works)
    argv = [str(corpus), "--bars", "4", "--variations", "2", "--places", "2", "--json"]
    assert benchmark.main(argv + ["--model", str(drummer)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["held_out"] and sorted(report["works"]) == [f"{w}.mid" for w in works]  # only the test works
    total = report["total"]
    assert total["new_bars"] == 2 * 2 * 4 * 2 and total["real_bars_with_drums"] == 1.0
    assert 0.0 <= total["new_bars_with_drums"] <= 1.0 and total["drum_notes_on_gm_keys"] == 1.0
    assert report["instruments"] == "pop-drums" and report["notes"] == []
    classical = tiny_model(tmp_path / "classical.safetensors", "mahlernet", [])  # a card of other works
    assert benchmark.main(argv + ["--model", str(classical), "--split-from", str(drummer)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split_from"] == "drummer" and sorted(report["works"]) == [f"{w}.mid" for w in works]
    assert report["total"]["new_bars_with_drums"] == 0.0 and report["total"]["drum_notes_per_new_bar"] == 0.0
    assert report["total"]["drum_notes_on_gm_keys"] is None  # no drum note to look at
    assert len(report["notes"]) >= 1 and all(n.startswith("drums not continued") for n in report["notes"])
