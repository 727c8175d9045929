"""What `mahlernet evaluate` measures on: the test works of a card, without copies of training bars;
older cards' random-bar split, flagged; dense bars only."""

import numpy as np

from core.model.batching import PairSet
from core.training.evaluation import FLATTERING, evaluate_model, evaluation_ids
from core.model.network import MahlerNet, NetworkConfig
from core.representation.events import EncodedPiece
from core.preprocess.splits import split_works
from tests.core.synthetic import random_pieces, write_dataset

TINY = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16, z_dim=8)


def with_copy(piece: EncodedPiece, bar: int, source: str, semitones: int) -> EncodedPiece:
    """A one-bar piece that copies ``bar`` of ``piece``, transposed."""
    events = piece.bar_events(bar)
    pitch = np.where(events.pitch >= 0, events.pitch + semitones, -1)
    copied = type(events)(**{**{f: getattr(events, f) for f in events.__dataclass_fields__}, "pitch": pitch})
    return EncodedPiece(copied, np.array([0, len(copied)]), piece.bar_chunk[:1], piece.bar_numerator[bar : bar + 1],
                        piece.bar_denominator[bar : bar + 1], piece.bar_tempo[:1], source=source)  # fmt: skip


def test_held_out_bars_that_copy_a_training_bar_are_left_out():
    pieces = random_pieces(2, bars=4, seed=3)
    pieces += [with_copy(pieces[0], 2, "copy-exact", 0), with_copy(pieces[0], 1, "copy-up", 5), random_pieces(1, 4, seed=9)[0]]
    pairs = PairSet(pieces)
    train = np.flatnonzero(pairs.piece_of < 2)
    held = np.flatnonzero(pairs.piece_of >= 2)
    kept = pairs.without_copies(held, train)
    assert {int(pairs.piece_of[i]) for i in kept} == {4}  # both copies gone, the new piece's bars stay
    assert len(kept) == 4


def test_a_card_with_a_work_split_is_evaluated_on_its_test_works(tmp_path):
    data = write_dataset(tmp_path / "data", 10, bars=4, seed=1)
    pairs = PairSet(random_pieces(10, bars=4, seed=1))
    split = split_works(pairs.sources, seed=1, validation=0.2, test=0.2)
    card = {"name": "m", "kind": "continuation", "split": split.to_dict()}
    ids, note = evaluation_ids(pairs, card, "test")
    assert len(ids) and {split.split_of(pairs.sources[pairs.piece_of[i]]) for i in ids} == {"test"}
    assert "test works" in note
    report = evaluate_model(MahlerNet(TINY), card, data, free=False)
    assert report["split"] == "test" and report["bars"] == len(ids)
    dense = evaluate_model(MahlerNet(TINY), card, data, free=False, min_events=int(np.median(pairs.input_lengths[ids])) + 1)
    assert dense["bars"] < report["bars"]


def test_an_older_card_falls_back_to_its_random_bars_with_a_warning():
    pairs = PairSet(random_pieces(4, bars=4, seed=2))
    ids, note = evaluation_ids(pairs, {"training": {"validation_ratio": 0.25, "seed": 1}}, "test")
    assert note == FLATTERING and len(ids) == 4
