"""Training: overfitting a tiny set, exact resume, a killed run, stop requests, early stopping."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.model import checkpoints
from core.model.batching import PairSet, load_pieces
from core.errors import TrainingError
from core.training.evaluation import evaluate
from core.model.network import NetworkConfig
from core.training.trainer import Stop, Trainer, TrainingConfig, select_device
from tests.core.synthetic import random_pieces, write_dataset

ROOT = Path(__file__).resolve().parents[3]
TINY = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=24, z_dim=8)
QUICK = TrainingConfig(epochs=3, batch_size=8, validation_ratio=0.2, patience=0, checkpoint_minutes=0, learning_rate=3e-3)


def overfit_tiny_set(run_dir: Path) -> tuple[Trainer, PairSet]:
    """Train a small model on 16 bars until it has memorised them (teacher forcing, no KL pressure,
    no dropout; 160 epochs). benchmarks/overfit.py times this."""
    pairs = PairSet(random_pieces(2, bars=8, seed=3))
    network = NetworkConfig(encoder_layers=1, encoder_size=64, decoder_layers=1, decoder_size=128, z_dim=32,
                            encoder_dropout=0, decoder_dropout=0, z_dropout=0)  # fmt: skip
    config = TrainingConfig(epochs=160, batch_size=16, validation_ratio=0, patience=0, learning_rate=1e-2, beta_max=0.0, checkpoint_minutes=0)
    trainer = Trainer.start(run_dir, pairs, network, config)
    trainer.fit()
    return trainer, pairs


@pytest.fixture(scope="module")
def overfit(tmp_path_factory):
    torch.set_num_threads(2)
    return overfit_tiny_set(tmp_path_factory.mktemp("overfit") / "run")


def test_a_tiny_dataset_is_overfit(overfit):
    trainer, pairs = overfit
    report = evaluate(trainer.model, pairs, pairs.pairs, batch_size=16)
    accuracies = {name: entry["teacher_forced_accuracy"] for name, entry in report["properties"].items()}
    assert min(accuracies.values()) > 0.9, accuracies
    # Decoding from its own outputs, the model still reproduces most of what it memorised.
    free = {name: entry["free_running_accuracy"] for name, entry in report["properties"].items()}
    assert min(free.values()) > 0.5, free
    assert report["nll_per_event"] < 2.0


def test_the_best_model_and_records_are_written(overfit):
    trainer, _ = overfit
    run = trainer.run_dir
    records = json.loads((run / "records.json").read_text())
    assert len(records["epochs"]) == 160 and records["steps"][-1]["step"] == 160
    assert records["epochs"][-1]["train"]["pitch_accuracy"] > records["epochs"][0]["train"]["pitch_accuracy"]
    model, card = checkpoints.load_model(run / "best.safetensors")
    assert card["epochs"] >= 1 and card["representation_version"] == 1 and "CPU" in card["hardware"]
    assert card["training"]["learning_rate"] == 1e-2


def weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_resume_equals_an_uninterrupted_run(tmp_path):
    pairs = PairSet(random_pieces(4, bars=8, seed=1))
    # sampling on from the start, and random transpositions: both must replay exactly after a resume
    config = TrainingConfig(**{**QUICK.to_dict(), "scheduled_sampling_rate": 2.0, "transpose": 5})
    whole = Trainer.start(tmp_path / "whole", pairs, TINY, config)
    whole.fit()
    assert whole._transpositions(0, 0, 64).any()
    stopper = lambda p: Stop.AFTER_EPOCH if p.kind == "epoch" and p.epoch == 1 else None  # noqa: E731
    part = Trainer.start(tmp_path / "part", pairs, TINY, config, callbacks=[stopper])
    assert part.fit().stopped == "requested"
    resumed = Trainer.resume(tmp_path / "part", pairs)
    result = resumed.fit()
    assert result.epochs_done == 3 and result.stopped == "finished"
    expected = weights(whole)
    for name, tensor in weights(resumed).items():
        assert torch.equal(tensor, expected[name]), name
    assert [r["loss"] for r in result.records["steps"]] == [r["loss"] for r in whole.records["steps"]]
    assert len(result.records["epochs"]) == 3


def test_stop_now_keeps_the_last_checkpoint(tmp_path):
    pairs = PairSet(random_pieces(4, bars=8, seed=1))
    seen = []

    def callback(progress):
        seen.append(progress.kind)
        if progress.kind == "step" and progress.epoch == 2:
            return Stop.NOW

    trainer = Trainer.start(tmp_path / "run", pairs, TINY, QUICK, callbacks=[callback])
    result = trainer.fit()
    assert result.stopped == "now" and result.epochs_done == 1
    assert seen[0] == "start" and "epoch" in seen
    saved = checkpoints.load_training_state(tmp_path / "run" / "last.safetensors")
    assert saved.trainer["epoch"] == 1 and saved.trainer["batch"] == 0


def test_request_stop_from_outside_finishes_the_epoch(tmp_path):
    pairs = PairSet(random_pieces(4, bars=8, seed=1))
    holder = {}

    def callback(progress):
        if progress.kind == "step" and progress.batch == 1:
            holder["trainer"].request_stop()

    trainer = holder["trainer"] = Trainer.start(tmp_path / "run", pairs, TINY, QUICK, callbacks=[callback])
    result = trainer.fit()
    assert result.stopped == "requested" and result.epochs_done == 1
    assert (tmp_path / "run" / "best.safetensors").exists()


def test_cancel_while_an_epoch_closes_saves_it_and_stops_at_once(tmp_path):
    """A Cancel that lands after the last step of an epoch (during validation or saving) is still a
    cancel: the finished epoch is saved and the run stops there, reported as "now"."""
    pairs = PairSet(random_pieces(4, bars=8, seed=1))
    holder = {}

    def callback(progress):
        if progress.kind == "epoch" and progress.epoch == 1:
            holder["trainer"].request_stop(now=True)

    trainer = holder["trainer"] = Trainer.start(tmp_path / "run", pairs, TINY, QUICK, callbacks=[callback])
    result = trainer.fit()
    assert result.stopped == "now" and result.epochs_done == 1
    saved = checkpoints.load_training_state(tmp_path / "run" / "last.safetensors")
    assert saved.trainer["epoch"] == 1 and saved.trainer["batch"] == 0


def test_early_stopping_waits_for_patience(tmp_path):
    pairs = PairSet(random_pieces(4, bars=8, seed=1))
    config = TrainingConfig(**{**QUICK.to_dict(), "epochs": 20, "patience": 2, "learning_rate": 0.5, "clip_value": 0.0})
    result = Trainer.start(tmp_path / "run", pairs, TINY, config).fit()
    assert result.stopped == "early"
    losses = [r["val"]["loss"] for r in result.records["epochs"]]
    assert result.epochs_done == result.best_epoch + 2
    assert min(losses[result.best_epoch:]) >= losses[result.best_epoch - 1]


def test_bad_starts_fail_clearly(tmp_path):
    pairs = PairSet(random_pieces(2, bars=4))
    Trainer.start(tmp_path / "run", pairs, TINY, QUICK)
    with pytest.raises(TrainingError, match="already holds a run"):
        Trainer.start(tmp_path / "run", pairs, TINY, QUICK)
    with pytest.raises(TrainingError, match="not a resumable run"):
        Trainer.resume(tmp_path / "nothing", pairs)
    with pytest.raises(TrainingError, match="unknown device"):
        select_device("quantum")
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="no CUDA"):
            select_device("cuda")


KILL_SCRIPT = """
import sys
from pathlib import Path
from core.model.batching import PairSet, load_pieces
from core.model.network import NetworkConfig
from core.training.trainer import Trainer, TrainingConfig
pairs = PairSet(load_pieces(sys.argv[1]))
network = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=24, z_dim=8)
config = TrainingConfig(epochs=4, batch_size=4, validation_ratio=0.2, patience=0, checkpoint_minutes=0)
hold = sys.argv[3:] == ["hold"]
def report(progress):
    if progress.kind in ("step", "save"):
        print(progress.kind, progress.epoch, progress.batch, flush=True)
    if hold and (progress.kind, progress.epoch, progress.batch) == ("step", 2, 2):
        sys.stdin.readline()  # stand here, in the middle of epoch 2, until killed
run = Path(sys.argv[2])
trainer = Trainer.resume(run, pairs, callbacks=[report]) if (run / "run.json").exists() else Trainer.start(run, pairs, network, config, callbacks=[report])
trainer.fit()
print("done", flush=True)
"""


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    data = write_dataset(tmp_path / "data", 4, bars=8, seed=6)
    run = tmp_path / "run"
    command = [sys.executable, "-c", KILL_SCRIPT, str(data), str(run)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    process = subprocess.Popen(command + ["hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        for line in process.stdout:  # kill it in the middle of epoch 2 (where it holds), after epoch 1 was saved
            kind, epoch, batch = line.split()
            if kind == "step" and epoch == "2" and batch == "2":
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        process.wait(timeout=60)
        process.stdin.close()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    saved = checkpoints.load_training_state(run / "last.safetensors")
    assert saved.trainer["epoch"] == 1 and saved.trainer["batch"] == 0
    finished = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[0].startswith("step 2 1")  # picks up at epoch 2, batch 1
    records = json.loads((run / "records.json").read_text())
    steps = [r["step"] for r in records["steps"]]
    assert steps == list(range(1, len(steps) + 1))  # no step lost or repeated
    assert [r["epoch"] for r in records["epochs"]] == [1, 2, 3, 4]
    assert not list(run.glob(".*.tmp"))
