"""The Score model: validation, canonical form, bar grid, tempo map and slicing."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from core.music.score import (
    Bar,
    ChannelPressure,
    ControlChange,
    KeySignature,
    Note,
    NoteColumns,
    PitchBend,
    Score,
    TempoChange,
    TimeSignature,
    Track,
)

TPQ = 480
BAR = 4 * TPQ  # one 4/4 bar


def score_with(*notes: Note, meters=(), tempos=(), keys=(), tpq=TPQ) -> Score:
    return Score(tpq, (Track("Piano", 0, 0, notes),), tempos, meters, keys)


# ------------------------------------------------------------------------------ notes and tracks
def test_note_end_and_order():
    a, b, c = Note(0, 10, 60, 90), Note(0, 20, 50, 90), Note(5, 1, 40, 90)
    assert a.end == 10 and c.end == 6
    assert sorted([c, b, a]) == [a, b, c]  # by start, then duration, pitch, velocity


def test_track_sorts_notes_and_controls_into_tuples():
    track = Track("Violin", 40, 3, [(480, 10, 60, 90), Note(0, 10, 62, 80)], [(10, 64, 0), (0, 64, 127)])
    assert track.notes == (Note(0, 10, 62, 80), Note(480, 10, 60, 90))
    assert all(type(n) is Note for n in track.notes)
    assert track.controls == (ControlChange(0, 64, 127), ControlChange(10, 64, 0))
    assert track == Track("Violin", 40, 3, list(reversed(track.notes)), list(reversed(track.controls)))
    assert track.end_tick == 490 and track.pitch_range == (60, 62)
    assert Track("Empty").pitch_range is None and Track("Empty").end_tick == 0


def test_pitch_bends_and_pressures_are_sorted_with_the_last_one_at_a_tick():
    track = Track("Guitar", 27, 0, (), (), [(480, 100), PitchBend(0, -8192), (480, 8191)], [(5, 9), (0, 1), (5, 7)])
    assert track.pitch_bends == (PitchBend(0, -8192), PitchBend(480, 8191))  # 8191 came last at tick 480
    assert all(type(b) is PitchBend for b in track.pitch_bends)
    assert track.pressures == (ChannelPressure(0, 1), ChannelPressure(5, 7))
    assert track != Track("Guitar", 27, 0)  # they are music: a Score with them differs


def reader_track(notes: tuple[Note, ...]) -> Track:
    """A track made as a file reader makes one: from columns, its notes not made yet."""
    return Track.from_checked("Piano", 0, 0, NoteColumns.of(notes))


CHORD = (Note(0, 240, 64, 80), Note(0, 480, 60, 90), Note(480, 960, 55, 70))


def test_a_reader_track_makes_its_notes_only_when_they_are_asked_for():
    made = Track("Piano", 0, 0, CHORD)
    read = reader_track(made.notes)
    assert read.note_count == 3 and read.end_tick == 1440 and read.pitch_range == (55, 64)
    assert Score(TPQ, (read,)).notes_count == 3
    assert "notes" not in read.__dict__  # counting, the end and the range need no Note
    assert read.notes == made.notes and all(type(n) is Note for n in read.notes)
    assert read.notes is read.notes  # made once
    assert read == made and hash(read) == hash(made)


def test_note_columns_hold_the_notes_in_order_and_are_read_only():
    columns = Track("Piano", notes=CHORD).note_columns
    assert columns.start.tolist() == [0, 0, 480] and columns.duration.tolist() == [240, 480, 960]
    assert columns.pitch.tolist() == [64, 60, 55] and columns.end.tolist() == [240, 480, 1440]
    assert columns.start.dtype == np.int64 and len(columns) == 3
    with pytest.raises(ValueError):
        columns.pitch[0] = 70
    assert len(Track("Empty").note_columns) == 0 and reader_track(()).notes == ()


def test_a_reader_track_copies_and_says_what_it_lacks():
    read = reader_track(Track("Piano", notes=CHORD).notes)
    assert copy.deepcopy(read).notes == read.notes
    assert pickle.loads(pickle.dumps(read)).notes == read.notes  # as a worker process would send it
    with pytest.raises(AttributeError, match="colour"):
        read.colour


def test_track_does_not_keep_the_callers_list():
    notes = [Note(0, 10, 60, 90)]
    track = Track("x", notes=notes)
    notes.append(Note(20, 10, 61, 90))
    assert track.notes == (Note(0, 10, 60, 90),)


def test_drum_flag_follows_channel_10():
    assert Track("Kit", channel=9).is_drum
    assert not Track("Piano", channel=0).is_drum


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"program": 128}, "program"),
        ({"program": -1}, "program"),
        ({"channel": 16}, "channel"),
        ({"notes": [Note(-1, 10, 60, 90)]}, "starts before 0"),
        ({"notes": [Note(0, 0, 60, 90)]}, "shorter than 1 tick"),
        ({"notes": [Note(0, 10, 128, 90)]}, "pitch"),
        ({"notes": [Note(0, 10, -1, 90)]}, "pitch"),
        ({"notes": [Note(0, 10, 60, 0)]}, "velocity"),
        ({"notes": [Note(0, 10, 60, 128)]}, "velocity"),
        ({"controls": [ControlChange(0, 128, 0)]}, "control"),
        ({"controls": [ControlChange(0, 64, 128)]}, "control"),
        ({"controls": [ControlChange(-5, 64, 0)]}, "control"),
        ({"pitch_bends": [PitchBend(0, 8192)]}, "pitch bend"),
        ({"pitch_bends": [PitchBend(0, -8193)]}, "pitch bend"),
        ({"pitch_bends": [PitchBend(-1, 0)]}, "pitch bend"),
        ({"pressures": [ChannelPressure(0, 128)]}, "pressure"),
        ({"pressures": [ChannelPressure(-1, 0)]}, "pressure"),
    ],
)
def test_track_rejects_what_midi_cannot_hold(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Track("Bad", **kwargs)


# ----------------------------------------------------------------------------- score validation
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ticks_per_quarter": 0}, "ticks per quarter"),
        ({"ticks_per_quarter": 32768}, "ticks per quarter"),
        ({"tempos": (TempoChange(0, 0),)}, "tempo"),
        ({"tempos": (TempoChange(0, 0x1000000),)}, "tempo"),
        ({"tempos": (TempoChange(-1, 500_000),)}, "negative tick"),
        ({"time_signatures": (TimeSignature(0, 0, 4),)}, "meter"),
        ({"time_signatures": (TimeSignature(0, 3, 3),)}, "power of two"),
        ({"time_signatures": (TimeSignature(0, 256, 4),)}, "meter"),
        ({"time_signatures": (TimeSignature(0, 4, 256),)}, "meter"),
        ({"key_signatures": (KeySignature(0, 8),)}, "sharps"),
        ({"key_signatures": (KeySignature(0, -8),)}, "sharps"),
    ],
)
def test_score_rejects_invalid_maps(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Score(**kwargs)


def test_maps_are_sorted_and_keep_the_last_event_at_a_tick():
    score = Score(
        TPQ,
        tempos=[TempoChange(960, 400_000), TempoChange(0, 600_000), TempoChange(960, 300_000)],
        time_signatures=[TimeSignature(BAR, 3, 4), TimeSignature(0, 4, 4)],
        key_signatures=[KeySignature(BAR, -3, True), KeySignature(0, 2)],
    )
    assert score.tempos == (TempoChange(0, 600_000), TempoChange(960, 300_000))
    assert [m.text for m in score.time_signatures] == ["4/4", "3/4"]
    assert [k.name for k in score.key_signatures] == ["D", "Cm"]
    assert isinstance(score.tracks, tuple)


def test_equality_ignores_warnings_but_not_music():
    a = score_with(Note(0, 10, 60, 90))
    assert a == a.replace(warnings=("something was repaired",))
    assert a != a.replace(title="Other")
    assert a != score_with(Note(0, 10, 61, 90))


def test_key_names_cover_the_circle_of_fifths():
    assert KeySignature(0, -7).name == "Cb" and KeySignature(0, 7).name == "C#"
    assert KeySignature(0, 0, True).name == "Am" and KeySignature(0, -1, True).name == "Dm"
    assert KeySignature(0, 3, True).name == "F#m"


def test_tempo_bpm_and_meter_lengths():
    assert TempoChange(0, 500_000).bpm == pytest.approx(120.0)
    assert TimeSignature(0, 6, 8).bar_ticks(TPQ) == 3 * TPQ
    assert TimeSignature(0, 2, 2).bar_ticks(TPQ) == 4 * TPQ
    assert TimeSignature(0, 3, 8).bar_ticks(1) == 2  # 1.5 ticks rounds to 2
    assert TimeSignature(0, 1, 64).bar_ticks(1) == 1  # never shorter than one tick


# ------------------------------------------------------------------------------------ bar grid
def test_empty_piece_has_one_bar_of_4_4():
    score = Score(TPQ)
    assert score.bars() == (Bar(1, 0, BAR, 4, 4),)
    assert score.bar_count == 1
    assert score.bar_at(0).number == 1


def test_bars_are_numbered_from_1_and_cover_the_music():
    score = score_with(Note(0, 10, 60, 90), Note(2 * BAR, BAR, 60, 90))  # ends exactly at bar 3's end
    assert [b.number for b in score.bars()] == [1, 2, 3]
    assert [(b.start, b.end) for b in score.bars()] == [(0, BAR), (BAR, 2 * BAR), (2 * BAR, 3 * BAR)]
    assert score.bar_count == 3
    assert score_with(Note(0, 3 * BAR + 1, 60, 90)).bar_count == 4
    with pytest.raises(ValueError, match="numbered from 1"):
        score.bar(0)


def test_meter_change_on_a_barline():
    meters = (TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4))
    score = score_with(Note(0, 2 * BAR + 6 * TPQ, 60, 90), meters=meters)
    assert [(b.number, b.start, b.end, b.meter) for b in score.bars()] == [
        (1, 0, BAR, "4/4"),
        (2, BAR, 2 * BAR, "4/4"),
        (3, 2 * BAR, 2 * BAR + 3 * TPQ, "3/4"),
        (4, 2 * BAR + 3 * TPQ, 2 * BAR + 6 * TPQ, "3/4"),
    ]


def test_meter_change_inside_a_bar_ends_that_bar_early():
    change = BAR + 2 * TPQ  # half-way through bar 2
    meters = (TimeSignature(0, 4, 4), TimeSignature(change, 6, 8))
    score = score_with(Note(0, change + 6 * TPQ, 60, 90), meters=meters)
    bars = score.bars()
    assert [(b.start, b.end, b.meter) for b in bars] == [
        (0, BAR, "4/4"),
        (BAR, change, "4/4"),  # the short bar
        (change, change + 3 * TPQ, "6/8"),
        (change + 3 * TPQ, change + 6 * TPQ, "6/8"),
    ]
    assert bars[1].length == 2 * TPQ
    assert score.bar_at(change - 1).number == 2
    assert score.bar_at(change).number == 3


def test_first_meter_after_tick_0_is_preceded_by_4_4():
    score = score_with(Note(0, 3 * BAR, 60, 90), meters=(TimeSignature(BAR, 2, 4),))
    assert [b.meter for b in score.bars()] == ["4/4", "2/4", "2/4", "2/4", "2/4"]


def test_bar_past_the_end_follows_the_last_meter():
    meters = (TimeSignature(0, 4, 4), TimeSignature(BAR, 3, 4))
    score = score_with(Note(0, 10, 60, 90), meters=meters)
    assert score.bar_count == 1
    bar = score.bar(10)
    assert (bar.start, bar.end, bar.meter) == (BAR + 8 * 3 * TPQ, BAR + 9 * 3 * TPQ, "3/4")
    assert score.bar_at(bar.start + 5) == bar
    assert score.bar_at(bar.end) == score.bar(11)


def test_bars_stop_at_the_music_even_when_a_meter_change_comes_later():
    score = score_with(Note(0, BAR, 60, 90), meters=(TimeSignature(0, 4, 4), TimeSignature(50 * BAR, 3, 4)))
    assert score.bar_count == 1
    assert len(score.bars()) == 1
    assert len(score.bars(until_tick=3 * BAR)) == 3
    assert score.bar(51).meter == "3/4" and score.bar(50).meter == "4/4"


def test_bar_at_boundaries_and_before_the_start():
    score = score_with(Note(0, 3 * BAR, 60, 90))
    assert score.bar_at(0).number == 1
    assert score.bar_at(BAR - 1).number == 1
    assert score.bar_at(BAR).number == 2
    assert score.bar_at(-50).number == 1
    assert all(score.bar_at(b.start) == b and score.bar_at(b.end - 1) == b for b in score.bars())


def test_bar_lookups_are_arithmetic_not_a_walk():
    """A hostile file can put a meter change very far away; lookups must not build every bar (a walk
    over 10**12 bars would not finish, so these answers arriving at all is the check)."""
    far = 10**12
    score = score_with(Note(0, 10, 60, 90), meters=(TimeSignature(0, 1, 64), TimeSignature(far, 4, 4)), tpq=1)
    assert score.bar_at(far).meter == "4/4"
    assert score.bar_at(far).number == far + 1
    assert score.bar(far + 5).start == far + 4 * 4
    assert score.bar_count == 10


def test_grid_with_inexact_bar_lengths_has_no_gaps():
    meters = (TimeSignature(0, 3, 8), TimeSignature(7, 5, 16))
    score = score_with(Note(0, 20, 60, 90), meters=meters, tpq=1)
    bars = score.bars()
    assert bars[0].start == 0 and bars[-1].end >= 20
    assert all(a.end == b.start for a, b in zip(bars, bars[1:]))
    assert all(b.length >= 1 for b in bars)


# ----------------------------------------------------------------------------------- tempo map
def test_seconds_at_default_tempo_is_120_bpm():
    score = Score(TPQ)
    assert score.tempo_at(0) == 500_000
    assert score.seconds_at(TPQ) == pytest.approx(0.5)
    assert score.tick_at(1.5) == pytest.approx(3 * TPQ)


def test_seconds_and_ticks_through_tempo_changes():
    tempos = (TempoChange(0, 1_000_000), TempoChange(2 * TPQ, 250_000), TempoChange(4 * TPQ, 500_000))
    score = score_with(Note(0, 6 * TPQ, 60, 90), tempos=tempos)
    # 2 quarters at 60 bpm (2 s), 2 at 240 bpm (0.5 s), 2 at 120 bpm (1 s)
    assert score.seconds_at(2 * TPQ) == pytest.approx(2.0)
    assert score.seconds_at(3 * TPQ) == pytest.approx(2.25)
    assert score.seconds_at(4 * TPQ) == pytest.approx(2.5)
    assert score.duration_seconds == pytest.approx(3.5)
    assert score.tempo_at(2 * TPQ - 1) == 1_000_000 and score.tempo_at(2 * TPQ) == 250_000
    for tick in (0, 1, 479, 960, 1000, 1919, 1920, 2500, 10_000):
        assert score.tick_at(score.seconds_at(tick)) == pytest.approx(tick)


def test_tempo_change_after_the_start_keeps_120_bpm_before_it():
    score = Score(TPQ, tempos=(TempoChange(TPQ, 1_000_000),))
    assert score.seconds_at(TPQ) == pytest.approx(0.5)
    assert score.seconds_at(2 * TPQ) == pytest.approx(1.5)
    assert score.tick_at(1.5) == pytest.approx(2 * TPQ)


# ------------------------------------------------------------------------------------- slicing
def sliceable() -> Score:
    piano = Track(
        "Piano",
        0,
        0,
        [Note(0, BAR, 60, 80), Note(BAR + 10, 3 * BAR, 62, 81), Note(2 * BAR, TPQ, 64, 82), Note(3 * BAR, TPQ, 65, 83)],
        [ControlChange(BAR // 2, 64, 127), ControlChange(BAR + TPQ, 7, 90), ControlChange(2 * BAR + TPQ, 64, 0)],
    )
    return Score(
        TPQ,
        (piano, Track("Kit", 0, 9, [Note(BAR, 10, 36, 100)])),
        (TempoChange(0, 500_000), TempoChange(BAR + TPQ, 600_000)),
        (TimeSignature(0, 4, 4), TimeSignature(3 * BAR, 3, 4)),
        (KeySignature(0, 2), KeySignature(2 * BAR, -1, True)),
        title="Study",
        warnings=("read with a repair",),
    )


def test_slice_bars_keeps_what_starts_inside_and_cuts_at_the_end():
    score = sliceable()
    part = score.slice_bars(2, 3)
    piano, kit = part.tracks
    assert piano.notes == (Note(10, 2 * BAR - 10, 62, 81), Note(BAR, TPQ, 64, 82))
    assert kit.notes == (Note(0, 10, 36, 100),)
    assert (piano.name, piano.channel, kit.is_drum, part.title) == ("Piano", 0, True, "Study")
    assert part.warnings == ()
    assert score == sliceable()  # the input is untouched


def test_slice_keeps_the_maps_in_force_at_its_start():
    part = sliceable().slice_bars(2, 4)
    assert part.tempos == (TempoChange(0, 500_000), TempoChange(TPQ, 600_000))
    assert part.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4))
    assert part.key_signatures == (KeySignature(0, 2), KeySignature(BAR, -1, True))
    assert [b.meter for b in part.bars()] == ["4/4", "4/4", "3/4"]
    later = sliceable().slice_bars(4, 4)
    assert later.time_signatures == (TimeSignature(0, 3, 4),)
    assert later.key_signatures == (KeySignature(0, -1, True),)
    assert later.tempos == (TempoChange(0, 600_000),)


def test_slice_carries_controllers_in_force():
    piano = sliceable().slice_bars(2, 2).tracks[0]
    assert piano.controls == (ControlChange(0, 64, 127), ControlChange(TPQ, 7, 90))
    assert sliceable().slice_bars(1, 1).tracks[0].controls == (ControlChange(BAR // 2, 64, 127),)


def test_slice_carries_the_pitch_bend_and_pressure_in_force():
    bent = Track("Guitar", 27, 0, [Note(0, 4 * BAR, 64, 80)], (), [(0, 0), (BAR - 1, 4096), (BAR + 10, -100)],
                 [(BAR // 2, 30)])
    part = Score(TPQ, (bent,)).slice_bars(2, 2).tracks[0]
    assert part.pitch_bends == (PitchBend(0, 4096), PitchBend(10, -100))
    assert part.pressures == (ChannelPressure(0, 30),)
    first = Score(TPQ, (bent,)).slice_bars(1, 1).tracks[0]
    assert first.pitch_bends == (PitchBend(0, 0), PitchBend(BAR - 1, 4096))


def test_slice_without_keys_has_none():
    part = score_with(Note(0, BAR, 60, 90)).slice_bars(1, 1)
    assert part.key_signatures == ()
    assert part.tempos == (TempoChange(0, 500_000),)


def test_slice_across_a_mid_bar_meter_change():
    change = BAR + 2 * TPQ
    score = score_with(
        Note(change, TPQ, 60, 90),
        Note(change + 3 * TPQ, TPQ, 62, 90),
        meters=(TimeSignature(0, 4, 4), TimeSignature(change, 6, 8)),
    )
    part = score.slice_bars(2, 3)
    grid = [(b.start, b.end, b.meter) for b in part.bars(part.bar(2).end)]
    assert grid == [(0, 2 * TPQ, "4/4"), (2 * TPQ, 5 * TPQ, "6/8")]
    assert part.tracks[0].notes == (Note(2 * TPQ, TPQ, 60, 90),)


def test_slice_past_the_end_is_empty_but_valid():
    part = sliceable().slice_bars(20, 21)
    assert part.notes_count == 0
    assert part.time_signatures == (TimeSignature(0, 3, 4),)


@pytest.mark.parametrize("first, last", [(0, 1), (3, 2), (-1, 4)])
def test_slice_bars_rejects_bad_ranges(first, last):
    with pytest.raises(ValueError, match="bars"):
        sliceable().slice_bars(first, last)


def test_slice_ticks_rejects_empty_ranges():
    with pytest.raises(ValueError):
        sliceable().slice_ticks(100, 100)
    with pytest.raises(ValueError):
        sliceable().slice_ticks(-1, 100)


def test_end_tick_and_notes_count():
    score = sliceable()
    assert score.end_tick == BAR + 10 + 3 * BAR
    assert score.notes_count == 5


# ------------------------------------------------------------------------ trusted construction
def test_from_checked_builds_the_same_track_without_checking_again():
    notes = tuple(sorted(Note(i * 10, 5, 60 + i % 3, 90) for i in range(50)))
    controls = (ControlChange(0, 64, 127),)
    checked = Track.from_checked("Viola", 41, 2, notes, controls, 495, (PitchBend(3, 5),), (ChannelPressure(4, 6),))
    assert checked == Track("Viola", 41, 2, notes, controls, [PitchBend(3, 5)], [ChannelPressure(4, 6)])
    assert checked.end_tick == 495 and checked.is_drum is False
    assert Track.from_checked("Empty", 0, 0, ()).end_tick == 0


def test_end_tick_follows_a_replaced_track():
    import dataclasses

    track = Track("x", notes=[Note(0, 10, 60, 90)])
    assert track.end_tick == 10
    longer = dataclasses.replace(track, notes=track.notes + (Note(5, 100, 61, 90),))
    assert longer.end_tick == 105 and track.end_tick == 10
