"""Edits of a piece return a new Score and leave the old one exactly as it was."""

import pytest

from core.music.edits import clear_bars, insert_bars, overlay, rescale, set_track, transpose_bars
from core.errors import EditError
from core.music.score import ChannelPressure, Note, PitchBend, Score, TempoChange, TimeSignature, Track

TPQ = 480
BAR = 4 * TPQ


def piece() -> Score:
    melody = Track("Melody", program=40, channel=0, notes=[Note(i * BAR, TPQ, 60 + i, 80) for i in range(4)])
    bass = Track("Bass", program=32, channel=1, notes=[Note(i * BAR, BAR, 36, 70) for i in range(4)])
    return Score(TPQ, (melody, bass), (TempoChange(0, 500_000),), (TimeSignature(0, 4, 4),), title="test")


def test_clear_and_transpose_touch_only_the_chosen_bars():
    original = piece()
    cleared = clear_bars(original, 2, 3)
    assert [n.start for n in cleared.tracks[0].notes] == [0, 3 * BAR]
    moved = transpose_bars(original, 1, 1, 12, tracks=[0])
    assert [n.pitch for n in moved.tracks[0].notes] == [72, 61, 62, 63]
    assert moved.tracks[1] == original.tracks[1]
    assert original == piece()  # nothing mutated


def test_transpose_out_of_range_is_a_clear_error():
    with pytest.raises(EditError, match="outside the MIDI range"):
        transpose_bars(piece(), 1, 4, 100)


def test_insert_bars_moves_the_rest_and_merges_tracks():
    original = piece()
    fragment = Score(
        240,  # another resolution: rescaled on the way in
        (
            Track("Violin", program=40, channel=3, notes=[Note(0, 240, 70, 90)]),
            Track("Flute", program=73, channel=0, notes=[Note(240, 240, 80, 90)]),
        ),
    )
    result = insert_bars(original, 3, fragment, bars=1)
    melody = result.tracks[0]
    assert Note(2 * BAR, TPQ, 70, 90) in melody.notes  # same program -> same track
    assert [n.start for n in melody.notes if n.pitch != 70] == [0, BAR, 3 * BAR, 4 * BAR]
    assert result.tracks[2].program == 73 and result.tracks[2].channel not in (0, 1)
    assert result.tracks[2].notes == (Note(2 * BAR + TPQ, TPQ, 80, 90),)
    assert result.bar_count == 5
    assert original == piece()


def test_insert_a_bar_in_another_meter_resumes_the_piece_meter():
    fragment = Score(TPQ, (Track("Violin", 40, 0, [Note(0, TPQ, 70, 90)]),), (), (TimeSignature(0, 3, 4),))
    result = insert_bars(piece(), 2, fragment, bars=1)
    assert [(m.tick, m.text) for m in result.time_signatures] == [(0, "4/4"), (BAR, "3/4"), (BAR + 3 * TPQ, "4/4")]
    assert [b.meter for b in result.bars()] == ["4/4", "3/4", "4/4", "4/4", "4/4"]


def test_overlay_and_set_track():
    result = overlay(piece(), Score(TPQ, (Track("Bass", 32, 1, [Note(10, 10, 40, 50)]),)), BAR)
    assert Note(BAR + 10, 10, 40, 50) in result.tracks[1].notes
    renamed = set_track(piece(), 1, name="Contrabass", program=43)
    assert (renamed.tracks[1].name, renamed.tracks[1].program) == ("Contrabass", 43)
    with pytest.raises(EditError):
        set_track(piece(), 5, name="x")
    with pytest.raises(EditError):
        set_track(piece(), 0, program=300)


def test_rescale_keeps_notes_at_least_one_tick():
    fragment = Score(960, (Track("x", notes=[Note(0, 1, 60, 64), Note(960, 960, 62, 64)]),))
    notes = rescale(fragment, 96).tracks[0].notes
    assert notes == (Note(0, 1, 60, 64), Note(96, 96, 62, 64))


def test_pitch_bends_and_pressures_move_with_the_music():
    bent = Track("Guitar", 27, 0, [Note(0, BAR, 64, 80), Note(2 * BAR, BAR, 66, 80)], (),
                 [PitchBend(0, 0), PitchBend(2 * BAR, 2000)], [ChannelPressure(2 * BAR + 5, 40)])
    score = Score(TPQ, (bent,))
    assert clear_bars(score, 1, 3).tracks[0].pitch_bends == bent.pitch_bends  # clearing notes keeps the bends
    fragment = Score(TPQ, (Track("Guitar", 27, 0, [Note(0, 10, 70, 80)], (), [PitchBend(0, -3000)]),))
    inserted = insert_bars(score, 2, fragment, bars=1).tracks[0]
    assert inserted.pitch_bends == (PitchBend(0, 0), PitchBend(BAR, -3000), PitchBend(3 * BAR, 2000))
    assert inserted.pressures == (ChannelPressure(3 * BAR + 5, 40),)
    laid = overlay(score, fragment, 2 * BAR).tracks[0]
    assert laid.pitch_bends == (PitchBend(0, 0), PitchBend(2 * BAR, -3000))  # the fragment's wins at its tick
    halved = rescale(score, TPQ // 2).tracks[0]
    assert halved.pitch_bends == (PitchBend(0, 0), PitchBend(BAR, 2000))
    assert halved.pressures == (ChannelPressure(BAR + 2, 40),)
