"""Pairs, contexts (START, K bars, chunk boundaries), seeded splits and length-bucketed batches."""

import numpy as np
import pytest
import torch

from core.model.batching import PairSet, load_pieces, shift_right
from core.errors import DatasetError
from tests.core.synthetic import random_piece, random_pieces, write_dataset


def test_every_bar_is_a_pair_and_chunk_openers_get_the_start_token():
    piece = random_piece(np.random.default_rng(1), bars=6, chunks=2)
    pairs = PairSet([piece])
    assert len(pairs) == 6
    openers = [i for i in range(6) if piece.has_start_context(i)]
    assert openers == [0, 3]
    batch = pairs.collate(np.arange(6))
    assert batch.context.is_start[:, 0].tolist() == [i in openers for i in range(6)]
    for i in openers:  # the START context is the token alone
        assert int(batch.context.lengths[i]) == 1 and int(batch.context.offset[i, 0]) == -1
    # Bar 2's context is bar 1, event for event.
    bar1 = piece.bar_events(1)
    n = len(bar1)
    assert int(batch.context.lengths[2]) == n
    assert batch.context.offset[2, :n].tolist() == bar1.offset.tolist()
    assert torch.equal(batch.context.active_pitches[2, :n], torch.from_numpy(bar1.active_pitches))


def test_k_context_bars_stop_at_the_chunk_and_say_so():
    piece = random_piece(np.random.default_rng(2), bars=6, chunks=2)  # chunks: bars 0-2, 3-5
    pairs = PairSet([piece], context_bars=2)
    batch = pairs.collate(np.arange(6))
    lengths = np.diff(piece.bar_bounds)
    assert batch.context.is_start[:, 0].tolist() == [True, True, False, True, True, False]
    assert batch.context.lengths.tolist() == [1, 1 + lengths[0], lengths[0] + lengths[1], 1, 1 + lengths[3], lengths[3] + lengths[4]]


def test_padding_is_none_and_decoder_inputs_are_shifted():
    pairs = PairSet(random_pieces(3, bars=6))
    batch = pairs.collate(pairs.pairs)
    mask = batch.bar.mask
    for column in (batch.bar.offset, batch.bar.pitch, batch.bar.duration):
        assert torch.all(column[~mask] == -1)
    assert not batch.bar.active_pitches[~mask].any()
    previous = shift_right(batch.bar)
    assert torch.all(previous.offset[:, 0] == -1)
    assert torch.equal(previous.pitch[:, 1:], batch.bar.pitch[:, :-1])


def test_split_is_seeded_disjoint_and_complete():
    pairs = PairSet(random_pieces(5, bars=10))
    train, val = pairs.split(0.1, seed=7)
    assert len(val) == int(np.ceil(0.1 * len(pairs)))
    assert not set(train) & set(val) and sorted([*train, *val]) == list(pairs.pairs)
    again_train, again_val = pairs.split(0.1, seed=7)
    assert np.array_equal(val, again_val)
    assert not np.array_equal(val, pairs.split(0.1, seed=8)[1])


@pytest.mark.parametrize("with_context", [True, False])
def test_batches_are_deterministic_cover_everything_and_group_lengths(with_context):
    pairs = PairSet(random_pieces(8, bars=12))
    ids = pairs.pairs
    first = pairs.batches(ids, 8, seed=1, epoch=3, with_context=with_context)
    assert all(np.array_equal(a, b) for a, b in zip(first, pairs.batches(ids, 8, seed=1, epoch=3, with_context=with_context)))
    assert sorted(np.concatenate(first).tolist()) == sorted(ids.tolist())
    assert all(len(b) >= 2 for b in first)
    other_epoch = pairs.batches(ids, 8, seed=1, epoch=4, with_context=with_context)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other_epoch))
    padded = sum(len(b) * pairs.input_lengths[b].max() for b in first)
    random_padded = sum(len(b) * pairs.input_lengths[b].max() for b in np.array_split(np.random.default_rng(0).permutation(ids), len(first)))
    assert padded < random_padded


def test_load_pieces_reads_a_folder_and_refuses_an_empty_one(tmp_path):
    write_dataset(tmp_path / "data", 3, bars=4)
    assert len(load_pieces(tmp_path / "data")) == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        load_pieces(tmp_path / "empty")


def test_transposition_moves_bar_context_and_sounding_notes_together_and_stays_in_range():
    pairs = PairSet(random_pieces(3, bars=6, seed=4), context_bars=1)
    ids = pairs.pairs[:12]
    plain = pairs.collate(ids, with_context=True)
    asked = np.array([2, -3, 0, 200, -200, 1, 1, 1, 1, 1, 1, 1])
    moved = pairs.collate(ids, with_context=True, transpose=asked)
    parts = ("bar", "context", "previous")
    steps = []
    for row in range(len(ids)):
        moves = set()
        for part in parts:
            before, after = getattr(plain, part), getattr(moved, part)
            notes = before.pitch[row] >= 0
            moves |= set((after.pitch[row] - before.pitch[row])[notes].tolist())
            assert torch.equal(after.pitch[row][~notes], before.pitch[row][~notes])  # pauses, padding untouched
            assert int(after.pitch[row].max()) <= 95 and (after.pitch[row][notes] >= 0).all()
        assert len(moves) <= 1  # one shift for every note of the row, bar and context alike
        step = moves.pop() if moves else 0
        steps.append(step)
        for part in parts:
            before, after = getattr(plain, part).active_pitches[row], getattr(moved, part).active_pitches[row]
            assert torch.equal(torch.roll(before, step, dims=-1), after)  # sounding notes move along, none lost
    assert steps[:3] == [2, -3, 0]  # as asked where the range allows
    assert 0 < steps[3] < 200 and -200 < steps[4] < 0  # clipped at the range's edge, not dropped
    assert torch.equal(pairs.collate(ids, True, np.zeros(len(ids), int)).bar.pitch, plain.bar.pitch)


def test_moving_or_pinning_a_batch_keeps_every_part_the_chords_included(monkeypatch):
    pairs = PairSet(random_pieces(2, bars=4, seed=2))
    pairs.bar_chords = np.arange(2 * len(pairs)).reshape(-1, 2) % 24
    batch = pairs.collate(pairs.pairs[:3])
    # this machine may have no GPU to pin memory for: a copy stands in for page-locked memory
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda tensor: tensor.clone())
    for moved in (batch.to("cpu"), batch.pin_memory()):
        assert moved.chords is not None and torch.equal(moved.chords, batch.chords)
        assert torch.equal(moved.bar.pitch, batch.bar.pitch) and torch.equal(moved.bar_length, batch.bar_length)
        assert moved.context is not None and torch.equal(moved.context.is_start, batch.context.is_start)
