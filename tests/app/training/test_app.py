"""The Training window inside the app: the menu action opens it, a trained model appears in the
Continue and Interpolate pickers and Continue uses it, the app and the CLI share the data folder, and
quitting during a run asks first and stops it cleanly."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from app.main_window import MainWindow
from app.settings import AppSettings
from app.training.controller import TrainingChoice
from app.training.paths import data_folder
from core.model import checkpoints
from core.training import runs
from core.cli import main as cli
from core.music.selection import BarSelection
from tests.app.pieces import write_quartet
from tests.app.training.conftest import WAIT_MS, prepare, tiny_presets, wait_training


@pytest.fixture
def window(qtbot, settings_path, monkeypatch, data, presets):
    """The main window with its model search on the default folders (the bundled ones and the data
    folder of this test), and the Training launcher on tiny presets."""
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    main = MainWindow(AppSettings(settings_path), background=False)
    qtbot.addWidget(main)
    main.training.options["presets"] = presets
    yield main
    if main.training.window is not None:
        main.training.window.controller.shutdown(timeout_s=60)


def train_in_app(qtbot, main, music, **choice):
    main.actions["train"].trigger()
    training = main.training.window
    assert training is not None and training.isVisible()
    prepare(qtbot, training, music)
    training.choices.set_choice(TrainingChoice(**choice))
    training.train_button.click()
    wait_training(qtbot, training)
    assert training.controller.ended.outcome is not None, training.message.text()
    return training


def test_the_data_folder_is_the_one_core_and_the_cli_use(monkeypatch, tmp_path):
    monkeypatch.delenv("MAHLERNET_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_folder() == checkpoints.user_data_folder() == tmp_path / "xdg" / "MahlerNet Studio"
    monkeypatch.setenv("MAHLERNET_DATA", str(tmp_path / "mine"))
    assert data_folder() == checkpoints.user_data_folder() == tmp_path / "mine"


def test_the_action_is_in_the_generate_menu():
    from app.actions import ACTION_SPECS, MENUS

    spec = next(s for s in ACTION_SPECS if s.name == "train")
    assert spec.shortcuts == ("Ctrl+T",)
    assert "train" in dict(MENUS)["&Generate"]


def test_a_trained_model_is_picked_and_continue_uses_it(qtbot, window, music, tmp_path, data, capsys, monkeypatch):
    from core.generation import Controls, continue_piece
    from core.generation import Temperatures as CoreTemperatures

    train_in_app(qtbot, window, music, name="My Songs")
    qtbot.waitUntil(lambda: window.models.entry("My Songs") is not None, timeout=WAIT_MS)
    picker = window.continue_panel.model
    assert picker.findData("My Songs") >= 0
    picker.setCurrentIndex(picker.findData("My Songs"))
    assert picker.current_model() == "My Songs"

    # `mahlernet models` lists it too, from the same folder
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["core.cli.models"])
    assert cli.main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "My Songs" in listed and str(data / "runs" / "My Songs" / "best.safetensors") in listed

    window.open_file(write_quartet(tmp_path))
    score = window.document.score
    window.roll.set_selection(BarSelection().with_seed(3, 4))
    panel = window.continue_panel
    panel.bars.setValue(1)
    panel.variations.setValue(1)
    panel.new_seed_each_run.setChecked(False)
    panel.random_seed.setValue(99)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not window.generation.busy, timeout=WAIT_MS)
    assert panel.candidates.count() == 1, panel.progress.status.text()
    network, _card = checkpoints.load_model(data / "runs" / "My Songs" / "best.safetensors")
    direct = continue_piece(network, score, 4, 1, seed_first=3, seeded=True, variations=1,
                            controls=Controls(CoreTemperatures(), seed=99))  # fmt: skip
    assert [c.fragment for c in window.generation.candidates] == [v.fragment for v in direct.variations]
    assert "My Songs" in window.status.generation.text()


def test_an_interpolation_model_goes_to_the_interpolate_picker(qtbot, window, music):
    train_in_app(qtbot, window, music, name="Morphs", kind="interpolation")
    qtbot.waitUntil(lambda: window.models.entry("Morphs") is not None, timeout=WAIT_MS)
    assert window.models.entry("Morphs").kind == "interpolation"
    picker = window.interpolate_panel.model
    kinds = [window.models.entry(picker.itemData(i)).kind for i in range(picker.count()) if picker.itemData(i)]
    assert picker.findData("Morphs") >= 0 and kinds == sorted(kinds, key=lambda k: k != "interpolation")  # its own kind first


def test_renaming_in_the_training_window_renames_it_in_the_pickers(qtbot, window, music):
    training = train_in_app(qtbot, window, music, name="draft")
    qtbot.waitUntil(lambda: window.models.entry("draft") is not None, timeout=WAIT_MS)
    assert training.run_list.rename(training.run_list.current(), "Final")
    qtbot.waitUntil(lambda: window.models.entry("Final") is not None, timeout=WAIT_MS)
    assert window.models.entry("draft") is None
    assert window.continue_panel.model.findData("Final") >= 0 and window.continue_panel.model.findData("draft") < 0


def test_quitting_during_a_run_asks_then_stops_it_cleanly(qtbot, window, music, tmp_path, monkeypatch, data):
    window.training.options["presets"] = tiny_presets(tmp_path / "long", epochs=500, batch_size=2)
    window.actions["train"].trigger()
    training = window.training.window
    prepare(qtbot, training, music)
    training.choices.set_choice(TrainingChoice("long run"))
    epochs = []
    training.controller.epoch_done.connect(lambda record: epochs.append(record["epoch"]))
    training.train_button.click()
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=WAIT_MS)

    asked = []
    def say_cancel(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", say_cancel)
    assert not window.close()  # the composer said Cancel: nothing stops
    assert asked and "still training" in asked[0] and training.controller.training
    assert training.controller.thread.isRunning()

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    thread = training.controller.thread
    assert window.close()
    assert thread.isFinished() and not thread.isRunning()  # joined before the window closed
    run = runs.read_run(data / "runs" / "long run")
    assert run.status == "stopped" and 1 <= run.epochs_done < 500
    assert checkpoints.load_training_state(run.path / "last.safetensors").trainer["epoch"] == run.epochs_done


def test_quitting_without_a_run_asks_nothing(qtbot, window, monkeypatch):
    window.actions["train"].trigger()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked although nothing trains"))
    assert window.close()
