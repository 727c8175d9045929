"""Steering in the window: the attribute sliders reach core.generation as a latent shift, Generate
from Scratch makes a new piece or appends bars (undoable), and Humanize changes only the new bars of
an audition."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.panels.steering import AttributeSliders
from core.model.attributes import ATTRIBUTES, AttributeVectors, vectors_path
from core.music.selection import BarSelection
from tests.app.test_generation_model import make_window, wait_done

Z_DIM = 16  # the tiny models' code size (tests.core.generation.helpers.overfit)


@pytest.fixture
def steered(qtbot, settings_path, monkeypatch, tmp_path, tiny_models):
    """A window whose models folder holds copies of the tiny models; the continuation model has
    attribute vectors beside it."""
    folder = tmp_path / "models"
    shutil.copytree(tiny_models.folder, folder)
    vectors = AttributeVectors(ATTRIBUTES, np.random.default_rng(0).normal(0, 2, (len(ATTRIBUTES), Z_DIM)))
    vectors.save(vectors_path(folder / f"{tiny_models.continuation}.safetensors"))
    card_path = folder / f"{tiny_models.continuation}.json"
    card = json.loads(card_path.read_text())
    card["attributes"] = {"amount": 1.5, "test_bars": 200, "change_sd": {"stepwise": {**dict.fromkeys(ATTRIBUTES, 0.0), "stepwise": 0.84, "busyness": 0.48}}}
    card_path.write_text(json.dumps(card))
    window = make_window(qtbot, settings_path, monkeypatch, folder, tmp_path)
    return window, vectors


def test_sliders_give_the_moved_attributes_and_reset_clears_them(qtbot):
    sliders = AttributeSliders()
    qtbot.addWidget(sliders)
    assert sliders.amounts() == ()
    sliders.sliders["density"].setValue(15)
    sliders.sliders["register"].setValue(-10)
    assert sliders.amounts() == (("density", 1.5), ("register", -1.0))
    sliders.reset_button.click()
    assert sliders.amounts() == () and all(s.value() == 0 for s in sliders.sliders.values())


def test_continue_with_a_slider_moved_adds_the_vector(steered, qtbot, tiny_models):
    from core.generation import Controls, continue_piece

    window, vectors = steered
    score = window.document.score
    panel = window.continue_panel
    window.roll.set_selection(BarSelection().with_seed(3, 4))
    panel.new_seed_each_run.setChecked(False)
    panel.random_seed.setValue(99)
    panel.variations.setValue(1)
    panel.bars.setValue(2)
    panel.attributes.sliders["polyphony"].setValue(20)
    assert panel.request().attributes == (("polyphony", 2.0),)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert window.generation.candidates, panel.progress.status.text()
    network = window.models.loaded_model(tiny_models.continuation).network
    shift = tuple(float(x) for x in 2.0 * vectors.vector("polyphony"))
    direct = continue_piece(network, score, 4, 2, seed_first=3, seeded=True, controls=Controls(seed=99, latent_shift=shift))
    assert window.generation.candidates[0].fragment == direct.variations[0].fragment


def test_the_sliders_say_what_the_picked_models_vectors_were_measured_to_do(steered, tiny_models):
    window, _ = steered
    sliders = window.continue_panel.attributes
    assert sliders.grid.isEnabled()
    tip = sliders.sliders["stepwise"].toolTip()
    assert "stepwise motion +0.84 SD; it also moved busyness +0.48 SD" in tip  # from the card's table
    assert "Measured" not in sliders.sliders["density"].toolTip()  # no row for it in this card


def test_a_model_without_vectors_greys_the_sliders_and_keeps_the_composers_settings(steered, qtbot, tiny_models):
    window, _ = steered
    panel = window.interpolate_panel
    panel.attributes.sliders["density"].setValue(10)
    assert not panel.attributes.grid.isEnabled()
    assert f"{tiny_models.interpolation} has no attribute vectors" in panel.attributes.sliders["density"].toolTip()
    assert panel.attributes.grid.labels["density"].toolTip() == panel.attributes.sliders["density"].toolTip()
    assert panel.attributes.amounts() == ()  # nothing to move them with: the run is not refused for it
    panel.bar_a.setValue(2)
    panel.bar_b.setValue(5)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert window.generation.steps is not None, panel.progress.status.text()
    panel.attributes.set_model(window.models.entry(tiny_models.continuation))  # a model with vectors again
    assert panel.attributes.grid.isEnabled() and panel.attributes.amounts() == (("density", 1.0),)


def test_the_generate_dialog_shows_the_continuation_models_vectors(steered, qtbot):
    window, _ = steered
    dialog = window.open_generate_dialog()
    qtbot.addWidget(dialog)
    assert dialog.attributes.grid.isEnabled() and "busyness +0.48 SD" in dialog.attributes.sliders["stepwise"].toolTip()


def test_generate_a_new_piece_in_three_four_then_append_bars_and_undo(steered, qtbot, monkeypatch):
    from core.generation import scratch
    from core.generation.scratch import Z_SCALE

    used, real = [], scratch.generate_piece
    monkeypatch.setattr(scratch, "generate_piece", lambda *a, controls, **k: used.append(controls) or real(*a, controls=controls, **k))
    window, _ = steered
    dialog = window.open_generate_dialog()
    qtbot.addWidget(dialog)
    dialog.meter.setCurrentText("3/4")
    dialog.bars.setValue(3)
    dialog.tempo.setValue(90)
    dialog.run_button.click()
    wait_done(qtbot, window)
    new = window.document.score
    assert new is not None and window.document.path is None and "new piece of 3 bars" in dialog.progress.status.text()
    assert [(m.numerator, m.denominator) for m in new.time_signatures] == [(3, 4)]
    assert round(new.tempos[0].bpm) == 90 and new.notes_count > 0
    assert all(n.start < 3 * 3 * new.ticks_per_quarter for t in new.tracks for n in t.notes)
    assert [c.z_scale for c in used] == [Z_SCALE]  # the scratch default: z at the prior's mean

    dialog.append.setChecked(True)
    dialog.bars.setValue(2)
    dialog.run_button.click()
    wait_done(qtbot, window)
    longer = window.document.score
    assert "Appended 2 bars" in dialog.progress.status.text()
    assert longer.notes_count > new.notes_count
    for before, after in zip(new.tracks, longer.tracks):  # the bars before stay as they were
        assert tuple(n for n in after.notes if n.start < new.bar(4).start) == before.notes
    assert all(n.start < new.bar(6).start for t in longer.tracks for n in t.notes)
    window.actions["undo"].trigger()
    assert window.document.score is new


def test_humanize_changes_only_the_new_bars_of_an_audition(steered, qtbot):
    window, _ = steered
    score = window.document.score
    panel = window.continue_panel
    window.roll.set_selection(BarSelection().with_seed(3, 4))
    panel.variations.setValue(1)
    panel.run_button.click()
    wait_done(qtbot, window)
    heard = []
    window.generation.audition_requested.connect(lambda music, _bar: heard.append(music))
    panel.audition_button.click()
    panel.humanize.setValue(100)
    panel.audition_button.click()
    plain, human = heard
    seed_end = plain.bar(3).start  # bars 3-4 are the seed, then the new bars
    for a, b in zip(plain.tracks, human.tracks):
        assert set(n for n in a.notes if n.start < seed_end) <= set(b.notes)  # the seed bars as written
        assert sorted(n.pitch for n in a.notes) == sorted(n.pitch for n in b.notes)
    new_plain = [n for t in plain.tracks for n in t.notes if n.start >= seed_end]
    new_human = [n for t in human.tracks for n in t.notes if n.start >= seed_end - 200]
    assert new_plain and sorted(new_plain) != sorted(n for n in new_human)
    assert window.document.score is score  # auditioning never changes the piece
