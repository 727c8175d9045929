"""The Training window end to end: prepare a folder, train, stop, cancel, resume, fine-tune, rename
and delete, clear reasons for bad folders and failures, and a window that keeps ticking."""

from __future__ import annotations

import errno
import json
import threading

import pytest
from PySide6.QtCore import QTimer

from app.training.controller import TrainingChoice
from core.model import checkpoints
from core.training import runs
from tests.app.training.conftest import WAIT_MS, prepare, tiny_presets, wait_training
from tests.core.tiny_training import write_junk_folder, write_midi_folder


def train(qtbot, window, **choice) -> None:
    window.choices.set_choice(TrainingChoice(**{"name": "mine", **choice}))
    assert window.train_button.isEnabled(), window.message.text()
    window.train_button.click()
    assert window.controller.training
    wait_training(qtbot, window)


def test_a_tiny_folder_is_prepared_reported_and_trained_into_a_model(qtbot, make_window, music, data):
    window = make_window()
    assert not window.train_button.isEnabled()  # nothing prepared yet
    prepare(qtbot, window, music)
    report = window.controller.report
    assert report is not None and report.usable and (report.files, report.used, report.bars) == (3, 3, 24)
    expected = f"3 files: 3 used, 0 skipped; 24 bars, {report.events:,} events"
    assert window.music.headline.text() == report.headline() == expected
    details = window.music.details.toPlainText()
    assert "Meters (bars): 4/4 16, 3/4 8" in details and "Instruments (notes):" in details
    assert window.choices.name.text() == "My Songs"  # suggested from the folder
    assert "Only 24 bars: fine-tuning a trained model would learn more" in window.choices.hint.text()

    train(qtbot, window, name="My Songs", epochs=1)
    ended = window.controller.ended
    assert ended.outcome is not None and ended.outcome.stopped == "finished", ended.reason
    run = runs.read_run(data / "runs" / "My Songs")
    assert (run.status, run.epochs_done, run.has_model, run.kind) == ("finished", 1, True, "continuation")
    assert run.info["midi_folder"] == str(music)
    assert [m.name for m in checkpoints.find_models([checkpoints.user_data_folder()])] == ["My Songs"]
    assert "My Songs" in [m.name for m in checkpoints.find_models(checkpoints.default_model_folders())]
    assert "My Songs is ready: pick it in the Continue panel" in window.message.text()
    tree = window.run_list.tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == ["My Songs"]
    assert window.run_list.current().name == "My Songs"
    # its history is on the curves: one training and one validation point for the epoch
    assert window.curves.values("val_loss")[0] == [1.0] and window.curves.values("train_pitch")[0] == [1.0]
    assert 0 <= window.curves.values("val_pitch")[1][0] <= 100


def test_live_curves_and_progress_follow_the_steps(qtbot, make_window, music, tmp_path):
    window = make_window(presets=tiny_presets(tmp_path / "p2", epochs=2, batch_size=2))
    prepare(qtbot, window, music)
    seen = {"snapshots": [], "steps": 0, "epochs": []}
    window.controller.snapshot.connect(seen["snapshots"].append)
    window.controller.steps.connect(lambda points: seen.__setitem__("steps", seen["steps"] + len(points)))
    window.controller.epoch_done.connect(lambda record: seen["epochs"].append(record["epoch"]))
    steps_drawn = []
    window.controller.epoch_done.connect(lambda _r: steps_drawn.append(len(window.curves.values("train_loss")[0])))
    train(qtbot, window, epochs=2)
    records = runs.read_records(window.controller.runs_dir / "mine")
    assert seen["epochs"] == [1, 2]
    assert seen["steps"] == len(records["steps"]) == records["steps"][-1]["step"]
    assert steps_drawn and steps_drawn[0] > 1  # step points were drawn before the first epoch ended
    last = seen["snapshots"][-1]
    assert (last.epoch, last.epochs, last.step) == (2, 2, records["steps"][-1]["step"]) and last.fraction == 1.0
    assert last.events_per_second > 0
    assert "Epoch 2 of 2" in window.stats.text() or "2 of 2 epochs" in window.stats.text()


def test_stop_finishes_the_epoch_and_resume_goes_on(qtbot, make_window, music, tmp_path):
    window = make_window(presets=tiny_presets(tmp_path / "p3", epochs=3))
    prepare(qtbot, window, music)
    window.controller.epoch_done.connect(lambda record: record["epoch"] == 1 and window.stop_button.click())
    train(qtbot, window)
    assert window.controller.ended.outcome.stopped == "requested"
    run = runs.read_run(window.controller.runs_dir / "mine")
    assert (run.status, run.epochs_done, run.resumable) == ("stopped", 1, True)
    assert "stopped after the epoch" in window.run_title.text()
    assert window.run_list.current().name == "mine" and window.run_list.resume_button.isEnabled()

    window.run_list.resume_button.click()
    assert window.controller.training
    assert not window.run_list.resume_button.isEnabled() and not window.run_list.delete_button.isEnabled()
    wait_training(qtbot, window)
    assert window.controller.ended.outcome.stopped == "finished"
    run = runs.read_run(run.path)
    assert (run.status, run.epochs_done) == ("finished", 3)
    assert [e["epoch"] for e in runs.read_records(run.path)["epochs"]] == [1, 2, 3]
    assert window.curves.values("val_loss")[0] == [1.0, 2.0, 3.0]
    assert not window.run_list.resume_button.isEnabled()  # finished: nothing to resume


def test_cancel_stops_at_once_and_keeps_the_last_checkpoint(qtbot, make_window, music, tmp_path):
    window = make_window(presets=tiny_presets(tmp_path / "p4", epochs=50, batch_size=2))
    prepare(qtbot, window, music)

    def cancel_inside_the_third_epoch(points) -> None:
        if any(2 < p.x < 3 for p in points) and window.cancel_button.isEnabled():
            window.cancel_button.click()

    window.controller.steps.connect(cancel_inside_the_third_epoch)
    train(qtbot, window)
    assert window.controller.ended.outcome.stopped == "now"
    run = runs.read_run(window.controller.runs_dir / "mine")
    assert run.status == "stopped" and 2 <= run.epochs_done < 50
    assert runs.read_records(run.path)["steps"][-1]["epoch"] == run.epochs_done  # no step of the cut epoch
    state = checkpoints.load_training_state(run.path / "last.safetensors")
    assert state.trainer["epoch"] == run.epochs_done  # the checkpoint of the last finished epoch
    assert "cancelled; the last saved epoch is kept" in window.run_title.text()


def test_a_folder_of_junk_gets_a_clear_report_and_no_train_button(qtbot, make_window, tmp_path):
    window = make_window()
    prepare(qtbot, window, write_junk_folder(tmp_path / "junk"))
    report = window.controller.report
    assert report is not None and not report.usable
    assert "no usable bars" in window.music.headline.text()
    details = window.music.details.toPlainText()
    for name in ("noise.mid", "empty.midi", "drums.mid"):
        assert f"  {name}: " in details
    assert "No usable bars in this folder" in window.message.text()
    window.choices.name.setText("anything")
    assert not window.train_button.isEnabled()
    window.controller.train(TrainingChoice("anything"))
    assert "no usable bars" in window.message.text()
    assert not (window.controller.runs_dir / "anything").exists()


def test_an_empty_folder_is_a_one_line_reason(qtbot, make_window, tmp_path):
    window = make_window()
    (tmp_path / "nothing here").mkdir()
    prepare(qtbot, window, tmp_path / "nothing here")
    assert window.controller.report is None
    assert window.message.text() == f"{tmp_path / 'nothing here'}: holds no MIDI files (.mid or .midi)"
    assert window.music.headline.text() == window.message.text()
    assert not window.train_button.isEnabled()


def test_a_full_disk_while_saving_is_told_and_loses_nothing(qtbot, make_window, music, tmp_path, monkeypatch):
    window = make_window(presets=tiny_presets(tmp_path / "p5", epochs=3))
    prepare(qtbot, window, music)
    real = checkpoints.save_training_state
    calls = []

    def full_on_the_second_save(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_training_state", full_on_the_second_save)
    train(qtbot, window)
    ended = window.controller.ended
    assert ended.outcome is None
    assert window.message.text() == ended.reason == (
        "The disk is full: a checkpoint could not be written (last.safetensors). "
        "Epochs saved before are kept: Resume goes on from there."
    )
    run = runs.read_run(window.controller.runs_dir / "mine")
    assert (run.status, run.epochs_done, run.has_model) == ("stopped", 1, True)
    checkpoints.load_model(run.model_path)  # the best model of epoch 2 or 1 is whole
    monkeypatch.setattr(checkpoints, "save_training_state", real)
    window.run_list.select("mine")
    window.run_list.resume_button.click()
    wait_training(qtbot, window)
    assert runs.read_run(run.path).status == "finished"


def test_running_out_of_memory_is_told_in_one_line(qtbot, make_window, music, monkeypatch):
    from core.training.trainer import Trainer

    window = make_window()
    prepare(qtbot, window, music)

    def no_memory(self, *args):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 8 GiB total)")

    monkeypatch.setattr(Trainer, "_train_step", no_memory)
    train(qtbot, window)
    assert window.message.text().startswith("Out of memory: try the small size or the CPU")
    assert "\n" not in window.message.text()
    assert runs.read_run(window.controller.runs_dir / "mine").status == "new"


def test_names_are_checked_before_a_run_starts(qtbot, make_window, music):
    window = make_window()
    prepare(qtbot, window, music)
    window.choices.name.setText("bad/name")
    window.train_button.click()
    assert not window.controller.training and "cannot hold '/'" in window.message.text()
    train(qtbot, window, name="taken")
    window.choices.name.setText("Taken")
    window.train_button.click()
    assert not window.controller.training and "a model of this name exists already" in window.message.text()


def test_fine_tuning_starts_from_the_chosen_model(qtbot, make_window, music, tmp_path):
    window = make_window()
    qtbot.waitUntil(lambda: window.controller.setup is not None, timeout=WAIT_MS)
    assert not window.choices.fine_tune.isEnabled()  # no model of this kind yet
    prepare(qtbot, window, music)
    train(qtbot, window, name="base")
    qtbot.waitUntil(lambda: window.choices.base.count() == 1, timeout=WAIT_MS)  # the set-up looked again
    assert window.choices.fine_tune.isEnabled() and window.choices.base.itemText(0) == "base (yours)"
    base = window.controller.runs_dir / "base" / "best.safetensors"
    train(qtbot, window, name="tuned", base_model=base, size="full")
    info = runs.read_run(window.controller.runs_dir / "tuned").info
    assert info["init_from"] == str(base) and info["fine_tuned_from"] == "base"
    assert info["network"] == runs.read_run(window.controller.runs_dir / "base").info["network"]  # not the full size


def test_rename_and_delete_from_the_run_list(qtbot, make_window, music, data):
    window = make_window()
    prepare(qtbot, window, music)
    train(qtbot, window, name="draft")
    changes = []
    window.models_changed.connect(lambda: changes.append(1))
    run = window.run_list.current()
    assert window.run_list.rename(run, "Nocturnes")
    assert window.run_list.current().name == "Nocturnes" and changes == [1]
    assert [m.name for m in checkpoints.find_models([data])] == ["Nocturnes"]
    assert not window.run_list.rename(window.run_list.current(), "no/slash")
    assert "cannot hold '/'" in window.message.text()
    assert window.run_list.delete(window.run_list.current())
    assert window.run_list.runs == [] and checkpoints.find_models([data]) == [] and changes == [1, 1]


def test_the_window_keeps_ticking_while_a_model_trains(qtbot, make_window, tmp_path, monkeypatch):
    """The run trains in a thread of its own, and the GUI thread's event loop goes on while the run is
    provably in progress: the trainer's first step waits until the test lets it go, from a timer tick
    of the GUI thread. (How long the window waits between ticks on a given machine is a figure of
    benchmarks/training_window.py, not a test.)"""
    from app.training.worker import TrainingThread

    running, gate = threading.Event(), threading.Event()
    trainer_threads: set[int] = set()

    class GatedTrainingThread(TrainingThread):
        def _hear(self, progress):
            trainer_threads.add(threading.get_ident())
            if progress.kind == "step" and not running.is_set():
                running.set()
                gate.wait(WAIT_MS / 1000)  # let go by the test, or given up on when it is broken
            return super()._hear(progress)

    monkeypatch.setattr("app.training.controller.TrainingThread", GatedTrainingThread)
    window = make_window(presets=tiny_presets(tmp_path / "p6", epochs=2, batch_size=4))
    prepare(qtbot, window, write_midi_folder(tmp_path / "more", count=4, bars=8))
    ticks_while_training: list[bool] = []

    def tick() -> None:
        if running.is_set() and not gate.is_set():
            ticks_while_training.append(window.controller.training)
            if len(ticks_while_training) == 20:
                gate.set()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    window.choices.set_choice(TrainingChoice("ticking"))
    window.train_button.click()
    wait_training(qtbot, window)
    timer.stop()
    assert window.controller.ended.outcome.stopped == "finished"
    assert ticks_while_training == [True] * 20  # 20 ticks while the run stood in its first step
    assert trainer_threads and threading.get_ident() not in trainer_threads


def test_records_of_a_selected_run_are_shown(qtbot, make_window, music, data):
    window = make_window()
    prepare(qtbot, window, music)
    train(qtbot, window, name="first")
    window.curves.reset()
    assert window.curves.values("val_loss") == ([], [])
    window.run_list.tree.clearSelection()
    window.run_list.select("first")
    records = json.loads((data / "runs" / "first" / "records.json").read_text())
    assert window.curves.values("val_loss")[1] == pytest.approx([records["epochs"][0]["val"]["loss"]])
    assert "1 of 1 epochs" in window.stats.text()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is here: choosing it is no mistake")
def test_choosing_a_gpu_where_there_is_none_is_a_clear_reason(qtbot, make_window, music):
    window = make_window()
    qtbot.waitUntil(lambda: window.controller.setup is not None, timeout=WAIT_MS)
    assert window.choices.device.itemText(window.choices.device.findData("gpu")) == "GPU (none found)"
    prepare(qtbot, window, music)
    window.choices.set_choice(TrainingChoice("gpu run", device="gpu"))
    window.train_button.click()
    assert not window.controller.training
    assert window.message.text() == "No GPU (CUDA) was found on this computer: choose Auto or CPU."


def test_opening_the_window_leaves_torch_to_the_background():
    """The window and its run list are made without importing torch in the GUI thread (a second or
    two of frozen window otherwise); the set-up task imports it later, in a pool thread."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys, tempfile, pathlib\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from app.training.window import TrainingWindow\n"
        "w = TrainingWindow(data_folder=pathlib.Path(tempfile.mkdtemp()), setup=False)\n"
        "w.show(); app.processEvents(); w.run_list.refresh()\n"
        "print('torch' in sys.modules)\n"
        "w.release()\n"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
