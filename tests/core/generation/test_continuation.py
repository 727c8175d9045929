"""Continuing a Score: bars on the piece's grid in any meter, variations, seeds, tracks, tempo and
meter in the written file, progress and cancel, and the input left alone."""

import dataclasses

import numpy as np
import pytest
import torch

from core.errors import Cancelled, GenerationError
from core.generation import Controls, Temperatures, continue_piece
from core.generation.bars import onset_units
from core.generation.history import piece_bars
from core.midi.files import read_midi, write_midi
from core.music.score import Note, Score, TimeSignature, Track
from tests.core.generation.helpers import piece, random_model

LIVELY = Controls(Temperatures.uniform(1.3), seed=2, top_p=1.0, z_scale=1.0)  # wide sampling: every path is visited


@pytest.mark.parametrize("meter", [(3, 4), (4, 4), (6, 8)])
def test_new_bars_fill_their_bars_exactly(meter):
    score = piece(meter, bars=4)
    bar = score.bar(1).length
    result = continue_piece(random_model(seed=meter[0]), score, 4, 3, variations=4, controls=LIVELY)
    assert result.start_tick == 4 * bar and result.length == 3 * bar
    notes = 0
    for variation in result.variations:
        assert len(variation.events) == 3
        assert variation.fragment.time_signatures[0].text == f"{meter[0]}/{meter[1]}"
        for index, (events, part) in enumerate(zip(variation.events, result.parts)):
            onsets = onset_units(events)
            assert np.all(onsets[~events.is_pause] < part.plan.units), "a note starts outside its bar"
            assert part.start == score.bar(5 + index).start
        for track in variation.fragment.tracks:
            for note in track.notes:
                assert 0 <= note.start < 3 * bar
                notes += 1
        for ghost in result.ghost_notes(variation.index):
            assert result.start_tick <= ghost.note.start < result.start_tick + result.length
        continued = result.continued(variation.index)
        assert continued.bar(7).end == 7 * bar  # the new bars end on the piece's barline
        assert all(n.start < 7 * bar for t in continued.tracks for n in t.notes)
        assert {m.text for m in continued.time_signatures} == {f"{meter[0]}/{meter[1]}"}
    assert notes > 0


def test_the_input_score_is_never_changed():
    score, same = piece((4, 4)), piece((4, 4))
    tracks = score.tracks
    result = continue_piece(random_model(), score, 2, 2, variations=2, controls=LIVELY)
    result.insert(0)
    result.insert(1, mode="replace")
    result.continued(0)
    assert score == same and score.tracks is tracks and result.score is score


def test_a_piece_read_from_a_file_is_continued_as_written_without_making_its_notes(tmp_path):
    """A read piece's tracks hold numpy columns (core.music.score.NoteColumns): encoding it, placing
    the new notes beside its tracks and the drum check read those, and give what the notes give."""
    score = piece((4, 4))
    write_midi(score, tmp_path / "piece.mid")
    read = read_midi(tmp_path / "piece.mid")
    model = random_model(seed=4)
    from_file = continue_piece(model, read, 2, 2, variations=2, controls=LIVELY)
    assert all("notes" not in track.__dict__ for track in read.tracks)
    written = continue_piece(model, score, 2, 2, variations=2, controls=LIVELY)
    assert [v.fragment for v in from_file.variations] == [v.fragment for v in written.variations]


def test_the_piece_is_encoded_for_generation_without_chord_labels():
    """Generation never reads the piece's chords (a chord model's come from the progression), so
    piece_bars leaves the labelling out; the bars are those of the full encoding."""
    from core.preprocess.encode import encode_score

    score = piece((4, 4))
    bars = piece_bars(score)
    assert bars.piece.bar_chords is None
    assert bars.piece.events.equals(encode_score(score).piece.events)


def test_variation_i_is_seed_plus_i_alone_and_variations_differ():
    model, score = random_model(seed=3), piece((3, 4))
    batch = continue_piece(model, score, 2, 3, variations=3, controls=Controls(Temperatures.uniform(1.2), seed=5))
    for index in range(3):
        alone = continue_piece(model, score, 2, 3, controls=Controls(Temperatures.uniform(1.2), seed=5 + index))
        assert all(a.equals(b) for a, b in zip(alone.variations[0].events, batch.variations[index].events))
        assert alone.variations[0].fragment == batch.variations[index].fragment
        assert batch.variations[index].seed == 5 + index
    fragments = [v.fragment for v in batch.variations]
    assert fragments[0] != fragments[1] and fragments[1] != fragments[2]
    again = continue_piece(model, score, 2, 3, variations=3, controls=Controls(Temperatures.uniform(1.2), seed=5))
    assert [v.fragment for v in again.variations] == fragments


def test_seeded_mode_and_context_bars_change_the_music_reproducibly():
    model, score = random_model(seed=8), piece((4, 4), bars=6)
    with torch.no_grad():  # make the encoded z far from a prior draw, so seeded music must differ
        model.mu.weight.mul_(200.0)
    controls = Controls(Temperatures.uniform(1.0), seed=1)
    prior = continue_piece(model, score, 4, 2, controls=controls).variations[0].fragment
    seeded = continue_piece(model, score, 4, 2, seeded=True, controls=controls).variations[0].fragment
    assert seeded == continue_piece(model, score, 4, 2, seeded=True, controls=controls).variations[0].fragment
    other_context = continue_piece(model, score, 4, 2, seeded=True, context=(1, 1), controls=controls)
    assert prior != seeded
    assert other_context.variations[0].fragment != seeded


def test_notes_join_the_piece_tracks_and_new_classes_get_new_tracks():
    score = piece((4, 4))  # Violin (program 40, channel 0) and Cello (42, channel 1)
    controls = Controls(Temperatures.uniform(1.5), instruments=frozenset({4, 20}), seed=0)  # violin, flute
    result = continue_piece(random_model(seed=9, spread=1.0), score, 4, 4, variations=4, controls=controls)
    seen = set()
    for variation in result.variations:
        for track, target in zip(variation.fragment.tracks, variation.placed.targets):
            seen.add(track.name)
            if track.name == "Violin":
                assert (track.program, track.channel, target) == (40, 0, 0)
            else:
                assert (track.name, track.program, target) == ("Flute", 73, None)
                assert track.channel not in (0, 1, 9)
        kept = result.insert(variation.index)
        violin = [t for t in kept.tracks if t.name == "Violin"]
        assert len(violin) == 1
        added = sum(len(t.notes) for t in variation.fragment.tracks if t.name == "Violin")
        assert len(violin[0].notes) == len(score.tracks[0].notes) + added
    assert seen == {"Violin", "Flute"}


def test_tempo_and_meter_survive_into_the_written_file(tmp_path):
    score = piece((6, 8), bars=4, tempo=600_000)
    result = continue_piece(random_model(seed=2), score, 3, 4, controls=LIVELY)
    path = tmp_path / "continued.mid"
    write_midi(result.continued(0), path)
    back = read_midi(path)
    assert {(t.tick, t.us_per_quarter) for t in back.tempos} == {(0, 600_000)}
    assert {m.text for m in back.time_signatures} == {"6/8"}
    bar = back.bar(1).length
    assert bar == score.bar(1).length
    new_notes = [n for t in back.tracks for n in t.notes if n.start >= 3 * bar]
    assert new_notes and all(n.start < 7 * bar for n in new_notes)


def test_progress_is_reported_and_cancel_stops():
    calls = []
    continue_piece(random_model(), piece(), 2, 3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    asked = []

    def cancel():
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(Cancelled):
        continue_piece(random_model(), piece(), 2, 3, cancel=cancel)


def test_a_new_opening_from_the_start_context():
    score = piece((3, 4))
    result = continue_piece(random_model(seed=5), score, 0, 2, controls=LIVELY)
    assert result.at_bar == 1 and result.start_tick == 0
    assert result.continued(0) == result.variations[0].fragment


def test_bars_of_eight_four_are_two_encoded_bars_each():
    notes = tuple(Note(i * 480, 480, 60 + i % 7, 80) for i in range(16))
    score = Score(480, (Track("Piano", 0, 0, notes),), time_signatures=(TimeSignature(0, 8, 4),))
    result = continue_piece(random_model(seed=1), score, 2, 2, variations=2, controls=LIVELY)
    assert [(p.number, p.part) for p in result.parts] == [(3, 0), (3, 1), (4, 0), (4, 1)]
    assert result.length == 2 * 3840
    for variation in result.variations:
        assert all(0 <= n.start < 2 * 3840 for t in variation.fragment.tracks for n in t.notes)
        assert [m.text for m in variation.fragment.time_signatures] == ["8/4"]


def test_a_note_held_over_the_seed_barline_is_active_in_the_first_new_bar():
    melody = (Note(0, 480, 60, 80), Note(1680, 960, 67, 80))  # a half note from beat 3.5 of bar 1 into bar 2
    score = Score(480, (Track("Violin", 40, 0, melody),), time_signatures=(TimeSignature(0, 4, 4),))
    bars = piece_bars(score)
    carry = bars.carry_into(bars.parts(2)[0])
    assert carry.pitch_end[0, 67 - 17] == 48  # half a quarter past the barline, at 96 grid ticks per quarter
    assert carry.instrument_end[0, 4] == 48
    result = continue_piece(random_model(seed=3), score, 1, 1, variations=8, controls=LIVELY)
    checked = 0
    for variation in result.variations:
        events = variation.events[0]
        ticks = onset_units(events) * 4  # 4 grid ticks per unit in 4/4
        for tick, active_pitches, active_instruments in zip(ticks, events.active_pitches, events.active_instruments):
            if tick < 48:  # the held note still sounds: the model hears it
                assert active_pitches[67 - 17] and active_instruments[4]
                checked += 1
    assert checked > 0


def test_requests_that_cannot_be_done_say_why():
    model, score = random_model(), piece()
    for kwargs, message in [
        (dict(from_bar=2, bars=0), "generate from 1"),
        (dict(from_bar=2, bars=2, variations=0), "variations"),
        (dict(from_bar=0, bars=2, seeded=True), "seeded mode needs a seed bar"),
        (dict(from_bar=3, bars=2, context=(3, 3)), "must come before the seed"),
        (dict(from_bar=-1, bars=2), "bars are numbered from 1"),
    ]:
        with pytest.raises(GenerationError, match=message):
            continue_piece(model, score, **kwargs)
    with pytest.raises(GenerationError, match="cannot generate in 5/2"):
        odd = Score(480, (Track("Piano", 0, 0, (Note(0, 480, 60, 80),)),), time_signatures=(TimeSignature(0, 5, 2),))
        continue_piece(model, odd, 1, 1)


@pytest.mark.parametrize("changes", [dict(use_context=False), dict(context_bars=2)])
def test_context_free_and_two_bar_context_models_continue(changes):
    model, score = random_model(seed=4, **changes), piece((4, 4), bars=5)
    batch = continue_piece(model, score, 2, 3, variations=2, controls=LIVELY)
    alone = continue_piece(model, score, 2, 3, controls=dataclasses.replace(LIVELY, seed=LIVELY.seed + 1))
    assert all(a.equals(b) for a, b in zip(alone.variations[0].events, batch.variations[1].events))
    assert all(len(v.events) == 3 for v in batch.variations)


def test_a_resolution_that_cannot_hold_every_class_still_lands_on_the_bars():
    score = piece((6, 8), bars=3, tpq=100)  # classes of 6/8 are not whole ticks at 100 per quarter
    result = continue_piece(random_model(seed=6), score, 3, 2, variations=2, controls=LIVELY)
    bar = score.bar(1).length
    assert bar == 300 and result.start_tick == 900
    for variation in result.variations:
        assert variation.fragment.ticks_per_quarter == 100
        assert all(0 <= n.start < 2 * bar for t in variation.fragment.tracks for n in t.notes)


def test_replace_clears_the_bars_it_fills():
    score = piece((4, 4), bars=6)
    result = continue_piece(random_model(seed=2), score, 2, 2, controls=LIVELY)
    replaced = result.insert(0, mode="replace")
    start, end = score.bar(3).start, score.bar(4).end
    inside = sorted(n.start - start for t in replaced.tracks for n in t.notes if start <= n.start < end)
    assert inside == sorted(n.start for t in result.variations[0].fragment.tracks for n in t.notes)
    assert replaced.bar_count == score.bar_count
    outside = sorted(n for t in replaced.tracks for n in t.notes if not start <= n.start < end)
    assert outside == sorted(n for t in score.tracks for n in t.notes if not start <= n.start < end)
