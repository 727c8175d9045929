"""The training thread's pieces: one-line failure reasons, progress fractions, thread counts, the
per-batch metrics it sends, and a stop asked before the trainer exists."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from app.training.worker import Snapshot, TrainingRequest, TrainingThread, failure_reason, torch_threads
from core.training import runs
from core.errors import DatasetError, TrainingError
from tests.app.training.conftest import WAIT_MS
from tests.core.synthetic import write_dataset
from tests.core.tiny_training import write_tiny_preset


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TrainingError("x: no usable bars to train on"), "x: no usable bars to train on"),
        (DatasetError("/d", "holds no MIDI files (.mid or .midi)"), "/d: holds no MIDI files (.mid or .midi)"),
        (OSError(errno.ENOSPC, "No space left on device", "/runs/a/last.safetensors"),
         "The disk is full: a checkpoint could not be written (last.safetensors). Epochs saved before are kept"),
        (MemoryError(), "Out of memory: try the small size or the CPU"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), "Out of memory"),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"), "Out of memory"),
        (PermissionError(errno.EACCES, "Permission denied", "/r/run.json"), "/r/run.json: Permission denied."),
        (ValueError("odd\nsecond line"), "Training stopped on an error (ValueError: odd). Epochs saved before"),
    ],
)  # fmt: skip
def test_failures_are_told_in_one_line(error, expected):
    reason = failure_reason(error)
    assert reason.startswith(expected) and "\n" not in reason


def test_an_out_of_memory_error_class_is_recognised_by_name():
    class OutOfMemoryError(RuntimeError):  # torch.cuda.OutOfMemoryError, without a GPU to raise it
        pass

    assert failure_reason(OutOfMemoryError("cuda")).startswith("Out of memory")


def test_the_progress_fraction_counts_epochs_and_batches():
    assert Snapshot(1, 4, 0, 10, 0, 0.0, 0.0, None).fraction == 0.0
    assert Snapshot(2, 4, 5, 10, 15, 0.0, 0.0, None).fraction == pytest.approx(0.375)
    assert Snapshot(4, 4, 10, 10, 40, 0.0, 0.0, 0.0).fraction == 1.0
    assert Snapshot(1, 4, 0, 0, 0, 0.0, 0.0, None).fraction == 0.0  # before the first batch is known


def test_training_leaves_the_window_a_core():
    assert torch_threads(1) == 1 and torch_threads(2) == 1 and torch_threads(16) == 15


def test_step_points_carry_each_batchs_own_metrics(qtbot, tmp_path):
    data = write_dataset(tmp_path / "dataset", 3, bars=8)
    preset = write_tiny_preset(tmp_path / "presets", epochs=2, batch_size=4)
    thread = TrainingThread(TrainingRequest(tmp_path / "run", data, preset), threads=1)
    points, epochs, failures = [], [], []
    thread.steps.connect(points.extend)
    thread.epoch_done.connect(epochs.append)
    thread.failed.connect(failures.append)
    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        thread.start()
    assert failures == [] and len(epochs) == 2
    records = runs.read_records(tmp_path / "run")
    assert [p.step for p in points] == [s["step"] for s in records["steps"]]
    assert [p.metrics["loss"] for p in points] == pytest.approx([s["loss"] for s in records["steps"]], abs=1e-4)
    per_epoch = len(points) // 2
    assert points[per_epoch - 1].x == 1.0 and points[-1].x == 2.0
    for point in points:
        assert 0.0 <= point.metrics["pitch_accuracy"] <= 1.0


def test_batch_metrics_are_the_difference_of_the_running_sums():
    from types import SimpleNamespace

    from core.model.objective import Totals

    properties = ("offset", "duration", "pitch", "instrument")
    size = len(Totals(properties).values)
    first = [float(i % 7 + 1) for i in range(size)]
    second = [float(i % 5 + 2) for i in range(size)]
    trainer = SimpleNamespace(state={"totals": first}, records={"steps": [{"loss": 3.5}]},
                              model=SimpleNamespace(config=SimpleNamespace(properties=properties)))  # fmt: skip
    thread = TrainingThread(TrainingRequest(Path("run")))
    thread._trainer = trainer
    step = SimpleNamespace(batch=1, metrics={})
    assert thread._batch_metrics(step) == {**Totals(properties, first).metrics(1.0), "loss": 3.5}
    trainer.state["totals"] = [a + b for a, b in zip(first, second)]
    trainer.records["steps"].append({"loss": 2.25})
    later = thread._batch_metrics(SimpleNamespace(batch=2, metrics={}))
    expected = Totals(properties, second).metrics(1.0)
    assert later["pitch_accuracy"] == pytest.approx(expected["pitch_accuracy"]) and later["loss"] == 2.25
    # a new epoch starts from zero again
    trainer.state["totals"] = second
    fresh = thread._batch_metrics(SimpleNamespace(batch=1, metrics={}))
    assert fresh["offset_accuracy"] == pytest.approx(expected["offset_accuracy"])


def test_a_stop_asked_before_the_run_builds_is_kept(qtbot, tmp_path):
    data = write_dataset(tmp_path / "dataset", 3, bars=8)
    preset = write_tiny_preset(tmp_path / "presets", epochs=5, batch_size=4)
    thread = TrainingThread(TrainingRequest(tmp_path / "run", data, preset), threads=1)
    outcomes = []
    thread.outcome.connect(outcomes.append)
    thread.stop()  # Stop before start: the first epoch is finished, saved, and the run ends
    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        thread.start()
    assert [(o.stopped, o.epochs_done) for o in outcomes] == [("requested", 1)]
    assert runs.read_run(tmp_path / "run").status == "stopped"


def test_a_run_that_cannot_start_fails_with_its_reason(qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    preset = write_tiny_preset(tmp_path / "presets")
    thread = TrainingThread(TrainingRequest(tmp_path / "run", tmp_path / "empty", preset), threads=1)
    failures = []
    thread.failed.connect(failures.append)
    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        thread.start()
    assert failures == [f"{tmp_path / 'empty'}: holds no encoded pieces (*.npz); run `mahlernet preprocess` first"]
    assert not (tmp_path / "run").exists()
