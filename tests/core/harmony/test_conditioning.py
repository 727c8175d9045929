"""Chords as a condition: stored per half bar at preprocessing, moved with the notes by transposition,
heard by the decoder of a chord-conditioned model, and trained on by the project's own training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.model.batching import PairSet
from core.cli import main as cli
from core.errors import DatasetError, GenerationError
from core.harmony.conditioning import BAR_CHORD_FEATURES, bar_chords, chord_features, progression_of, slots_of, transposed_indices
from core.harmony.labels import Chord, parse_chord, parse_progression
from core.harmony.recogniser import ChordSpan, recognise_chords
from core.harmony.templates import CHORD_INDEX, VOCABULARY
from core.midi.files import write_midi
from core.model.network import MahlerNet, NetworkConfig
from core.preprocess.encode import encode_score
from core.representation.events import EncodedPiece
from tests.core.harmony.chord_scores import BAR, block_chords, voiced
from tests.core.synthetic import write_dataset
from tests.core.tiny_training import write_tiny_preset

PROGRESSION = [Chord(0, "maj"), Chord(7, "dom7"), Chord(9, "min"), Chord(5, "maj")]


def _piece() -> EncodedPiece:
    """Two bars, a chord each half bar: C G7 | Am F."""
    result = encode_score(block_chords([voiced(chord) for chord in PROGRESSION], length=BAR // 2), source="prog")
    assert result.piece is not None
    return result.piece


def test_preprocessing_stores_each_half_bar_chord_and_files_keep_them(tmp_path: Path):
    piece = _piece()
    assert [[VOCABULARY[i] for i in row] for row in piece.bar_chords.tolist()] == [PROGRESSION[:2], PROGRESSION[2:]]
    piece.save(tmp_path / "p.npz")
    assert np.array_equal(EncodedPiece.load(tmp_path / "p.npz").bar_chords, piece.bar_chords)


def test_a_file_with_chords_outside_the_vocabulary_is_a_dataset_error(tmp_path: Path):
    piece = _piece()
    bad = EncodedPiece(piece.events, piece.bar_bounds, piece.bar_chunk, piece.bar_numerator, piece.bar_denominator,
                       piece.bar_tempo, bar_chords=piece.bar_chords)  # fmt: skip
    object.__setattr__(bad, "bar_chords", np.full_like(piece.bar_chords, 500))
    bad.save(tmp_path / "bad.npz")
    with pytest.raises(DatasetError, match="bad.npz"):
        EncodedPiece.load(tmp_path / "bad.npz")


def test_bar_chords_of_a_score_and_of_a_progression():
    score = block_chords([voiced(chord) for chord in PROGRESSION], length=BAR)
    assert bar_chords(score, [0, BAR, 2 * BAR]).tolist() == [[CHORD_INDEX[c]] * 2 for c in PROGRESSION[:3]]
    assert slots_of(parse_progression("C G Am"), 2).tolist() == [
        [CHORD_INDEX[Chord(0, "maj")], CHORD_INDEX[Chord(7, "maj")]], [CHORD_INDEX[Chord(9, "min")]] * 2
    ]
    assert slots_of(parse_progression("C G"), 1).shape == (2, 2)


def test_the_progression_of_some_bars_reads_as_typed_and_follows_edited_spans():
    whole = block_chords([voiced(chord) for chord in PROGRESSION], length=BAR)
    spans = recognise_chords(whole, "half")
    assert progression_of(whole, spans, 2, 4) == ("G7 Am F", 1)
    halves = block_chords([voiced(chord) for chord in PROGRESSION], length=BAR // 2)
    assert progression_of(halves, recognise_chords(halves, "half"), 1, 2) == ("C G7 Am F", 2)
    edited = [ChordSpan(s.bar, s.beat, s.start, s.end, parse_chord("Dm7")) if s.bar == 3 else s for s in spans]
    assert progression_of(whole, edited, 2, 4) == ("G7 Dm7 F", 1)  # the composer's typed chord wins


def test_transposition_moves_chords_with_the_notes():
    piece = _piece()
    pairs = PairSet([piece], context_bars=1)
    plain = pairs.collate(np.array([0, 1]), with_context=False)
    moved = pairs.collate(np.array([0, 1]), with_context=False, transpose=np.array([3, -2]))
    for row, shift in enumerate((3, -2)):
        notes = plain.bar.pitch[row] >= 0
        assert torch.equal(moved.bar.pitch[row][notes], plain.bar.pitch[row][notes] + shift)
        assert [VOCABULARY[int(i)] for i in moved.chords[row]] == [VOCABULARY[int(i)].transposed(shift) for i in plain.chords[row]]
    assert transposed_indices(np.array([[0, 0]]), np.array([5])).tolist() == [[0, 0]]  # no chord stays no chord


def test_chord_features_are_root_quality_and_none_one_hots():
    rows = chord_features(torch.tensor([[CHORD_INDEX[Chord(2, "min7")], 0]]))
    assert rows.shape == (1, BAR_CHORD_FEATURES)
    first, second = rows[0, :23], rows[0, 23:]
    assert first.nonzero().flatten().tolist() == [2, 12 + 6] and second.nonzero().flatten().tolist() == [22]


def _tiny(chords: bool) -> MahlerNet:
    torch.manual_seed(0)
    config = NetworkConfig(use_context=False, encoder_layers=1, encoder_size=8, decoder_layers=1, decoder_size=8,
                           z_dim=4, chords=chords, encoder_dropout=0, decoder_dropout=0, z_dropout=0)  # fmt: skip
    return MahlerNet(config).eval()


def test_the_decoder_hears_the_chords_and_plain_models_are_unchanged():
    pairs = PairSet([_piece()], context_bars=1)
    batch = pairs.collate(np.array([0, 1]), with_context=False)
    model = _tiny(chords=True)
    for layer in model.heads.values():  # outputs that show what the decoder hears
        torch.nn.init.normal_(layer.weight, 0.0, 1.0)
    with torch.no_grad():
        same = model(batch, sample=False).logits["pitch"]
        other = model(batch.__class__(**{**batch.__dict__, "chords": torch.flip(batch.chords, [0])}), sample=False).logits["pitch"]
    assert not torch.allclose(same, other)
    with pytest.raises(GenerationError, match="chord-conditioned"):
        model.initial_state(torch.zeros(1, 4), None)
    plain = _tiny(chords=False)
    assert plain.decoder.input_size == model.decoder.input_size - BAR_CHORD_FEATURES
    with torch.no_grad():  # a plain model ignores chords it is given
        a = plain.initial_state(torch.zeros(2, 4), None).condition
        b = plain.initial_state(torch.zeros(2, 4), None, batch.chords).condition
    assert torch.equal(a, b)


def test_preprocess_and_train_a_tiny_chord_model_through_the_cli(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["core.cli.preprocess", "core.cli.train", "core.cli.evaluate"])
    midi = tmp_path / "midi"
    midi.mkdir()
    for index in range(3):
        progression = [Chord((root + index) % 12, q) for root, q in ((0, "maj"), (7, "dom7"), (9, "min"), (5, "maj"))] * 2
        write_midi(block_chords([voiced(chord) for chord in progression], length=BAR // 2), midi / f"p{index}.mid")
    preset = write_tiny_preset(tmp_path / "presets", "interpolation", epochs=1, chords=True)
    assert cli.main(["preprocess", str(midi), str(tmp_path / "data"), "--jobs", "1"]) == 0
    assert cli.main(["train", str(tmp_path / "data"), str(tmp_path / "run"), "--preset", str(preset)]) == 0
    assert "finished after 1 epoch" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "run"), str(tmp_path / "data"), "--split", "all", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "arranger" and 0 <= report["properties"]["pitch"]["free_running_accuracy"] <= 1
    # A dataset without chords (made before they were stored) cannot train a chord model.
    write_dataset(tmp_path / "old", 2, bars=4)
    assert cli.main(["train", str(tmp_path / "old"), str(tmp_path / "run2"), "--preset", str(preset)]) == 2
    assert "needs a dataset with chords" in capsys.readouterr().err
