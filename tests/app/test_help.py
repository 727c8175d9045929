"""The Help menu: the shortcut sheet lists every command's keys, the how-to walks through seed bars,
Continue and Keep, and the model cards show what each model was trained on and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.actions import ACTION_SPECS
from app.help import BUNDLED_MODELS, key_text
from app.main_window import MainWindow
from app.settings import AppSettings
from core.model.card_summary import card_lines, read_card_summary


@pytest.fixture
def window(qtbot, settings_path):
    window = MainWindow(AppSettings(settings_path), background=False, model_folders=[BUNDLED_MODELS])
    qtbot.addWidget(window)
    window.show()
    return window


def help_menu(window):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")


def test_the_help_menu_holds_the_how_to_the_shortcuts_and_the_model_cards(window):
    names = [a.objectName() for a in help_menu(window).actions() if not a.isSeparator()]
    assert names == ["action_how_to", "action_shortcuts", "action_model_cards"]


def test_the_shortcut_sheet_lists_every_command_with_its_keys(window):
    window.actions["shortcuts"].trigger()
    sheet = window.help_windows["shortcuts"]
    assert sheet.isVisible()
    text = sheet.plain_text()
    for spec in ACTION_SPECS:
        assert spec.text.replace("&", "") in text
        if spec.shortcuts:
            assert key_text(spec) in text, spec.name
    assert "Shift+click on the ruler" in text and "Ctrl+drag on the ruler" in text


def test_the_how_to_walks_through_seed_bars_continue_and_keep(window):
    window.actions["how_to"].trigger()
    text = window.help_windows["how_to"].plain_text()
    seed, cont, keep, undo = (text.index(w) for w in ("Pick the seed bars", "Continue (Ctrl+Return", "Keep the one", "Undo (Ctrl+Z)"))
    assert seed < cont < keep < undo  # in the order a composer does them


def test_the_model_cards_say_what_each_model_was_trained_on_and_its_figures(window):
    window.actions["model_cards"].trigger()
    text = window.help_windows["model_cards"].plain_text()
    for card_path in sorted(BUNDLED_MODELS.glob("*.json")):
        card = json.loads(card_path.read_text())
        assert card["name"] in text
        pitch = card["evaluation"]["properties"]["pitch"]
        assert f"teacher-forced {pitch['teacher_forced_accuracy'] * 100:.1f}%" in text
        assert f"{card['parameters'] / 1e6:.1f} M parameters" in text
    assert "music21 classical corpus" in text
    assert text.count("\nTrained on\n") == len(list(BUNDLED_MODELS.glob("*.json")))


def test_a_broken_card_is_one_line_naming_the_file(tmp_path: Path):
    broken = tmp_path / "mine.json"
    broken.write_text("{not json")
    summary = read_card_summary(broken)
    assert str(broken) in summary.problem and "\n" not in summary.problem and summary.lines == ()
    assert card_lines({"kind": "continuation"}) == [("Job", "Continue: writes new bars after the seed")]


def test_the_shortcut_sheet_lists_the_rolls_note_edits_and_gestures(window):
    from app.actions import NOTE_ACTION_SPECS

    window.actions["shortcuts"].trigger()
    text = window.help_windows["shortcuts"].plain_text()
    for spec in NOTE_ACTION_SPECS:
        assert spec.text.replace("&", "") in text and key_text(spec) in text, spec.name
    assert "Drag a stem in the velocity lane" in text and "Click with the pencil (P)" in text
    assert "Drag a hit in the drum lane" in text and "Esc during a drag" in text
