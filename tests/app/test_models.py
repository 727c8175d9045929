"""The model service: searching injectable folders, loading once per file and device, loading again
when a file changes, refreshing after a model was added, and one-line reasons for what cannot load."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from PySide6.QtCore import Qt

from app.models import ModelService, unlisted
from core.errors import ModelNotFoundError

WAIT_MS = 60_000


def scanned(qtbot, service: ModelService) -> list[str]:
    with qtbot.waitSignal(service.scanned, timeout=WAIT_MS):
        service.refresh()
    return [m.name for m in service.scan.models]


def test_loaded_once_then_again_when_the_file_changes(qtbot, tmp_path, tiny_models):
    from core.model.checkpoints import save_model

    folder = tmp_path / "models"
    shutil.copytree(tiny_models.folder, folder)
    service = ModelService(folders=[folder])
    assert scanned(qtbot, service) == [tiny_models.continuation, tiny_models.interpolation]
    assert service.scan.folders == (folder,)

    load = service.model_loader(tiny_models.continuation)
    first = load()
    assert (first.name, first.device, first.kind) == (tiny_models.continuation, "cpu", "continuation")
    assert load() is first and service.loaded_model(tiny_models.continuation) is first

    path = folder / f"{tiny_models.continuation}.safetensors"
    save_model(path, first.network, dict(first.card, epochs=2))  # trained on: the same name, a new file
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert service.loaded_model(tiny_models.continuation) is None
    again = load()
    assert again is not first and again.card["epochs"] == 2


def test_the_gui_thread_never_waits_for_a_load_in_progress(qtbot, tiny_models, monkeypatch):
    """A load in a worker holds the load lock for its whole length (~1.2 s for a bundled model); the
    pickers ask ``loaded_model`` from the GUI thread meanwhile and must get their answer at once
    (one lock for both froze the window at start-up). The load here waits until the test lets it go,
    so a look-up that waited for it would not come back."""
    import core.model.checkpoints

    service = ModelService(folders=[tiny_models.folder])
    scanned(qtbot, service)
    loading, release = threading.Event(), threading.Event()
    real_load = core.model.checkpoints.load_model

    def held_load(*args, **kwargs):
        loading.set()
        release.wait(WAIT_MS / 1000)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(core.model.checkpoints, "load_model", held_load)
    with qtbot.waitSignal(service.loaded, timeout=WAIT_MS) as signal:
        service.load(tiny_models.continuation)
        assert loading.wait(WAIT_MS / 1000)
        answers: list[object] = []
        look_up = threading.Thread(target=lambda: answers.append(service.loaded_model(tiny_models.continuation)))
        look_up.start()
        look_up.join(WAIT_MS / 1000)
        released_first = release.is_set()
        release.set()
    assert answers == [None] and not released_first  # answered while the load was still held
    assert service.loaded_model(tiny_models.continuation) is signal.args[1]


def test_refresh_finds_a_model_copied_in_and_a_background_load_reports(qtbot, tmp_path, tiny_models):
    folder = tmp_path / "models"
    folder.mkdir()
    service = ModelService(folders=[folder])
    assert scanned(qtbot, service) == []
    not_there = "^no model named 'tiny-interpolation': it is not in the model folders$"
    with pytest.raises(ModelNotFoundError, match=not_there):
        service.model_loader(tiny_models.interpolation)()

    for suffix in (".safetensors", ".json"):
        shutil.copy(tiny_models.folder / f"{tiny_models.interpolation}{suffix}", folder)
    assert scanned(qtbot, service) == [tiny_models.interpolation]
    with qtbot.waitSignal(service.loaded, timeout=WAIT_MS) as signal:
        service.load(tiny_models.interpolation)
    name, model = signal.args
    assert name == tiny_models.interpolation and model.kind == "interpolation"
    assert service.load(tiny_models.interpolation) is None  # loaded already: nothing to do

    (folder / f"{tiny_models.interpolation}.safetensors").write_bytes(b"damaged")
    with qtbot.waitSignal(service.load_failed, timeout=WAIT_MS) as failure:
        service.load(tiny_models.interpolation)
    assert failure.args == [
        tiny_models.interpolation,
        f"{folder / 'tiny-interpolation.safetensors'}: not a safetensors model file "
        "(bad header length)",
    ]


def test_a_broken_model_is_listed_greyed_with_its_reason_and_cannot_be_picked(qtbot):
    from app.panels.widgets import ModelPicker

    picker = ModelPicker("continue music")
    qtbot.addWidget(picker)
    picker.set_models([("bad", "cannot be used: bad.json: model card is not JSON", "not JSON"), ("good", "fine")], preferred="bad")
    assert picker.current_model() == "good" and picker.isEnabled()
    assert picker.itemText(0) == "bad (broken)" and not picker.model().item(0).isEnabled()
    assert "not JSON" in picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
    picker.set_models([("bad", "broken", "not JSON")])
    assert picker.current_model() == "" and not picker.isEnabled()


def test_the_device_words_say_what_runs_where():
    from app.generation_jobs import GenerationReport
    from app.models import resolve_device

    # On a GPU only the latent code is computed there: the decoder's step loop is on the CPU.
    assert resolve_device("gpu", cuda=True) == ("cuda", "GPU (latent code) + CPU (decoder)")
    assert resolve_device("auto", cuda=True)[0] == "cuda"
    assert resolve_device("gpu", cuda=False) == ("cpu", "CPU (no GPU found)")
    assert resolve_device("cpu", cuda=True) == ("cpu", "CPU")
    report = GenerationReport("continuation", 0.5, "tiny", "cuda:0")
    assert report.text() == "continuation 0.50 s · tiny on GPU (latent code) + CPU (decoder)"
    assert GenerationReport("interpolation", 1.25, "tiny", "cpu").text() == "interpolation 1.25 s · tiny on CPU"


def test_a_folder_names_weights_without_a_card_but_not_a_models_attribute_vectors(tmp_path):
    (tmp_path / "piece-model.safetensors").write_bytes(b"weights")
    (tmp_path / "piece-model.attributes.safetensors").write_bytes(b"vectors")  # beside a model, not one
    (tmp_path / "last.safetensors").write_bytes(b"a training checkpoint")
    (tmp_path / "orphan.safetensors").write_bytes(b"weights without a card")
    problems = unlisted([tmp_path], [])
    assert [line.split(":")[0] for line in problems] == [str(tmp_path / "orphan.safetensors"), str(tmp_path / "piece-model.safetensors")]
