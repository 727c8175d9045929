"""Spec section 7, facts 5-13, stated directly on our encoder's output (4/4, 480 ticks per quarter,
120 bpm, piano unless said otherwise). Facts 1-4 are in tests/core/representation."""

from __future__ import annotations

from core.preprocess.encode import encode_score
from core.preprocess.report import EncodeOptions
from core.representation.events import (
    N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, LOWEST_PITCH,
)  # fmt: skip
from tests.core.preprocess.golden import encode_case
from tests.core.preprocess.scores import line, piece


def rows(name: str, **options) -> list[list]:
    chunks, _ = encode_case(name, EncodeOptions(**options))
    return [row for chunk in chunks for section in chunk["ranges"] for row in section["rows"]]


def column(name: str, index: int) -> list:
    return [row[index] for row in rows(name) if not row[1]]


def test_5_layout():
    assert 60 - LOWEST_PITCH == 43  # column 68 + 43 = 111 of the original's 367-wide row
    assert N_OFFSETS + N_BEATS + N_PITCHES + N_DURATIONS + N_INSTRUMENTS + 1 + N_PITCHES + N_INSTRUMENTS == 367
    assert N_BEATS == 8


def test_6_scale_and_chord():
    assert [(r[2], r[3], r[4], r[5], r[7]) for r in rows("scale_and_chord")] == [
        (0, 0, 60, 12, []), (12, 2, 64, 12, []), (12, 4, 67, 24, []),
        (24, 0, 60, 48, []), (0, 0, 64, 48, [60]), (0, 0, 67, 48, [60, 64]),
    ]  # fmt: skip


def test_7_staccato_and_dotted_quarters():
    assert column("staccato", 5) == [12, 12, 12, 6]
    assert column("dotted_quarter_then_long_rest", 5)[0] == 12
    assert column("dotted_quarter_then_short_rest", 5)[0] == 24
    short_then_far = encode_score(piece(line((0, 20, 60), (480, 480, 62)))).piece.events
    assert short_then_far.duration.tolist()[0] == 12


def test_8_rests_of_11_and_13_quarters():
    assert [(r[0], r[1], r[2], r[3]) for r in rows("rest_11_quarters")] == [
        (0, 0, 0, 0), (1920, 1, 48, 0), (3840, 1, 48, 0), (5280, 0, 36, 6),
    ]  # fmt: skip
    assert rows("rest_13_quarters")[-1][:4] == [6240, 0, 12, 2]  # kept (the original rejected the file)


def test_9_long_note_is_half_plus_whole():
    assert [(r[0], r[2], r[5], r[3]) for r in rows("long_note_split")][1:] == [
        (960, 24, 24, 4), (1920, 24, 48, 0), (3840, 48, 12, 0),
    ]  # fmt: skip


def test_10_leading_silence_removed_in_whole_bars():
    assert rows("initial_silence")[0][:4] == [960, 0, 24, 4]


def test_11_compound_and_short_meters():
    six_eight = rows("ts_6_8")
    assert column("ts_6_8", 5) == [4, 4, 4, 12, 8, 4, 12]
    assert [(r[0], r[3]) for r in six_eight if r[3] is not None] == [(0, 0), (720, 2), (1440, 0), (2160, 2)]
    assert column("ts_3_4", 5) == [18, 6, 12, 36]
    assert column("ts_3_8", 5)[0] == 12


def test_12_drums_dropped_and_instruments():
    assert [(r[4], r[6], r[7], r[8]) for r in rows("drums_violin_flute")] == [(60, 4, [], []), (72, 20, [60], [4])]


def test_13_meter_changes():
    chunks, _ = encode_case("ts_5_4_break", EncodeOptions(original_meters_only=True))
    assert len(chunks) == 2  # the original's meters: 5/4 cuts the piece
    chunks, _ = encode_case("ts_change_padding")
    assert len(chunks) == 1
    assert [s["start"] for s in chunks[0]["ranges"]] == [0, 3840, 5280]  # the 3-beat 4/4 bar is padded
