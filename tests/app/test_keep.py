"""Keep the way the composer means it: insert, replace or a new take (muted), a preview that shows the
new bars in the room they would take, and undo that brings the variations back.

The candidates are real bars of the piece (no model needed); test_generation_model.py runs a model."""

from __future__ import annotations

import pytest

from app.generation import Candidate, InterpolationSteps, ghost_groups
from app.generation_jobs import ContinueResult, GenerationReport
from app.theme import track_color
from core.midi.files import read_midi
from core.music.score import Note, Score, Track
from core.music.selection import BarSelection
from tests.app.pieces import BAR, TPQ, write_quartet


@pytest.fixture
def window(quartet_window):
    return quartet_window


def offer(window, *candidates: Candidate) -> None:
    window.roll.set_selection(BarSelection().with_seed(2))
    window.generation._generated_from = window.document.score
    window.generation._on_candidates(list(candidates))


def two_variations(score: Score) -> tuple[Candidate, Candidate]:
    return (
        Candidate(score.slice_bars(5, 6), at_bar=3, bars=2, label="variation 1 · 20 notes · seed 7"),
        Candidate(score.slice_bars(7, 8), at_bar=3, bars=2, label="variation 2 · 20 notes · seed 8"),
    )


def notes_in(score: Score, start: int, end: int) -> int:
    return sum(1 for t in score.tracks for n in t.notes if start <= n.start < end)


def test_the_insert_preview_shows_the_new_bars_in_the_room_they_take_zoomed_to_be_read(window):
    score = window.document.score
    offer(window, *two_variations(score))
    shown = window.roll.score
    assert shown is not score and shown.bar_count == score.bar_count + 2
    assert notes_in(shown, 2 * BAR, 4 * BAR) == 0  # no music of the piece under the new bars
    assert shown.slice_bars(5, 6) == score.slice_bars(3, 4)  # it is pushed on, as Keep would
    ghosts = [n for _colour, notes in ghost_groups(score, score.slice_bars(5, 6), 2 * BAR, []) for n in notes]
    assert min(n.start for n in ghosts) >= 2 * BAR and max(n.end for n in ghosts) <= 4 * BAR
    view = window.roll.view
    assert view.left_tick <= 2 * BAR and view.right_tick >= 4 * BAR  # in sight
    assert 2 * BAR * view.px_per_tick >= 0.3 * view.width  # and wide enough to read
    window.continue_panel.discard_button.click()
    assert window.roll.score is score  # the piece itself again


def test_keep_inserts_and_undo_brings_the_variations_back(window):
    score = window.document.score
    offer(window, *two_variations(score))
    panel = window.continue_panel
    panel.candidates.setCurrentRow(1)
    panel.keep_button.click()
    kept = window.document.score
    assert kept.slice_bars(3, 4) == score.slice_bars(7, 8) and kept.bar_count == score.bar_count + 2
    assert panel.candidates.count() == 0 and "brings the variations back" in panel.status_text()
    assert window.actions["undo"].toolTip().startswith("Undo Keep variation 2")
    window.actions["undo"].trigger()
    assert window.document.score is score
    assert panel.candidates.count() == 2 and panel.candidates.currentRow() == 1  # the one kept, chosen
    assert panel.keep_button.isEnabled() and window.roll.has_ghosts
    assert panel.status_text().startswith("Back after undo: 2 variations")
    panel.candidates.setCurrentRow(0)  # try the next one
    panel.keep_button.click()
    assert window.document.score.slice_bars(3, 4) == score.slice_bars(5, 6)
    window.actions["undo"].trigger()
    window.actions["redo"].trigger()  # redoing the Keep puts the piece back with nothing on offer
    assert window.document.score.slice_bars(3, 4) == score.slice_bars(5, 6)
    assert panel.candidates.count() == 0 and not window.roll.has_ghosts


def test_keep_as_replace_takes_the_place_of_the_bars_after_the_seed(window):
    score = window.document.score
    offer(window, *two_variations(score))
    panel = window.continue_panel
    panel.keep_as.setCurrentIndex(panel.keep_as.findData("replace"))
    shown = window.roll.score
    assert shown.bar_count == score.bar_count and notes_in(shown, 2 * BAR, 4 * BAR) == 0
    assert window.roll.canvas.highlight[2].startswith("replacing bars 3-4")
    panel.keep_button.click()
    kept = window.document.score
    assert kept.bar_count == score.bar_count
    assert kept.slice_bars(3, 4) == score.slice_bars(5, 6)
    assert kept.slice_bars(5, 12) == score.slice_bars(5, 12)  # nothing after them moved
    window.actions["undo"].trigger()
    assert window.document.score is score and panel.candidates.count() == 2


def test_keep_as_a_take_adds_muted_tracks_of_its_own(window):
    score = window.document.score
    offer(window, *two_variations(score))
    panel = window.continue_panel
    panel.keep_as.setCurrentIndex(panel.keep_as.findData("take"))
    assert window.roll.score is score  # a take moves nothing: the preview is drawn over the piece
    groups = window.roll.canvas.ghosts.groups
    assert len(groups) == 4  # four new tracks, four colours
    panel.keep_button.click()
    kept = window.document.score
    assert kept.tracks[:4] == score.tracks
    assert [t.name for t in kept.tracks[4:]] == [f"{t.name} (take 1)" for t in score.tracks]
    assert [s.muted for s in window.track_states] == [False] * 4 + [True] * 4
    assert len({s.color for s in window.track_states[4:]}) == 4
    assert [row.mute.isChecked() for row in window.tracks.rows][4:] == [True] * 4
    window.actions["undo"].trigger()
    assert len(window.track_states) == 4 and panel.candidates.count() == 2
    window.actions["redo"].trigger()
    assert [s.muted for s in window.track_states][4:] == [True] * 4  # still muted when redone


def test_undoing_an_interpolation_insert_brings_the_steps_back(window):
    score = window.document.score
    panel = window.interpolate_panel
    steps = InterpolationSteps(2, 5, tuple(score.slice_bars(b, b) for b in (6, 7, 8)))
    window.generation._generated_from = score
    window.generation._on_steps(steps)
    panel.slider.setValue(1)
    assert notes_in(window.roll.score, 2 * BAR, 3 * BAR) == 0  # the step is not drawn over bar 3
    panel.insert_button.click()
    assert window.document.score.slice_bars(3, 3) == score.slice_bars(7, 7)
    window.actions["undo"].trigger()
    assert window.document.score is score
    assert panel.step_count == 3 and panel.slider.value() == 1


def test_new_tracks_of_a_variation_get_a_colour_each_and_hidden_tracks_no_ghosts(window):
    score = window.document.score
    fragment = Score(
        TPQ,
        (
            Track("Flute", 73, 5, (Note(0, TPQ, 80, 90),)),
            Track("Oboe", 68, 6, (Note(TPQ, TPQ, 78, 90),)),
            Track("Violin", 40, 0, (Note(0, TPQ, 76, 90),)),
        ),
    )
    colours = [s.color for s in window.track_states]
    groups = ghost_groups(score, fragment, 0, colours)
    assert [c for c, _ in groups] == [colours[0], track_color(4), track_color(5)]
    hidden = ghost_groups(score, fragment, 0, colours, visible=[False, True, True, True])
    assert [c for c, _ in hidden] == [track_color(4), track_color(5)]  # nothing on the hidden violin
    offer(window, Candidate(score.slice_bars(5, 6), at_bar=3, bars=2, label="variation 1"))
    assert len(window.roll.canvas.ghosts.groups) == 4
    window.tracks.rows[0].show_toggle.click()  # hide the violin while the preview is up
    assert len(window.roll.canvas.ghosts.groups) == 3  # its ghosts go with it


def test_a_note_hanging_past_the_new_bars_is_cut_and_the_drag_out_keeps_the_piece_order(window):
    score = window.document.score
    fragment = Score(
        TPQ,
        (
            Track("Cello", 42, 2, (Note(0, BAR, 40, 90),)),
            Track("Violin", 40, 0, (Note(BAR + TPQ, 3 * BAR, 76, 90),)),  # holds two bars past the end
        ),
    )
    offer(window, Candidate(fragment, at_bar=3, bars=2, label="variation 1"))
    ghosts = [n for _f, _o, rects in window.roll.canvas.ghosts.groups for n in rects]
    assert max(r.right() for r in ghosts) <= 4 * BAR
    dragged = read_midi(window.generation.candidate_mime().urls()[0].toLocalFile())
    assert [t.name for t in dragged.tracks] == ["Violin", "Cello"]  # as the piece lists them
    window.continue_panel.keep_button.click()
    violin = window.document.score.tracks[0]
    assert max(n.end for n in violin.notes if 2 * BAR <= n.start < 4 * BAR) == 4 * BAR
    assert window.document.score.slice_bars(5, 14) == score.slice_bars(3, 12)  # the pushed music is untouched


def test_panel_text_follows_the_piece(window, qtbot, tmp_path):
    score = window.document.score
    offer(window, *two_variations(score))
    panel = window.continue_panel
    assert "2 variations" in panel.status_text()
    window.roll.set_selection(BarSelection().with_seed(1))
    window.actions["clear_bars"].trigger()  # an edit drops the variations, and the words about them
    assert panel.candidates.count() == 0 and "variations" not in panel.status_text()
    window.document._show(None)
    window.generation._run(lambda p, c: None, panel, "continuing", lambda _r: None)
    assert panel.status_text() == "Open a piece first."
    window.open_file(write_quartet(tmp_path, "again.mid"), ask_to_save=False)
    assert panel.status_text() == ""


def test_the_model_can_be_kept_from_muted_and_hidden_tracks(window, qtbot, monkeypatch):
    for panel in (window.continue_panel, window.interpolate_panel):
        assert panel.model_hears_silent_tracks()  # by default it hears every track, and says so
        assert "muted and hidden" in panel.hears_silent_tracks.text()
    window.tracks.rows[1].mute.click()
    window.tracks.rows[2].show_toggle.click()
    heard = window.generation.heard(window.document.score)
    assert [bool(t.notes) for t in heard.tracks] == [True, False, False, True]
    given: list = []
    nothing = ContinueResult((), GenerationReport("continuation", 0.0, "small", "cpu"))
    monkeypatch.setattr("app.generation.run_continue", lambda score, *a: given.append(score) or nothing)
    window.continue_panel.set_models([("small", "continue")])
    window.roll.set_selection(BarSelection().with_seed(2))
    window.continue_panel.hears_silent_tracks.setChecked(False)
    window.continue_panel.run_button.click()
    qtbot.waitUntil(lambda: not window.generation.busy, timeout=60_000)
    assert [bool(t.notes) for t in given[0].tracks] == [True, False, False, True]  # what the run was given
