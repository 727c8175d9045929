"""An edit updates the drawing note by note: a spliced layer equals one built from scratch, and the
roll does not index an edited track again."""

from __future__ import annotations

import numpy as np
import pytest

from app.piano_roll import note_painter
from app.piano_roll.note_index import NoteIndex, splice_list
from app.piano_roll.note_painter import TrackLayer
from core.music import edits
from core.music.score import Note, NoteColumns, Score, Track
from core.music.selection import NoteSelection
from tests.app.piano_roll.editing_helpers import BAR, TPQ, make_editing


def random_track(count: int, seed: int = 0) -> Track:
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.integers(0, 200 * BAR, count))
    return Track(
        "x",
        notes=[
            Note(int(s), int(d), int(p), int(v))
            for s, d, p, v in zip(starts, rng.integers(1, 2 * TPQ, count), rng.integers(30, 90, count), rng.integers(1, 128, count))
        ],
    )


def layer_content(layer: TrackLayer) -> list:
    """What a layer draws (each note with its band and rectangle), independent of the order of notes
    that start together; the rectangles must match the notes they stand beside."""
    index = layer.all
    rects = [(r.x(), r.y(), r.width()) for r in layer.rects.get(0, len(layer.all))]
    assert len(rects) == len(index) == len(layer.band_of)
    return sorted(
        zip(index.starts.tolist(), index.ends.tolist(), index.pitches.tolist(), index.velocities.tolist(), layer.band_of.tolist(), rects)
    )


def test_a_spliced_layer_draws_what_a_new_one_draws():
    track = random_track(3000)
    layer = TrackLayer(track, "#ff0000")
    removed = track.notes[100:400:3] + track.notes[-5:]
    added = tuple(Note(n.start + 7, n.duration, n.pitch + 1, min(127, n.velocity + 40)) for n in removed)
    changed = Track("x", notes=[n for n in track.notes if n not in set(removed)] + list(added))
    spliced = layer.changed(changed, removed, added)
    assert layer_content(spliced) == layer_content(TrackLayer(changed, "#ff0000"))
    assert spliced.all.starts.tolist() == sorted(spliced.all.starts.tolist())
    assert [r.x() for r in spliced.rects.get(0, len(spliced.all))] == spliced.all.starts.tolist()
    assert layer_content(layer) == layer_content(TrackLayer(track, "#ff0000"))  # the old one is as it was


@pytest.mark.parametrize("share", [0.05, 0.6])  # a few notes are spliced in; most of the track, built anew
def test_an_edited_layer_draws_what_a_new_one_draws_however_much_changed(share: float, monkeypatch):
    track = random_track(1000)
    layer = TrackLayer(track, "#ff0000")
    removed = track.notes[: int(share * len(track.notes))]
    added = tuple(n._replace(start=n.start + 120) for n in removed)
    changed = Track("x", notes=[n for n in track.notes if n not in set(removed)] + list(added))
    built: list[Track] = []
    original_init = note_painter.TrackLayer.__init__
    monkeypatch.setattr(note_painter.TrackLayer, "__init__", lambda self, t, c: (built.append(t), original_init(self, t, c))[1])
    edited = layer.changed(changed, removed, added)
    assert built == ([changed] if share > 0.25 else [])  # built anew past a quarter of the track
    assert layer_content(edited) == layer_content(TrackLayer(changed, "#ff0000"))


def test_a_track_read_from_a_file_is_indexed_from_its_columns_as_from_its_notes():
    track = random_track(500)
    read = Track.from_checked(track.name, track.program, track.channel, NoteColumns.of(track.notes))
    by_columns, by_notes = NoteIndex.of_columns(read.note_columns), NoteIndex.build(track.notes)
    assert np.array_equal(by_columns.rows, by_notes.rows) and by_columns.max_duration == by_notes.max_duration
    assert layer_content(TrackLayer(read, "#ff0000")) == layer_content(TrackLayer(track, "#ff0000"))
    assert "notes" not in read.__dict__  # drawing needs no Note objects
    assert NoteIndex.of_columns(Track("empty").note_columns).max_duration == 0


def test_positions_of_a_note_the_index_lacks_is_a_key_error_and_doubles_are_found_twice():
    index = NoteIndex.build([Note(0, 10, 60, 80), Note(0, 10, 60, 80), Note(5, 10, 61, 80)])
    assert index.positions_of([Note(0, 10, 60, 80), Note(0, 10, 60, 80)]).tolist() == [0, 1]
    with pytest.raises(KeyError):
        index.positions_of([Note(0, 10, 60, 80)] * 3)
    assert splice_list(["a", "b", "c"], np.array([1]), np.array([0, 2]), ["x", "y"]) == ["x", "a", "c", "y"]


def test_an_edit_in_the_roll_updates_the_layer_without_indexing_the_track_again(qtbot, monkeypatch):
    score = Score(TPQ, (random_track(5000), Track("y", 1, 1, [Note(0, TPQ, 40, 80)])))
    ed = make_editing(qtbot, score)
    built: list[Track] = []
    original_init = note_painter.TrackLayer.__init__

    def counting_init(self, track, color):
        built.append(track)
        original_init(self, track, color)

    monkeypatch.setattr(note_painter.TrackLayer, "__init__", counting_init)
    chosen = NoteSelection.of_track(0, ed.score.tracks[0].notes[10:60])
    ed.roll.editor.set_selection(chosen)
    ed.roll.editor.move_by(1, 2)
    assert ed.document.undo_stack.count() == 1
    ed.document.undo_stack.undo()
    ed.document.undo_stack.redo()
    assert built == []  # every update was a splice
    shown = dict(ed.roll.shown_layers())[0]
    assert shown.track is ed.score.tracks[0]
    assert layer_content(shown) == layer_content(TrackLayer(ed.score.tracks[0], shown.color))
    ed.document.apply(edits.clear_bars(ed.score, 1, 2), "Clear")  # an edit of another kind: indexed anew
    assert any(track is ed.score.tracks[0] for track in built)


def test_rectangles_are_made_only_for_the_notes_drawn_and_survive_an_edit():
    track = random_track(2000)
    layer = TrackLayer(track, "#ff0000")
    assert not layer.rects._made.any()  # opening a piece makes no rectangle
    first = layer.rects.get(100, 300)
    assert layer.rects._made.sum() == 200 and layer.rects.get(100, 300) == first  # made once, then kept
    removed = track.notes[150:250:7]
    added = tuple(n._replace(pitch=n.pitch + 2) for n in removed)
    changed = Track("x", notes=[n for n in track.notes if n not in set(removed)] + list(added))
    spliced = layer.changed(changed, removed, added)
    assert layer_content(spliced) == layer_content(TrackLayer(changed, "#ff0000"))
    untouched = layer.changed(track, (), ())  # an edit that moved nothing: the layers share no state
    untouched.rects.get(0, len(untouched.all))
    assert None not in layer.rects.get(0, len(layer.all))
