"""Generate from scratch: new pieces in the asked meter and tempo, every bar filled exactly, from the
START context; bars appended after an open piece."""

import pytest

from core.errors import GenerationError
from core.generation import Controls
from core.generation.scratch import Meter, append_generated, blank_score, bpm_at_end, generate_piece, meter_at_end
from tests.core.generation.helpers import piece, random_model


@pytest.fixture(scope="module")
def model():
    return random_model(seed=2, use_context=True)


@pytest.mark.parametrize("meter", ["3/4", "6/8", "4/4"])
def test_a_new_piece_fills_every_bar_of_the_asked_meter(model, meter):
    result = generate_piece(model, 4, meter=Meter.parse(meter), bpm=90, variations=2, controls=Controls(seed=5))
    numerator, denominator = (int(x) for x in meter.split("/"))
    bar_ticks = 480 * 4 * numerator // denominator
    assert [v.seed for v in result.variations] == [5, 6]
    for variation in result.variations:
        song = result.continued(variation.index)
        assert [(m.numerator, m.denominator) for m in song.time_signatures] == [(numerator, denominator)]
        assert round(song.tempos[0].bpm) == 90
        assert all(0 <= n.start < 4 * bar_ticks for t in song.tracks for n in t.notes)
        assert [b.length for b in song.bars(4 * bar_ticks)] == [bar_ticks] * 4
        assert len(variation.events) == 4 and song.notes_count == variation.notes_count
    assert result.variations[0].fragment != result.variations[1].fragment  # two seeds, two pieces


def test_the_same_seed_gives_the_same_piece_and_a_rest_is_never_asked_for(model):
    first = generate_piece(model, 2, controls=Controls(seed=9))
    again = generate_piece(model, 2, controls=Controls(seed=9))
    assert first.variations[0].fragment == again.variations[0].fragment


def test_bad_meters_and_tempi_are_refused_in_one_line():
    with pytest.raises(GenerationError, match="write it as N/D"):
        Meter.parse("waltz")
    with pytest.raises(GenerationError, match="cannot generate in 5/3"):
        Meter.parse("5/3")
    with pytest.raises(GenerationError, match="tempo 0: use 10 to 400"):
        blank_score(Meter(4, 4), 0)


def test_bars_are_appended_after_the_open_piece_in_its_meter(model):
    song = piece((3, 4), bars=3)
    assert meter_at_end(song) == Meter(3, 4) and bpm_at_end(song) == pytest.approx(100.0)
    result = generate_piece(model, 2, meter=meter_at_end(song), bpm=bpm_at_end(song))
    longer = append_generated(song, result, 0)
    bar = song.bar(1).length
    assert longer.notes_count == song.notes_count + result.variations[0].notes_count
    for before, after in zip(song.tracks, longer.tracks):  # the composer's bars untouched
        assert tuple(n for n in after.notes if n.start < 3 * bar) == before.notes
    new_notes = sorted(n.start for t in longer.tracks for n in t.notes if n.start >= 3 * bar)
    assert len(new_notes) == result.variations[0].notes_count and all(s < 5 * bar for s in new_notes)
