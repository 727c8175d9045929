"""encode_score: the fixes of spec section 6 and what the original could not do (issue items 3-4)."""

from __future__ import annotations

import numpy as np

from core.preprocess import report as reasons
from core.preprocess.encode import encode_chunks, encode_score
from core.preprocess.report import EncodeOptions
from core.representation.events import EncodedPiece
from core.music.score import Note, Score, TempoChange, Track
from tests.core.preprocess.scores import line, piece


def rows(score: Score, options: EncodeOptions = EncodeOptions()):
    return [r for r, _ in encode_chunks(score, options).chunks]


def same_events(a: EncodedPiece, b: EncodedPiece) -> bool:
    return a.events.equals(b.events) and np.array_equal(a.bar_bounds, b.bar_bounds)


def quantised(tpb: int) -> Score:
    q = tpb
    melody = [(0, q, 60), (q, q // 2, 62), (3 * q // 2, q // 2, 64), (2 * q, 2 * q, 65), (4 * q, q // 4, 67),
              (4 * q + q // 4, q // 4, 69), (4 * q + q // 2, 3 * q // 2, 71), (6 * q, 2 * q, 72)]  # fmt: skip
    bass = [(0, 2 * q, 48), (2 * q, 2 * q, 43), (4 * q, 4 * q, 36)]
    return piece(line(*melody), line(*bass, program=42, channel=1), tpb=tpb, meters=((0, 4, 4), (4 * q, 6, 8)))


def test_resolutions_not_divisible_by_96_are_resampled():
    """Fix of spec 6.2: at 120 or 100 ticks per quarter the original truncated class lengths (a
    32nd of 100 ticks is 12.5); the times are multiplied up to 480 or 2400 ticks per quarter instead,
    so the events are those of the same music at 480."""
    reference = encode_score(quantised(480)).piece
    for tpb in (120, 100, 96, 960):
        result = encode_score(quantised(tpb))
        assert same_events(result.piece, reference), tpb
        assert list(result.piece.bar_start_tick) == [tick * tpb // 480 for tick in reference.bar_start_tick]
    assert encode_score(quantised(100)).report.trimmed == {reasons.RESAMPLED: 1}


def test_a_piece_encoded_without_its_chords_is_the_same_music():
    """Generation encodes pieces without chord labels (core.generation.history.piece_bars): the
    events, bars and ticks are those of the full encoding; only the labels are left out."""
    score = quantised(480)
    full, bare = encode_score(score).piece, encode_score(score, chords=False).piece
    assert full.bar_chords is not None and full.bar_chords.any() and bare.bar_chords is None
    assert same_events(full, bare) and np.array_equal(full.bar_start_tick, bare.bar_start_tick)


def test_resolutions_too_fine_for_a_multiple_are_rounded():
    """At 32,767 or 9,999 ticks per quarter the exact multiple of 96 would not fit a MIDI file; the
    times go to the nearest multiple of 96 (32,736 and 9,984), rounded to its ticks."""
    reference = encode_score(quantised(480)).piece
    for tpb in (32767, 9999):
        result = encode_score(quantised(tpb))
        assert same_events(result.piece, reference), tpb
        assert list(result.piece.bar_start_tick) == [round(tick * tpb / 480) for tick in reference.bar_start_tick]
    wide = [(0, 3, 60), (3, 1, 62), (4, 2, 64), (6, 6, 65)]  # quarters in 6/4, where a q* is 3 quarters
    at = {
        tpb: piece(line(*[(s * tpb, d * tpb, p) for s, d, p in wide]), tpb=tpb, meters=((0, 6, 4),))
        for tpb in (480, 32767)
    }
    assert same_events(encode_score(at[32767]).piece, encode_score(at[480]).piece)


def test_class_costs_do_not_depend_on_the_resolution():
    """Fix of spec 6.3 (mixed units): the cost of a class adds ticks of change to a constant per
    frequency class, so the original chose differently at another resolution. A note of 4 quarters
    in 6/8 (8/3 q*, no placeable class) became 5/2 q* at 480 ticks per quarter but 2 q* at 96; costs
    now count ticks as at 480 per q*."""
    for tpb in (96, 192, 480, 960):
        chunk = rows(piece(line((0, 4 * tpb, 60)), tpb=tpb, meters=((0, 6, 8),)))[0]
        assert chunk.duration.tolist() == [30], tpb


def test_chords_share_the_duration_most_of_their_notes_have():
    """Fix of spec 6.5: a chord of two quarters and a note of 4/3 q* (within 25% of a quarter) gets
    three quarters; the original never counted past one, so only pairs were ever unified."""
    score = piece(line((0, 480, 60), (0, 480, 64), (0, 640, 67)))
    chunk = rows(score)[0]
    assert chunk.duration.tolist() == [12, 12, 12]
    alone = rows(piece(line((0, 640, 67))))[0]
    assert alone.duration.tolist() == [16]


def test_busy_channels_stay_busy_until_their_last_note_ends():
    """Fix of spec 6.5: 15 instruments hold whole notes; the piano also plays a short note inside its
    whole note. The original then thought the piano's channel free after the short note and let a
    16th instrument take it while the whole note still sounded; here that note finds no channel."""
    programs = [0, 16, 24, 32, 40, 41, 42, 43, 48, 47, 52, 56, 57, 58, 60]
    tracks = [line((0, 1920, 40 + i), program=p, channel=i if i < 9 else i + 1) for i, p in enumerate(programs)]
    tracks[0] = line((0, 1920, 40), (480, 240, 80), program=0, channel=0)
    tracks.append(line((960, 480, 90), program=61, channel=15))
    result = encode_score(piece(*tracks))
    assert result.report.dropped == {reasons.NO_CHANNEL: 1}
    assert 15 not in result.piece.events.instrument.tolist()
    assert sorted(set(result.piece.events.instrument.tolist()) - {-1}) == list(range(15))


def test_merged_sections_hear_ends_before_starts():
    """Fix of spec 6.4: two sections of the same meter are merged; a note ending where another begins
    is not sounding at that onset (the original's merge sorted starts first, so it was)."""
    score = piece(line((0, 1920, 48), (2400, 480, 60), (2880, 480, 62)), meters=((0, 4, 4), (2160, 4, 4)))
    chunk = rows(score)[0]
    assert len(chunk.sections) == 1  # merged
    onset = chunk.pitch.tolist().index(62)
    assert not chunk.active_pitches[onset].any()


def test_a_long_rest_is_kept_as_pauses():
    """The original rejected a file for any gap over 12 quarters between onsets."""
    result = encode_score(piece(line((0, 480, 60), (40 * 480, 480, 62))))
    assert result.report.status == "ok" and result.report.dropped == {}
    events = result.piece.events
    # 9 pauses stop at barlines; the bar before the note holds none of them and is one pause
    assert events.is_pause.sum() == 10 and result.piece.bar_count == 11
    assert (~events.is_pause).sum() == 2


def test_an_unplaceable_onset_drops_one_note_not_the_file():
    """16ths against triplet eighths: the triplet note 1/12 q* after a 16th has no offset class and
    no pause on the eighth grid can fix it, so that note is dropped (the original rejected the file)."""
    score = piece(
        line((0, 120, 60), (120, 120, 62), (240, 240, 64)),
        line((0, 160, 72), (160, 160, 74), (320, 160, 76), program=40, channel=1),
    )
    result = encode_score(score)
    assert result.report.dropped == {reasons.UNPLACEABLE_OFFSET: 1}
    kept = [p + 17 for p in result.piece.events.pitch.tolist() if p >= 0]
    assert sorted(kept) == [60, 62, 64, 72, 76]


def test_notes_across_a_meter_change_are_split_not_dropped():
    score = piece(line((0, 1920, 60), (1920, 1440, 62)), meters=((0, 4, 4), (2880, 3, 4)))
    result = encode_score(score)
    assert result.report.trimmed == {reasons.SPLIT_AT_METER: 1}
    assert result.report.dropped == {}
    pitches = [p + 17 for p in result.piece.events.pitch.tolist() if p >= 0]
    assert pitches == [60, 62, 62]


def test_unsupported_meters_cut_the_piece_into_chunks():
    notes = line((0, 1920, 60), (1920, 5280, 62), (7200, 1920, 64))
    score = piece(notes, meters=((0, 4, 4), (1920, 11, 4), (7200, 4, 4)))
    result = encode_score(score)
    assert result.report.chunks == 2
    assert result.report.dropped == {reasons.UNSUPPORTED_METER: 1}
    piece_ = result.piece
    assert [piece_.has_start_context(i) for i in range(piece_.bar_count)] == [True, True]


def test_original_meters_only_breaks_at_five_four():
    notes = line((0, 1920, 60), (1920, 2400, 62), (4320, 1920, 64))
    score = piece(notes, meters=((0, 4, 4), (1920, 5, 4), (4320, 4, 4)))
    assert encode_score(score).report.chunks == 1
    original = encode_score(score, EncodeOptions(original_meters_only=True))
    assert original.report.chunks == 2 and original.report.dropped == {reasons.UNSUPPORTED_METER: 1}


def test_pick_up_bars_and_meters_per_bar():
    score = piece(line((0, 480, 67), (480, 1920, 72), (2400, 1920, 71)), meters=((0, 1, 4), (480, 4, 4)))
    result = encode_score(score)
    piece_ = result.piece
    assert result.report.chunks == 1
    assert list(zip(piece_.bar_numerator, piece_.bar_denominator)) == [(1, 4), (4, 4), (4, 4)]
    assert list(piece_.bar_start_tick) == [0, 480, 2400]
    assert result.report.meters == {"1/4": 1, "4/4": 2}


def test_tempo_and_velocity_are_kept_per_bar_and_note():
    notes = tuple(Note(480 * i, 480, 60, v) for i, v in enumerate([20, 50, 70, 100, 127, 90, 60, 30]))
    score = Score(480, (Track("Piano", 0, 0, notes),), (TempoChange(0, 600_000), TempoChange(1920, 400_000)))
    piece_ = encode_score(score).piece
    assert piece_.bar_tempo.tolist() == [600_000, 400_000]
    assert piece_.events.velocity.tolist() == [0, 2, 3, 5, 7, 5, 3, 1]


def test_what_is_skipped_and_why():
    empty = encode_score(Score(480, ()), source="empty")
    assert (empty.piece, empty.report.status, empty.report.reason) == (None, "skipped", "no notes")
    drums = encode_score(piece(line((0, 480, 36), channel=9)))
    assert drums.report.reason == "only drums" and drums.report.dropped == {reasons.DRUMS: 1}
    odd = encode_score(piece(line((0, 480, 60)), meters=((0, 13, 4),)))
    assert odd.report.status == "skipped" and "13/4" in odd.report.reason


def test_report_counts_and_summary():
    score = piece(line((0, 480, 60), (480, 480, 62), (960, 30, 64)), line((0, 480, 36), channel=9))
    report = encode_score(score, source="x.mid").report
    assert (report.notes_in, report.notes_kept, report.bars) == (4, 3, 1)
    # The 30-tick note (a 64th) snaps to the nearest class, a 32nd; the original dropped it.
    assert report.dropped == {reasons.DRUMS: 1}
    assert report.summary().startswith("ok: 1 bars, ") and "drum channel 1" in report.summary()
    assert report.to_json()["source"] == "x.mid"
