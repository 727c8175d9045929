"""Runs in the data folder: names, status, start and resume, rename and delete, a full disk."""

import errno
import json
import os

import pytest
import torch
from safetensors.torch import save_file

from core.model import checkpoints

from core.training import runs
from core.errors import DatasetError, TrainingError
from core.preprocess.dataset import preprocess_folder
from core.preprocess.report import EncodeOptions
from core.representation.instruments import POP_DRUMS
from core.training.trainer import Stop
from tests.core.synthetic import write_dataset
from tests.core.tiny_training import write_groove_folder, write_tiny_preset


@pytest.fixture(autouse=True)
def few_threads():
    torch.set_num_threads(1)  # 2 threads on 2 busy cores are many times slower for tiny nets


@pytest.fixture
def data(tmp_path):
    return tmp_path / "user data"


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "dataset", 4, bars=8)


@pytest.fixture
def preset(tmp_path):
    return write_tiny_preset(tmp_path / "presets", "continuation", epochs=2, batch_size=8)


def stop_after_first_epoch(progress):
    return Stop.AFTER_EPOCH if progress.kind == "epoch" and progress.epoch == 1 else None


def test_a_bundled_preset_with_a_decay_starts_a_run_of_fewer_epochs(dataset, tmp_path):
    trainer = runs.start_run(tmp_path / "short", dataset, "interpolation", epochs=2, batch_size=8)
    assert (trainer.config.epochs, trainer.config.decay_epochs) == (2, 1)  # the preset decays over 20 of 60


# ------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["my songs", "Étude 2 (fine-tuned)", "a.b_c-d+e,f'g&h", "7"])
def test_good_names_are_kept(name):
    assert runs.check_name(f"  {name} ") == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "needs a name"), ("   ", "needs a name"), ("a/b", "cannot hold '/'"), ("..", "starts with a letter"),
     ("x" * 65, "at most 64"), ("dot.", "does not end with a dot"), ("a:b*c", "cannot hold '*' ':'"), ("-x", "starts")],
)  # fmt: skip
def test_bad_names_are_refused_with_the_reason(name, reason):
    with pytest.raises(TrainingError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        runs.check_name(name)


def test_unique_names_avoid_folders_and_taken_names(tmp_path):
    (tmp_path / "songs").mkdir()
    assert runs.unique_name("songs", tmp_path) == "songs 2"
    assert runs.unique_name("songs", tmp_path, taken=["Songs 2"]) == "songs 3"
    assert runs.unique_name("my/odd:name.", tmp_path) == "my odd name"
    assert runs.unique_name("--", tmp_path) == "model"
    runs.check_name(runs.unique_name("~~weird~~", tmp_path))


def test_each_midi_folder_has_its_own_dataset_folder(tmp_path):
    first = runs.dataset_folder_for(tmp_path / "a" / "music", tmp_path / "data")
    second = runs.dataset_folder_for(tmp_path / "b" / "music", tmp_path / "data")
    assert first != second and first.parent == second.parent == tmp_path / "data" / "datasets"
    assert first.name.startswith("music-")
    assert first == runs.dataset_folder_for(tmp_path / "a" / "music", tmp_path / "data")  # the same each time


def test_the_data_folder_defaults_to_the_registry_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("MAHLERNET_DATA", str(tmp_path))
    assert runs.runs_folder() == tmp_path / "runs" and checkpoints.user_data_folder() == tmp_path


# --------------------------------------------------------------------------- start, status
def test_a_run_starts_stops_shows_its_status_and_resumes(data, dataset, preset):
    run_dir = runs.runs_folder(data) / "tiny"
    trainer = runs.start_run(run_dir, dataset, preset, epochs=3, callbacks=[stop_after_first_epoch],
                             extra_info={"midi_folder": "/music"})  # fmt: skip
    assert trainer.fit().stopped == "requested"
    summary = runs.read_run(run_dir)
    shown = (summary.name, summary.kind, summary.status, summary.epochs_done, summary.epochs)
    assert shown == ("tiny", "continuation", "stopped", 1, 3)
    assert summary.resumable and summary.has_model and summary.best_epoch == 1
    assert summary.best_loss is not None and summary.metrics["val_pitch_accuracy"] >= 0
    assert summary.info["midi_folder"] == "/music" and summary.info["dataset"]["bars"] == 32
    assert summary.status_text() == "stopped at 1/3"
    assert [r.name for r in runs.list_runs(data)] == ["tiny"]
    assert [m.name for m in checkpoints.find_models([data])] == ["tiny"]

    result = runs.resume_run(run_dir).fit()
    assert result.epochs_done == 3 and result.stopped == "finished"
    finished = runs.read_run(run_dir)
    assert finished.status == "finished" and not finished.resumable
    assert len(runs.read_records(run_dir)["epochs"]) == 3


def test_a_run_that_cannot_start_leaves_nothing_behind(data, tmp_path, preset):
    (tmp_path / "empty").mkdir()
    run_dir = runs.runs_folder(data) / "nothing"
    with pytest.raises(DatasetError, match="holds no encoded pieces"):
        runs.start_run(run_dir, tmp_path / "empty", preset)
    assert not run_dir.exists()
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="no CUDA device"):
            runs.start_run(run_dir, tmp_path / "empty", preset, device="cuda")
        assert not run_dir.exists()


def test_an_empty_folder_the_user_made_takes_a_run_and_is_kept_when_it_cannot_start(data, dataset, tmp_path, preset):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no encoded pieces"):
        runs.start_run(chosen, tmp_path / "empty", preset)
    assert chosen.is_dir() and not any(chosen.iterdir())
    runs.start_run(chosen, dataset, preset, epochs=1)
    assert (chosen / "run.json").is_file()


def test_a_name_in_use_is_refused_before_anything_is_written(data, dataset, preset):
    run_dir = runs.runs_folder(data) / "taken"
    runs.start_run(run_dir, dataset, preset, epochs=1)
    before = (run_dir / "run.json").read_bytes()
    with pytest.raises(TrainingError, match="not empty"):
        runs.start_run(run_dir, dataset, preset)
    assert (run_dir / "run.json").read_bytes() == before


def test_resuming_without_the_prepared_music_is_a_clear_error(data, tmp_path, preset):
    moved = write_dataset(tmp_path / "gone", 2, bars=8)
    run_dir = runs.runs_folder(data) / "orphan"
    runs.start_run(run_dir, moved, preset, epochs=1)
    for path in moved.iterdir():
        path.unlink()
    moved.rmdir()
    with pytest.raises(TrainingError, match="prepared music .* is gone"):
        runs.resume_run(run_dir)


def test_fine_tuning_takes_the_network_of_the_base_model(data, dataset, preset, tmp_path):
    base_dir = runs.runs_folder(data) / "base"
    runs.start_run(base_dir, dataset, preset, epochs=1).fit()
    other_size = write_tiny_preset(tmp_path / "other", "continuation", epochs=1)
    text = other_size.read_text().replace("encoder_size = 16", "encoder_size = 32")
    other_size.write_text(text)
    tuned_dir = runs.runs_folder(data) / "tuned"
    tuned = runs.start_run(tuned_dir, dataset, other_size, init_from=base_dir / "best.safetensors")
    base, _ = checkpoints.load_model(base_dir / "best.safetensors")
    assert tuned.model.config == base.config and tuned.model.config.encoder_size == 16
    for name, tensor in base.state_dict().items():
        assert torch.equal(tuned.model.state_dict()[name].cpu(), tensor)
    assert tuned.run_info["init_from"].endswith("best.safetensors")


def test_a_batch_size_given_replaces_the_presets_and_a_bad_one_is_refused(data, dataset, preset):
    trainer = runs.start_run(runs.runs_folder(data) / "small steps", dataset, preset, epochs=1, batch_size=3)
    assert trainer.config.batch_size == 3 and trainer.run_info["training"]["batch_size"] == 3
    with pytest.raises(TrainingError, match="batch size 0"):
        runs.start_run(runs.runs_folder(data) / "no steps", dataset, preset, batch_size=0)
    assert not (runs.runs_folder(data) / "no steps").exists()


def test_fine_tuning_on_music_encoded_with_another_instrument_table_is_refused(data, dataset, preset, tmp_path):
    base_dir = runs.runs_folder(data) / "classical"
    runs.start_run(base_dir, dataset, preset, epochs=1).fit()
    drums = tmp_path / "drum dataset"
    preprocess_folder(write_groove_folder(tmp_path / "grooves"), drums, jobs=1, options=EncodeOptions(instruments=POP_DRUMS))
    with pytest.raises(TrainingError, match="encoded with the pop-drums instrument table, the model with mahlernet"):
        runs.start_run(runs.runs_folder(data) / "tuned", drums, preset, init_from=base_dir / "best.safetensors")


def test_the_status_comes_from_the_checkpoint_header(tmp_path):
    def fake_run(name, trainer_state, epochs=10, patience=3):
        folder = tmp_path / name
        folder.mkdir()
        info = {"name": name, "network": {"use_context": False}, "training": {"epochs": epochs, "patience": patience}}
        (folder / "run.json").write_text(json.dumps(info))
        if trainer_state is not None:
            metadata = {"trainer": json.dumps(trainer_state), "card": json.dumps({"training": {"epochs": epochs}})}
            save_file({"model/x": torch.zeros(2)}, folder / "last.safetensors", metadata=metadata)
        return runs.read_run(folder)

    assert fake_run("new", None).status == "new"
    early = fake_run("early", {"epoch": 4, "bad_epochs": 3, "best_epoch": 1, "best_loss": 2.5})
    assert (early.status, early.kind, early.best_loss, early.resumable) == ("early", "interpolation", 2.5, False)
    assert fake_run("going", {"epoch": 4, "bad_epochs": 1, "best_loss": float("inf")}).best_loss is None
    assert fake_run("done", {"epoch": 10, "bad_epochs": 0}).status == "finished"
    assert fake_run("no patience", {"epoch": 4, "bad_epochs": 9}, patience=0).status == "stopped"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{")
    with pytest.raises(TrainingError, match="cannot be read"):
        runs.read_run(tmp_path / "broken")


# ---------------------------------------------------------------------------- rename, delete
def test_renaming_renames_the_folder_the_cards_and_the_model(data, dataset, preset):
    run_dir = runs.runs_folder(data) / "first"
    runs.start_run(run_dir, dataset, preset, epochs=2, callbacks=[stop_after_first_epoch]).fit()
    weights_before = checkpoints.load_model(run_dir / "best.safetensors")[0].state_dict()
    moved = runs.rename_run(run_dir, " Nocturnes ", taken=["classical-continuation"])
    assert moved == runs.runs_folder(data) / "Nocturnes" and not run_dir.exists()
    assert [m.name for m in checkpoints.find_models([data])] == ["Nocturnes"]
    model, card = checkpoints.load_model(moved / "best.safetensors")
    assert card["name"] == "Nocturnes" and json.loads((moved / "best.json").read_text())["name"] == "Nocturnes"
    for name, tensor in weights_before.items():
        assert torch.equal(model.state_dict()[name], tensor)
    assert checkpoints.load_training_state(moved / "last.safetensors").card["name"] == "Nocturnes"
    assert runs.read_run(moved).name == "Nocturnes"
    assert runs.resume_run(moved).fit().epochs_done == 2  # the run goes on under its new name
    assert checkpoints.read_card(moved / "best.safetensors")["name"] == "Nocturnes"

    with pytest.raises(TrainingError, match="another model already has this name"):
        runs.rename_run(moved, "Classical-Continuation", taken=["classical-continuation"])
    other = runs.runs_folder(data) / "other"
    runs.start_run(other, dataset, preset, epochs=1)
    with pytest.raises(TrainingError, match="another model already has this name"):
        runs.rename_run(other, "Nocturnes")
    with pytest.raises(TrainingError, match="cannot hold"):
        runs.rename_run(other, "a/b")
    assert runs.read_run(other).name == "other"


def test_delete_removes_a_run_and_refuses_anything_else(data, dataset, preset, tmp_path):
    run_dir = runs.runs_folder(data) / "gone"
    runs.start_run(run_dir, dataset, preset, epochs=1).fit()
    runs.delete_run(run_dir)
    assert not run_dir.exists() and checkpoints.find_models([data]) == []
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.mid").write_bytes(b"MThd")
    with pytest.raises(TrainingError, match="not a run folder"):
        runs.delete_run(precious)
    assert (precious / "keep.mid").exists()


# ------------------------------------------------------------------------------- disk full
def test_a_full_disk_during_a_save_loses_nothing_already_saved(data, dataset, preset, monkeypatch):
    run_dir = runs.runs_folder(data) / "full"
    runs.start_run(run_dir, dataset, preset, epochs=3, callbacks=[stop_after_first_epoch]).fit()
    last_before = (run_dir / "last.safetensors").read_bytes()
    best_before = (run_dir / "best.safetensors").read_bytes()
    real_fsync = os.fsync

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as raised:
        runs.resume_run(run_dir).fit()
    assert raised.value.errno == errno.ENOSPC
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert sorted(p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")) == []
    assert (run_dir / "last.safetensors").read_bytes() == last_before
    assert (run_dir / "best.safetensors").read_bytes() == best_before
    assert runs.read_run(run_dir).epochs_done == 1
    assert runs.resume_run(run_dir).fit().epochs_done == 3  # with room again, it goes on
