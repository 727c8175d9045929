"""The bar selection the ruler makes and the generation panels read."""

import pytest

from core.music.selection import BarRange, BarSelection


def test_describe_seed_and_context_in_words():
    selection = BarSelection().with_seed(10, 9).with_context(8)
    assert selection.describe() == "seed: bars 9-10, context: bar 8"
    assert BarSelection().describe() == "no bars selected"
    assert BarSelection().with_seed(3).describe() == "seed: bar 3"


def test_a_bar_is_never_both_seed_and_context():
    selection = BarSelection().with_context(4, 8).with_seed(6, 9)
    assert selection.seed == BarRange(6, 9)
    assert selection.context == BarRange(4, 5)
    # a context drawn over the whole seed removes the seed
    assert BarSelection().with_seed(5).with_context(4, 6).seed is None


def test_continuation_and_interpolation_bars():
    one_bar = BarSelection().with_seed(9).with_context(8)
    assert one_bar.continuation_start() == 10
    assert one_bar.interpolation_bars() == (8, 9)
    assert BarSelection().with_seed(3, 7).interpolation_bars() == (3, 7)
    assert BarSelection().with_seed(3).interpolation_bars() is None


def test_clamped_to_a_shorter_piece():
    selection = BarSelection().with_seed(9, 12).with_context(8)
    assert selection.clamped(10) == BarSelection(BarRange(9, 10), BarRange(8, 8))
    assert selection.clamped(7) == BarSelection(None, None)


def test_invalid_ranges_are_refused():
    with pytest.raises(ValueError):
        BarRange(0, 2)
    with pytest.raises(ValueError):
        BarRange(5, 4)


def test_note_selection_groups_by_track_toggles_and_says_itself():
    from core.music.score import Note
    from core.music.selection import NoteSelection

    a, b, c = Note(0, 10, 60, 80), Note(5, 10, 62, 80), Note(20, 10, 64, 80)
    selection = NoteSelection.of([(1, b), (0, c), (1, a)])
    assert selection.by_track == {0: (c,), 1: (a, b)}
    assert selection.start == 0 and selection.end == 30 and len(selection) == 3
    assert selection.describe() == "3 notes in 2 tracks"
    assert selection.toggled(NoteSelection.of([(1, a)])) == NoteSelection.of([(1, b), (0, c)])
    assert NoteSelection().toggled(NoteSelection.of([(1, a)])) == NoteSelection.of([(1, a)])
    assert NoteSelection().describe() == "no notes selected" and not NoteSelection()
