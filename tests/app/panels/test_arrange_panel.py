"""The Arrange panel in the window, with a tiny chord-conditioned model: the progression prefilled
from the chord lane and checked before it is sent, the style bar or a random style, a run off the GUI
thread with Cancel, the variations as ghosts, Keep (insert or replace) and undo, a clear word
for a model that does not hear chords, and the attribute sliders on the held code."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import core.generation.arrange
from app.panels.arrange_panel import ARRANGER
from app.panels.requests import ArrangeRequest, Temperatures
from core.model.attributes import ATTRIBUTES, AttributeVectors, vectors_path
from core.model.checkpoints import make_card, save_model
from core.generation.arrange import arrange
from core.generation.controls import Controls
from core.harmony.conditioning import progression_of
from core.harmony.labels import parse_progression
from core.harmony.templates import chord_tones
from core.music.selection import BarSelection
from tests.app.test_generation_model import WAIT_MS, GatedGeneration, make_window, wait_done
from tests.core.generation.test_arrange import tiny_model

ARRANGER_NAME = "tiny-arranger"
PLAIN_NAME = "tiny-plain"


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny chord-conditioned model (an arranger) and a tiny model without chords."""
    folder = tmp_path_factory.mktemp("arrange-models")
    for name, chords in ((ARRANGER_NAME, True), (PLAIN_NAME, False)):
        network = tiny_model(chords=chords, seed=4)
        save_model(folder / f"{name}.safetensors", network, make_card(network, name=name, preset="test", epochs=1))
    return folder


@pytest.fixture
def window(qtbot, settings_path, monkeypatch, tmp_path, model_folder):
    window = make_window(qtbot, settings_path, monkeypatch, model_folder, tmp_path)
    window.arrange_panel.new_seed_each_run.setChecked(False)
    return window


def notes_of(score) -> list[tuple[str, tuple]]:
    """Every note with its track's name, sorted (a Keep may add tracks for new instruments)."""
    return sorted((track.name, tuple(note)) for track in score.tracks for note in track.notes)


def select(window, qtbot, first: int, last: int) -> None:
    """Select bars ``first``-``last`` once the chord lane knows the piece's chords."""
    qtbot.waitUntil(lambda: bool(window.roll.chord_lane.spans), timeout=WAIT_MS)
    window.roll.set_selection(BarSelection().with_seed(first, last))


def test_the_arranger_is_picked_and_a_model_without_chords_is_refused_with_the_one_to_pick(window):
    panel = window.arrange_panel
    assert panel.model.current_model() == ARRANGER_NAME  # chord models are listed first
    assert panel.run_button.isEnabled() and panel.model_note.text() == ""
    panel.model.setCurrentIndex(panel.model.findData(PLAIN_NAME))
    assert not panel.run_button.isEnabled()
    assert f"{PLAIN_NAME} does not hear chords: pick {ARRANGER} to arrange." in panel.model_note.text()
    panel.progression.setText("C G")
    panel.request_arrange()  # Return in the field: refused with the same words, nothing runs
    assert not window.generation.busy and f"pick {ARRANGER}" in panel.status_text()


def test_the_progression_comes_from_the_selected_bars_and_bad_chords_are_said(window, qtbot):
    panel = window.arrange_panel
    score = window.document.score
    select(window, qtbot, 3, 4)
    expected = progression_of(score, window.roll.chord_lane.chords(), 3, 4)
    assert (panel.progression.text(), panel.chords_per_bar.currentData()) == expected and expected[0]
    panel.from_bar.setChecked(True)
    request = panel.request()
    assert request == ArrangeRequest(
        model=ARRANGER_NAME, progression=" ".join(c.short for c in parse_progression(expected[0])),
        chords_per_bar=expected[1], style_bar=4, at_bar=5, variations=3, temperatures=Temperatures(),
        allowed_instruments=None, random_seed=panel.random_seed.value(),
    )  # fmt: skip
    panel.progression.clear()
    qtbot.keyClicks(panel.progression, "C Hm F")  # typed: the composer's own from now on
    assert panel.request() is None
    assert "'Hm'" in panel.status_text() and "\n" not in panel.status_text()
    window.roll.chord_lane.chord_edited.emit(0, parse_progression("D")[0])  # a lane edit does not overwrite typing
    assert panel.progression.text() == "C Hm F"
    panel.progression.setText("C, G | Am")
    panel.at_random.setChecked(True)
    request = panel.request()
    assert request is not None and request.progression == "C G Am" and request.style_bar is None
    window.roll.set_selection(BarSelection().with_seed(6))  # new bars: their chords are suggested again
    assert panel.progression.text() == progression_of(score, window.roll.chord_lane.chords(), 6, 6)[0]
    window.roll.set_selection(BarSelection())
    panel.from_bar.setChecked(True)
    assert not panel.run_button.isEnabled() and panel.request() is None
    assert "style bar" in panel.status_text()


def test_arrange_off_the_gui_thread_keep_it_and_undo(window, qtbot):
    panel = window.arrange_panel
    score = window.document.score
    select(window, qtbot, 3, 4)
    panel.progression.setText("C G Am F")
    panel.chords_per_bar.setCurrentIndex(panel.chords_per_bar.findData(1))
    panel.at_random.setChecked(True)
    panel.variations.setValue(2)
    panel.random_seed.setValue(11)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert panel.candidates.count() == 2, panel.status_text()
    assert "2 variations of bars 5-8" in panel.status_text()
    # The panel is a view over core: the same settings give the same bars as arrange() itself.
    network = window.models.loaded_model(ARRANGER_NAME).network
    made = arrange(network, parse_progression("C G Am F"), meter=(4, 4), variations=2, controls=Controls(seed=11))
    assert [c.fragment for c in window.generation.candidates] == [v.score for v in made.variations]
    assert [(c.at_bar, c.bars) for c in window.generation.candidates] == [(5, 4), (5, 4)]
    assert window.roll.has_ghosts and window.continue_panel.candidates.count() == 0

    panel.candidates.setCurrentRow(1)
    panel.keep_button.click()
    kept = window.document.score
    assert kept.bar_count == score.bar_count + 4
    assert notes_of(kept.slice_bars(9, 12)) == notes_of(score.slice_bars(5, 8))  # the later bars moved on
    notes = sum(len(t.notes) for t in kept.slice_bars(5, 8).tracks)
    assert notes == made.variations[1].score.notes_count > 0
    assert panel.candidates.count() == 0 and "Kept variation 2" in panel.status_text()
    window.actions["undo"].trigger()
    assert window.document.score is score and panel.candidates.count() == 2  # the variations come back

    panel.candidate_box.keep_as.setCurrentIndex(panel.candidate_box.keep_as.findData("replace"))
    panel.keep_button.click()
    replaced = window.document.score
    assert replaced.bar_count == score.bar_count
    assert notes_of(replaced.slice_bars(9, 12)) == notes_of(score.slice_bars(9, 12))


def arrange_one_from_the_bar(window, qtbot, progression: str):
    """Arrange ``progression`` in the style of the selected bar, one variation; its fragment."""
    panel = window.arrange_panel
    panel.progression.setText(progression)
    panel.from_bar.setChecked(True)
    panel.variations.setValue(1)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert panel.candidates.count() == 1, panel.status_text()
    return window.generation.candidates[0].fragment


def test_the_style_bar_arrangement_plays_the_style_bars_tracks_and_cancel_stops_a_run(window, qtbot):
    panel = window.arrange_panel
    score = window.document.score
    select(window, qtbot, 2, 2)
    fragment = arrange_one_from_the_bar(window, qtbot, "C F G C")
    assert {t.name for t in fragment.tracks if t.notes} <= {t.name for t in score.tracks}

    gate = GatedGeneration(pytest.MonkeyPatch(), core.generation.arrange, "arrange")
    try:
        panel.run_button.click()
        qtbot.waitUntil(gate.running.is_set, timeout=WAIT_MS)  # held in its first bar
        assert not panel.run_button.isEnabled() and panel.progress.cancel_button.isVisible()
        panel.progress.cancel_button.click()
        gate.gate.set()
        wait_done(qtbot, window)
    finally:
        gate.gate.set()
    assert panel.status_text() == "Cancelled." and panel.candidates.count() == 0
    assert window.document.score is score and panel.run_button.isEnabled()


def test_the_bundled_arranger_arranges_a_real_piece_in_the_window(qtbot, settings_path, monkeypatch, tmp_path):
    """The shipped classical-arranger, on a MIDI file opened in the window: its bars follow the
    progression's chords and keep the style bar's band."""
    models = Path(__file__).resolve().parents[3] / "models"
    window = make_window(qtbot, settings_path, monkeypatch, models, tmp_path)
    panel = window.arrange_panel
    panel.new_seed_each_run.setChecked(False)
    panel.model.setCurrentIndex(panel.model.findData(ARRANGER))
    # its attribute vectors are bundled: the sliders are on, and say what each vector was measured to do
    assert panel.attributes.grid.isEnabled() and "Measured on 200 held-out bars" in panel.attributes.sliders["register"].toolTip()
    select(window, qtbot, 4, 4)
    panel.chords_per_bar.setCurrentIndex(panel.chords_per_bar.findData(1))
    fragment = arrange_one_from_the_bar(window, qtbot, "C Am F G")
    chords = parse_progression("C Am F G")
    band = {track.program for track in window.document.score.slice_bars(4, 4).tracks if track.notes}
    on_chord = total = 0
    for number, chord in enumerate(chords, start=1):
        notes = [(track, note) for track in fragment.slice_bars(number, number).tracks for note in track.notes]
        assert notes, f"bar {number} of the arrangement is empty"
        assert {track.program for track, _ in notes} <= band
        tones = chord_tones(chord)
        on_chord += sum(note.pitch % 12 in tones for _, note in notes)
        total += len(notes)
    assert on_chord / total > 0.5  # a model deaf to the chords would land on about a third of them


def test_the_attribute_sliders_move_the_held_code_of_an_arranger_with_vectors(qtbot, settings_path, monkeypatch, tmp_path, model_folder):
    folder = tmp_path / "models"
    shutil.copytree(model_folder, folder)
    vectors = AttributeVectors(ATTRIBUTES, np.random.default_rng(0).normal(0, 2, (len(ATTRIBUTES), 8)))
    vectors.save(vectors_path(folder / f"{ARRANGER_NAME}.safetensors"))
    used, real = [], core.generation.arrange.arrange
    monkeypatch.setattr(core.generation.arrange, "arrange", lambda *a, controls, **k: used.append(controls) or real(*a, controls=controls, **k))
    window = make_window(qtbot, settings_path, monkeypatch, folder, tmp_path)
    panel = window.arrange_panel
    assert panel.model.current_model() == ARRANGER_NAME and panel.attributes.grid.isEnabled()
    panel.attributes.sliders["register"].setValue(20)
    panel.progression.setText("C G")
    panel.variations.setValue(1)
    panel.run_button.click()
    wait_done(qtbot, window)
    assert panel.candidates.count() == 1, panel.status_text()
    assert used[-1].latent_shift == tuple(float(x) for x in 2.0 * vectors.vector("register"))


def test_an_arranger_without_vectors_greys_the_sliders(window):
    panel = window.arrange_panel
    assert panel.model.current_model() == ARRANGER_NAME
    assert not panel.attributes.grid.isEnabled() and "has no attribute vectors" in panel.attributes.sliders["density"].toolTip()
