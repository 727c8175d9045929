"""Note edits of the piano roll as pure functions: each plans a NoteEdit (what leaves and enters
which track, and what is selected after), applying it returns a new Score and the old one is left as
it was; applying the inverse changes gives the piece back exactly."""

import pytest

from core.music.edits import (
    NoteChange,
    add_notes,
    change_notes,
    copy_notes,
    delete_notes,
    duplicate_notes,
    move_notes,
    notes_in_bars,
    paste_notes,
    quantize_notes,
    resize_notes,
    set_velocities,
)
from core.errors import EditError
from core.music.grid import Grid
from core.music.score import Note, Score, TempoChange, TimeSignature, Track
from core.music.selection import NoteSelection

TPQ = 480
BAR = 4 * TPQ


def piece() -> Score:
    melody = Track("Melody", program=40, channel=0, notes=[Note(i * BAR, TPQ, 60 + i, 80) for i in range(4)])
    bass = Track("Bass", program=32, channel=1, notes=[Note(i * BAR, BAR, 36, 70) for i in range(4)])
    return Score(TPQ, (melody, bass), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))


def undone(score: Score, edit) -> Score:
    return change_notes(edit.apply(score), [c.inverse() for c in reversed(edit.changes)])


def first_two_melody(score: Score) -> NoteSelection:
    return NoteSelection.of_track(0, score.tracks[0].notes[:2])


def test_move_shifts_time_and_pitch_selects_the_moved_notes_and_inverts_exactly():
    original = piece()
    edit = move_notes(original, first_two_melody(original), TPQ, 12)
    moved = edit.apply(original)
    assert [(n.start, n.pitch) for n in moved.tracks[0].notes] == [
        (TPQ, 72), (BAR + TPQ, 73), (2 * BAR, 62), (3 * BAR, 63)
    ]
    assert moved.tracks[1] is original.tracks[1]  # untouched tracks are the very same objects
    assert edit.selection == NoteSelection.of_track(0, [Note(TPQ, TPQ, 72, 80), Note(BAR + TPQ, TPQ, 73, 80)])
    assert original == piece()
    assert undone(original, edit) == original


def test_move_stops_at_tick_zero_and_at_the_ends_of_the_midi_range():
    original = piece()
    edit = move_notes(original, first_two_melody(original), -5 * TPQ, 100)
    moved = edit.apply(original)
    assert [(n.start, n.pitch) for n in moved.tracks[0].notes[:2]] == [(0, 126), (BAR, 127)]


def test_resize_delete_and_velocity():
    original = piece()
    chosen = first_two_melody(original)
    longer = resize_notes(original, chosen, TPQ).apply(original)
    assert [n.duration for n in longer.tracks[0].notes] == [2 * TPQ, 2 * TPQ, TPQ, TPQ]
    shorter = resize_notes(original, chosen, -10 * TPQ, minimum=120).apply(original)
    assert [n.duration for n in shorter.tracks[0].notes[:2]] == [120, 120]
    deleted = delete_notes(original, chosen)
    assert [n.pitch for n in deleted.apply(original).tracks[0].notes] == [62, 63]
    assert not deleted.selection
    assert undone(original, deleted) == original
    louder = set_velocities(original, chosen, 100)
    assert [n.velocity for n in louder.apply(original).tracks[0].notes] == [127, 127, 80, 80]
    softer = set_velocities(original, chosen, -200).apply(original)
    assert [n.velocity for n in softer.tracks[0].notes] == [1, 1, 80, 80]


def test_add_notes_keeps_the_track_sorted_and_many_notes_merge_the_same_way():
    original = piece()
    few = add_notes(original, 1, [Note(TPQ, TPQ, 40, 90)]).apply(original)
    assert few.tracks[1].notes[1] == Note(TPQ, TPQ, 40, 90)
    many = [Note(s * 10, 5, 50, 60) for s in range(200)]  # past the one-by-one limit: a merge
    merged = add_notes(original, 1, many).apply(original)
    assert list(merged.tracks[1].notes) == sorted(list(original.tracks[1].notes) + many)
    assert merged.tracks[1].end_tick == original.tracks[1].end_tick
    with pytest.raises(EditError, match="track 5 does not exist"):
        add_notes(original, 4, [Note(0, 1, 60, 60)])


def test_a_removed_note_the_track_lacks_or_an_added_note_out_of_range_is_a_clear_error():
    original = piece()
    with pytest.raises(EditError, match="no note 99"):
        change_notes(original, [NoteChange(0, (Note(0, TPQ, 99, 80),), ())])
    with pytest.raises(EditError, match="MIDI range"):
        change_notes(original, [NoteChange(0, (), (Note(0, TPQ, 60, 0),))])


def test_an_edit_of_every_note_of_a_track_checks_them_as_one_of_some_does():
    original = piece()
    every = NoteSelection.of_track(0, original.tracks[0].notes)
    moved = move_notes(original, every, TPQ, -1)
    assert [(n.start, n.pitch) for n in moved.apply(original).tracks[0].notes] == [(i * BAR + TPQ, 59 + i) for i in range(4)]
    assert undone(original, moved) == original
    wrong = original.tracks[0].notes[:3] + (Note(0, TPQ, 99, 80),)  # as many notes as the track, one it lacks
    with pytest.raises(EditError, match="no note 99"):
        change_notes(original, [NoteChange(0, wrong, ())])


def test_doubled_notes_are_removed_one_for_one():
    doubled = Score(TPQ, (Track("x", notes=[Note(0, TPQ, 60, 80)] * 2),))
    once = change_notes(doubled, [NoteChange(0, (Note(0, TPQ, 60, 80),), ())])
    assert once.tracks[0].notes == (Note(0, TPQ, 60, 80),)


def test_end_tick_follows_the_edit():
    original = piece()
    assert original.tracks[1].end_tick == 4 * BAR
    last = NoteSelection.of_track(1, original.tracks[1].notes[-1:])
    assert delete_notes(original, last).apply(original).tracks[1].end_tick == 3 * BAR
    assert move_notes(original, last, BAR, 0).apply(original).tracks[1].end_tick == 5 * BAR


def test_quantize_snaps_starts_and_ends_to_the_grid_including_triplets():
    score = Score(TPQ, (Track("x", notes=[Note(130, 200, 60, 80), Note(500, 10, 62, 80)]),))
    chosen = NoteSelection.of_track(0, score.tracks[0].notes)
    eighths = quantize_notes(score, chosen, Grid(8)).apply(score)
    assert [(n.start, n.duration) for n in eighths.tracks[0].notes] == [(240, 240), (480, 240)]
    triplets = quantize_notes(score, chosen, Grid(8, triplet=True)).apply(score)
    assert [(n.start, n.duration) for n in triplets.tracks[0].notes] == [(160, 160), (480, 160)]
    starts_only = quantize_notes(score, chosen, Grid(4), lengths=False).apply(score)
    assert [(n.start, n.duration) for n in starts_only.tracks[0].notes] == [(0, 200), (480, 10)]


def test_copy_and_paste_across_bars_and_tracks():
    original = piece()
    clip = copy_notes(first_two_melody(original))
    assert clip.origin == 0 and clip.tracks == (0,)
    into_bass = paste_notes(original, clip, 2 * BAR + TPQ, track=1)
    pasted = into_bass.apply(original)
    assert Note(2 * BAR + TPQ, TPQ, 60, 80) in pasted.tracks[1].notes
    assert Note(3 * BAR + TPQ, TPQ, 61, 80) in pasted.tracks[1].notes
    assert pasted.tracks[0] == original.tracks[0]
    assert into_bass.selection.tracks == (1,) and len(into_bass.selection) == 2
    both = NoteSelection.of([(0, original.tracks[0].notes[0]), (1, original.tracks[1].notes[0])])
    each_home = paste_notes(original, copy_notes(both), BAR * 8, track=1).apply(original)  # two tracks: each to its own
    assert Note(8 * BAR, TPQ, 60, 80) in each_home.tracks[0].notes
    assert Note(8 * BAR, BAR, 36, 70) in each_home.tracks[1].notes
    with pytest.raises(EditError, match="before the start"):
        paste_notes(original, clip, -1)


def test_duplicate_puts_a_copy_after_the_selection_rounded_up_to_the_grid():
    original = piece()
    chosen = NoteSelection.of_track(0, original.tracks[0].notes[:1])  # one quarter at 0
    copy = duplicate_notes(original, chosen, Grid(4))
    assert copy.selection == NoteSelection.of_track(0, [Note(TPQ, TPQ, 60, 80)])
    assert duplicate_notes(original, first_two_melody(original), Grid(4)).selection.start == BAR + TPQ


def test_notes_in_bars():
    original = piece()
    chosen = notes_in_bars(original, 2, 3)
    assert sorted(n.start for _t, n in chosen) == [BAR, BAR, 2 * BAR, 2 * BAR]
    assert notes_in_bars(original, 2, 3, tracks=[1]).tracks == (1,)
