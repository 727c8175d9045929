"""Keep as insert, replace or a new take: what each does to the piece, and the note that would hang
past the new bars."""

import pytest

from core.errors import EditError
from core.music.keep import clipped, in_piece_order, keep, new_take_tracks, remove_bars, room_for
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

TPQ = 480
BAR = 4 * TPQ


def piece(bars: int = 6) -> Score:
    melody = Track("Melody", program=40, channel=0, notes=[Note(i * BAR, TPQ, 60 + i, 80) for i in range(bars)])
    bass = Track("Bass", program=32, channel=1, notes=[Note(i * BAR, BAR, 36, 70) for i in range(bars)])
    return Score(TPQ, (melody, bass), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),), title="test")


def fragment(bars: int = 2, hanging: bool = False) -> Score:
    """``bars`` bars for the bass (pitch 50+) and a new instrument (a flute); with ``hanging`` the
    last flute note holds two bars past the fragment's end."""
    bass = Track("Bass", 32, 1, [Note(b * BAR, BAR, 50 + b, 90) for b in range(bars)])
    last = Note((bars - 1) * BAR + TPQ, 3 * BAR if hanging else TPQ, 80, 90)
    flute = Track("Flute", 73, 5, [Note(0, TPQ, 79, 90), last])
    return Score(TPQ, (flute, bass), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),))


def starts(track: Track) -> list[int]:
    return [n.start for n in track.notes]


def test_insert_pushes_the_later_bars_on():
    original = piece()
    kept = keep(original, "insert", 3, fragment(), 2)
    assert kept.bar_count == 8
    assert starts(kept.tracks[0]) == [0, BAR, 4 * BAR, 5 * BAR, 6 * BAR, 7 * BAR]  # bars 3-6 moved by 2
    assert [n.pitch for n in kept.tracks[1].notes if 2 * BAR <= n.start < 4 * BAR] == [50, 51]
    assert kept.tracks[2].name == "Flute"  # a new instrument becomes a new track
    assert original == piece()


def test_replace_takes_the_place_of_the_bars_after_the_seed():
    kept = keep(piece(), "replace", 3, fragment(), 2)
    assert kept.bar_count == 6  # nothing pushed
    assert starts(kept.tracks[0]) == [0, BAR, 4 * BAR, 5 * BAR]  # bars 3-4 of the melody are gone
    bass = kept.tracks[1].notes
    assert [n.pitch for n in bass] == [36, 36, 50, 51, 36, 36]
    # at the end of the piece the rest of the fragment is appended
    tail = keep(piece(), "replace", 6, fragment(), 2)
    assert tail.bar_count == 7
    assert [n.pitch for n in tail.tracks[1].notes][-2:] == [50, 51]


def test_a_take_goes_on_tracks_of_its_own_and_moves_nothing():
    original = piece()
    kept = keep(original, "take", 3, fragment(), 2, take_name="take 1")
    assert kept.tracks[:2] == original.tracks
    assert [t.name for t in kept.tracks[2:]] == ["Bass (take 1)", "Flute (take 1)"]  # the piece's order
    assert new_take_tracks(original, kept) == (2, 3)
    assert len({t.channel for t in kept.tracks}) == 4  # channels of their own
    assert starts(kept.tracks[2]) == [2 * BAR, 3 * BAR]


def test_a_note_that_would_hang_past_the_new_bars_ends_with_them():
    hanging = fragment(hanging=True)
    assert clipped(hanging, 2).tracks[0].notes[-1].end == 2 * BAR
    for mode in ("insert", "replace", "take"):
        kept = keep(piece(), mode, 3, hanging, 2)
        flute = next(t for t in kept.tracks if t.name.startswith("Flute"))
        assert max(n.end for n in flute.notes) == 4 * BAR, mode


def test_room_for_is_the_piece_with_the_room_but_not_the_notes():
    original = piece()
    room = room_for(original, "insert", 3, fragment(), 2)
    assert room.bar_count == 8 and room.notes_count == original.notes_count
    assert not any(2 * BAR <= n.start < 4 * BAR for t in room.tracks for n in t.notes)  # the gap
    replaced = room_for(original, "replace", 3, fragment(), 2)
    assert replaced.notes_count == original.notes_count - 4
    assert room_for(original, "take", 3, fragment(), 2) is original


def test_remove_bars_keeps_the_meter_that_follows_and_cuts_held_notes():
    score = Score(
        TPQ,
        (Track("Pad", 0, 0, [Note(0, 3 * BAR, 60, 80), Note(3 * BAR, TPQ, 62, 80)]),),
        (TempoChange(0, 500_000),),
        (TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4)),
    )
    cut = remove_bars(score, 2, 2)
    assert cut.tracks[0].notes[0].end == BAR  # held into the removed bar: ends where it began
    assert cut.time_signature_at(BAR).text == "3/4"
    assert cut.tracks[0].notes[1].start == 2 * BAR


def test_fragment_tracks_follow_the_piece_order():
    ordered = in_piece_order(piece(), fragment())
    assert [t.name for t in ordered.tracks] == ["Bass", "Flute"]


def test_an_unknown_mode_is_a_clear_error():
    with pytest.raises(EditError, match="keep mode"):
        keep(piece(), "overwrite", 3, fragment(), 2)  # type: ignore[arg-type]


def test_replacing_bars_with_bars_of_their_own_meter_adds_no_meter_event():
    three_four = Score(
        TPQ,
        (Track("Pad", 0, 0, [Note(b * BAR, TPQ, 60, 80) for b in range(2)] + [Note(2 * BAR + b * 3 * TPQ, TPQ, 62, 80) for b in range(2)]),),
        (TempoChange(0, 500_000),),
        (TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4)),
    )
    new = Score(TPQ, (Track("Pad", 0, 0, [Note(0, TPQ, 70, 80), Note(3 * TPQ, TPQ, 71, 80)]),), (), (TimeSignature(0, 3, 4),))
    for at_bar in (3, 4):  # the last two bars, or the last bar and one more
        kept = keep(three_four, "replace", at_bar, new, 2)
        assert [m.text for m in kept.time_signatures] == ["4/4", "3/4"]
        assert kept.time_signatures[1].tick == 2 * BAR
