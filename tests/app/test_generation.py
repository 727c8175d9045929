"""What the window does around generation: candidates as ghosts, Keep, interpolation steps, Insert.

Here the results handed to the controller are real bars of the piece, so every path from a result to
the piece is exercised without a model; test_generation_model.py runs the real thing with a tiny one.
"""

from __future__ import annotations

import pytest

from app.generation import Candidate, InterpolationSteps, ghost_groups, joined
from app.generation_jobs import ContinueResult, GenerationReport
from app.panels.requests import ContinueRequest, InterpolateRequest, Temperatures
from core.midi.files import read_midi
from core.music.selection import BarSelection
from tests.app.pieces import BAR


@pytest.fixture
def window(quartet_window):
    return quartet_window


def test_the_continue_panel_builds_its_request_from_its_controls(window):
    panel = window.continue_panel
    panel.set_models([("small", "continue, 1.2M params")])
    panel.set_instrument_classes(["Piano", "Organ", "Violin"])
    window.roll.set_selection(BarSelection().with_seed(9, 10).with_context(8))
    panel.bars.setValue(2)
    panel.variations.setValue(4)
    panel.free.setChecked(True)
    panel.temperatures.sliders["pitch"].setValue(150)
    assert panel.request().allowed_instruments is None  # the seed's and context's instruments
    assert not panel.instruments.isEnabled()
    panel.instruments_from_seed.setChecked(False)
    assert panel.instruments.isEnabled() and panel.request().allowed_instruments == (0, 1, 2)
    panel.top_p.setValue(0.9)
    panel.latent.setCurrentIndex(panel.latent.findData("standard"))
    panel.instruments.item(1).setCheckState(panel.instruments.item(1).checkState().__class__.Unchecked)
    request = panel.request()
    assert request == ContinueRequest(
        model="small", seed_first=9, seed_last=10, context=(8, 8), bars=2, variations=4, seeded=False,
        temperatures=Temperatures(pitch=1.5), allowed_instruments=(0, 2), random_seed=panel.random_seed.value(),
        top_p=0.9, latent="standard",
    )
    panel.temperatures.reset_button.click()
    assert panel.temperatures.temperatures() == Temperatures()


def test_candidates_show_as_ghosts_and_keep_inserts_one_undoably(window):
    score = window.document.score
    window.roll.set_selection(BarSelection().with_seed(2))
    candidates = [
        Candidate(score.slice_bars(5, 6), at_bar=3, bars=2, label="variation 1"),
        Candidate(score.slice_bars(7, 8), at_bar=3, bars=2, label="variation 2"),
    ]
    window.generation._generated_from = score
    window.generation._on_candidates(candidates)
    panel = window.continue_panel
    assert panel.candidates.count() == 2 and panel.keep_button.isEnabled()
    assert window.roll.has_ghosts
    first_ghost = window.roll.canvas.ghosts.groups[0][2][0]
    assert first_ghost.x() == 2 * BAR  # drawn at bar 3, where it would go
    assert window.roll.canvas.highlight == (2 * BAR, 4 * BAR, "new bars 3-4: variation 1 of 2")
    panel.candidates.setCurrentRow(1)
    panel.keep_button.click()
    kept = window.document.score
    assert kept.bar_count == score.bar_count + 2
    assert kept.slice_bars(3, 4) == score.slice_bars(7, 8)  # the chosen one, in place
    assert kept.slice_bars(5, 6) == score.slice_bars(3, 4)  # the rest moved on
    assert not window.roll.has_ghosts and panel.candidates.count() == 0
    assert window.roll.canvas.highlight is None
    window.actions["undo"].trigger()
    assert window.document.score is score


def test_what_the_model_left_out_is_said_in_the_status_line(window):
    score = window.document.score
    window.roll.set_selection(BarSelection().with_seed(2))
    window.generation._generated_from = score
    left_out = "drums not continued: bars 1-2 play 24 drum notes (channel 10)"
    candidate = Candidate(score.slice_bars(5, 6), 3, 2, "variation 1")
    report = GenerationReport("continuation", 0.1, "classical-continuation", "cpu")
    window.generation._on_continued(ContinueResult((candidate,), report, (left_out,)))
    status = window.continue_panel.progress.status.text()
    assert status.startswith("1 variation of bars 3-4")
    assert status.endswith(" Note: Drums not continued: bars 1-2 play 24 drum notes (channel 10).")
    window.generation._on_candidates([Candidate(score.slice_bars(5, 6), 3, 2, "variation 1")])
    assert "Note:" not in window.continue_panel.progress.status.text()  # a result without notes says none


def test_a_result_for_a_piece_that_changed_meanwhile_is_dropped(window):
    score = window.document.score
    window.generation._generated_from = score
    window.roll.set_selection(BarSelection().with_seed(1))
    window.actions["clear_bars"].trigger()
    window.generation._on_candidates([Candidate(score.slice_bars(1, 1), 2, 1, "variation 1")])
    assert window.continue_panel.candidates.count() == 0
    assert "changed" in window.continue_panel.progress.status.text()


def test_interpolation_steps_move_with_the_slider_and_insert(window, qtbot):
    score = window.document.score
    panel = window.interpolate_panel
    window.roll.set_selection(BarSelection().with_seed(2, 5))
    steps = InterpolationSteps(2, 5, tuple(score.slice_bars(b, b) for b in (6, 7, 8)))
    window.generation._generated_from = score
    window.generation._on_steps(steps)
    assert panel.step_count == 3 and panel.slider.isEnabled()
    shown: list[int] = []
    panel.step_changed.connect(shown.append)
    panel.slider.setValue(2)
    assert shown == [2]
    assert window.roll.canvas.highlight == (2 * BAR, 3 * BAR, "step 3 of 3: bar 2 → bar 5")
    assert window.roll.has_ghosts
    panel.insert_all_button.click()
    result = window.document.score
    assert result.bar_count == score.bar_count + 3
    assert result.slice_bars(3, 5) == score.slice_bars(6, 8)
    assert window.roll.canvas.highlight is None and panel.step_count == 0
    window.actions["undo"].trigger()
    assert window.document.score is score


def test_interpolate_request_and_a_model_that_is_not_there(window, qtbot):
    panel = window.interpolate_panel
    panel.set_models([("small", "")])
    window.roll.set_selection(BarSelection().with_seed(3).with_context(2))
    panel.method.setCurrentIndex(1)
    request = panel.request()
    assert (request.bar_a, request.bar_b, request.method, request.steps) == (2, 3, "slerp", 8)
    assert isinstance(request, InterpolateRequest)
    window.actions["interpolate"].trigger()
    qtbot.waitUntil(lambda: not window.generation.busy, timeout=60_000)  # only reached when broken
    assert panel.progress.status.text() == "no model named 'small': the model search has not finished"


def test_ghost_colours_follow_the_track_the_notes_would_join(window):
    score = window.document.score
    groups = ghost_groups(score, score.slice_bars(1, 1), 5 * BAR, ["#111111", "#222222", "#333333", "#444444"])
    assert [colour for colour, _ in groups] == ["#111111", "#222222", "#333333", "#444444"]
    assert min(n.start for _, notes in groups for n in notes) == 5 * BAR


def test_joined_steps_stay_in_order(window):
    score = window.document.score
    fragment, count = joined([score.slice_bars(1, 1), score.slice_bars(2, 2)])
    assert count == 2 and fragment.slice_bars(2, 2) == score.slice_bars(2, 2)


def test_dragging_a_candidate_out_gives_its_midi(window):
    score = window.document.score
    window.generation._generated_from = score
    window.generation._on_candidates([Candidate(score.slice_bars(4, 5), 3, 2, "variation 1")])
    mime = window.generation.candidate_mime()
    assert read_midi(mime.urls()[0].toLocalFile()) == score.slice_bars(4, 5)


def test_a_candidate_out_of_sight_is_scrolled_into_view(window):
    score = window.document.score
    window.roll.zoom_time(8.0)
    window.roll.scroll_to_tick(0)
    assert window.roll.view.right_tick < 10 * BAR
    window.generation._generated_from = score
    window.generation._on_candidates([Candidate(score.slice_bars(1, 2), at_bar=40, bars=2, label="variation 1")])
    start, end = score.bar(40).start, score.bar(41).end  # far past the music and its 16 empty bars
    assert window.roll.view.left_tick <= start < window.roll.view.right_tick
    assert window.roll.hbar.maximum() + window.roll.hbar.pageStep() >= end  # the scroll bar reaches them
