"""Data-parallel training (core/training/distributed.py): shares, shared noise, the torchrun command, and real
2-process gloo runs checked against one process (same steps; resume on another process count)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from core.model.checkpoints import load_training_state
from core.cli.main import main
from core.training.distributed import Cluster, balanced_shares, launch_command, share_costs, shared_noise
from core.errors import TrainingError
from core.preprocess.dataset import preprocess_folder
from tests.core.tiny_training import write_midi_folder, write_tiny_preset


@pytest.mark.parametrize("rows,world", [(8, 2), (9, 2), (7, 3), (2, 2), (130, 4)])
def test_the_shares_of_a_batch_cover_it_once_in_order(rows, world):
    shares = [Cluster(rank, world).share(rows) for rank in range(world)]
    covered = np.concatenate([np.arange(rows)[share] for share in shares])
    assert covered.tolist() == list(range(rows))
    sizes = [share.stop - share.start for share in shares]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def _largest_cost(shares: list[slice], inputs: np.ndarray, contexts: np.ndarray) -> float:
    costs = share_costs(inputs, contexts)
    return max(costs[share.start, share.stop] for share in shares)


@pytest.mark.parametrize("world", [1, 2, 3])
def test_balanced_shares_cover_the_batch_and_cost_the_least_there_is(world):
    import itertools

    rng = np.random.default_rng(world)
    for _ in range(20):
        rows = int(rng.integers(world, 12))
        inputs, contexts = np.sort(rng.integers(1, 60, rows)), rng.integers(1, 120, rows)
        shares = balanced_shares(inputs, contexts, world)
        assert len(shares) == world and shares[0].start == 0 and shares[-1].stop == rows
        assert all(a.stop == b.start for a, b in zip(shares, shares[1:])) and all(s.stop > s.start for s in shares)
        # No other cut into contiguous shares has a cheaper slowest share (all cuts tried).
        best = min(
            _largest_cost([slice(a, b) for a, b in zip((0, *cuts), (*cuts, rows))], inputs, contexts)
            for cuts in itertools.combinations(range(1, rows), world - 1)
        )
        assert _largest_cost(shares, inputs, contexts) == pytest.approx(best)


def test_the_process_with_the_longer_bars_of_a_batch_takes_fewer_of_them():
    inputs = np.linspace(5, 40, 64).astype(int)  # a batch sorted by length
    contexts = np.full(64, 30)
    first, second = balanced_shares(inputs, contexts, 2)
    assert second.stop - second.start < 32 < first.stop - first.start
    assert _largest_cost([first, second], inputs, contexts) < _largest_cost([slice(0, 32), slice(32, 64)], inputs, contexts)
    assert Cluster(1, 2).balanced_share(inputs, contexts) == second and Cluster().balanced_share(inputs, None) == slice(0, 64)


def test_shared_noise_depends_on_its_keys_only():
    whole = shared_noise((1, 0, 3, 7), 10, 4)
    assert torch.equal(whole, shared_noise((1, 0, 3, 7), 10, 4))
    assert not torch.equal(whole, shared_noise((1, 0, 3, 8), 10, 4))
    halves = [whole[Cluster(rank, 2).share(10)] for rank in range(2)]
    assert torch.equal(torch.cat(halves), whole)


def test_the_launch_command_runs_torchrun_on_one_or_several_machines():
    one = launch_command(["train", "data", "run"], 2)
    assert one[1:5] == ["-m", "torch.distributed.run", "--nproc-per-node=2", "--standalone"]
    assert one[-5:] == ["-m", "core.cli.main", "train", "data", "run"]
    several = launch_command(["train", "data", "run"], 4, nodes=2, node_rank=1, endpoint="node0:29400")
    assert "--nnodes=2" in several and "--node-rank=1" in several and "--rdzv-endpoint=node0:29400" in several
    assert "--standalone" not in several
    with pytest.raises(TrainingError, match="rdzv-endpoint"):
        launch_command(["train"], 2, nodes=2)
    with pytest.raises(TrainingError, match="--nproc"):
        launch_command(["train"], 0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ddp")
    write_midi_folder(root / "midi", count=4, bars=12)
    preprocess_folder(root / "midi", root / "data", jobs=1)
    preset = write_tiny_preset(root, "continuation", epochs=2, batch_size=8)
    # A record per step (several processes report every 10 by default), so that steps can be compared.
    preset.write_text(preset.read_text().replace("[training]\n", "[training]\nlog_every = 1\n", 1))
    return root


def _train(root: Path, run: str, *extra: str, preset: str = "continuation.toml") -> None:
    arguments = ["train", str(root / "data"), str(root / run), "--preset", str(root / preset), "--device", "cpu", *extra]
    assert main(arguments) == 0


def _train_on_two_processes(root: Path, run: str, *extra: str, preset: str = "continuation.toml") -> None:
    """``mahlernet train --nproc 2`` as a user runs it: torchrun, two gloo processes."""
    arguments = ["train", str(root / "data"), str(root / run), "--preset", str(root / preset), "--device", "cpu", *extra]
    done = subprocess.run(launch_command(arguments, 2), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes" in done.stderr


def _steps(root: Path, run: str) -> list[dict]:
    return json.loads((root / run / "records.json").read_text())["steps"]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_training_state(path).model.state_dict()


# Batch norm follows z_projection, so the exact gradient of its bias is zero: what it gets is rounding
# noise, which Adam turns into steps of the learning rate's size. It is the one weight left out.
NOISE_ONLY = {"z_projection.bias"}


def _assert_close(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> None:
    assert first.keys() == second.keys()
    for name in first.keys() - NOISE_ONLY:
        torch.testing.assert_close(first[name].float(), second[name].float(), rtol=1e-4, atol=1e-4, msg=name)


def test_two_processes_take_the_steps_of_one_and_resume_on_one(tiny):
    # One process, two epochs: the reference (its `previous` checkpoint is the end of epoch 1).
    _train(tiny, "one", "--threads", "1")
    # Two gloo processes, one epoch: the same global batches give the same steps.
    _train_on_two_processes(tiny, "two", "--epochs", "1")
    one, two = _steps(tiny, "one"), _steps(tiny, "two")
    assert len(two) >= 3 and [s["step"] for s in two] == [s["step"] for s in one[: len(two)]]
    assert [s["loss"] for s in two] == pytest.approx([s["loss"] for s in one[: len(two)]], rel=1e-4)
    _assert_close(_weights(tiny / "one" / "previous.safetensors"), _weights(tiny / "two" / "last.safetensors"))
    epoch_one = json.loads((tiny / "one" / "records.json").read_text())["epochs"][0]
    epoch_two = json.loads((tiny / "two" / "records.json").read_text())["epochs"][0]
    assert epoch_two["val"]["loss"] == pytest.approx(epoch_one["val"]["loss"], rel=1e-4)
    assert epoch_two["train"]["pitch_accuracy"] == pytest.approx(epoch_one["train"]["pitch_accuracy"], abs=1e-6)
    assert all(isinstance(epoch["train_cpu_s"], float) for epoch in (epoch_one, epoch_two))  # the field benchmarks/ddp.py reads
    hardware = json.loads((tiny / "two" / "best.json").read_text())["hardware"]  # written by process 0
    assert "2 processes (meeting through shared memory)" in hardware  # one machine's CPUs (core/training/local_group.py)
    # The run of two processes goes on on one process and ends where the one-process run ended.
    _train(tiny, "two", "--resume", "--epochs", "2", "--threads", "1")
    assert [s["loss"] for s in _steps(tiny, "two")] == pytest.approx([s["loss"] for s in one], rel=1e-4)
    _assert_close(_weights(tiny / "one" / "last.safetensors"), _weights(tiny / "two" / "last.safetensors"))


def _layered_preset(root: Path, name: str, dropout: float) -> str:
    """The tiny preset with two-layer encoders and decoder, one epoch and ``dropout`` everywhere the
    network drops (between LSTM layers, encoder summaries, z, the decoder's output); its file name."""
    text = (root / "continuation.toml").read_text().replace("epochs = 2", "epochs = 1")
    for setting in ("encoder_dropout", "decoder_dropout", "z_dropout"):
        text = text.replace(f"{setting} = 0.0", f"{setting} = {dropout}")
    text = text.replace("encoder_layers = 1", "encoder_layers = 2").replace("decoder_layers = 1", "decoder_layers = 2")
    (root / name).write_text(text)
    return name


def test_with_dropout_two_processes_draw_the_masks_of_one(tiny):
    """Dropout masks are a function of (seed, epoch, batch, row of the global batch), not of the
    process that trains the row: with dropout on, two processes take the steps of one."""
    preset = _layered_preset(tiny, "dropout.toml", 0.3)
    _train(tiny, "drop-one", "--threads", "1", preset=preset)
    _train_on_two_processes(tiny, "drop-two", preset=preset)
    one, two = _steps(tiny, "drop-one"), _steps(tiny, "drop-two")
    assert len(one) >= 3 and [s["step"] for s in two] == [s["step"] for s in one]
    assert [s["loss"] for s in two] == pytest.approx([s["loss"] for s in one], rel=1e-5)
    with_dropout = _weights(tiny / "drop-one" / "last.safetensors")
    _assert_close(with_dropout, _weights(tiny / "drop-two" / "last.safetensors"))
    # The masks are really drawn: the same network without dropout ends far from both (1e-2, not 1e-5).
    _train(tiny, "drop-off", "--threads", "1", preset=_layered_preset(tiny, "no-dropout.toml", 0.0))
    without = _weights(tiny / "drop-off" / "last.safetensors")
    assert max(float((with_dropout[name] - without[name]).abs().max()) for name in with_dropout.keys() - NOISE_ONLY) > 1e-2


def test_each_process_trains_on_its_own_gpu_and_the_cpu_in_full_precision():
    from core.training.trainer import mixed_precision_type

    assert Cluster(1, 2, 1).device_for(torch.device("cuda")) == torch.device("cuda", 1)
    assert Cluster(1, 2, 1).device_for(torch.device("cuda", 0)) == torch.device("cuda", 0)  # named: kept
    assert Cluster().device_for(torch.device("cuda")) == torch.device("cuda")
    assert Cluster(1, 2, 1).device_for(torch.device("cpu")) == torch.device("cpu")
    assert mixed_precision_type(torch.device("cpu")) is None


def test_reporting_every_few_steps_keeps_the_totals_of_reporting_every_step(tmp_path):
    """``log_every`` (the host syncs of the loop, 50 on a GPU) changes how often progress is read
    from the device, never what is trained or measured."""
    from core.model.batching import PairSet
    from core.model.network import NetworkConfig
    from core.training.trainer import Trainer, TrainingConfig
    from tests.core.synthetic import random_pieces

    pairs = PairSet(random_pieces(3, bars=8, seed=4))
    network = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16, z_dim=8)
    results = {}
    for every in (1, 3):
        config = TrainingConfig(epochs=1, batch_size=4, validation_ratio=0.2, patience=0, checkpoint_minutes=0, log_every=every)
        trainer = Trainer.start(tmp_path / f"every{every}", pairs, network, config)
        heard = []
        trainer.callbacks.append(lambda progress: heard.append(progress.batch) if progress.kind == "step" else None)
        results[every] = (trainer.fit().records, heard)
    (each, heard_each), (grouped, heard_grouped) = results[1], results[3]
    steps = len(heard_each)
    assert heard_each == list(range(1, steps + 1))
    assert heard_grouped == [*range(3, steps + 1, 3), *([steps] if steps % 3 else [])]
    assert grouped["epochs"][0]["train"] == pytest.approx(each["epochs"][0]["train"], rel=1e-5)
    assert grouped["epochs"][0]["val"] == pytest.approx(each["epochs"][0]["val"], rel=1e-5)
    # A grouped record holds the mean loss of its steps.
    first = [s["loss"] for s in each["steps"][:3]]
    assert grouped["steps"][0]["loss"] == pytest.approx(sum(first) / 3, rel=1e-4)


def test_ctrl_c_stops_every_process_and_keeps_the_last_checkpoint(tiny):
    import os
    import signal
    import sys
    import time

    from core.training.runs import read_run

    long = tiny / "long.toml"
    long.write_text((tiny / "continuation.toml").read_text().replace("epochs = 2", "epochs = 500"))
    command = [sys.executable, "-m", "core.cli.main", "train", str(tiny / "data"), str(tiny / "long"), "--preset", str(long),
               "--device", "cpu", "--nproc", "2"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600  # a generous limit for a busy machine, not a speed requirement
    while not (tiny / "long" / "last.safetensors").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, errors = process.communicate(timeout=600)
    assert process.returncode == 130, errors[-2000:]
    assert "the last checkpoint is kept" in errors
    run = read_run(tiny / "long")
    assert run.status == "stopped" and 1 <= run.epochs_done < 500
