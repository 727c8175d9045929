"""The npz files of encoded pieces: optional bar start ticks, byte-identical output, no pickle."""

import zipfile

import numpy as np
import pytest

from core.errors import DatasetError
from core.preprocess.encode import encode_score
from core.representation.events import EncodedPiece
from core.music.score import Note, Score, Track


def small_piece() -> EncodedPiece:
    notes = tuple(Note(480 * i + 1920, 480, 60 + i % 5, 70) for i in range(12))
    return encode_score(Score(480, (Track("Piano", 0, 0, notes),)), source="small").piece


def test_save_load_keeps_every_column_and_bar_start_ticks(tmp_path):
    piece = small_piece()
    assert list(piece.bar_start_tick) == [1920, 3840, 5760]
    piece.save(tmp_path / "a.npz")
    loaded = EncodedPiece.load(tmp_path / "a.npz")
    assert loaded.events.equals(piece.events)
    assert np.array_equal(loaded.bar_start_tick, piece.bar_start_tick)
    assert loaded.source == "small"


def test_pieces_without_bar_start_ticks_still_load(tmp_path):
    piece = small_piece()
    bare = EncodedPiece(piece.events, piece.bar_bounds, piece.bar_chunk, piece.bar_numerator,
                        piece.bar_denominator, piece.bar_tempo, piece.source)  # fmt: skip
    bare.save(tmp_path / "bare.npz")
    assert EncodedPiece.load(tmp_path / "bare.npz").bar_start_tick is None
    with pytest.raises(ValueError):
        EncodedPiece(piece.events, piece.bar_bounds, piece.bar_chunk, piece.bar_numerator,
                     piece.bar_denominator, piece.bar_tempo, bar_start_tick=[0])  # fmt: skip


def test_saving_twice_gives_the_same_bytes(tmp_path):
    small_piece().save(tmp_path / "a.npz")
    small_piece().save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_files_hold_plain_arrays_only(tmp_path):
    small_piece().save(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_a_pickle_is_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.")  # a pickled empty dict
    with pytest.raises(DatasetError):
        EncodedPiece.load(bad)


def test_plain_boolean_matrices_still_load(tmp_path):
    """Files written with one boolean column per member (np.savez) load like packed ones."""
    from dataclasses import fields

    piece = small_piece()
    arrays = {f"event_{f.name}": getattr(piece.events, f.name) for f in fields(piece.events)}
    for name in ("bar_bounds", "bar_chunk", "bar_numerator", "bar_denominator", "bar_tempo"):
        arrays[name] = getattr(piece, name)
    np.savez(tmp_path / "plain.npz", source=np.array("plain"), version=np.array(1), **arrays)
    loaded = EncodedPiece.load(tmp_path / "plain.npz")
    assert loaded.events.equals(piece.events) and loaded.bar_start_tick is None
