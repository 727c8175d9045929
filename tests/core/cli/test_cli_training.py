"""`mahlernet train`, `evaluate`, `plot` and `models` through the CLI entry point."""

import json
import math

import pytest

from core.training import runs
from core.model.batching import dataset_summary
from core.cli import main as cli
from tests.core.synthetic import write_dataset

MINE = ["core.cli.train", "core.cli.evaluate", "core.cli.plot", "core.cli.models"]
TINY_PRESET = """
description = "a tiny preset for tests"
[network]
use_context = true
encoder_layers = 1
encoder_size = 16
decoder_layers = 1
decoder_size = 16
z_dim = 8
[training]
epochs = 2
batch_size = 8
learning_rate = 0.003
validation_ratio = 0.25
checkpoint_minutes = 0
[full.network]
encoder_size = 24
"""


@pytest.fixture()
def run_cli(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", MINE)
    return lambda *argv: cli.main([str(a) for a in argv])


def test_train_evaluate_plot_and_list(tmp_path, run_cli, capsys, monkeypatch):
    data = write_dataset(tmp_path / "data", 4, bars=8)
    preset = tmp_path / "tiny.toml"
    preset.write_text(TINY_PRESET)
    run = tmp_path / "user" / "runs" / "tiny-run"
    assert run_cli("train", data, run, "--preset", preset, "--threads", "2") == 0
    assert "finished after 2 epochs" in capsys.readouterr().err
    assert run_cli("train", data, run, "--resume", "--epochs", "3") == 0
    assert "epoch 3/3" in capsys.readouterr().err
    assert len(json.loads((run / "records.json").read_text())["epochs"]) == 3
    # The run is the Training window's too: it knows its prepared music and resumes without being told.
    summary = runs.read_run(run)
    assert summary.info["dataset_dir"] == str(data.resolve()) and summary.info["dataset"]["manifest"] == dataset_summary(data)
    runs.resume_run(run, epochs=4).fit()
    assert len(json.loads((run / "records.json").read_text())["epochs"]) == 4

    assert run_cli("evaluate", run, data, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test" and report["bars"] == 8  # a quarter of 32 bars (a random-bar split)
    assert "flatter" in report["split_note"]
    assert set(report["properties"]) == {"offset", "duration", "pitch", "instrument", "velocity"}
    for entry in report["properties"].values():
        assert 0 <= entry["teacher_forced_accuracy"] <= 1 and 0 <= entry["free_running_accuracy"] <= 1
    assert report["kl"] >= 0 and report["nll_per_event"] > 0
    assert run_cli("evaluate", run / "best.safetensors", data, "--split", "all", "--no-free-running") == 0
    assert "NLL per event" in capsys.readouterr().out

    png = tmp_path / "curves.png"
    assert run_cli("plot", run, "--out", png) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    monkeypatch.setenv("MAHLERNET_DATA", str(tmp_path / "user"))
    assert run_cli("export", run, tmp_path / "user" / "models" / "shipped.safetensors") == 0
    assert "wrote" in capsys.readouterr().out
    assert run_cli("models") == 0
    listing = capsys.readouterr().out
    assert "tiny-run" in listing and "shipped" in listing and "continuation" in listing
    assert json.loads((tmp_path / "user" / "models" / "shipped.json").read_text())["dtype"] == "float16"


def test_user_errors_exit_with_status_2(tmp_path, run_cli, capsys):
    data = write_dataset(tmp_path / "data", 2, bars=4)
    assert run_cli("train", data, tmp_path / "run", "--preset", "no-such-preset") == 2
    assert "no preset named 'no-such-preset'" in capsys.readouterr().err
    assert run_cli("train", tmp_path / "missing", tmp_path / "run") == 2
    assert run_cli("train", data, tmp_path / "nothing", "--resume") == 2
    assert run_cli("evaluate", tmp_path / "missing.safetensors", data) == 2
    assert "no such model file" in capsys.readouterr().err
    assert run_cli("plot", tmp_path, "--out", tmp_path / "x.png") == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nno_such_setting = 1\n")
    assert run_cli("train", data, tmp_path / "run2", "--preset", bad) == 2
    assert "no_such_setting" in capsys.readouterr().err


def test_a_preset_may_give_the_kl_settings_per_latent_dimension(tmp_path):
    from core.training.presets import load_preset

    body = "[network]\nz_dim = 64\n[training]\nbeta_max = 0.2\nfree_nats = 10.0\n"
    (tmp_path / "summed.toml").write_text(body)
    (tmp_path / "mean.toml").write_text(body + "kl_per_latent_dimension = true\n")
    summed = load_preset(tmp_path / "summed.toml").training
    assert (summed.beta_max, summed.free_nats) == (0.2, 10.0)  # as written: on the summed KL
    mean = load_preset(tmp_path / "mean.toml").training
    assert (mean.beta_max, mean.free_nats) == (0.2 / 64, 640.0)  # the same loss on the summed KL


def test_the_bundled_presets_load_in_both_sizes():
    from core.training.presets import load_preset, preset_names

    assert {"continuation", "interpolation"} <= set(preset_names())
    for size in ("small", "full"):
        continuation, interpolation = load_preset("continuation", size), load_preset("interpolation", size)
        assert continuation.network.use_context and not interpolation.network.use_context
        # plain KL at a thirty-second of the original's weight (its KL was a mean over dimensions, ours
        # is a sum): the code may carry more of the bar, which the learned prior predicts from the context
        assert continuation.training.beta_max == 0.03125 / continuation.network.z_dim and continuation.training.free_nats == 0
        assert not continuation.training.beta_annealing
        assert continuation.network.encoder_dropout == {"small": 0.1, "full": 0.35}[size]
        # the paper's beta 0.2 and 48 free bits, taken on the mean over dimensions as the original did
        z_dim = interpolation.network.z_dim
        assert interpolation.training.beta_max == pytest.approx(0.2 / z_dim) and interpolation.training.beta_annealing
        assert interpolation.training.free_nats == pytest.approx(48 * math.log(2) * z_dim, rel=1e-3)
        assert continuation.network.use_velocity and interpolation.network.use_velocity
    full = load_preset("continuation", "full").network
    assert (full.encoder_layers, full.encoder_size, full.decoder_size, full.z_dim) == (2, 512, 512, 256)


def test_preprocess_with_the_drum_table_keeps_the_drums_and_stats_name_them(tmp_path, capsys):
    from tests.core.tiny_training import write_groove_folder

    def run_cli(*argv):  # every command (the fixture's are the training ones)
        return cli.main([str(a) for a in argv])

    midi = write_groove_folder(tmp_path / "grooves", count=2)
    assert run_cli("preprocess", midi, tmp_path / "drums", "--instruments", "pop-drums", "--jobs", "1") == 0
    assert json.loads((tmp_path / "drums" / "manifest.json").read_text())["options"]["instruments"] == "pop-drums"
    assert run_cli("dataset-stats", tmp_path / "drums") == 0
    assert "instrument class (2 of 23 used): Drums " in capsys.readouterr().out  # drums and bass
    assert run_cli("preprocess", midi, tmp_path / "plain", "--jobs", "1") == 0
    assert run_cli("dataset-stats", tmp_path / "plain") == 0
    assert "instrument class (1 of 23 used): Bass 100.0%" in capsys.readouterr().out  # drums dropped, as before
    assert run_cli("preprocess", midi, tmp_path / "x", "--instruments", "gamelan") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--instruments gamelan: no such table (known: mahlernet, pop-drums)" in err
