"""The drum class (issue #17): the pop-drums table encodes the drum channel as General MIDI
percussion keys and writes it back on channel 10; the original's table still drops drums."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.model.card_checks import CardError, network_config
from core.midi.files import read_midi, write_midi
from core.model.network import NetworkConfig
from core.preprocess import report as reasons
from core.preprocess.encode import encode_score
from core.preprocess.report import EncodeOptions
from core.representation.decode import decode_piece
from core.representation.events import LOWEST_PITCH
from core.representation.instruments import DRUM_KEYS, MAHLERNET, POP_DRUMS, TABLES, InstrumentTable
from core.music.score import DRUM_CHANNEL, Note, Score, Track
from tests.core.tiny_training import TPQ, groove


def _with_extra_keys(score: Score) -> Score:
    """``score`` whose drum track also strikes keys outside 35-81 (27 and 87, GS extensions)."""
    tracks = []
    for track in score.tracks:
        if track.is_drum:
            extra = (Note(TPQ // 4, TPQ // 4, 27, 90), Note(TPQ + TPQ // 4, TPQ // 4, 87, 90))
            track = Track(track.name, track.program, track.channel, tuple(sorted(track.notes + extra)))
        tracks.append(track)
    return dataclasses.replace(score, tracks=tuple(tracks))


def test_the_pop_drums_table_has_a_drum_class_and_the_original_none():
    drums = Track("Kit", 0, DRUM_CHANNEL, ())
    assert POP_DRUMS.drum_class == 17 and POP_DRUMS.class_name(17) == "Drums" and POP_DRUMS.has_drums
    assert POP_DRUMS.class_of_track(drums) == 17 and POP_DRUMS.is_drum(17) and not POP_DRUMS.is_drum(3)
    assert 17 not in POP_DRUMS.class_of_program  # no melodic program is read as drums
    assert POP_DRUMS.class_of(68) == POP_DRUMS.class_of(71) == 19  # oboe joins the clarinet
    assert POP_DRUMS.class_of(44) == 8 and POP_DRUMS.class_of(46) == 2  # tremolo strings, harp
    assert MAHLERNET.drum_class is None and MAHLERNET.class_of_track(drums) is None
    assert set(TABLES) == {"mahlernet", "pop-drums"}
    with pytest.raises(ValueError, match="maps to the drum class"):
        InstrumentTable(**{**POP_DRUMS.__dict__, "class_of_program": (17,) * 128})


def test_drums_round_trip_through_encoding_decoding_and_a_midi_file(tmp_path):
    score = _with_extra_keys(groove(bars=4))
    result = encode_score(score, EncodeOptions(instruments=POP_DRUMS))
    assert result.report.dropped == {reasons.DRUM_KEY: 2}  # 27 and 87, nothing else
    events = result.piece.events
    drum = events.instrument == POP_DRUMS.drum_class
    keys = sorted(set((events.pitch[drum] + LOWEST_PITCH).tolist()))
    assert keys == [36, 38, 42, 49]  # keys kept as the pitches, never folded or moved
    decoded = decode_piece(result.piece, TPQ, table=POP_DRUMS)
    path = tmp_path / "round.mid"
    write_midi(decoded, path)
    back = read_midi(path)
    kits = [t for t in back.tracks if t.is_drum]
    assert len(kits) == 1 and kits[0].channel == DRUM_CHANNEL
    original = sorted((n.start, n.pitch) for t in score.tracks if t.is_drum for n in t.notes if DRUM_KEYS[0] <= n.pitch <= DRUM_KEYS[1])
    assert sorted((n.start, n.pitch) for n in kits[0].notes) == original  # every hit at its tick and key
    bass = [t for t in back.tracks if not t.is_drum]
    assert [t.program for t in bass] == [33] and bass[0].channel != DRUM_CHANNEL


def test_the_original_table_still_drops_the_drum_channel():
    result = encode_score(groove(bars=4))
    assert result.report.dropped == {reasons.DRUMS: 4 * 12 + 1}  # every drum hit, under its reason
    assert not np.any(result.piece.events.instrument == 17)
    assert set(result.piece.events.instrument[result.piece.events.instrument >= 0].tolist()) == {3}


def test_a_network_config_names_its_table_and_a_card_with_an_unknown_one_is_refused():
    assert NetworkConfig().instruments == "mahlernet" and NetworkConfig().instrument_table is MAHLERNET
    assert NetworkConfig(instruments="pop-drums").instrument_table is POP_DRUMS
    old_card = {k: v for k, v in NetworkConfig().to_dict().items() if k != "instruments"}
    assert network_config(old_card).instrument_table is MAHLERNET  # cards from before drums read as before
    with pytest.raises(CardError, match="instruments must be one of mahlernet, pop-drums"):
        network_config({**old_card, "instruments": "gamelan"})
    with pytest.raises(ValueError, match="instruments must be one of"):
        NetworkConfig(instruments="gamelan")
